"""Use cases: commands that change state, queries that read it, and the ports they need."""

"""Entrypoints: HTTP, CLI (and later Kafka). Thin: parse, call a handler, answer."""

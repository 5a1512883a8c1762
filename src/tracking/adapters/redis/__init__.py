"""Redis: shared rate limits, caches and invalidations, for every process of an installation."""

"""Adapters: each implements ports with one technology, named after it."""

"""Queries: one module per use case that reads state; they return read models."""

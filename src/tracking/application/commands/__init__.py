"""Commands: one module per use case that changes state."""

"""tracking: records what the users of our clients' applications do, exactly once."""

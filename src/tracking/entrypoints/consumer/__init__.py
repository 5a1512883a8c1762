"""`tracking consume`: events from a Kafka topic into storage, exactly once in effect."""

"""Kafka: the event message, the publisher behind Kafka-backed ingest, and client settings."""

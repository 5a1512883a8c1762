"""Entities, value objects and the rules that hold whatever the transport or the storage."""

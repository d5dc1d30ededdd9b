"""Shared bits: the Job model and its services, enqueue-on-commit by task name, geo helpers, health."""

"""Test support: the pytest plugin that finds or starts PostgreSQL and Kafka, and isolates tests."""

"""Kafka: the publisher, topic administration, the consumer loop, and the outbox relay."""

"""Real servers from wheels, for `make run` and the tests: PostgreSQL and the Tansu Kafka broker."""

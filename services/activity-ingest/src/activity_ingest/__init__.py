"""activity-ingest: the front door that puts every upstream fact onto Kafka, durably and once."""

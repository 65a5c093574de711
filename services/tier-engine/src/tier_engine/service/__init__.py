"""The tier engine's use cases, one module per job; the only place that commits."""

"""Events: the CloudEvents envelope, typed versioned payloads, and the registry that joins them."""

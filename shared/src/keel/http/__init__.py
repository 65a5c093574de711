"""The HTTP edge every service shares: app factory, problem details, auth, health and metrics."""

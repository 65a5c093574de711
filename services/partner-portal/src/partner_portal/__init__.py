"""The partner dashboard: its facts and JSON API (D-rules); figures come from their owners."""

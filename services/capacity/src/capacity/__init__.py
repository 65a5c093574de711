"""capacity: lead-registration limits per tier."""

"""tier-engine: sold and managed points, monthly tiers."""

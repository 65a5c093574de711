"""credit-ledger: per-client managed attribution and the managed-credit ledger."""

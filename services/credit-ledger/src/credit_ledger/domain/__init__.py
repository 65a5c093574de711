"""The M-rules as pure functions: facts and policy in, who manages a client and for how much out."""

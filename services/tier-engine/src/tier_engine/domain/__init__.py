"""Pure S, P and T rules: no I/O, days and policies passed in."""

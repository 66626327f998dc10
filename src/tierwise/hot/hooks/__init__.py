"""Hook entry points and client adapters (hot path: standard library only)."""

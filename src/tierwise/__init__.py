"""tierwise: skill-level model routing and token budgets for coding agents."""

__version__ = "0.1.0"

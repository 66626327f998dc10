"""A stable name kept for installed hooks; the hook code lives in ``tierwise.hot.hooks``."""

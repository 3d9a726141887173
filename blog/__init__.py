"""blog package."""

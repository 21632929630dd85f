"""Vote counting (issue 5)."""

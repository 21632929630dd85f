"""Participatory budgeting (issue 4)."""

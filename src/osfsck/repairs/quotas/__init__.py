"""Quota repairs: recount usage rows and expire reservations as the services do (issue 5)."""

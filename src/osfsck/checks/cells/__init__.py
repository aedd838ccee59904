"""Checks of Nova's cells v2 bookkeeping: the API database against the cell databases."""

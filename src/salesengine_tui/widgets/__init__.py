"""Reusable widgets (Textual only; they show data, they never query it)."""

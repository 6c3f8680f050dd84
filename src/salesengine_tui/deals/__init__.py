"""Deals (estimates) in pipelines: stages, the board's read model, moves, figures."""

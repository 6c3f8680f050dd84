"""Tasks: what a person will do for a customer (and maybe one of its deals), by when.

A task replaces the customer's single "next step": a customer may have several open tasks, each
with a kind, a title, a due day with an optional time, an assignee, and who did it when. Rules
and SQL only (no Textual); the use cases (`usecases/tasks.py`) own the transactions.
"""

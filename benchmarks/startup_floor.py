"""The stack's floor for start-up: what any app on SalesEngine's libraries pays before its first
screen, and nothing of SalesEngine. Run by bench_startup.py in a terminal, as the app is.

    python benchmarks/startup_floor.py URL

Imports the libraries the app's start imports (textual, rich, sqlalchemy with its ORM, sqlmodel,
psycopg, pydantic, pydantic-settings, platformdirs), connects to the same PostgreSQL and asks it
one question (the app cannot start without the database either), then draws a screen with a
header, a line of text and a footer; `q` quits.
"""

from __future__ import annotations

import sys

import platformdirs  # noqa: F401  (imported for its cost, as the app's settings import it)
import psycopg  # noqa: F401
import pydantic  # noqa: F401
import pydantic_settings  # noqa: F401
import rich  # noqa: F401
import sqlalchemy.orm  # noqa: F401
import sqlmodel  # noqa: F401
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

MARKER = "stack floor"


class Floor(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{MARKER}: the database answered {self.answer}")
        yield Footer()


def main() -> None:
    engine = create_engine(make_url(sys.argv[1]))
    with engine.connect() as conn:
        answer = conn.execute(text("SELECT 1")).scalar()
    Floor(answer).run()
    engine.dispose()


if __name__ == "__main__":
    main()

"""The app's sections, in key order, each under its menu. Data only: the app maps them to
screens."""

from __future__ import annotations

from dataclasses import dataclass

from ..widgets.app_header import NavTab


@dataclass(frozen=True)
class Section:
    mode: str  # the Textual mode holding the section's screen stack
    key: str
    menu: str | None  # the menu it sits under ("Sales"), None for a top-level item
    title: str

    @property
    def path(self) -> str:
        return f"{self.menu} > {self.title}" if self.menu else self.title

    @property
    def tab(self) -> NavTab:
        return NavTab(key=self.key, label=self.title, mode=self.mode)


PIPELINE = Section("pipeline", "1", "Sales", "Pipeline")
LEADS = Section("leads", "2", "Sales", "Leads")
SEGMENTS = Section("segments", "3", "Marketing", "Segments")
DASHBOARD = Section("dashboard", "4", None, "Dashboard")
NOTIFICATIONS = Section("notifications", "5", None, "Alerts")
# My tasks: what is due, from every section with one key (the next free digit).
TASKS = Section("tasks", "6", "Sales", "Tasks")
SECTIONS: tuple[Section, ...] = (PIPELINE, LEADS, SEGMENTS, DASHBOARD, NOTIFICATIONS, TASKS)

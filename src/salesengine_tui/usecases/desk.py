"""The desk: every action of the TUI, the CLI and the jobs runner, grouped by business idea.

Built once per front end from its context. Each method owns its action's transaction (one
`write` or `read` block), passes the acting user and the clock down to the domain, and returns
plain values; front ends never open sessions themselves.

A group (and the domain modules behind it) is imported on its first use: the app's first
paint needs the board's groups, not the blasts' or the jobs'.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from .context import AppContext

if TYPE_CHECKING:
    from .audit import Audit
    from .blasts import Blasts
    from .customers import Customers
    from .dashboard import Dashboard
    from .deals import Deals
    from .email import Email
    from .jobs import Jobs
    from .leads import Leads
    from .notifications import Notifications
    from .outreach import Outreach
    from .pipelines import Pipelines
    from .search import Search
    from .segments import Segments
    from .tasks import Tasks
    from .users import Users

G = TypeVar("G")


class _Group(Generic[G]):
    """`desk.deals`: built from `usecases/deals.py`'s `Deals` on first read, then kept on the
    desk (two threads racing to the first read build two equal groups; one is kept)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, desk: None, owner: type) -> _Group[G]: ...
    @overload
    def __get__(self, desk: Desk, owner: type) -> G: ...
    def __get__(self, desk: Desk | None, owner: type) -> Any:
        if desk is None:
            return self
        group_class = getattr(importlib.import_module(f".{self.module}", __package__), self.name)
        return desk.__dict__.setdefault(self.attr, group_class(desk.ctx))


class Desk:
    deals: _Group[Deals] = _Group("deals", "Deals")
    pipelines: _Group[Pipelines] = _Group("pipelines", "Pipelines")
    leads: _Group[Leads] = _Group("leads", "Leads")
    customers: _Group[Customers] = _Group("customers", "Customers")
    segments: _Group[Segments] = _Group("segments", "Segments")
    blasts: _Group[Blasts] = _Group("blasts", "Blasts")
    dashboard: _Group[Dashboard] = _Group("dashboard", "Dashboard")
    notifications: _Group[Notifications] = _Group("notifications", "Notifications")
    users: _Group[Users] = _Group("users", "Users")
    email: _Group[Email] = _Group("email", "Email")
    jobs: _Group[Jobs] = _Group("jobs", "Jobs")
    tasks: _Group[Tasks] = _Group("tasks", "Tasks")
    search: _Group[Search] = _Group("search", "Search")
    outreach: _Group[Outreach] = _Group("outreach", "Outreach")
    audit: _Group[Audit] = _Group("audit", "Audit")

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

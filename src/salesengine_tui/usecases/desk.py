"""The desk: every action of the TUI, the CLI and the jobs runner, grouped by business idea.

Built once per front end from its context. Each method owns its action's transaction (one
`write` or `read` block), passes the acting user and the clock down to the domain, and returns
plain values; front ends never open sessions themselves.
"""

from __future__ import annotations

from .blasts import Blasts
from .context import AppContext
from .customers import Customers
from .dashboard import Dashboard
from .deals import Deals
from .email import Email
from .jobs import Jobs
from .leads import Leads
from .notifications import Notifications
from .pipelines import Pipelines
from .search import Search
from .segments import Segments
from .tasks import Tasks
from .users import Users


class Desk:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.deals = Deals(ctx)
        self.pipelines = Pipelines(ctx)
        self.leads = Leads(ctx)
        self.customers = Customers(ctx)
        self.segments = Segments(ctx)
        self.blasts = Blasts(ctx)
        self.dashboard = Dashboard(ctx)
        self.notifications = Notifications(ctx)
        self.users = Users(ctx)
        self.email = Email(ctx)
        self.jobs = Jobs(ctx)
        self.tasks = Tasks(ctx)
        self.search = Search(ctx)

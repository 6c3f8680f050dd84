"""Who is acting, decided by how the database connection logged in (revision 0021).

A person's own role is that person: asking to be someone else is refused. The gateway (the
SSH service account, the embedded demo) and the schema's owner (administration) choose the
person by login; each transaction then takes that person's role. Any other role is no one.
"""

from __future__ import annotations

from ..base import validation
from ..base.errors import PermissionDenied, UserError
from ..db.roles import Connected


def acting_login(connected: Connected, asked: str | None, default: str | None) -> str | None:
    """The login to act as: `asked` (--user, SALESENGINE_USER), else `default` (the OS login,
    the demo's user); None when nobody need act (the owner's administration)."""
    if connected.kind == "person":
        if asked is not None and asked != connected.login:
            raise PermissionDenied(
                f"you are connected to PostgreSQL as {connected.role!r}, who is "
                f"{connected.login}: --user / SALESENGINE_USER cannot make you "
                f"{validation.printable(asked)[:63]!r} (the database decides who you are)"
            )
        return connected.login
    if connected.kind in ("gateway", "owner"):
        return asked or default
    if connected.kind == "jobs":
        raise UserError(
            f"connected to PostgreSQL as the jobs role ({connected.role!r}): the app and its "
            "commands need a person's role or the gateway (see the README's Security section)"
        )
    raise UserError(
        f"PostgreSQL role {connected.role!r} is no SalesEngine user: a manager attaches it "
        f"with `salesengine users add LOGIN --name NAME --role ROLE --db-role {connected.role}`"
    )

"""The unsubscribe pages: plain HTML, no script, no external asset, every value escaped.

The page a link opens only asks (a mail scanner that follows the link must not opt anyone
out); its one button posts back to the same link. The token stays out of every page but the
form's own action, and the headers keep it out of referrers and caches."""

from __future__ import annotations

import email.utils
import html
from urllib.parse import quote

from starlette.responses import HTMLResponse

from salesengine_tui.base.settings import Settings


def escape(text: str) -> str:
    """Text for an element's content (attribute values use `html.escape(..., quote=True)`)."""
    return html.escape(text, quote=False)


HEADERS = {
    "Cache-Control": "no-store",
    # The link's token is in the URL: no page we link to (there is none) may see it.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1a1a1a;background:#fff}"
    "button{font-size:1.1rem;padding:.6rem 1.4rem;border:2px solid #1a1a1a;border-radius:4px;"
    "background:#1a1a1a;color:#fff;cursor:pointer}"
    "button:focus{outline:3px solid #1f6feb;outline-offset:2px}"
)


def _page(title: str, body_html: str, status: int) -> HTMLResponse:
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n{body_html}</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _address(masked_email: str | None) -> str:
    return f"<strong>{escape(masked_email)}</strong>" if masked_email else "this address"


def _contact(settings: Settings) -> str:
    """How to opt out without the link: a reply, or a letter to the postal address."""
    name, address = email.utils.parseaddr(settings.email_from)
    who = escape(name or address or "us")
    lines = [
        "<p>To stop our emails, reply to any of them with the word <strong>unsubscribe</strong>"
    ]
    if address:
        lines.append(f", or write to {who} at <strong>{escape(address)}</strong>")
    lines.append(".</p>\n")
    if settings.company_postal_address:
        postal = escape(settings.company_postal_address)
        lines.append(f"<p>Our postal address: {postal}</p>\n")
    return "".join(lines)


def confirm(token: str, masked_email: str | None) -> HTMLResponse:
    """The question: one button that posts back to this link (with its token)."""
    action = html.escape("?t=" + quote(token, safe=""), quote=True)
    body = (
        f"<p>Stop marketing and follow-up emails to {_address(masked_email)}?</p>\n"
        f'<form method="post" action="{action}">\n'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">\n'
        '<button type="submit">Unsubscribe</button>\n</form>\n'
        "<p>Nothing changes until you press the button.</p>\n"
    )
    return _page("Unsubscribe", body, 200)


def already(masked_email: str | None) -> HTMLResponse:
    who = f"<strong>{escape(masked_email)}</strong>" if masked_email else "This address"
    body = (
        f"<p>{who} is already unsubscribed: we do not send it marketing or follow-up emails.</p>\n"
    )
    return _page("You're already unsubscribed", body, 200)


def done(masked_email: str | None) -> HTMLResponse:
    body = (
        f"<p>We will not send marketing or follow-up emails to {_address(masked_email)} "
        "any more.</p>\n"
    )
    return _page("You're unsubscribed", body, 200)


def invalid(settings: Settings) -> HTMLResponse:
    """A forged, altered or cut link: no detail on why."""
    body = "<p>This link could not be read: it may have been cut or changed.</p>\n"
    return _page("This unsubscribe link is not valid", body + _contact(settings), 400)


def expired(settings: Settings) -> HTMLResponse:
    body = (
        "<p>Unsubscribe links work for some time after the email is sent; this one is older.</p>\n"
    )
    return _page("This unsubscribe link has expired", body + _contact(settings), 410)


def unavailable(settings: Settings) -> HTMLResponse:
    """The database (or the signing key) is not there: the provider or person tries again."""
    body = "<p>We could not handle this right now. Please try again in a few minutes.</p>\n"
    response = _page("Please try again later", body + _contact(settings), 503)
    response.headers["Retry-After"] = "60"
    return response

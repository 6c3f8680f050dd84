"""`salesengine-jobs serve`: the outreach service. Unsubscribe links (a page, and RFC 8058
one-click) and the providers' webhooks (Postmark, SendGrid), answered by a Starlette app that
calls only the desk (`desk.outreach`), served by uvicorn behind a TLS reverse proxy.

Nothing here is imported by the jobs runner or the app: `serve` imports it when it starts.
"""

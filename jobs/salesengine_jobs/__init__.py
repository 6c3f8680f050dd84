"""The headless jobs runner (`salesengine-jobs`): nurture, upsell sync, outbox sending.

It lives beside the app, not inside it: it calls the use-case layer (one Desk), never Textual,
and never opens a session itself.
"""

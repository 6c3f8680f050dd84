"""The headless jobs runner (`salesengine-jobs`): nurture, upsell sync, outbox sending.

It lives beside the app, not inside it: it uses the domain modules and db/, never Textual.
"""

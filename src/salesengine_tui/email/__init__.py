"""Email: the outbox every message is first written to, the providers, the sender."""

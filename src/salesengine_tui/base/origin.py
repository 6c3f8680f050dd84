"""Where an action comes from, as the audit trail records it: the SSH key and address of a
manager's session, or the machine a terminal runs on. It is the client's account of itself;
who acted is the database's own knowledge (the role), never this."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping

from .errors import UserError

# OpenSSH's fingerprint: SHA256: and 43 characters of unpadded base64.
_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
_HOST = re.compile(r"[A-Za-z0-9.:_-]{1,255}")


def fingerprint(text: str) -> str:
    """An SSH key's fingerprint as the forced command passes it (`--ssh-key`)."""
    if not _FINGERPRINT.fullmatch(text or ""):
        raise UserError(f"--ssh-key {text[:60]!r} is not an SSH key fingerprint (SHA256:…)")
    return text


def session_origin(ssh_key: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """ "ssh key SHA256:… from 10.0.0.5", "ssh from 10.0.0.5", or "terminal on HOST"."""
    env = os.environ if env is None else env
    client = (env.get("SSH_CONNECTION") or "").split()
    address = client[0] if client and _HOST.fullmatch(client[0]) else None
    if ssh_key is not None:
        return f"ssh key {fingerprint(ssh_key)} from {address or 'an unknown address'}"
    if address is not None:
        return f"ssh from {address}"
    host = socket.gethostname()
    return f"terminal on {host if _HOST.fullmatch(host) else 'this machine'}"

"""What `om-bridge provision` remembers between runs: a fingerprint of the secret it last set.

Genesys may not return an integration's signature secret, so provision cannot always compare it
with webhook_secret. It keeps, per (API base, integration id), an HMAC-SHA256 fingerprint of the
secret it set (keyed by the integration id, never the secret itself) in
`<data-dir>/provision-state.json`: an unchanged fingerprint means "nothing to do", a different one
means webhook_secret changed since the last run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path

STATE_FILE = "provision-state.json"


def fingerprint(integration_id: str, secret: str) -> str:
    """A one-way fingerprint of `secret` for this integration."""
    return hmac.new(
        integration_id.encode("utf-8"), secret.encode("utf-8"), hashlib.sha256
    ).hexdigest()


class ProvisionState:
    """The fingerprints file of one data directory; a missing or unreadable file is empty."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / STATE_FILE
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self._secrets: dict[str, str] = (
            {k: v for k, v in (data.get("secrets") or {}).items() if isinstance(v, str)}
            if isinstance(data, dict)
            else {}
        )

    @staticmethod
    def key(api_base: str, integration_id: str) -> str:
        return f"{api_base.rstrip('/')}|{integration_id}"

    def secret_matches(self, api_base: str, integration_id: str, secret: str) -> bool | None:
        """True/False when a fingerprint is recorded for this integration, None when not."""
        known = self._secrets.get(self.key(api_base, integration_id))
        if known is None:
            return None
        return hmac.compare_digest(known, fingerprint(integration_id, secret))

    def record_secret(self, api_base: str, integration_id: str, secret: str) -> None:
        """Remember that `secret` is now the integration's secret (atomic write, mode 0600)."""
        self._secrets[self.key(api_base, integration_id)] = fingerprint(integration_id, secret)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".provision-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"secrets": self._secrets}, f, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

"""Open Messaging integrations: the asynchronous `createStatus` completes under the store lock."""

from __future__ import annotations

import requests
from sandbox_testkit import auth, start, token

BASE = "/api/v2/conversations/messaging/integrations/open"


class LockCheckedDict(dict):
    """A stored integration that records, for every write, whether the store lock was held."""

    def __init__(self, data: dict, lock) -> None:  # type: ignore[no-untyped-def]
        super().__init__(data)
        self.lock = lock
        self.writes: list[tuple[str, bool]] = []

    def __setitem__(self, key, value) -> None:  # type: ignore[no-untyped-def]
        self.writes.append((key, self.lock._is_owned()))
        super().__setitem__(key, value)


def test_create_status_completes_under_the_store_lock():
    server = start()
    try:
        tok = token(server.url)
        resp = requests.post(
            server.url + BASE,
            headers=auth(tok),
            timeout=5,
            json={
                "name": "lock-check",
                "outboundNotificationWebhookUrl": "https://example.test/hook",
                "outboundNotificationWebhookSignatureSecretToken": "a-secret-longer-than-15",
            },
        )
        assert resp.status_code == 202 and resp.json()["createStatus"] == "Initiated"
        iid = resp.json()["id"]
        store = server.sandbox.store
        with store.lock:
            stored = store.integrations[iid]
            stored["created_mono"] = stored["created_mono"] - 60  # creation time has passed
            checked = LockCheckedDict(stored, store.lock)
            store.integrations[iid] = checked
        got = requests.get(f"{server.url}{BASE}/{iid}", headers=auth(tok), timeout=5)
        assert got.status_code == 200 and got.json()["createStatus"] == "Completed"
        assert checked.writes == [("createStatus", True)]
    finally:
        server.stop()

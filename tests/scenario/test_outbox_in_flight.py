"""A slow Genesys never gets a message twice: the outbox waits for the answer of an attempt that
may still land instead of sending it again (the sandbox would dedupe a repeated channel.messageId,
so the bridge's own behaviour is read from its retry counter)."""

from __future__ import annotations

import re

import requests

from tests.conftest import wait_until
from tests.scenario.handover_helpers import SandboxReader, start_handover

# Longer than the Genesys client's 10 s read timeout: the case that duplicated messages.
GENESYS_DELAY = 11.0


def _message_retries(env) -> float:  # type: ignore[no-untyped-def]
    text = requests.get(env.bridge_url + "/metrics", timeout=5).text
    found = re.findall(
        r'^om_bridge_outbox_retries_total\{kind="message"\} ([0-9.e+]+)$', text, re.M
    )
    return float(found[0]) if found else 0.0


def test_a_slow_genesys_answer_is_waited_for_not_sent_again(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    reader = SandboxReader(env.sandbox_url)
    env.sandbox_admin.add_fault(
        target="api",
        mode="delay",
        delay=GENESYS_DELAY,
        count=1,
        method="POST",
        path="/api/v2/conversations/messages/*/inbound/open/message",
    )
    sent = ["slow one", "slow two", "slow three"]
    for text in sent:
        env.say(text)
    wait_until(
        lambda: sent[-1] in reader.inbound_texts(conversation_id),
        GENESYS_DELAY + 20,
        interval=0.5,
        what="the last message at the agent",
    )
    seen = [t for t in reader.inbound_texts(conversation_id) if t in sent]
    assert seen == sent
    assert _message_retries(env) == 0

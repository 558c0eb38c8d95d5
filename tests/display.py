"""What a reader that follows the outputs protocol shows: outputs in seq order, except that one with
`before` goes in front of the output with that seq when it is shown (the webchat does the same)."""

from __future__ import annotations


def displayed(outputs: list[dict]) -> list[dict]:
    """`outputs` (as read, seq order) in the order a client shows them."""
    shown: list[dict] = []
    for output in outputs:
        before = output.get("before")
        at = next((i for i, o in enumerate(shown) if o.get("seq") == before), None)
        if before is not None and at is not None:
            shown.insert(at, output)
        else:
            shown.append(output)
    return shown

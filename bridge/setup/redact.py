"""Output of `om-bridge check` / `provision` passes through here, so no configured secret reaches
the terminal or a CI log even when Genesys echoes one back in an error message."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from om_bridge.bridge.setup.context import Target

MASK = "***"


class TextSink(Protocol):
    """Where `check` and `provision` write: a text stream such as sys.stdout, or a
    `RedactingWriter` around one."""

    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


class RedactingWriter:
    """A text stream wrapper replacing every known secret value by `***` before writing."""

    def __init__(self, stream: TextSink, secrets: Iterable[str]) -> None:
        self._stream = stream
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def write(self, text: str) -> int:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()


def target_secrets(targets: Iterable[Target]) -> list[str]:
    """Every secret reachable from the targets' configuration and environment-derived flags."""
    from om_bridge.bridge.app import collect_secrets
    from om_bridge.bridge.flags import Flags

    found: list[str] = []
    for target in targets:
        found.extend(collect_secrets(target.config))
        try:
            found.extend(collect_secrets(Flags.from_config(target.config, target.environ)))
        except ValueError:  # a malformed flag is reported by the check itself
            pass
    return found

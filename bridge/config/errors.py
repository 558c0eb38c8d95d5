"""Configuration errors: each names the key path it is about."""

from __future__ import annotations


class ConfigError(ValueError):
    """The configuration cannot be used; the message names each offending key path.

    `errors` holds the individual "key.path: problem" texts.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [message])


class UnknownName(ConfigError, KeyError):
    """An endpoint url_token or provider id that the configuration does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

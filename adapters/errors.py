"""The one error type a parser or a fetch may raise, naming the source, the field and the reason."""

from __future__ import annotations


class AdapterError(Exception):
    """A feed payload could not be read or turned into readings.

    ``field`` is a dotted path into the payload (``results[3].value``) or ``None`` when the whole
    payload is at fault; ``source`` is the configured source id when the caller knows it.
    """

    def __init__(self, reason: str, *, field: str | None = None, source: str | None = None) -> None:
        self.reason = reason
        self.field = field
        self.source = source
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f" at {self.field}" if self.field else ""
        who = f"{self.source}: " if self.source else ""
        return f"{who}{self.reason}{where}"

    def for_source(self, source: str) -> AdapterError:
        """The same error, labelled with the source it came from."""
        err = AdapterError(self.reason, field=self.field, source=source)
        err.__cause__ = self.__cause__
        return err

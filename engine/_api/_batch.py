"""A pipeline's share for one shard: its calls in queued order, then their results.

:class:`engine.Pipeline` routes each operation as it is queued (the shard of its key)
and appends it to that shard's :class:`BatchPart`; on exit the backend runs every
part (``Backend.run_batch``) and fills in each part's results. The pipeline's results
index into their part: one list of values per shard and pipeline, no object per
operation's outcome.
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar

from engine._core._ops import Op

__all__ = ["NO_VALUE", "BatchPart", "BatchReply", "PipelineResult", "Queued"]

T = TypeVar("T")

#: A queued call: a :class:`~engine._core._ops.Call`, or a plain tuple of its fields
#: ``(op, args, key)`` (what a pipeline's fast path builds).
Queued = tuple[Op, tuple[Any, ...], str | None]


class _NoValue:
    """The type of :data:`NO_VALUE`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"


#: Stands in a part's ``values`` for a call that failed (its error is in ``errors``)
#: or whose result is not known yet. No operation returns it.
NO_VALUE: Final = _NoValue()

#: What a shard answers to a :class:`~engine._core._ops.Batch`: each call's value in
#: order (:data:`NO_VALUE` where it failed) and the errors by position, or ``None``
#: if no call failed.
BatchReply = tuple[list[Any], dict[int, Exception] | None]


class BatchPart:
    """The calls of one pipeline for one shard (or Redis partition), and their results.

    Attributes:
        shard: the shard the calls' keys route to (``shard_of(key, shards)``).
        calls: the calls, in queued order (each part runs them in that order).
        values: ``None`` until the backend reports results; then one entry per call:
            its value, or :data:`NO_VALUE` if it failed or is not known yet.
        errors: the failed calls' errors by position in ``calls``, or ``None``.
    """

    __slots__ = ("calls", "errors", "shard", "values")

    def __init__(self, shard: int) -> None:
        self.shard = shard
        self.calls: list[Queued] = []
        self.values: list[Any] | None = None
        self.errors: dict[int, Exception] | None = None

    def settle(self, reply: BatchReply) -> None:
        """Take a shard's whole reply. O(1)."""
        self.values, self.errors = reply

    def pending(self) -> list[Any]:
        """Start reporting results one by one (``values[position] = value``,
        :meth:`set_error`): every value :data:`NO_VALUE` until known. O(len(calls))."""
        self.values = values = [NO_VALUE] * len(self.calls)
        return values

    def set_error(self, position: int, error: Exception) -> None:
        """Report that the call at ``position`` failed with ``error`` (after
        :meth:`pending`). O(1)."""
        if self.errors is None:
            self.errors = {}
        self.errors[position] = error

    def __repr__(self) -> str:
        state = "pending" if self.values is None else f"{len(self.errors or ())} errors"
        return f"<BatchPart shard {self.shard}: {len(self.calls)} calls, {state}>"


class PipelineResult(Generic[T]):
    """The result of one queued operation, available after the pipeline ran.

    It points into the pipeline's results for its shard (one list per shard and
    pipeline), so a result costs one small object and nothing per outcome.
    """

    __slots__ = ("_part", "_position")

    _part: BatchPart
    _position: int

    @property
    def done(self) -> bool:
        """Whether the operation ran (its result or error is known)."""
        part = self._part
        values = part.values
        if values is None:
            return False
        errors = part.errors
        return values[self._position] is not NO_VALUE or (
            errors is not None and self._position in errors
        )

    def result(self) -> T:
        """The operation's return value.

        Raises:
            RuntimeError: if the pipeline has not run (or was cancelled first).
            Exception: the operation's own error (e.g. ``NotFound``).
        """
        part = self._part
        values = part.values
        if values is not None:
            value: T = values[self._position]
            if value is not NO_VALUE:
                return value
            errors = part.errors
            if errors is not None and self._position in errors:
                raise errors[self._position]
        raise RuntimeError(f"{self._description()}: the pipeline has not run")

    def _description(self) -> str:
        op = self._part.calls[self._position][0]
        return f"{op.kind} {op.name}"

    def __repr__(self) -> str:
        if not self.done:
            state = "pending"
        else:
            errors = self._part.errors
            if errors is not None and self._position in errors:
                state = f"error {errors[self._position]!r}"
            else:
                state = f"value {self.result()!r}"
        return f"<PipelineResult {self._description()}: {state}>"

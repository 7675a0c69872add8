"""One computation run on a second thread beside the caller's, its answer (or error) taken later.

A plain thread rather than concurrent.futures: that package imports logging (some 10 ms
of a scripted map's start) for a pool the map uses for one job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Beside:
    """`function(*arguments)` started on its own thread; result() waits and answers as the call would."""

    def __init__(self, function: Callable[..., Any], *arguments: Any) -> None:
        self._outcome: tuple[bool, Any] | None = None
        self._thread = threading.Thread(target=self._run, args=(function, arguments), name="map-beside",
                                        daemon=True)
        self._thread.start()

    def _run(self, function: Callable[..., Any], arguments: tuple[Any, ...]) -> None:
        try:
            self._outcome = (True, function(*arguments))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller by result())
            self._outcome = (False, exc)

    def wait(self) -> None:
        """Wait until the computation has ended, answered or failed."""
        self._thread.join()

    def result(self) -> Any:
        """The computation's answer; its exception, raised here, when it failed."""
        self.wait()
        succeeded, value = self._outcome
        if not succeeded:
            raise value
        return value


class Done:
    """An answer computed already, with Beside's reading of it."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def wait(self) -> None:
        """Nothing to wait for."""

    def result(self) -> Any:
        """The answer."""
        return self._value

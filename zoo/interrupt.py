"""Ctrl-C during training: the first one asks the loop to save and stop after the current step."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from typing import Any

from zoo.errors import ZooError


class Interrupted(ZooError):
    """Ctrl-C during training: a checkpoint was saved first."""

    exit_code = 130


class interrupt_guard:
    """Turns the first Ctrl-C into a flag the loop checks after the current step."""

    def __enter__(self) -> Callable[[], bool]:
        self.flag = False
        self.previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> None:
            if self.flag:  # a second Ctrl-C means: stop now
                signal.signal(signal.SIGINT, self.previous)
                raise KeyboardInterrupt
            self.flag = True

        with contextlib.suppress(ValueError):  # not the main thread: leave Ctrl-C alone
            signal.signal(signal.SIGINT, handler)
        return lambda: self.flag

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, self.previous)

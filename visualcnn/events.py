"""A tiny observer registry: the Session announces what happened, observers (the GUI's controller,
the CLI's progress bar, tests) subscribe. Plain callbacks, no Qt; callbacks run on the emitting thread."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable
from visualcnn.i18n import _


class Events:
    """events.connect("phase_completed", callback); events.emit("phase_completed", record)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._callbacks: dict[str, list[Callable[..., Any]]] = defaultdict(list)

    def _check(self, name: str) -> None:
        if name not in self.names:
            raise KeyError(_("unknown event {name!r}; events: {names}").format(
                               name=name, names=', '.join(self.names)))

    def connect(self, name: str, callback: Callable[..., Any]) -> Callable[..., Any]:
        self._check(name)
        self._callbacks[name].append(callback)
        return callback

    def disconnect(self, name: str, callback: Callable[..., Any]) -> None:
        self._check(name)
        if callback in self._callbacks[name]:
            self._callbacks[name].remove(callback)

    def emit(self, name: str, *args: Any) -> None:
        self._check(name)
        for callback in list(self._callbacks[name]):
            callback(*args)

    def subscribers(self, name: str) -> list[Callable[..., Any]]:
        """The callbacks connected to `name`, in the order they run (a copy)."""
        self._check(name)
        return list(self._callbacks[name])

"""The lifecycle every OPC UA stand-in shares: an asyncua server on its own thread and loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class ThreadedOpcUaServer:
    """Runs `_main()` on a private event loop in a thread; start() waits until it listens.

    `_main` must set `self._loop` and `self._stop`, call `self._ready.set()` once the server
    listens, and return when `self._stop` is set.
    """

    thread_name = "opcua-stand-in"

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None

    async def _main(self) -> None:
        raise NotImplementedError

    def start(self, timeout_s: float = 15.0) -> None:
        """Start serving; returns when the server listens (RuntimeError if it cannot)."""
        self._ready.clear()
        self.error = None
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s) or self.error is not None:
            raise RuntimeError(f"{self.thread_name} did not start: {self.error}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop serving and close the port."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._thread = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start()
            self.error = exc
            self._ready.set()

"""CPU-bound answers computed on the event loop itself, one per turn of the loop, in arrival order.

A search or an autocomplete costs about 1.4 ms of CPU and holds the GIL all along; the event
loop thread needs the GIL back after every socket call. Run on worker threads (anyio's
pool), the searches and the loop took the GIL from each other: a thread that gives the GIL
up to make a system call waits for it again until the holder drops it (at most
``sys.getswitchinterval()``, 5 ms, later), so every read, write and hand-off of the loop
could wait 5 ms behind a search, and a search behind the loop (a convoy). Under load the
two workers then answered far fewer searches than their CPU allowed (237 a second at 200
connections on the quiet machine where the CPU of a search allows about 1,300), and their
rate swung from run to run.

:class:`LoopTurns` computes them on the loop thread instead, with no thread and no hand-off
at all, but never two in one turn of the loop: after a computation the next one waits for
the loop's following turn, so every other ready callback (a cached tile being answered, a
request being read, a connection accepted) runs between two searches. Computing every
search directly in its request (no turns) was measured before and rejected: all the
searches that became ready together ran back to back, and a tile asked beside them waited
for all of them (307 tiles a second fell to 27).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

Params = ParamSpec("Params")
Result = TypeVar("Result")


class LoopTurns:
    """Computations on the event loop, one per turn of the loop, in the order they were asked.

    >>> import asyncio
    >>> asyncio.run(LoopTurns().run(sum, [1, 2, 3]))
    6
    """

    def __init__(self) -> None:
        """No computation waiting."""
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.computed = 0

    def _lock(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        """The turns of one event loop (tests run one app on several loops, one after another)."""
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def run(
        self, compute: Callable[Params, Result], *args: Params.args, **kwargs: Params.kwargs
    ) -> Result:
        """``compute(*args, **kwargs)`` on the loop thread, when its turn comes.

        The turn is given back only at the loop's next turn (``call_soon``): a request
        asking in the same turn waits, in order, and everything else ready runs first.
        An exception of ``compute`` is raised here; the turns go on.
        """
        loop = asyncio.get_running_loop()
        lock = self._lock(loop)
        await lock.acquire()
        try:
            return compute(*args, **kwargs)
        finally:
            self.computed += 1
            loop.call_soon(lock.release)

"""LoopTurns: CPU-bound answers on the event loop, one per turn of the loop, in arrival order."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from api.loop_turns import LoopTurns


class Ticker:
    """Counts the turns of the running loop: a callback that schedules itself again every turn."""

    def __init__(self) -> None:
        self.turn = 0
        self._handle: asyncio.Handle | None = None

    def _tick(self) -> None:
        self.turn += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def start(self) -> None:
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


def recorder(log: list[tuple[str, int]], ticker: Ticker) -> Callable[[str], str]:
    """A computation that notes its name and the loop turn it ran in."""

    def compute(name: str) -> str:
        log.append((name, ticker.turn))
        return name.upper()

    return compute


def test_computations_asked_together_run_one_per_turn_in_arrival_order() -> None:
    """Twenty asked in one turn: answered in order, each in a later turn of the loop than the previous."""

    async def main() -> tuple[list[str], list[tuple[str, int]]]:
        turns, ticker = LoopTurns(), Ticker()
        log: list[tuple[str, int]] = []
        ticker.start()
        compute = recorder(log, ticker)
        answers = await asyncio.gather(*(turns.run(compute, f"s{i}") for i in range(20)))
        ticker.stop()
        return answers, log

    answers, log = asyncio.run(main())
    assert answers == [f"S{i}" for i in range(20)]
    assert [name for name, _turn in log] == [f"s{i}" for i in range(20)]
    turns_seen = [turn for _name, turn in log]
    assert all(later > earlier for earlier, later in itertools.pairwise(turns_seen))


def test_other_ready_work_runs_between_two_computations() -> None:
    """A quick request arriving behind ten waiting searches is answered after at most one of them."""

    async def main() -> list[str]:
        turns = LoopTurns()
        done: list[str] = []

        async def quick() -> None:
            await asyncio.sleep(0)  # a request read, then answered (a cached tile)
            done.append("tile")

        searches = [asyncio.create_task(turns.run(done.append, f"s{i}")) for i in range(10)]
        await asyncio.sleep(0)  # every search has asked; the first computed
        await asyncio.gather(quick(), *searches)
        return done

    done = asyncio.run(main())
    assert done.index("tile") <= 2, done


def test_an_exception_is_raised_to_its_caller_and_the_turns_go_on() -> None:
    """A computation that fails raises in its request; the next ones still get their turn."""

    def compute(n: int) -> int:
        if n == 1:
            raise ValueError("bad")
        return n

    async def main() -> list[int | BaseException]:
        turns = LoopTurns()
        return await asyncio.gather(*(turns.run(compute, n) for n in range(3)), return_exceptions=True)

    first, failed, last = asyncio.run(main())
    assert (first, last) == (0, 2)
    assert isinstance(failed, ValueError)


def test_a_request_cancelled_while_waiting_leaves_the_others_their_turn() -> None:
    """A client gone while its search waits: that search is never computed, the others are."""

    async def main() -> tuple[list[str], list[str]]:
        turns = LoopTurns()
        log: list[str] = []
        tasks = [asyncio.create_task(turns.run(log.append, f"s{i}")) for i in range(4)]
        await asyncio.sleep(0)
        tasks[2].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return log, [type(r).__name__ for r in results]

    log, kinds = asyncio.run(main())
    assert log == ["s0", "s1", "s3"]
    assert kinds == ["NoneType", "NoneType", "CancelledError", "NoneType"]


@pytest.mark.parametrize("count", [1, 5])
def test_computed_counts_every_computation(count: int) -> None:
    """``computed`` counts the computations run (failed ones too)."""
    turns = LoopTurns()

    async def main() -> None:
        await asyncio.gather(*(turns.run(int, "7") for _ in range(count)))

    asyncio.run(main())
    assert turns.computed == count


def test_each_event_loop_has_its_own_turns() -> None:
    """A loop closed while searches still waited their turn leaves nothing behind for the next loop.

    (Tests run one app state on several loops, a test client's portal per request.)
    """
    turns = LoopTurns()
    first = asyncio.new_event_loop()
    try:
        asked = [first.create_task(turns.run(abs, -n)) for n in range(3)]
        assert first.run_until_complete(asked[0]) == 0
    finally:
        for task in asked:
            task.cancel()
        first.close()
    assert asyncio.run(asyncio.wait_for(turns.run(abs, -5), timeout=5)) == 5

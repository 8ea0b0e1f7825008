"""Searches under concurrency against a real server (``diachiso serve``, one worker, no answer cache).

Searches and autocompletes are computed on the event loop, one per turn of it
(:mod:`api.loop_turns`): many asked at once must each get the very answer they get alone,
and a cached tile asked while dozens of them wait must be answered between two of them,
not after all of them.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse

import httpx
import pytest
from sqlalchemy import Engine

from tests.api.live import ROOT, live_server

pytestmark = pytest.mark.db

TILE = "/tiles/units/12/3246/1805.mvt"
QUERIES = ROOT / "data" / "hoabinh" / "geocoding_dev_queries.jsonl"
AT_ONCE = 48


def _paths() -> list[str]:
    """Different searches and autocompletes: forward queries of the development set, whole and typed."""
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = list(dict.fromkeys(r["query"] for r in rows if r["kind"] != "reverse"))[: AT_ONCE // 2]
    searches = [f"/search?limit=5&q={urllib.parse.quote(t)}" for t in texts]
    typed = [f"/autocomplete?limit=5&q={urllib.parse.quote(t[: max(3, len(t) - 2)])}" for t in texts]
    return searches + typed


async def _storm(base: str, paths: list[str]) -> tuple[dict[str, httpx.Response], list[str], httpx.Response]:
    """Every path asked at once; once the first answer came, the tile. Answers, order of arrival, tile."""
    order: list[str] = []
    limits = httpx.Limits(max_connections=len(paths) + 1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def ask(path: str) -> httpx.Response:
            answer = await client.get(path)
            order.append(path)
            return answer

        asked = [asyncio.create_task(ask(path)) for path in paths]
        while not order:
            await asyncio.sleep(0.002)
        tile = await ask(TILE)
        answers = await asyncio.gather(*asked)
    return dict(zip(paths, answers, strict=True)), order, tile


@pytest.mark.parametrize("on_loop", ["true", "false"])
def test_searches_asked_at_once_answer_as_alone_and_a_tile_is_answered_between_them(
    engine: Engine, database_url: str, on_loop: str
) -> None:
    """48 searches and autocompletes at once: the bytes of one at a time; a tile asked among them is quick.

    (On worker threads, ``DIACHISO_GEOCODE_SEARCH_ON_LOOP=false``, only the answers are compared.)
    """
    del engine  # the migrated database with the bundled data, for the worker to load
    paths = _paths()
    assert len(paths) == AT_ONCE
    env = {"DIACHISO_GEOCODE_ANSWER_CACHE": "0", "DIACHISO_GEOCODE_SEARCH_ON_LOOP": on_loop}
    with live_server(database_url, env, workers=1) as base:
        alone = {path: httpx.get(base + path, timeout=60) for path in paths}
        assert httpx.get(base + TILE, timeout=60).status_code == 200  # built once: cached from now on
        together, order, tile = asyncio.run(_storm(base, paths))
    assert all(answer.status_code == 200 for answer in alone.values())
    assert {p: (a.status_code, a.content) for p, a in together.items()} == {
        p: (a.status_code, a.content) for p, a in alone.items()
    }
    assert tile.status_code == 200
    if on_loop == "false":
        return
    waited_for = order.index(TILE) - 1  # searches answered after the tile was asked and before it
    assert waited_for < AT_ONCE // 4, f"the tile came after {waited_for} of {AT_ONCE} searches"

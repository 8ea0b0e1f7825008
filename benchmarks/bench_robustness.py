"""Robustness and honest scores: the real-text tune half rewritten as people also write it.

Run: ``.venv/bin/python benchmarks/bench_robustness.py [--database-url URL]`` (about a minute).

Two tables, on an in-process index of the database (default: the configured one, loaded
with the bundled data):

1. The tune half of ``geocoding_dev_real.jsonl`` in each writing of
   :data:`benchmarks.variants.VARIANTS` (no marks, lower case, other tone placement, no
   commas, abbreviated, the new province, no province or district, Việt Nam appended,
   upper case, NFD, other separators, a label, a telephone number, one slip), judged
   against the same truth. The holdout half is never read.
2. Whether scores mean something: the scores of right and wrong first answers, and of
   the other answers (2nd to 5th) that lie outside every truth ward, on the tune half (all
   variants pooled) and on the generated set (``geocoding_dev_queries.jsonl``, forward).
   A wrong answer should score low, and a right one high.
3. What a score means: the first answers of both sets by score bin (0-0.2, ..., 0.8-1.0),
   with the share of them that is right (a reliability table).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from numpy.typing import NDArray

from addresses import pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from benchmarks import devset, variants
from geocoder.index import GeocoderIndex
from geocoder.search import search

ALTERNATIVES = 5
"""Answers looked at per query (the first and the alternatives after it)."""
HIGH = 0.8
"""A score from which an answer reads as sure."""
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""Edges of the score bins of the reliability table (the last bin holds 1.0)."""

Search = Callable[[str], list[Any]]


@dataclass(frozen=True)
class Scores:
    """Scores of one group of answers (right first answers, wrong ones, wrong alternatives)."""

    group: str
    values: NDArray[np.float64]

    def row(self) -> str:
        """One Markdown table row: n, percentiles, max, share at or above :data:`HIGH`."""
        if not len(self.values):
            return f"| {self.group} | 0 | - | - | - | - | - |"
        p10, p50, p90 = np.percentile(self.values, [10, 50, 90])
        high = float(np.mean(self.values >= HIGH))
        top = float(self.values.max())
        cells = [
            self.group,
            str(len(self.values)),
            *(f"{v:.2f}" for v in (p10, p50, p90, top)),
            f"{high:.1%}",
        ]
        return "| " + " | ".join(cells) + " |"


@dataclass(frozen=True)
class FirstAnswers:
    """The scores of the first answers of one query set and whether each is right."""

    name: str
    scores: NDArray[np.float64]
    right: NDArray[np.bool_]

    def rows(self) -> list[str]:
        """Markdown rows of the reliability table: per score bin, n and the share right."""
        bins = np.clip(np.digitize(self.scores, BINS[1:-1]), 0, len(BINS) - 2)
        out = []
        for index, (low, high) in enumerate(itertools.pairwise(BINS)):
            chosen = self.right[bins == index]
            share = f"{float(np.mean(chosen)):.1%}" if len(chosen) else "-"
            out.append(
                f"| {self.name} | {low:.1f}-{high:.1f} | {len(chosen)} | {int(chosen.sum())} | {share} |"
            )
        return out


def reliability_table(sets: Sequence[FirstAnswers]) -> str:
    """The Markdown reliability table: what share of the first answers in each score bin is right."""
    head = ["| set | score | n | right | share right |", "|---|---|---:|---:|---:|"]
    return "\n".join([*head, *(row for answers in sets for row in answers.rows())])


def score_groups(
    name: str, search: Search, queries: Sequence[devset.DevQuery]
) -> tuple[list[Scores], FirstAnswers]:
    """Scores of right and wrong first answers and of the wrong alternatives, for one query set.

    With them the first answers' scores and verdicts (for the reliability table).
    """
    found = [search(query.text) for query in queries]
    first = [(r[0].lon, r[0].lat) if r else None for r in found]
    hit = devset.judge(queries, first).hit
    scores = np.array([r[0].score if r else 0.0 for r in found])
    answered = np.array([bool(r) for r in found])
    pairs = [(query, result) for query, results in zip(queries, found, strict=True) for result in results[1:]]
    others = devset.judge([q for q, _ in pairs], [(r.lon, r.lat) for _, r in pairs]).in_ward
    wrong_alternatives = np.array(
        [r.score for (_, r), inside in zip(pairs, others, strict=True) if not inside]
    )
    groups = [
        Scores(f"{name}: first answer right", scores[answered & hit]),
        Scores(f"{name}: first answer wrong", scores[answered & ~hit]),
        Scores(f"{name}: alternatives in another ward", wrong_alternatives),
    ]
    return groups, FirstAnswers(name, scores[answered], hit[answered])


def score_table(groups: Sequence[Scores]) -> str:
    """The Markdown table of score groups."""
    head = [f"| answers | n | p10 | p50 | p90 | max | >= {HIGH} |", "|---|---:|---:|---:|---:|---:|---:|"]
    return "\n".join([*head, *(group.row() for group in groups)])


def tune_queries() -> list[devset.DevQuery]:
    """The queries of the tune half of the real-text set."""
    return [entry.query for entry in devset.load_real() if entry.half == devset.TUNE]


def pooled_variants(queries: Sequence[devset.DevQuery]) -> list[devset.DevQuery]:
    """Every query in every writing of :data:`benchmarks.variants.VARIANTS` (same truth)."""
    return [
        devset.DevQuery(q.id, q.kind, q.level, q.truth, text=rewrite(q.text), point=q.point)
        for rewrite in variants.VARIANTS.values()
        for q in queries
    ]


def run(url: str) -> None:
    """Load the index, print both tables."""
    db = make_engine(url)
    try:
        with db.connect() as conn:
            index = GeocoderIndex.load(conn)
    finally:
        db.dispose()

    def forward(text: str) -> devset.Point | None:
        found = search(index, text, limit=1)
        return (found[0].lon, found[0].lat) if found else None

    def top(text: str) -> list[Any]:
        return list(search(index, text, limit=ALTERNATIVES))

    tune = tune_queries()
    print("\nReal-text set, tune half, by writing:\n")
    print(variants.rate_table(variants.rates_by_variant(forward, tune)))
    generated = [q for q in devset.load_queries() if not q.is_reverse]
    tune_groups, tune_first = score_groups("tune (all writings)", top, pooled_variants(tune))
    generated_groups, generated_first = score_groups("generated", top, generated)
    print("\nScores of right and wrong answers:\n")
    print(score_table([*tune_groups, *generated_groups]))
    print("\nWhat a score means: first answers by score, and the share of them that is right:\n")
    print(reliability_table([tune_first, generated_first]))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="a database loaded with the bundled data")
    args = parser.parse_args(argv)
    settings = DatabaseSettings()
    run(args.database_url or pgcluster.database_url(settings))


if __name__ == "__main__":
    main()

"""How narrowly the geocoder gets the tune half right: the margin of each answer over the best wrong one.

Run: ``python -m benchmarks.margins [--database-url URL] [--thinnest N] [--variant NAME ...]``
(about a minute; a diagnostic, not part of ``run_all``).

For every entry of the tune half of ``geocoding_dev_real.jsonl`` and every rewriting of it in
:data:`benchmarks.variants.VARIANTS`, the in-process geocoder is asked for 10 answers. Each
answer is judged at commune level (its point inside a truth ward, as the benchmark judges);
then per query:

* ``right``: the first answer is right;
* ``top``: the first answer's score;
* ``right best``: the best score of an answer that is right (0 when none of the 10 is);
* ``other``: the best score of an answer that lies in another 2025 commune (0 when none does);
* ``margin``: ``right best - other`` (negative for a miss);
* ``tie``: the first answer is right only by the order of equal scores.

Printed: the counts of queries with margin < 0.05 and < 0.1 and of misses, per writing and in
all; the thinnest margins of the right answers; and every miss. The holdout half is never read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addresses import pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from benchmarks import devset, variants
from geocoder.index import GeocoderIndex
from geocoder.results import GeocodeResult
from geocoder.search import search

LIMIT = 10
"""Answers asked per query."""
THIN = (0.05, 0.1)
"""Margins counted as thin."""
TIE = 1e-9
"""Scores closer than this are equal."""


@dataclass(frozen=True)
class Margin:
    """One query in one writing: whether it is right, its scores and the margin of the right answer."""

    variant: str
    entry_id: str
    text: str
    right: bool
    top: float
    right_best: float
    other: float
    first_name: str
    other_name: str

    @property
    def margin(self) -> float:
        """The best right score minus the best score in another commune (negative for a miss)."""
        return self.right_best - self.other

    @property
    def tie(self) -> bool:
        """Right only by the order of equal scores."""
        return self.right and abs(self.margin) < TIE


def _label(result: GeocodeResult | None) -> str:
    """A short label of an answer: its name and its 2025 commune."""
    if result is None:
        return "-"
    unit = result.current_unit
    return f"{result.name} [{unit.name if unit is not None else '?'}] {result.score:.3f}"


def margin_of(variant: str, query: devset.DevQuery, text: str, index: GeocoderIndex) -> Margin:
    """Ask the geocoder for :data:`LIMIT` answers to ``text`` and measure the margin of the right one."""
    found = search(index, text, limit=LIMIT)
    inside: list[bool] = (
        devset.judge([query] * len(found), [(r.lon, r.lat) for r in found]).in_ward.tolist() if found else []
    )
    right = [r for r, ok in zip(found, inside, strict=True) if ok]
    wrong = [r for r, ok in zip(found, inside, strict=True) if not ok]
    return Margin(
        variant=variant,
        entry_id=query.id,
        text=text,
        right=bool(found) and bool(inside[0]),
        top=found[0].score if found else 0.0,
        right_best=max((r.score for r in right), default=0.0),
        other=max((r.score for r in wrong), default=0.0),
        first_name=_label(found[0] if found else None),
        other_name=_label(wrong[0] if wrong else None),
    )


def all_margins(index: GeocoderIndex, chosen: Sequence[str]) -> list[Margin]:
    """The margins of every tune-half entry in every chosen writing."""
    queries = [entry.query for entry in devset.load_real() if entry.half == devset.TUNE]
    out = []
    for name in chosen:
        rewrite = variants.VARIANTS[name]
        for query in queries:
            text = rewrite(query.text)
            if name != "as written" and text == query.text:
                continue  # the writing leaves this string as it is: counted once, as written
            out.append(margin_of(name, query, text, index))
    return out


def counts_table(margins: Sequence[Margin], chosen: Sequence[str]) -> str:
    """Per writing (and in all): queries, misses, ties and margins under each of :data:`THIN`."""
    head = ["writing", "n", "misses", "ties", *(f"margin < {t}" for t in THIN)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name in [*chosen, "all"]:
        rows = [m for m in margins if name in ("all", m.variant)]
        thin = [sum(m.margin < t for m in rows) for t in THIN]
        cells = [name, len(rows), sum(not m.right for m in rows), sum(m.tie for m in rows), *thin]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def row(margin: Margin) -> str:
    """One printed line of a query."""
    flag = "TIE " if margin.tie else ("MISS" if not margin.right else "    ")
    return (
        f"{flag} {margin.margin:+.3f} top {margin.top:.3f} [{margin.variant}] {margin.entry_id} "
        f"{margin.text!r}\n      first: {margin.first_name}\n      other: {margin.other_name}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Load the index, measure every margin, print the counts, the thinnest and the misses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="a database loaded with the bundled data")
    parser.add_argument("--thinnest", type=int, default=30, help="how many of the thinnest right answers")
    parser.add_argument("--variant", action="append", help="only these writings (default: all)")
    parser.add_argument("--counts-only", action="store_true", help="print only the counts table")
    args = parser.parse_args(argv)
    db = make_engine(args.database_url or pgcluster.database_url(DatabaseSettings()))
    try:
        with db.connect() as conn:
            index = GeocoderIndex.load(conn)
    finally:
        db.dispose()
    chosen = args.variant or list(variants.VARIANTS)
    margins = all_margins(index, chosen)
    print(counts_table(margins, chosen))
    if args.counts_only:
        return
    right = sorted((m for m in margins if m.right), key=lambda m: m.margin)
    print(f"\nThe {args.thinnest} thinnest margins of right answers:\n")
    for margin in right[: args.thinnest]:
        print(row(margin))
    misses = [m for m in margins if not m.right]
    print(f"\nMisses ({len(misses)}):\n")
    for margin in misses:
        print(row(margin))


if __name__ == "__main__":
    main()

"""The client's CPU per stage of an import of generated addresses (no database: the floor's gap).

Each stage of what ``diachiso import`` does on the client for a file of new rows is
timed alone (process CPU seconds, the median of a few runs), in the order the chunked
import runs them: what must precede the COPY (reading the file, its geometries left as
WKB; the geometry checks, the mapping and checks of the source ids only when the source
has rows stored already) and what runs chunk by chunk while the database stores the
previous chunk (decoding the geometries, their checks, mapping, text checks, building
the rows with their registry codes, CSV).

    python -m benchmarks.import_stages --rows 200000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
import numpy as np
import shapely

from addresses import bulk
from importers import chunked, locate, prepare
from importers.mapping import apply_mapping, default_mapping, only_field
from importers.pipeline import HOA_BINH_BOX, TERRITORY_MARGIN_DEG
from importers.points import as_geoms
from importers.rawjson import raw_json
from importers.readers import FEATURE, read_source
from importers.validate import Validated, unstorable_problems
from tests.synthetic import generate_addresses

DATA = Path(__file__).resolve().parent.parent / "data" / "hoabinh"


def cpu(work: Callable[[], object], runs: int) -> float:
    """The median process CPU seconds of ``work``."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def undecoded_read(path: Path) -> None:
    """Read the file as a first load does: its geometries left as WKB."""
    read_source(path, decode=False)


def communes() -> locate.Communes:
    """The 2025 communes from the bundled file (their row numbers as ids)."""
    polygons = gpd.read_file(DATA / "wards_2025.geojson").geometry.to_numpy()
    shapely.prepare(polygons)
    return locate.Communes(np.arange(len(polygons)), polygons, shapely.STRtree(polygons))


def stages(path: Path, runs: int) -> list[tuple[str, str, float]]:
    """(when, stage, CPU seconds) for each stage of the client's work on ``path``."""
    mapping = default_mapping("addresses")
    spec = mapping.spec
    read = read_source(path)
    frame = read.frame
    features = frame[FEATURE].to_numpy()
    geoms = frame.geometry.to_numpy()
    province = shapely.box(*HOA_BINH_BOX).buffer(TERRITORY_MARGIN_DEG)
    rows = apply_mapping(frame, mapping, read.file_name)
    text = chunked.check_text(rows, features, spec)
    shapes = chunked.check_shapes(geoms, features, spec, province)
    placement = prepare.Placement(communes(), np.arange(10**8, 10**8 + len(frame)))
    checked = Validated(text.rows, as_geoms(shapes.geoms))
    fields = chunked.original_fields(frame)
    built = prepare.source_rows(checked, fields, source="bench", spec=spec, placement=placement)
    before, during = "before the COPY", "chunk by chunk, during the COPY"
    stored = "before the COPY, only when the source has rows stored"
    undecoded = read_source(path, decode=False)
    return [
        (before, "read the GeoParquet file, geometries left as WKB", cpu(lambda: undecoded_read(path), runs)),
        (during, "decode the WKB geometries", cpu(undecoded.geometries, runs)),
        (
            stored,
            "map the source ids",
            cpu(lambda: apply_mapping(frame, only_field(mapping, "source_id"), ""), runs),
        ),
        (
            during,
            "geometry checks (coordinates, repair, kinds, territory)",
            cpu(lambda: chunked.check_shapes(geoms, features, spec, province), runs),
        ),
        (
            stored,
            "source ids checked (NFC, formatting, repeats)",
            cpu(lambda: chunked.id_problems(rows, features), runs),
        ),
        (during, "map every field", cpu(lambda: apply_mapping(frame, mapping, read.file_name), runs)),
        (
            during,
            "text checks (NFC, formatting, lengths, required, status)",
            cpu(lambda: chunked.check_text(rows, features, spec), runs),
        ),
        (during, "unstorable original fields", cpu(lambda: unstorable_problems(fields, features), runs)),
        (during, "original fields as JSON (raw)", cpu(lambda: raw_json(fields), runs)),
        (
            during,
            "commune of every point",
            cpu(lambda: locate.commune_id_array(placement.communes, shapes.geoms), runs),
        ),
        (during, "location codes", cpu(lambda: locate.location_code_bytes(shapes.geoms), runs)),
        (during, "EWKB of the points", cpu(lambda: prepare.ewkb_hex(shapes.geoms), runs)),
        (
            during,
            "build the rows (all of the four above and the rest)",
            cpu(
                lambda: prepare.source_rows(checked, fields, source="bench", spec=spec, placement=placement),
                runs,
            ),
        ),
        (during, "CSV for COPY (Arrow)", cpu(lambda: list(bulk.csv_batches(built)), runs)),
    ]


def main() -> None:
    """Generate the file, time each stage, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    wards = gpd.read_file(DATA / "wards_2025.geojson").geometry
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "addresses.parquet"
        generate_addresses(wards, args.rows, seed=11).to_parquet(path)
        timed = stages(path, args.runs)
    print(f"| when | stage ({args.rows:,} rows) | client CPU s |")
    print("|---|---|---:|")
    for when, stage, seconds in timed:
        print(f"| {when} | {stage} | {seconds:.3f} |")


if __name__ == "__main__":
    main()

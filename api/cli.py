"""The ``diachiso`` command: one small function per subcommand, each calling the library.

Domain errors print one clear line and exit with status 1; no traceback for user mistakes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from addresses import migrate, pgcluster
from addresses.db import make_engine
from addresses.errors import DiachisoError
from addresses.settings import DatabaseSettings
from importers.bundled import import_bundled
from importers.mapping import DATASETS, Dataset, FieldMapping, default_mapping, load_mapping_file
from importers.pipeline import ImportOptions, ImportReport, import_file
from importers.readers import CsvOptions
from importers.units import count_units

app = typer.Typer(
    help="diachiso: digital addresses and maps for Hoa Binh (Phu Tho).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The embedded PostgreSQL/PostGIS cluster.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console(stderr=True)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "hoabinh"


def engine_for(settings: DatabaseSettings) -> Engine:
    """An engine on the configured database (starting the embedded one if needed)."""
    return make_engine(pgcluster.database_url(settings), settings)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded cluster (creating it on first use) and apply migrations."""
    settings = DatabaseSettings()
    if not settings.embedded:
        console.print("DIACHISO_DATABASE_URL is set: using that server, starting nothing")
    engine = engine_for(settings)
    migrate.upgrade(engine)
    console.print(f"database ready at schema revision {migrate.current_revision(engine)}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    stopped = pgcluster.stop(DatabaseSettings())
    console.print("stopped" if stopped else "was not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded cluster exists and runs, and where."""
    settings = DatabaseSettings()
    if not settings.embedded:
        typer.echo("external database (DIACHISO_DATABASE_URL)")
        return
    state = pgcluster.status(settings)
    typer.echo(
        f"initialised={state.initialised} running={state.running} port={state.port} data={state.data_dir}"
    )
    if not state.running:
        raise typer.Exit(3)


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (with its password: for psql and tools)."""
    typer.echo(pgcluster.database_url(DatabaseSettings()))


def _parse_fields(pairs: list[str]) -> dict[str, str]:
    """``name=column`` options as a dict; a malformed one is a user error."""
    fields: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name or not column:
            raise typer.BadParameter(f"--field takes FIELD=COLUMN, not {pair!r}")
        fields[name.strip()] = column.strip()
    return fields


def _mapping(dataset: str | None, mapping_file: Path | None, fields: list[str]) -> FieldMapping:
    """The mapping from a file, else the conventional one for the dataset, with overrides."""
    if mapping_file is not None:
        mapping = load_mapping_file(mapping_file)
    elif dataset in DATASETS:
        mapping = default_mapping(_dataset(dataset))
    else:
        raise typer.BadParameter(f"give --dataset ({', '.join(DATASETS)}) or --mapping FILE")
    return mapping.with_columns(**_parse_fields(fields))


def _dataset(name: str) -> Dataset:
    """A dataset name checked against the known ones."""
    for known in DATASETS:
        if known == name:
            return known
    raise typer.BadParameter(f"unknown dataset {name!r}")


def print_report(report: ImportReport | str) -> None:
    """One line per import, then rejections and warnings."""
    if isinstance(report, str):
        console.print(report, markup=False)
        return
    verb = "checked (dry run)" if report.dry_run else "imported"
    console.print(
        f"{report.file_name}: {verb} {report.rows_read} rows as {report.dataset} [{report.source}] - "
        f"inserted {report.inserted}, updated {report.updated}, unchanged {report.unchanged}, "
        f"repaired {report.repaired}, rejected {len(report.rejected)} ({report.seconds:.2f} s; {report.crs})",
        markup=False,
    )
    for line in report.rejected[:50]:
        console.print(f"  rejected {line}", markup=False)
    for line in report.warnings[:20]:
        console.print(f"  warning {line}", markup=False)


@app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile (.shp or .zip), CSV, GeoParquet")
    ],
    dataset: Annotated[str | None, typer.Option(help="units, villages, places or addresses")] = None,
    mapping: Annotated[Path | None, typer.Option(help="TOML mapping file")] = None,
    field: Annotated[list[str] | None, typer.Option(help="FIELD=COLUMN override (repeatable)")] = None,
    source: Annotated[str | None, typer.Option(help="source label (default: file name)")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the file, e.g. EPSG:9211")] = None,
    layer: Annotated[str | None, typer.Option(help="layer of a GeoPackage")] = None,
    lon: Annotated[str | None, typer.Option(help="CSV longitude column")] = None,
    lat: Annotated[str | None, typer.Option(help="CSV latitude column")] = None,
    wkt: Annotated[str | None, typer.Option(help="CSV WKT column")] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV text encoding, e.g. cp1258")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report, write nothing")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="fail on any rejected feature")] = False,
    assume_official_vn2000: Annotated[
        bool,
        typer.Option("--assume-official-vn2000", help="bind a bare VN-2000 CRS to the official 7 parameters"),
    ] = False,
) -> None:
    """Import one file in one transaction: all of it, or nothing."""
    options = ImportOptions(
        mapping=_mapping(dataset, mapping, field or []),
        source=source,
        crs=crs,
        layer=layer,
        dry_run=dry_run,
        strict=strict,
        csv=CsvOptions(lon_column=lon, lat_column=lat, wkt_column=wkt, encoding=encoding),
        assume_official_vn2000=assume_official_vn2000,
    )
    engine = engine_for(DatabaseSettings())
    with engine.begin() as conn:
        report = import_file(conn, path, options=options)
    print_report(report)


@app.command("import-bundled")
def import_bundled_command(
    data_dir: Annotated[Path, typer.Option(help="folder of the bundled files")] = DEFAULT_DATA_DIR,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="only when no unit is loaded yet")] = False,
) -> None:
    """Import the bundled Hoa Binh data (units, lineage, villages, places)."""
    engine = engine_for(DatabaseSettings())
    migrate.upgrade(engine)
    with engine.connect() as conn:
        loaded = count_units(conn)
    if if_empty and loaded:
        console.print(f"bundled data already loaded ({loaded} units): nothing to do")
        return
    for report in import_bundled(engine, data_dir):
        print_report(report)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API and the map viewer."""
    import uvicorn  # noqa: PLC0415 (only this command needs the server)

    uvicorn.run("api.app:app_from_environment", factory=True, host=host, port=port, workers=workers)


def main() -> None:
    """Entry point of the ``diachiso`` console script."""
    try:
        code = app(standalone_mode=False)
    except DiachisoError as error:
        console.print(f"error: {error}", markup=False)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        console.print("interrupted: the transaction was rolled back, nothing was written")
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: a wrong option or value
        console.print(f"error: {error}", markup=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)

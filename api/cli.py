"""The ``diachiso`` command: one small function per subcommand, each calling the library.

Domain errors print one clear line and exit with status 1; no traceback for user mistakes.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from addresses import migrate, pgcluster
from addresses.datasets import DATASETS
from addresses.db import make_engine
from addresses.errors import DiachisoError
from addresses.registry import assign_codes
from addresses.settings import DatabaseSettings
from api.cli_accounts import token_app, user_app
from geocoder.batch import BatchOptions, address_columns, geocode_csv
from geocoder.index import GeocoderIndex
from geocoder.results import BatchReport
from geocoder.reverse import ReverseQuery, reverse
from geocoder.search import search
from importers import synth
from importers.bundled import default_data_dir, import_bundled
from importers.mapping import FieldMapping, default_mapping, load_mapping_file
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
codes_app = typer.Typer(help="Digital address codes.", no_args_is_help=True)
app.add_typer(codes_app, name="codes")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
console = Console(stderr=True)

DEFAULT_DATA_DIR = default_data_dir()


def engine_for(settings: DatabaseSettings) -> Engine:
    """An engine on the configured database (the embedded one must run: ``diachiso db start``)."""
    return make_engine(pgcluster.database_url(settings), settings)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded cluster (creating it on first use) and apply migrations."""
    settings = DatabaseSettings()
    if settings.embedded:
        pgcluster.start(settings)
    else:
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
    """Print the database URL for psql and tools (with its password); starts nothing."""
    typer.echo(pgcluster.libpq_url(pgcluster.database_url(DatabaseSettings())))


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
    elif dataset is not None and dataset in DATASETS:
        mapping = default_mapping(dataset)
    else:
        raise typer.BadParameter(f"give --dataset ({', '.join(DATASETS)}) or --mapping FILE")
    return mapping.with_columns(**_parse_fields(fields))


def print_report(report: ImportReport | str) -> None:
    """One line per import, then rejections and warnings."""
    if isinstance(report, str):
        console.print(report, markup=False)
        return
    verb = "checked (dry run)" if report.dry_run else "imported"
    console.print(
        f"{report.file_name}: {verb} {report.rows_read} rows as {report.dataset} [{report.source}] - "
        f"inserted {report.inserted}, updated {report.updated}, unchanged {report.unchanged}, "
        f"repaired {report.repaired}, rejected {len(report.rejected)} ({report.seconds:.2f} s; {report.crs}"
        f"{'; indexes rebuilt' if report.indexes_rebuilt else ''})",
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
    dataset: Annotated[str | None, typer.Option(help=", ".join(DATASETS))] = None,
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
    rebuild_indexes: Annotated[
        bool | None,
        typer.Option(
            "--rebuild-indexes/--keep-indexes",
            help="write new rows into a fresh copy of the table, build its indexes once and swap it in "
            "(faster for a load as large as the table; readers keep answering, writers wait); "
            "default: only when at least 50,000 new rows are no fewer than the rows stored",
        ),
    ] = None,
    allow_blank_fields: Annotated[
        bool,
        typer.Option(
            "--allow-blank-fields",
            help="let a re-import blank stored values of fields the file has no column for "
            "(refused by default: a Shapefile cuts 'house_number' to 'house_numb')",
        ),
    ] = False,
) -> None:
    """Import one file in one transaction: all of it, or nothing."""
    existing_file(path)
    engine = engine_for(DatabaseSettings())
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)

        def advance(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{path.name}: {stage}", completed=done, total=total)

        options = ImportOptions(
            mapping=_mapping(dataset, mapping, field or []),
            source=source,
            crs=crs,
            layer=layer,
            dry_run=dry_run,
            strict=strict,
            csv=CsvOptions(lon_column=lon, lat_column=lat, wkt_column=wkt, encoding=encoding),
            assume_official_vn2000=assume_official_vn2000,
            rebuild_indexes=rebuild_indexes,
            allow_blank_fields=allow_blank_fields,
            progress=advance,
        )
        try:
            with engine.begin() as conn:
                report = import_file(conn, path, options=options)
        except KeyboardInterrupt:
            console.print(f"interrupted: nothing was written ({path.name}: the transaction was rolled back)")
            raise typer.Exit(130) from None
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


@app.command("synth")
def synth_command(
    addresses: Annotated[int, typer.Option("--addresses", help="how many address points to generate")],
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same addresses")] = 2025,
    messy: Annotated[float, typer.Option(help="fraction of address texts written messily")] = 0.0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="GeoParquet file to write")] = None,
    load: Annotated[bool, typer.Option("--load", help="import into the database (codes assigned)")] = False,
    data_dir: Annotated[Path, typer.Option(help="folder of the bundled files")] = DEFAULT_DATA_DIR,
) -> None:
    """Generate realistic address points for Hoa Binh, labelled generated (source "generated")."""
    if (output is None) == (not load):
        raise typer.BadParameter("give either -o FILE.parquet or --load")
    frame = synth.generate(data_dir, addresses, seed=seed, messy=messy)
    if output is not None:
        synth.write(frame, output)
        console.print(f"{len(frame)} generated addresses written to {output}", markup=False)
        return
    engine = engine_for(DatabaseSettings())
    with engine.begin() as conn:
        report = synth.load(conn, frame, name=f"synth-{seed}-{addresses}")
    print_report(report)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API and the map viewer (h11, request heads of at most 16 KiB, JSON protocol errors)."""
    import uvicorn  # noqa: PLC0415 (only this command needs the server)

    from api.server import server_options  # noqa: PLC0415
    from api.settings import ServerSettings  # noqa: PLC0415

    pgcluster.database_url(DatabaseSettings())  # a stopped database is one line here, not a traceback
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **server_options(ServerSettings()),
    )


# ---------------------------------------------------------------------------- codes


@codes_app.command("backfill")
def codes_backfill(
    source: Annotated[str | None, typer.Option(help="only the addresses of this source")] = None,
    dask: Annotated[
        str | None,
        typer.Option(help="compute location codes on Dask: local:N or a scheduler, tcp://host:8786"),
    ] = None,
) -> None:
    """Give every address missing a code its codes, in one transaction; say how many registry codes."""
    engine = engine_for(DatabaseSettings())
    with engine.begin() as conn:
        issued = _backfill(conn, source=source, scheduler=dask)
    console.print(f"{issued} registry code(s) issued", markup=False)


def _backfill(conn: Connection, *, source: str | None, scheduler: str | None) -> int:
    """``assign_codes`` here, or with the location codes computed on a Dask cluster."""
    if scheduler is None:
        return assign_codes(conn, source=source)
    from addresses.dask_codes import assign_codes_on_dask  # noqa: PLC0415 (dask only for --dask)
    from geocoder.distributed import connect  # noqa: PLC0415

    with connect(scheduler) as client:
        return assign_codes_on_dask(conn, client, source=source)


# ---------------------------------------------------------------------------- geocoder


def _print_json(value: Any) -> None:
    """Pretty JSON on stdout (Vietnamese text as is)."""
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _load_index(engine: Engine) -> GeocoderIndex:
    with engine.connect() as conn:
        return GeocoderIndex.load(conn)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help='address, place name or code, e.g. "xom lac mai chau"')],
    limit: Annotated[int, typer.Option(help="number of results")] = 5,
) -> None:
    """Geocode a text: the best results as JSON."""
    index = _load_index(engine_for(DatabaseSettings()))
    _print_json([result.to_dict() for result in search(index, query, limit=limit)])


def _date(text: str | None) -> dt.date | None:
    """An ISO date option (YYYY-MM-DD), or None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter(f"--at takes a date YYYY-MM-DD, not {text!r}") from error


@app.command("reverse")
def reverse_command(
    lon: Annotated[float, typer.Argument(help="longitude, WGS 84 degrees")],
    lat: Annotated[float, typer.Argument(help="latitude, WGS 84 degrees")],
    radius: Annotated[float, typer.Option(help="search radius for village and address, metres")] = 500.0,
    at: Annotated[
        str | None, typer.Option(help="answer with the units valid on this date (YYYY-MM-DD)")
    ] = None,
) -> None:
    """What lies at a point: units of both periods, nearest village and address, as JSON.

    One point is asked of the database directly (a few queries), not of the in-memory index
    the server loads once for all its requests; the answers are the same (tests compare them).
    """
    with engine_for(DatabaseSettings()).connect() as conn:
        answer = reverse(conn, query=ReverseQuery(lon, lat, radius_m=radius, at=_date(at)))
    _print_json(answer.to_dict())


def existing_file(path: Path) -> Path:
    """The path of an input file that exists; else a usage error (one line, exit status 2)."""
    if not path.is_file():
        raise typer.BadParameter(f"file not found: {path}" if not path.exists() else f"not a file: {path}")
    return path


def check_encoding(path: Path, encoding: str) -> None:
    """Decode the whole file once (in chunks); text that is not in ``encoding`` is a usage error.

    The message names the line and the one-line fix: Excel's "CSV" in Vietnam is
    Windows-1258 (``--encoding cp1258``), its "CSV UTF-8" needs nothing.
    """
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError as error:
        raise typer.BadParameter(f"unknown encoding {encoding!r} (e.g. utf-8, cp1258, cp1252)") from error
    line = 1
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                where = line + chunk[: error.start].count(b"\n")
                raise typer.BadParameter(
                    f"{path.name}, line {where}: not {encoding} text; if Excel saved it as 'CSV' "
                    "(Windows-1258), add --encoding cp1258 (or save it as 'CSV UTF-8')"
                ) from error
            line += chunk.count(b"\n")


def _check_csv(path: Path, encoding: str, delimiter: str, column: list[str]) -> int:
    """Check the file, its encoding and that the header names the address column(s); count data lines."""
    check_encoding(existing_file(path), encoding)
    with path.open(encoding=encoding, newline="") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
        address_columns(header, column)
        return sum(1 for _line in handle)


@app.command("geocode")
def geocode_command(
    path: Annotated[Path, typer.Argument(help="CSV file with a header row")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write")],
    column: Annotated[list[str], typer.Option(help="address column (repeat to join several in order)")],
    delimiter: Annotated[str, typer.Option(help="field separator")] = ",",
    encoding: Annotated[
        str, typer.Option(help="text encoding of the input (Excel's 'CSV' in Vietnam: cp1258)")
    ] = "utf-8-sig",
    excel: Annotated[
        bool, typer.Option("--excel", help="write UTF-8 with a BOM, so that Excel shows Vietnamese right")
    ] = False,
    dask: Annotated[
        str | None,
        typer.Option(help="run on Dask: local:N (N worker processes here) or a scheduler, tcp://host:8786"),
    ] = None,
) -> None:
    """Geocode a CSV file: same rows and order, geocoding columns added (UTF-8; --excel adds a BOM)."""
    total = _check_csv(path, encoding, delimiter, column)
    if dask is not None:
        _geocode_on_dask(
            path, output, column=column, delimiter=delimiter, encoding=encoding, scheduler=dask, excel=excel
        )
        return
    engine = engine_for(DatabaseSettings())
    index = _load_index(engine)
    columns = [TextColumn("geocoding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with (
        Progress(*columns, console=console) as bar,
        engine.connect() as conn,
        path.open(encoding=encoding, newline="") as src,
        output.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as dst,
    ):
        task = bar.add_task("rows", total=total)
        options = BatchOptions(
            column=tuple(column), delimiter=delimiter, progress=lambda done: bar.update(task, completed=done)
        )
        report = geocode_csv(index, conn, src, dst, options=options)
    _print_batch(report)


def _print_batch(report: BatchReport) -> None:
    """One line of counts and speed, then the first problems."""
    console.print(
        f"{report.rows} rows: {report.matched} matched, {report.unmatched} unmatched, {report.bad} bad "
        f"({report.seconds:.1f} s, {report.rows_per_second:,.0f} rows/s, cache hits {report.cache_hits})",
        markup=False,
    )
    for line in report.problems[:20]:
        console.print(f"  {line}", markup=False)


def _geocode_on_dask(
    path: Path, output: Path, *, column: list[str], delimiter: str, encoding: str, scheduler: str, excel: bool
) -> None:
    """The batch on a Dask cluster; its workers load the index from the same database."""
    from geocoder.distributed import DaskOptions, connect, geocode_csv_dask  # noqa: PLC0415 (dask only for --dask)

    url = pgcluster.database_url(DatabaseSettings())
    with (
        connect(scheduler) as client,
        path.open(encoding=encoding, newline="") as src,
        output.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as dst,
    ):
        workers = len(client.scheduler_info().get("workers", {}))
        console.print(f"geocoding on Dask ({scheduler}, {workers} workers)", markup=False)
        options = BatchOptions(column=tuple(column), delimiter=delimiter)
        report = geocode_csv_dask(
            client, src, dst, options=options, dask_options=DaskOptions(database_url=url)
        )
    _print_batch(report)


def main() -> None:
    """Entry point of the ``diachiso`` console script."""
    try:
        code = app(standalone_mode=False)
    except DiachisoError as error:
        console.print(f"error: {error}", markup=False, soft_wrap=True)
        sys.exit(1)
    except (DBAPIError, psycopg.Error) as error:  # the server refused, went away, or stopped the transaction
        reason = " ".join(str(getattr(error, "orig", error)).split())
        console.print(f"database error (nothing was written): {reason}", markup=False)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        console.print("interrupted: the transaction was rolled back, nothing was written")
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: a wrong option or value
        console.print(f"error: {error}", markup=False, soft_wrap=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)

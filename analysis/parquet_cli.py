"""`vigie parquet export|import`: canonical tables as (hive-)partitioned Parquet.

A Dask, Spark or DuckDB cluster reads the export directly (``dd.read_parquet(DIR/messages)``):
one folder per table, optionally partitioned by ``territory_id`` and ``month`` (``YYYY-MM`` of
the table's own date column). Every column is kept *inside* the files (partition values are
folder names, lossy for NULL), so the files alone are the data; ``month`` is the only added
column and is dropped on import. Import is an upsert, partition file by partition file, so a
large export streams in bounded memory.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import typer
from rich.console import Console

from analysis import schema, store

app = typer.Typer()
parquet_app = typer.Typer(help="Tables canoniques en Parquet partitionné (lecture directe par un cluster).")
app.add_typer(parquet_app, name="parquet")
err = Console(stderr=True)

PARTITION_KEYS = ("territory_id", "month")
# The date a table's rows belong to, for the ``month`` partition.
MONTH_COLUMN = {"posts": "created_at", "messages": "created_at", "audience_followers": "date",
                "audience_demographics": "date", "page_daily": "date", "ad_results": "reporting_start",
                "campaigns": "start_date", "alerts": "period_start", "labels": "created_at",
                "imports": "started_at", "audit_log": "at", "moderation_status": "at"}


def export_parquet(con: duckdb.DuckDBPyConnection, out: str | Path,
                   partition_by: tuple[str, ...] = ()) -> dict[str, int]:
    """Write every canonical table to ``out/<table>/`` (partitioned when the table has the keys).

    Returns ``{table: rows}``. ``partition_by`` ⊆ ``('territory_id', 'month')``.
    """
    unknown = set(partition_by) - set(PARTITION_KEYS)
    if unknown:
        raise ValueError(f"Partitionnement inconnu : {', '.join(sorted(unknown))} (possibles : territory_id, month)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for t in schema.TABLES:
        n = con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
        counts[t.name] = int(n)
        if n == 0:
            continue
        keys = [k for k in partition_by if (k == "month" and t.name in MONTH_COLUMN) or k in t.column_names]
        month = (f", coalesce(strftime({MONTH_COLUMN[t.name]}, '%Y-%m'), 'inconnu') AS month"
                 if "month" in keys else "")
        dest = out / t.name
        if keys:
            con.execute(f"COPY (SELECT *{month} FROM {t.name}) TO '{dest}' "
                        f"(FORMAT parquet, PARTITION_BY ({', '.join(keys)}), WRITE_PARTITION_COLUMNS true, "
                        "OVERWRITE_OR_IGNORE true)")
        else:
            dest.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT * FROM {t.name}) TO '{dest / 'data.parquet'}' (FORMAT parquet)")
    return counts


def import_parquet(con: duckdb.DuckDBPyConnection, src: str | Path) -> dict[str, tuple[int, int]]:
    """Upsert every ``src/<table>/**/*.parquet`` into the store; return ``{table: (inserted, updated)}``.

    Tables are read in schema order (accounts before posts before messages), one file per
    transaction. Tables without a key (rejects, audit_log) are appended only into an empty
    table, so importing the same export twice never duplicates them.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"Dossier introuvable : {src}")
    res: dict[str, tuple[int, int]] = {}
    for t in schema.TABLES:
        files = sorted((src / t.name).rglob("*.parquet"))
        if not files:
            continue
        if not t.key and con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]:
            res[t.name] = (0, 0)
            continue
        ins = upd = 0
        for f in files:
            df = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(f)]).df()
            df = df[[c for c in df.columns if c in t.column_names]]
            with store.transaction(con):
                i, u = store.upsert(con, t.name, df)
            ins, upd = ins + i, upd + u
        res[t.name] = (ins, upd)
    return res


@parquet_app.command("export")
def export_cmd(
    out: Path = typer.Argument(..., help="Dossier de sortie (un sous-dossier par table)."),
    partition_by: str = typer.Option("", "--partition-by", help="territory_id,month (ou l'un des deux)."),
) -> None:
    """Exporter les tables canoniques en Parquet (partitionné par territoire et/ou mois)."""
    from analysis.fmt import fr_int

    keys = tuple(k.strip() for k in partition_by.split(",") if k.strip())
    try:
        with store.reader() as con:
            counts = export_parquet(con, out, keys)
    except ValueError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from e
    done = {k: v for k, v in counts.items() if v}
    err.print(f"Export Parquet : {len(done)} tables, {fr_int(sum(done.values()))} lignes → {out}")


@parquet_app.command("import")
def import_cmd(src: Path = typer.Argument(..., help="Dossier produit par `vigie parquet export`.")) -> None:
    """Importer (upsert) des tables canoniques depuis un export Parquet."""
    from analysis.fmt import fr_int

    try:
        with store.writer() as con:
            res = import_parquet(con, src)
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from e
    for name, (i, u) in res.items():
        err.print(f"{name} : {fr_int(i)} ajoutées, {fr_int(u)} mises à jour")

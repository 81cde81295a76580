"""`vigie parquet export|import`: canonical tables as (hive-)partitioned Parquet.

A Dask, Spark or DuckDB cluster reads the export directly (``dd.read_parquet(DIR/messages)``):
one folder per table, optionally partitioned by ``territory_id`` and ``month`` (``YYYY-MM`` of
the table's own date column). Every column is kept *inside* the files (partition values are
folder names, lossy for NULL), so the files alone are the data; ``month`` is the only added
column and is dropped on import. Import is an upsert, partition file by partition file, so a
large export streams in bounded memory.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.markup import escape

from analysis import derived_refresh, privacy, schema, store
from analysis.fmt import fr_int

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


def exports_log(db: str | Path | None = None) -> Path:
    """``<db>.parquet-exports.json``: where `vigie parquet export` wrote copies of this store's tables,
    so that erasure and purge can name the copies they cannot reach (beside the store, not in it:
    an export only reads the store)."""
    p = store.db_path(db)
    return p.with_name(p.name + ".parquet-exports.json")


def record_export(out: str | Path, db: str | Path | None = None) -> None:
    """Remember that ``out`` holds an export of the store (latest date per folder)."""
    log = exports_log(db)
    known = {e["path"]: e for e in parquet_exports(db)}
    out = str(Path(out).resolve())
    known[out] = {"path": out, "at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")}
    log.write_text(json.dumps(sorted(known.values(), key=lambda e: e["path"]), ensure_ascii=False, indent=1),
                   encoding="utf-8")


def parquet_exports(db: str | Path | None = None) -> list[dict]:
    """The recorded exports whose folder still exists: ``[{"path", "at"}]``."""
    try:
        entries = json.loads(exports_log(db).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict) and Path(str(e.get("path"))).is_dir()]


def _clear(dest: Path) -> None:
    """Remove a table folder of a previous export, so that the new one holds exactly the store's rows
    (rows erased or purged since, partitions that no longer exist). Only Parquet files are there."""
    if not dest.exists():
        return
    strays = [f for f in dest.rglob("*") if f.is_file() and f.suffix != ".parquet"]
    if strays:
        raise ValueError(f"{dest} contient d'autres fichiers que des exports Parquet ({strays[0].name}…) : "
                         "choisissez un dossier réservé à l'export.")
    shutil.rmtree(dest)


def export_parquet(con: duckdb.DuckDBPyConnection, out: str | Path,
                   partition_by: tuple[str, ...] = ()) -> dict[str, int]:
    """Write every canonical table to ``out/<table>/`` (partitioned when the table has the keys).

    Returns ``{table: rows}``. ``partition_by`` ⊆ ``('territory_id', 'month')``. A table folder left
    by a previous export into ``out`` is replaced: re-exporting after an erasure or a purge leaves
    none of the deleted rows.
    """
    unknown = set(partition_by) - set(PARTITION_KEYS)
    if unknown:
        raise ValueError(f"Partitionnement inconnu : {', '.join(sorted(unknown))} (possibles : territory_id, month)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    pending = store.pending_tables(con)  # a store not yet migrated: tables still to be created are empty
    for t in schema.TABLES:
        n = 0 if t.name in pending else con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
        counts[t.name] = int(n)
        _clear(out / t.name)
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


def _same_key(con: duckdb.DuckDBPyConnection, src: Path) -> None:
    """An export whose authors were hashed with another key than this store's (both recorded:
    :func:`analysis.privacy.check_store_key`) is refused before anything is written: the same people
    would carry two pseudonyms. A store with no record takes the export's with its rows."""
    files = sorted((src / "store_settings").rglob("*.parquet"))
    here = privacy.recorded_key_check(con)
    if not files or here is None:
        return
    rows = con.execute("SELECT value FROM read_parquet(?, hive_partitioning = false) WHERE name = ?",
                       [[str(f) for f in files], privacy.KEY_CHECK]).fetchall()
    if rows and rows[0][0] != here[0]:
        raise privacy.KeyChanged(
            f"{src} vient d'une base dont les auteurs ont été pseudonymisés avec une autre clé (empreinte {rows[0][0]}) "
            f"que celle de cette base ({here[0]}) : rien n'a été importé. Une même personne y porterait deux "
            "pseudonymes. Importez-le dans une base neuve, ou réimportez les exports d'origine ici (docs/privacy.md, "
            "section 6).")


def import_parquet(con: duckdb.DuckDBPyConnection, src: str | Path) -> dict[str, tuple[int, int]]:
    """Upsert every ``src/<table>/**/*.parquet`` into the store; return ``{table: (inserted, updated)}``.

    Tables are read in schema order (accounts before posts before messages), one file per
    transaction. Tables without a key (rejects, audit_log) are appended only into an empty
    table, so importing the same export twice never duplicates them.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"Dossier introuvable : {src}")
    _same_key(con, src)
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

    keys = tuple(k.strip() for k in partition_by.split(",") if k.strip())
    try:
        with store.reader() as con:
            counts = export_parquet(con, out, keys)
    except ValueError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from e
    record_export(out)
    done = {k: v for k, v in counts.items() if v}
    err.print(f"Export Parquet : {len(done)} tables, {fr_int(sum(done.values()))} lignes → {out}")
    err.print("Ces fichiers contiennent des données personnelles (messages, pseudonymes) : un effacement "
              "(`vigie privacy erase`) ou une purge (`vigie purge`) ne les atteint pas, relancez alors cet "
              "export dans le même dossier (il remplace les tables).", soft_wrap=True)


@parquet_app.command("import")
def import_cmd(src: Path = typer.Argument(..., help="Dossier produit par `vigie parquet export`.")) -> None:
    """Importer (upsert) des tables canoniques depuis un export Parquet."""

    try:
        with derived_refresh.writer() as con:
            res = import_parquet(con, src)
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from e
    except privacy.KeyChanged as e:
        err.print(f"[red]✗[/] {escape(str(e))}", soft_wrap=True)
        raise typer.Exit(1) from e
    for name, (i, u) in res.items():
        err.print(f"{name} : {fr_int(i)} ajoutées, {fr_int(u)} mises à jour")

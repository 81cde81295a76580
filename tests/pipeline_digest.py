"""Content digest of what the pipeline writes (import + enrichment + derived tables) into a store.

The test store (``make test-db``: the demo at scale 1, ≈ 266 000 messages) is built by the whole
pipeline; its digest is kept in ``tests/golden/pipeline.json``. A faster importer or enricher must
write the same rows: ``tests/test_pipeline_identity.py`` compares the digest table by table.

What is left out, because it is not the pipeline's output but the moment it ran: the random
``import_id`` (replaced by the imported file's SHA-256, so a row still says which file it came
from), ``scored_at``, ``first_seen``, the imports' paths and timestamps, and the inserted/updated
split of each file (an import in another order splits the same rows differently). Probabilities and
scores are rounded to 6 decimals: a batch of another size may sum floats in another order.

Regenerate on purpose (a model or an importer changed its output): ``VIGIE_TEST_DB=… python -m
tests.pipeline_digest`` after ``make test-db``, and say why in the commit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb

GOLDEN = Path(__file__).parent / "golden" / "pipeline.json"

# table -> SELECT list (stable columns only; i.import_sha replaces import_id)
_SHA = "(SELECT sha256 FROM imports i WHERE i.import_id = t.import_id)"
COLUMNS: dict[str, str] = {
    "messages": f"t.* EXCLUDE (import_id), {_SHA} AS import_sha",
    "posts": f"t.* EXCLUDE (import_id), {_SHA} AS import_sha",
    "accounts": "t.* EXCLUDE (first_seen)",
    "sentiment": ("item_id, item_type, model_version, lang, label, round(p_negative, 6), round(p_neutral, 6), "
                  "round(p_positive, 6)"),
    "themes": "item_id, item_type, theme, round(score, 6), model_version",
    "toxicity": "message_id, model_version, round(p_toxic, 6), is_question, lexicon_hits",
    "rejects": f"t.* EXCLUDE (import_id, path), {_SHA} AS import_sha",
    "page_daily": f"t.* EXCLUDE (import_id), {_SHA} AS import_sha",
    "audience_demographics": "t.* EXCLUDE (import_id)",
    "audience_followers": "t.* EXCLUDE (import_id)",
    "ad_results": "t.* EXCLUDE (import_id)",
    "imports": "sha256, format, encoding, rows_read, rejected, status, error",
    "daily_sentiment": "t.*",
    "daily_messages_utc": "t.*",
    "daily_themes_utc": "t.*",
    "incoming_messages": "t.*",
    "moderation_messages": "t.* REPLACE (round(p_toxic, 6) AS p_toxic)",
    "effective_sentiment": "t.*",
    # lemma keys per text (analysis.topics.keys): key ids are names given in insertion order, so the
    # digest holds each text's number of keys and the set of keys, not the ids
    "text_keys": "text, version, len(keys)",
    "lemma_keys": "key",
}


def digest(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int | str]]:
    """``{table: {rows, hash}}`` over the stable columns of each table the store has."""
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    out: dict[str, dict[str, int | str]] = {}
    for table, cols in COLUMNS.items():
        if table not in present:
            continue
        have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        if "import_id" not in have:
            cols = cols.replace(" EXCLUDE (import_id, path)", " EXCLUDE (path)").replace(
                " EXCLUDE (import_id)", "").replace(f", {_SHA} AS import_sha", "")
        n, h = con.execute(
            f"SELECT count(*), coalesce(sum(hash(r))::HUGEINT, 0)::VARCHAR "
            f"FROM (SELECT {cols} FROM {table} AS t) AS r").fetchone()
        out[table] = {"rows": int(n), "hash": h}
    return out


def store_digest(db: str | os.PathLike) -> dict[str, dict[str, int | str]]:
    read = Path(f"{db}.read")
    with duckdb.connect(str(read if read.exists() else db), read_only=True) as con:
        return digest(con)


if __name__ == "__main__":
    db = os.environ.get("VIGIE_TEST_DB")
    if not db:
        sys.exit("VIGIE_TEST_DB : chemin du magasin de test (make test-db)")
    GOLDEN.write_text(json.dumps(store_digest(db), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"écrit : {GOLDEN}")

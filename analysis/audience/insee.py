"""Reading the INSEE population files (age bands by commune) into the population table."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from analysis import schema, store
from analysis.audience.core import POP_BANDS, place_key
from analysis.fmt import fr_plural
from analysis.ingest.sniff import read_user_csv
from analysis.metrics import per_1000_inhabitants  # noqa: F401 - the one definition, re-exported

# ------------------------------------------------------------------------------ INSEE reader
CODE_COLUMNS = ("CODGEO", "COM", "DEPCOM", "CODE_COMMUNE", "CODGEO_2024", "CODGEO_2025", "GEO")
COUNT_COLUMNS = ("NB", "POP", "EFFECTIF", "OBS_VALUE")


class PopulationFileError(ValueError):
    """An INSEE population file that cannot be read; the message says where and what to do."""


@dataclass
class PopulationRead:
    """Result of reading an INSEE file: population rows and what was left aside."""

    population: pd.DataFrame
    rows_read: int
    unmatched_codes: list[str]
    age_column: str


def _age_interval(col: str, value: str, top: int | None) -> tuple[int, int] | None:
    """Single years [lo, hi] covered by an age cell (hi = 200 for an open band)."""
    v = str(value).strip()
    if not v:
        return None
    if col.startswith("AGED"):  # single year of age, the last value open (AGED100: 100 = 100+)
        a = int(float(v))
        return (a, 200) if top is not None and a >= top else (a, a)
    if col.startswith("AGEQ"):  # five-year band by lower bound (AGEQ80: 80 = 80+)
        a = int(float(v))
        return (a, 200) if top is not None and a >= top else (a, a + 4)
    s = place_key(v).replace(" ", "")
    m = re.fullmatch(r"y?(\d+)(?:t|-|a|to)(\d+)(?:ans?)?", s)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.fullmatch(r"(?:y_?ge|ge)?(\d+)(?:\+|ansouplus|ansetplus|ouplus|etplus|plus)?", s)
    if m and (s.endswith(("+", "plus")) or "ge" in s):
        return int(m.group(1)), 200
    m = re.fullmatch(r"(?:y_?lt|lt|moinsde)(\d+)(?:ans?)?", s)
    if m:
        return 0, int(m.group(1)) - 1
    return None


def _split_interval(lo: int, hi: int) -> list[tuple[str, float, bool]]:
    """Spread an age interval over POP_BANDS uniformly by single year: [(band, fraction, split)]."""
    hi_eff = max(min(hi, 105), lo)  # open top bands: only their lower bound matters (all in 65+)
    years = hi_eff - lo + 1
    out = []
    for band, b_lo, b_hi in POP_BANDS:
        n = max(0, min(hi_eff, b_hi) - max(lo, b_lo) + 1)
        if n:
            out.append((band, n / years, n != years))
    return out


def read_insee_population(path: str | Path, code_to_territory: Mapping[str, str] | None = None,
                          territory: str | None = None) -> PopulationRead:
    """Read an INSEE « population par sexe et âge » CSV into population rows (platform-aligned bands).

    Accepted: ``;`` (or ``,``) separated, UTF-8 or cp1252; a commune code column (CODGEO, COM…),
    SEXE (1 = hommes, 2 = femmes), an age column (AGED100 single years, AGEQ80 five-year bands, or
    a text band like ``15-19``, ``Y15T19``, ``80 ans ou plus``) and a count NB (comma decimals).
    Rows go to ``territory`` when given (all codes summed, e.g. the communes of an EPCI), else to the
    territory whose INSEE code equals the row's code. Ages spread uniformly by single year over
    the bands they straddle; such bands are flagged ``approximate``.
    """
    path = Path(path)
    df = read_user_csv(path)
    df.columns = [c.strip().upper() for c in df.columns]
    code_col = next((c for c in df.columns if c in CODE_COLUMNS), None)
    sex_col = next((c for c in df.columns if c in ("SEXE", "SEX")), None)
    age_col = next((c for c in df.columns if c.startswith(("AGED", "AGEQ")) or c in ("AGE", "AGE_BAND",
                                                                                       "TRANCHE_AGE", "TRANCHE")), None)
    nb_col = next((c for c in df.columns if c in COUNT_COLUMNS), None)
    missing = [n for n, c in (("code commune (CODGEO/COM)", code_col if territory is None else "x"),
                              ("sexe (SEXE)", sex_col), ("âge (AGED100/AGEQ80/AGE)", age_col),
                              ("effectif (NB)", nb_col)) if c is None]
    if missing:
        raise PopulationFileError(f"{path.name} : {fr_plural(len(missing), 'colonne introuvable', 'colonnes introuvables')} : {', '.join(missing)}. Colonnes "
                                  f"présentes : {', '.join(df.columns)}. Attendu : fichier INSEE population par "
                                  "sexe et âge (séparateur « ; »).")
    m = re.search(r"(\d+)$", age_col)
    top = int(m.group(1)) if m and age_col.startswith(("AGED", "AGEQ")) else None
    sex_map = {"1": "M", "2": "F", "H": "M", "M": "M", "F": "F", "HOMMES": "M", "FEMMES": "F", "HOMME": "M",
               "FEMME": "F"}
    recs = []
    unmatched: set[str] = set()
    for i, r in enumerate(df.itertuples(index=False), start=2):
        row = dict(zip(df.columns, r, strict=True))
        sex = sex_map.get(str(row[sex_col]).strip().upper())
        if sex is None:
            if str(row[sex_col]).strip().upper() in ("", "0", "T", "ENSEMBLE", "_T"):
                continue  # totals rows of some INSEE tables
            raise PopulationFileError(f"{path.name}, ligne {i}, colonne {sex_col} : valeur « {row[sex_col]} » "
                                      "inconnue (attendu 1 = hommes, 2 = femmes).")
        try:
            ages = _age_interval(age_col, row[age_col], top)
        except ValueError:
            ages = None
        if ages is None:
            if place_key(row[age_col]) in ("", "ensemble", "total", "_t"):
                continue
            raise PopulationFileError(f"{path.name}, ligne {i}, colonne {age_col} : âge « {row[age_col]} » illisible.")
        raw_nb = str(row[nb_col]).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        try:
            nb = float(raw_nb.replace(",", ".")) if raw_nb else None
        except ValueError as e:
            raise PopulationFileError(f"{path.name}, ligne {i}, colonne {nb_col} : nombre « {row[nb_col]} » "
                                      "illisible.") from e
        if nb is None:
            continue
        if territory:
            tid = territory
        else:
            code = str(row[code_col]).strip()
            tid = (code_to_territory or {}).get(code)
            if tid is None:
                unmatched.add(code)
                continue
        for band, frac, split in _split_interval(*ages):
            recs.append((tid, sex, band, nb * frac, split))
    if not recs:
        raise PopulationFileError(f"{path.name} : aucune ligne ne correspond à un territoire du registre (codes "
                                  f"lus : {', '.join(sorted(unmatched)[:5])}…). Indiquez --territory ou "
                                  "renseignez le code INSEE dans le registre.")
    p = pd.DataFrame(recs, columns=["territory_id", "sex", "age_band", "population", "approximate"])
    p = p.groupby(["territory_id", "sex", "age_band"], as_index=False).agg(
        population=("population", "sum"), approximate=("approximate", "any"))
    p["source"] = path.name
    return PopulationRead(p, len(df), sorted(unmatched), age_col)


def store_population(con: duckdb.DuckDBPyConnection, pop: pd.DataFrame) -> int:
    """Replace the population reference of the territories in ``pop`` (one transaction); rows written."""

    con.execute(schema.table("population").ddl())  # stores created before the table existed
    with store.transaction(con):
        for tid in sorted(pop["territory_id"].unique()):
            con.execute("DELETE FROM population WHERE territory_id = ?", [tid])
        con.register("_pop", pop[schema.table("population").column_names])
        con.execute("INSERT INTO population SELECT * FROM _pop")
        con.unregister("_pop")
    return len(pop)



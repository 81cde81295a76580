"""Real labelled French texts for the evaluation suite, read from the shared data folder at run time.

Nothing here is copied into the project: the texts stay in ``shared/`` (licences, real people's
words); the project keeps only row references and our own labels (``data/eval/``). The shared
folder is ``--shared``, else ``$VIGIE_SHARED``, else ``../shared`` beside the repository.

Every loader returns a DataFrame with at least ``text`` and a stable ``ref`` (row reference).
Forbidden here, by design: the UMSAB test split (not even read), Paris's participatory budget,
HateDay. No loader knows their paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.fmt import fr_count
from analysis.ingest.base import FR_MONTHS
from analysis.store import REPO_ROOT

EVAL_DIR = REPO_ROOT / "data" / "eval"
LABELS_PATH = EVAL_DIR / "labelled_comments.csv"
SECOND_PASS_PATH = EVAL_DIR / "labelled_comments_second_pass.csv"
# 90 more real texts, labelled after the settings of the time; only the themes' fallback was chosen later (by
# its rule on the civic texts, with these figures on screen): the comment figures least tied to any choice
HOLDOUT_PATH = EVAL_DIR / "labelled_comments_holdout.csv"
# 150 more (50 tweets of MLMA's test quarter, 50 TripAdvisor and 50 Booking.com reviews read as French; never
# labelled before), labelled by a second annotator who read them blind — texts alone, mixed with the first batch's
# — after every setting: nothing was chosen on them
HOLDOUT2_PATH = EVAL_DIR / "labelled_comments_holdout2.csv"
# the first batch as that second annotator labelled it in the same blind reading: agreement on held-out texts
HOLDOUT_SECOND_PASS_PATH = EVAL_DIR / "labelled_comments_holdout_second_pass.csv"
THEMES_MAPPING_PATH = EVAL_DIR / "themes_dev_mapping.toml"
# 400 tweets of MLMA's training quarters labelled by reading them, blind, with the guide's « hostile » (what a
# moderator must see), not MLMA's crowd types: how far MLMA's labels are from a moderator's (`vigie eval`)
MLMA_MODERATOR_PATH = EVAL_DIR / "mlma_train_moderator_labels.csv"


class SharedDataMissing(FileNotFoundError):
    """The shared data folder (or one of its files) is not there: say where it was looked for."""


def shared_root(path: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``path``, else ``$VIGIE_SHARED``, else ``../shared`` beside the repo."""
    p = Path(path or os.environ.get("VIGIE_SHARED") or REPO_ROOT.parent / "shared")
    if not p.is_dir():
        # worktrees live one level deeper (…/wt/<name>): look one more level up before giving up
        alt = REPO_ROOT.parent.parent / "shared"
        if path is None and not os.environ.get("VIGIE_SHARED") and alt.is_dir():
            return alt.resolve()
        raise SharedDataMissing(
            f"Dossier des données partagées introuvable : {p}. Indiquez-le avec --shared CHEMIN "
            "ou la variable VIGIE_SHARED.")
    return p.resolve()


def _need(p: Path) -> Path:
    if not p.exists():
        raise SharedDataMissing(f"Fichier introuvable : {p}")
    return p


# ------------------------------------------------------------------------------ themes (civic texts)
def themes_dev(root: Path) -> pd.DataFrame:
    """The three development sets of real civic texts with their institution's label.

    Columns: source (toulouse, montpellier, mel), ref, text, label (institution), gold (tuple of
    acceptable taxonomy ids, empty = unmapped: left out of the scores), ``short`` (a title-like
    text: Toulouse and Montpellier rows, MEL titles).
    """
    import tomllib

    mapping = tomllib.loads(THEMES_MAPPING_PATH.read_text(encoding="utf-8"))
    d = root / "data" / "themes-dev"
    frames = []
    t = pd.read_csv(_need(d / "toulouse_budget_participatif_2022_2024.csv"), dtype=str)
    frames.append(pd.DataFrame({"source": "toulouse", "ref": t["source"] + ":" + t["project_id"],
                                "text": t["text"], "label": t["label"]}))
    m = pd.read_csv(_need(d / "montpellier_subventions_2014.csv"), dtype=str, keep_default_na=False)
    frames.append(pd.DataFrame({"source": "montpellier", "ref": "mtp:" + m.index.astype(str),
                                "text": m["text"], "label": m["label"]}))
    g = pd.read_csv(_need(d / "mel_grand_debat_2019.csv"), dtype=str, keep_default_na=False)
    # The short form of a proposal is its title (what a social-media message looks like); the
    # body is long and argued: kept as ``long_text`` for the length-band checks.
    frames.append(pd.DataFrame({"source": "mel", "ref": "mel:" + g["id"], "text": g["text_title"],
                                "label": g["label"], "long_text": g["text_title"] + ". " + g["text_body"]}))
    df = pd.concat(frames, ignore_index=True)
    maps = {src: {k: tuple(v) for k, v in mapping.get(src, {}).items()} for src in ("toulouse", "montpellier", "mel")}
    df["gold"] = [maps[s].get(lab.strip(), ()) for s, lab in zip(df["source"], df["label"], strict=True)]
    return df


# ------------------------------------------------------------------------------ sentiment (tweets, reviews)
def umsab(root: Path, split: str) -> pd.DataFrame:
    """UMSAB-fr ``train`` or ``val`` (the test split is withheld and never read here)."""
    if split not in ("train", "val"):
        raise ValueError("UMSAB : seuls les découpages train et val sont lus (test est réservé).")
    d = root / "data" / "umsab-fr"
    texts = _need(d / f"{split}_text.txt").read_text(encoding="utf-8-sig").splitlines()
    labels = _need(d / f"{split}_labels.txt").read_text(encoding="utf-8-sig").splitlines()
    if len(texts) != len(labels):
        raise ValueError(f"UMSAB {split} : {len(texts)} textes pour {len(labels)} étiquettes.")
    lab = np.array(["negative", "neutral", "positive"], dtype=object)[np.asarray(labels, dtype=int)]
    return pd.DataFrame({"ref": [f"umsab-{split}:{i}" for i in range(len(texts))], "text": texts, "label": lab})


def tripadvisor(root: Path) -> pd.DataFrame:
    """TripAdvisor reviews (Paris hotel) with their 1–5 rating; label ≤ 2 negative, 3 neutral, ≥ 4 positive."""
    p = _need(root / "formats" / "labelled_fr_tourism_reviews_trianon" / "data_trianon_tripadvisor.csv")
    rows = []
    for i, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines()[1:], 1):
        text, _, rating = line.rpartition(";")  # ';' without quoting: the rating is the last field
        try:
            r = float(rating.replace(",", "."))
        except ValueError:
            continue
        rows.append({"ref": f"tripadvisor:{i}", "text": text.strip(), "rating": r,
                     "label": "negative" if r <= 2 else "neutral" if r < 4 else "positive"})
    return pd.DataFrame(rows)


def booking(root: Path) -> pd.DataFrame:
    """Booking.com reviews: title + liked + disliked fields joined as the reader sees them, score 1–10."""
    p = _need(root / "formats" / "labelled_fr_tourism_reviews_trianon" / "data_trianon_booking.xlsx")
    b = pd.read_excel(p, dtype=str).fillna("")
    score = pd.to_numeric(b["Score"].str.extract(r"([\d]+(?:,\d+)?)")[0].str.replace(",", "."), errors="coerce")
    parts = [b["Content"].str.strip(), b["Positive"].str.strip(), b["Negative"].str.strip()]
    text = [". ".join(x for x in trio if x) for trio in zip(*parts, strict=True)]
    return pd.DataFrame({"ref": [f"booking:{i}" for i in b.index], "text": text, "score": score,
                         "title": b["Content"], "liked": b["Positive"], "disliked": b["Negative"],
                         "created_at": [_fr_sent_date(v) for v in b.get("Date", pd.Series([""] * len(b)))]})


def _fr_sent_date(v: str) -> pd.Timestamp:
    """'Commentaire envoyé le 16 août 2024' → 2024-08-16 (NaT when unreadable)."""
    m = re.search(r"(\d{1,2})(?:er)?\s+(\w+)\s+(\d{4})", str(v))
    if not m or m.group(2).lower() not in FR_MONTHS:
        return pd.NaT
    return pd.Timestamp(int(m.group(3)), FR_MONTHS[m.group(2).lower()], int(m.group(1)))


# ------------------------------------------------------------------------------ hostility (tweets)
# MLMA's ``sentiment`` column is the hostility *type* the crowd saw (multi-label joined by '_').
# What a moderator must see is an insult, abuse or hate aimed at someone: ``offensive``, ``abusive``
# and ``hateful``. ``disrespectful`` (irreverent, mocking) and ``fearful`` (the author's fear of a
# group) are not the same thing and are often mild; ``normal`` beside a hostile type means the
# annotators disagreed. Mapping (measured in docs: `vigie eval` prints the alternatives):
#   hostile  = offensive | abusive | hateful present and ``normal`` absent
#   excluded = hostile type present *and* ``normal`` (annotators split): kept out of scores
#   normal   = everything else (normal, fearful, disrespectful, and their mixes without a hostile type)
HOSTILE_TYPES = frozenset({"offensive", "abusive", "hateful"})


def mlma_target(label: str) -> int | None:
    """1 hostile, 0 not hostile, None when the crowd split between a hostile type and normal."""
    parts = set(str(label).strip().split("_"))
    hostile = bool(parts & HOSTILE_TYPES)
    if hostile and "normal" in parts:
        return None
    return int(hostile)


def mlma(root: Path) -> pd.DataFrame:
    """MLMA French tweets: ref (HITId), text, raw label, target (1/0/None), split (train/test).

    The split is fixed by a hash of the HITId (a quarter in test), so it never moves with code:
    the shipped toxicity model is fitted on ``train`` only and every figure is read on ``test``.
    """
    p = _need(root / "formats" / "labelled_fr_hate_mlma" / "fr_dataset.csv")
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    ref = "mlma:" + df["HITId"]
    return pd.DataFrame({"ref": ref, "text": df["tweet"], "label": df["sentiment"],
                         "target": [mlma_target(v) for v in df["sentiment"]],
                         "split": [hash_split(r, 0.25) for r in ref]})


def mlma_moderator() -> pd.DataFrame:
    """The moderator labels of MLMA training tweets (:data:`MLMA_MODERATOR_PATH`): ref, lang, hostile (0/1);
    empty where the file is absent."""
    if not MLMA_MODERATOR_PATH.exists():
        return pd.DataFrame({"ref": [], "lang": [], "hostile": []})
    lab = pd.read_csv(MLMA_MODERATOR_PATH, dtype=str, keep_default_na=False, comment="#")
    return lab.assign(hostile=lab["hostile"].astype(int))


def hash_split(ref: str, test_share: float) -> str:
    """'test' for a fixed pseudo-random share of refs (SHA-256 of the ref), else 'train'."""
    h = int(hashlib.sha256(ref.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test_share else "train"


# ------------------------------------------------------------------------------ real comments (our labels)
def exportcomments(root: Path) -> pd.DataFrame:
    """The ExportComments.com Facebook export (Québec): ref = sheet row (1-based), text, date."""
    p = _need(root / "formats" / "exportcomments_fb_comments_fr" / "exportcomments.xlsx")
    raw = pd.read_excel(p, header=None, dtype=object)
    hdr = next(i for i in range(len(raw)) if str(raw.iloc[i, 6]).strip() == "Comment")
    body = raw.iloc[hdr + 1:]
    return pd.DataFrame({"ref": [f"exportcomments:{i + 1}" for i in body.index],
                         "text": body[6].fillna("").astype(str).tolist(),
                         "author": body[3].fillna("").astype(str).tolist(),
                         "created_at": pd.to_datetime(body[4], errors="coerce").tolist()})


def x_archive(root: Path) -> pd.DataFrame:
    """French tweets of the 2026 X archive sample: ref = tweet id."""
    p = _need(root / "formats" / "x_twitter_archive_2026_tweetsjs" / "data" / "tweets.first300.js")
    s = p.read_text(encoding="utf-8")
    items = json.loads(s[s.index("=") + 1:])
    rows = [t["tweet"] for t in items]
    return pd.DataFrame({"ref": [f"x:{t['id_str']}" for t in rows], "text": [t["full_text"] for t in rows],
                         "lang": [t.get("lang") for t in rows],
                         "created_at": pd.to_datetime([t["created_at"] for t in rows],
                                                      format="%a %b %d %H:%M:%S %z %Y")})


def press(root: Path) -> pd.DataFrame:
    """Items of the French press RSS sample: ref = item link, text = title + description."""
    p = _need(root / "api-samples" / "rss" / "humanite.extracted.xml")
    import html as _html

    s = p.read_text(encoding="utf-8")
    rows = []
    for item in re.findall(r"<item>(.*?)</item>", s, flags=re.S):
        def tag(name: str, item: str = item) -> str:
            m = re.search(rf"<{name}>(.*?)</{name}>", item, flags=re.S)
            v = m.group(1) if m else ""
            v = re.sub(r"<!\[CDATA\[(.*?)\]\]>", r"\1", v, flags=re.S)
            return _html.unescape(re.sub(r"<[^>]+>", " ", _html.unescape(v))).strip()
        rows.append({"ref": "press:" + tag("link").split("#")[0], "text": f"{tag('title')}. {tag('description')}".strip()})
    return pd.DataFrame(rows)


SOURCES = {
    "exportcomments": exportcomments,
    "x": x_archive,
    "press": press,
    "tripadvisor": tripadvisor,
    "booking": booking,
    "mlma": mlma,
}


@lru_cache(maxsize=4)
def _texts_by_ref(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for fn in SOURCES.values():
        df = fn(root)
        out.update(zip(df["ref"], df["text"], strict=True))
    return out


def labelled_comments(root: Path, path: Path = LABELS_PATH) -> pd.DataFrame:
    """Our labels (``data/eval/labelled_comments.csv``, or ``path``: the held-out batch) joined with their
    texts read from ``root``.

    Label columns: sentiment (negative/neutral/positive), themes (ids joined by '|', empty = none),
    hostile (0/1), question (0/1). A ref whose text cannot be found is an error (the shared data
    changed): nothing is silently dropped.
    """
    lab = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    texts = _texts_by_ref(root)
    missing = [r for r in lab["ref"] if r not in texts]
    if missing:
        raise SharedDataMissing(f"{fr_count(len(missing), 'référence')} sans texte dans {root} (ex. {missing[:3]}).")
    lab["text"] = [texts[r] for r in lab["ref"]]
    lab["source"] = lab["ref"].str.split(":").str[0]
    lab["themes"] = [tuple(t for t in v.split("|") if t) for v in lab["themes"]]
    for c in ("hostile", "question"):
        lab[c] = lab[c].astype(int)
    return lab


def holdout(root: Path) -> pd.DataFrame | None:
    """The held-out batches (:data:`HOLDOUT_PATH`, :data:`HOLDOUT2_PATH`; column ``batch``: 1 or 2), French
    texts only; None where neither file is there."""
    parts = [labelled_comments(root, p).assign(batch=b) for b, p in ((1, HOLDOUT_PATH), (2, HOLDOUT2_PATH))
             if p.exists()]
    if not parts:
        return None
    lab = pd.concat(parts, ignore_index=True)
    return lab[lab["lang"] == "fr"].reset_index(drop=True)

"""Issue 22 (« Parcours »), the analyst's moderation queue as a worklist, and `sentiment eval --from-store`.

Items: 1 (decisions signed by the logged-in user, no typed name), 3 (readable reasons, one click per
decision with the counters following, escalation, assignment to a colleague, filters, safe CSV/XLSX
exports, the CLI's CSV, no false hostile / « négatif très visible »), 5 (interval and caveat of the
evaluation on the analysts' corrections); issue 18 (thin page, the reasons' overlap named).
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import derived_refresh, store
from analysis.moderation.queue import queue, reason_counts
from analysis.moderation.scoring import enrich, score_texts
from analysis.queries import Filters
from analysis.registry import load_registry, sync_registry
from tests.page_helpers import frame_with, open_page, rendered

FB = "facebook:104857600000001"
T0 = datetime(2026, 3, 10, 9, 0)
PAGE = Path(__file__).resolve().parents[1] / "streamlit_app" / "app_pages" / "moderation.py"


def _m(mid, text, at, **kw):
    row = {"message_id": mid, "platform": "facebook", "kind": "comment", "post_id": "facebook:p1",
           "account_id": FB, "territory_id": "saint-aubin", "author_hash": f"a_{mid[-1]}", "is_official": False,
           "created_at": at, "text": text, "likes": 0, "replies": 0}
    row.update(kw)
    return row


@pytest.fixture()
def work_db(db: Path, tmp_path, monkeypatch):
    """A hostile message, two unanswered questions (one on Instagram, 8 days old), the messages of
    issue 22 that were flagged hostile, and two colleagues plus an élu in the users file."""
    with derived_refresh.writer(db) as con:
        sync_registry(con, load_registry())
        store.upsert(con, "messages", pd.DataFrame([
            _m("facebook:m1", "Bande de connards, vous êtes des incapables !", T0 + timedelta(days=8)),
            _m("facebook:m2", "À quelle heure ouvre la piscine dimanche ?", T0 + timedelta(days=8, minutes=5)),
            _m("instagram:m3", "=HYPERLINK(\"http://x\") où s'inscrire ?", T0, platform="instagram"),
            _m("facebook:m4", "Super le guichet unique 👏", T0 + timedelta(days=8), likes=40, replies=5),
            _m("facebook:m5", "Je transmets à ma mère pour le budget participatif", T0 + timedelta(days=8)),
        ]))
        enrich(con)
    users = tmp_path / "users.toml"
    users.write_text("".join(
        f'[users.{n}]\nrole = "{r}"\npassword = "$2b$04$abcdefghijklmnopqrstuuTESTONLYTESTONLYTESTONLYTESTO"\n'
        for n, r in (("camille", "analyste"), ("dominique", "analyste"), ("elise", "elu"))), encoding="utf-8")
    monkeypatch.setenv("VIGIE_USERS", str(users))
    monkeypatch.setenv("VIGIE_AUTH_DB", str(tmp_path / "auth.sqlite"))
    yield db


def _page(monkeypatch, user: str | None = "camille"):
    if user is None:
        monkeypatch.setenv("VIGIE_AUTH", "demo")
        return open_page("moderation.py", period="12m", role="analyste", timeout=60)
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    from tests.page_helpers import linked_page

    at = linked_page("moderation", {"periode": "12m"}, timeout=60)
    at.session_state["vigie_user"] = {"name": user, "role": "analyste", "scope": None, "via": "password"}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _stored(db: Path) -> list[tuple]:
    with store.reader(db) as con:
        return con.execute("SELECT message_id, status, by_user, assigned_to FROM moderation_status ORDER BY 1").fetchall()


# ------------------------------------------------------------------------------ item 1: who signs
def test_decision_is_signed_by_the_logged_in_user_not_a_typed_name(work_db, monkeypatch):
    at = _page(monkeypatch, "camille")
    assert not [w for w in at.text_input if "nom" in (w.label or "").lower()]  # no « Votre nom » field
    at.multiselect(key="moderation_ids").set_value(["facebook:m1"]).run()
    at.button(key="moderation_masque").click().run()
    assert not at.exception
    assert _stored(work_db) == [("facebook:m1", "masque", "camille", None)]
    with store.reader(work_db) as con:
        actor, action = con.execute("SELECT actor, action FROM audit_log").fetchone()
    assert (actor, action) == ("camille", "moderation_status")


# ------------------------------------------------------------------------------ item 3: the worklist
def test_one_click_decisions_and_the_counters_follow_at_once(work_db, monkeypatch):
    at = _page(monkeypatch)
    assert _metrics(at)["Messages à traiter"] == "3"
    at.multiselect(key="moderation_ids").set_value(["facebook:m2"]).run()
    at.button(key="moderation_ignore").click().run()  # no reload: the same run shows the new figures
    assert _metrics(at)["Messages à traiter"] == "2" and _metrics(at)["Questions sans réponse"] == "1"
    assert "facebook:m2" not in frame_with(at, "Motifs")["Id"].tolist()
    assert any("1 message marqué « ignoré » par camille" in s.value for s in at.success)
    # escalated: stays in the list, with its status
    at.multiselect(key="moderation_ids").set_value(["facebook:m1"]).run()
    at.button(key="moderation_escalade").click().run()
    work = frame_with(at, "Motifs").set_index("Id")
    assert work.at["facebook:m1", "Statut"] == "escaladé" and _metrics(at)["Messages à traiter"] == "2"


def test_assign_to_a_colleague_from_the_users(work_db, monkeypatch):
    at = _page(monkeypatch)
    assert at.selectbox(key="moderation_assignee").options == ["camille", "dominique"]  # no élu
    at.multiselect(key="moderation_ids").set_value(["facebook:m1", "instagram:m3"]).run()
    at.selectbox(key="moderation_assignee").set_value("dominique").run()
    at.button(key="moderation_assign").click().run()
    assert not at.exception
    assert _stored(work_db) == [("facebook:m1", None, None, "dominique"), ("instagram:m3", None, None, "dominique")]
    work = frame_with(at, "Motifs").set_index("Id")
    assert work.at["facebook:m1", "Confié à"] == "dominique" and work.at["facebook:m1", "Statut"] == "à traiter"


def test_reasons_are_whole_sentences_and_filters_narrow_the_list(work_db, monkeypatch):
    at = _page(monkeypatch)
    work = frame_with(at, "Motifs")
    assert work["Motifs"].tolist()[0].startswith("Message hostile ou insultant (termes : « connards »")
    assert "Question sans réponse du compte officiel depuis 8 j" in " ".join(work["Motifs"])
    # every reason in full beside the chosen message (never cut by the column width)
    at.multiselect(key="moderation_ids").set_value(["facebook:m1"]).run()
    assert any("Message hostile ou insultant (termes : « connards »" in rendered(m.value) for m in at.markdown)
    at.multiselect(key="moderation_reasons").set_value(["unanswered_question"]).run()
    assert sorted(frame_with(at, "Motifs")["Id"]) == ["facebook:m2", "instagram:m3"]
    at.multiselect(key="moderation_platforms").set_value(["instagram"]).run()
    assert frame_with(at, "Motifs")["Id"].tolist() == ["instagram:m3"]
    at.multiselect(key="moderation_platforms").set_value([]).run()
    at.multiselect(key="moderation_ages").set_value(["moins_24h"]).run()
    assert frame_with(at, "Motifs")["Id"].tolist() == ["facebook:m2"]
    at.multiselect(key="moderation_ages").set_value(["plus_7j"]).run()
    assert frame_with(at, "Motifs")["Id"].tolist() == ["instagram:m3"]


def test_worklist_exports_are_vigies_safe_csv_and_xlsx(work_db, monkeypatch):
    at = _page(monkeypatch)
    # made on click through analysis.exports (ui.download); Streamlit's own toolbar export is off
    assert [b.proto.label for b in at.get("download_button")] == ["Télécharger (CSV)", "Télécharger (Excel)"]
    from analysis import exports
    from analysis.views.moderation import worklist_table

    with store.reader(work_db) as con:
        work = worklist_table(queue(con, Filters(territories=("saint-aubin",))))
    book = pd.read_excel(io.BytesIO(exports.to_xlsx_bytes(work)))
    assert book.set_index("Id").at["instagram:m3", "Message"].startswith("'=HYPERLINK")


def test_cli_queue_as_csv(work_db):
    from analysis.cli.moderation import app

    out = work_db.with_name("file.csv")
    r = CliRunner().invoke(app, ["moderation", "queue", "--territory", "saint-aubin", "--csv", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert list(df.columns) == ["Priorité", "Date", "Plateforme", "Attente", "Motifs", "Message", "Statut",
                                "Confié à", "Id"]
    assert df.set_index("Id").at["instagram:m3", "Message"].startswith("'=HYPERLINK")  # no formula runs
    r = CliRunner().invoke(app, ["moderation", "queue", "--territory", "saint-aubin", "--format", "csv",
                                 "--reason", "hostile"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout.lstrip("\ufeff")), sep=";")
    assert df["Id"].tolist() == ["facebook:m1"] and df["Plateforme"].tolist() == ["Facebook"]
    r = CliRunner().invoke(app, ["moderation", "queue", "--territory", "saint-aubin", "--reason", "colère"])
    assert r.exit_code != 0 and "inconnu" in r.output


def test_issue_22_messages_are_not_hostile_and_a_question_is_not_negative_visible(work_db):
    scores = score_texts(["Super le guichet unique 👏", "Je transmets à ma mère pour le budget participatif"])
    assert not scores["lexicon_hits"].map(len).any() and (scores["p_toxic"] < 0.6).all()
    with derived_refresh.writer(work_db) as con:  # the sentiment model reads the question as negative
        store.upsert(con, "sentiment", pd.DataFrame([{"item_id": "facebook:m2", "item_type": "message",
                                                      "label": "negative", "p_negative": 0.61}]))
        store.upsert(con, "messages", pd.DataFrame([_m("facebook:m2", "À quelle heure ouvre la piscine dimanche ?",
                                                       T0 + timedelta(days=8, minutes=5), likes=50, replies=9)]))
    with store.reader(work_db) as con:
        q = queue(con, Filters(territories=("saint-aubin",)), limit=None).set_index("message_id")
        counts = reason_counts(con, Filters(territories=("saint-aubin",)))
    assert "facebook:m4" not in q.index and "facebook:m5" not in q.index
    assert q.at["facebook:m2", "reason_codes"] == ["unanswered_question"]
    assert "négatif" not in q.at["facebook:m2", "reasons"]
    assert counts["hostile"] == 1 and counts["negative_visible"] == 0


def test_the_reasons_overlap_is_named(work_db, monkeypatch):
    with derived_refresh.writer(work_db) as con:  # a hostile question: two reasons for one message
        store.upsert(con, "messages", pd.DataFrame([_m("facebook:m6", "Bande d'incapables, c'est quand ?",
                                                       T0 + timedelta(days=8))]))
        enrich(con)
    at = _page(monkeypatch)
    assert any("Un message peut relever de plusieurs motifs" in c.value for c in at.caption)


def test_page_is_thin():
    assert len(PAGE.read_text(encoding="utf-8").splitlines()) <= 150


# ------------------------------------------------------------------------------ item 5
def test_sentiment_eval_from_store_gives_interval_and_caveat(db):
    from analysis.cli.sentiment import app
    from analysis.sentiment.corrections import correct

    texts = ["Merci pour votre aide", "Quelle honte ce service", "Rien à signaler ce matin",
             "Bravo aux équipes", "C'est inadmissible", "La réunion est lundi"]
    with store.writer(db) as con:
        store.upsert(con, "messages", pd.DataFrame([
            {"message_id": f"facebook:{i}", "platform": "facebook", "kind": "comment",
             "created_at": datetime(2026, 11, 1, 12), "text": t} for i, t in enumerate(texts)]))
        for i, label in enumerate(["positive", "negative", "neutral", "positive", "negative", "positive"]):
            correct(con, f"facebook:{i}", "message", label, author="ana")
    r = CliRunner().invoke(app, ["eval", "--from-store", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    ci = res["macro_f1_interval"]
    assert ci["low"] <= res["macro_f1"] <= ci["high"] and ci["level"] == 0.95 and ci["high"] - ci["low"] > 0
    assert "6 corrections" in res["caveat"] and "douteux" in res["caveat"] and "bootstrap" in res["caveat"]
    r = CliRunner().invoke(app, ["eval", "--from-store"])
    assert r.exit_code == 0 and "Prudence" in r.output and "intervalle de confiance à 95" in r.output


def test_reasons_quote_the_words_as_written_and_count_in_french(db):
    from analysis.moderation.queue import as_written

    assert as_written("Des crétins au conseil municipal", "cretins") == "crétins"  # not the folded « cretins »
    assert as_written("Espèce d'abrutis", "abrutis") == "abrutis"
    with derived_refresh.writer(db) as con:
        sync_registry(con, load_registry())
        store.upsert(con, "messages", pd.DataFrame([
            _m("facebook:m1", "Des crétins au conseil municipal, c'est honteux", T0, likes=30, replies=0)]))
        store.upsert(con, "sentiment", pd.DataFrame([{"item_id": "facebook:m1", "item_type": "message",
                                                      "label": "negative"}]))
        enrich(con)
    with store.reader(db) as con:
        reasons = queue(con, Filters(territories=("saint-aubin",)))["reasons"].iloc[0]
    assert "termes : « crétins »" in reasons and "(30 j'aime, 0 réponse)" in reasons

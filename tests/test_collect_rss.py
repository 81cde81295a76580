"""Press feeds (RSS/Atom) against a local replay server, the saved-feed importer, and how press
articles count in E-réputation (volumes, sentiment, platform filter) but not in moderation."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analysis import derived_refresh
from analysis.collect.base import Source
from analysis.config import LOCAL_TZ
from tests.api_replay import Sleeps, rows, run_collect
from tests.cli_inproc import run_cli

FIX = Path(__file__).resolve().parent / "fixtures" / "rss"
FEED = "/rss/saint-aubin.xml"
RSS_TYPE = "application/rss+xml; charset=utf-8"
SINCE = datetime(2026, 11, 1)
HOST = "courrier-loire.example"
SITE = "https://www.courrier-loire.example"
# The items of courrier_loire.rss that name Saint-Aubin-sur-Loire (title, summary, body, keyword
# « mairie de Saint-Aubin » or category); not the Port-Marel item (88377) nor Vendeuil (88371).
SAINT_AUBIN_IDS = {
    f"press:{HOST}/88412",
    f"press:{SITE}/saint-aubin/piscine-des-greves-renover-ou-fermer-88390",
    f"press:{HOST}/alerte-crue-20261201",
    f"press:{HOST}/88351",
    f"press:{HOST}/88330",
    f"press:{SITE}/saint-aubin/horaires-mairie-88301",
    f"press:{HOST}/88297",
}
PORT_MAREL_ID = f"press:{HOST}/88377"
UNDATED_ID = f"press:{HOST}/alerte-crue-20261201"
JOURNALISTS = ("Lefèvre", "Benali", "Roux", "Marchand", "Girard", "redaction@")


def text(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


def serve(replay, name: str = "courrier_loire.rss", path: str = FEED, *, body: str | None = None,
          content_type: str = RSS_TYPE, headers: dict | None = None) -> str:
    replay.text(path, body if body is not None else text(name), content_type=content_type, headers=headers)
    return replay.url + path


def registry_source(url: str) -> Source:
    """The press source the test registry declares for Saint-Aubin, pointed at ``url``."""
    from analysis.collect.sources import declared_sources
    from analysis.registry import load_registry

    [s] = [s for s in declared_sources(load_registry(), platforms={"press"}).sources]
    assert (s.kind, s.key, s.territory_id) == ("feed", "https://presse.example/saint-aubin.rss", "saint-aubin")
    return dataclasses.replace(s, key=url)


def any_territory_source(url: str) -> Source:
    """What ``vigie collect rss URL`` (no --territory) runs: every territory's terms, none chosen."""
    from analysis.registry import load_registry

    terms = tuple(dict.fromkeys(t for ter in load_registry().territories for t in ter.terms))
    return Source("press", "feed", url, None, None, terms=terms)


def press_rows() -> dict[str, tuple]:
    got = rows("SELECT message_id, kind, platform, territory_id, account_id, post_id, author_hash, author_name, "
               "is_official, created_at, source_tz, text, lang, likes FROM messages WHERE platform = 'press'")
    return {r[0]: r[1:] for r in got}


# ------------------------------------------------------------------------------------ collection
def test_registry_feed_keeps_items_naming_the_territory(collect_env, replay):
    from analysis.privacy import pseudonymise

    url = serve(replay)
    before = datetime.now(UTC).replace(tzinfo=None)
    [r] = run_collect([registry_source(url)], replay.url, since=SINCE)
    after = datetime.now(UTC).replace(tzinfo=None)
    assert r.status == "ok", r.error
    assert (r.platform, r.account, r.messages, r.posts, r.inserted, r.requests) == ("press", url, 7, 0, 7, 1)
    got = press_rows()
    assert set(got) == SAINT_AUBIN_IDS  # Port-Marel's and Vendeuil's items are not Saint-Aubin's
    outlet = pseudonymise("press", HOST)
    for mid, (kind, platform, terr, acc, post, author, name, official, *_rest) in got.items():
        assert (kind, platform, terr, acc, post, author, name, official) == (
            "article", "press", "saint-aubin", None, None, outlet, None, False), mid
    # every timezone quirk read right (stored in UTC)
    when = {m: (v[8], v[9]) for m, v in got.items()}
    assert when[f"press:{HOST}/88412"] == (datetime(2026, 12, 4, 6, 15), "+0100")
    assert when[f"press:{SITE}/saint-aubin/piscine-des-greves-renover-ou-fermer-88390"] == (
        datetime(2026, 12, 3, 17, 30), "CET")  # feedparser alone reads CET as UTC (18:30)
    assert when[f"press:{HOST}/88351"] == (datetime(2026, 12, 1, 9, 0), "CEST")
    assert when[f"press:{HOST}/88330"] == (datetime(2026, 11, 30, 18, 45), "+0100")  # « lun., 30 nov. 2026 »
    assert when[f"press:{SITE}/saint-aubin/horaires-mairie-88301"] == (datetime(2026, 11, 29, 7, 0), "+0100")
    undated, tz = when[UNDATED_ID]
    assert before <= undated <= after and tz is None  # no date: the time it was fetched
    assert any("sans date" in n for n in r.notes)
    # text = title + summary, without HTML, trailers or journalists
    texts = {m: v[10] for m, v in got.items()}
    assert texts[f"press:{HOST}/88412"] == (
        "Saint-Aubin-sur-Loire : le marché de Noël ouvre samedi place du Mail\nUne trentaine de chalets, une "
        "patinoire et des navettes gratuites depuis la gare : le marché de Noël de Saint-Aubin-sur-Loire ouvre "
        "ses portes samedi.")
    assert texts[f"press:{SITE}/saint-aubin/horaires-mairie-88301"] == (
        "Accueil de la mairie de Saint-Aubin : de nouveaux horaires en janvier\nÀ partir du 4 janvier, "
        "l'accueil ouvrira dès 8 h 30 du lundi au vendredi.")
    assert "fermée depuis l'été" in texts[f"press:{SITE}/saint-aubin/piscine-des-greves-renover-ou-fermer-88390"]
    body = texts[f"press:{HOST}/88297"]  # content:encoded only: its beginning, not the whole article
    assert body.startswith("La médiathèque fête ses vingt ans\nOuverte en 2006") and body.endswith(" ...")
    assert len(body) < 700
    assert not any(c in t for t in texts.values() for c in ("<", "&#", "&amp;", "Lire la suite", "apparu en premier"))
    assert not any("utm_" in m or "xtor" in m for m in got)
    everything = json.dumps(rows("SELECT * FROM messages") + rows("SELECT * FROM accounts"), default=str)
    assert not any(j in everything for j in JOURNALISTS)  # authors are the outlet, never a journalist
    assert {v[11] for v in got.values()} == {"fr"}
    assert all(v[12] is None for v in got.values())  # no likes in a feed: NULL, not 0
    # the outlet, kept by name
    assert rows("SELECT account_id, platform, native_id, name, official, territory_id FROM accounts "
                "WHERE platform = 'press'") == [
        (f"press:{HOST}", "press", HOST, "Le Courrier de la Loire", False, None)]  # the title less its section
    [call] = replay.log
    assert "application/rss+xml" in call["headers"]["Accept"] and call["headers"]["User-Agent"].startswith("Vigie/")
    assert rows("SELECT newest_at FROM collect_state") == [(datetime(2026, 12, 4, 6, 15),)]


def test_second_run_inserts_nothing_and_an_undated_item_keeps_its_date(collect_env, replay):
    url = serve(replay)
    run_collect([registry_source(url)], replay.url, since=SINCE)
    first = press_rows()
    [again] = run_collect([registry_source(url)], replay.url, since=SINCE)
    assert (again.status, again.inserted, again.updated, again.edited, again.messages) == ("ok", 0, 0, 0, 7)
    assert press_rows() == first  # the undated alert kept the date of its first sighting
    assert rows("SELECT count(*) FROM collect_runs") == [(2,)]


def test_etag_and_last_modified_are_sent_back_and_a_304_stores_nothing(collect_env, replay):
    validators = {"ETag": '"cl-88412"', "Last-Modified": "Fri, 04 Dec 2026 06:20:11 GMT"}
    url = serve(replay, headers=validators)
    [r] = run_collect([registry_source(url)], replay.url, since=SINCE)
    assert r.inserted == 7
    cursor = json.loads(rows("SELECT cursor FROM collect_state")[0][0])
    assert cursor == {"url": url, "etag": '"cl-88412"', "last_modified": "Fri, 04 Dec 2026 06:20:11 GMT"}
    assert "If-None-Match" not in replay.log[0]["headers"]  # nothing to compare with the first time
    replay.reset()
    replay.text(FEED, "", content_type=RSS_TYPE, status=304)
    [again] = run_collect([registry_source(url)], replay.url, since=SINCE)
    assert (again.status, again.error, again.inserted, again.updated, again.requests) == ("ok", None, 0, 0, 1)
    [call] = replay.log
    assert call["headers"]["If-None-Match"] == '"cl-88412"'
    assert call["headers"]["If-Modified-Since"] == "Fri, 04 Dec 2026 06:20:11 GMT"
    assert json.loads(rows("SELECT cursor FROM collect_state")[0][0]) == cursor  # kept for the next run
    assert rows("SELECT count(*) FROM messages") == [(7,)]
    assert rows("SELECT status, error FROM collect_runs ORDER BY started_at") == [("ok", None), ("ok", None)]


def test_validators_of_another_address_are_not_sent(collect_env, replay):
    url = serve(replay, headers={"ETag": '"v1"'})
    run_collect([registry_source(url)], replay.url, since=SINCE)
    with_query = serve(replay, path=FEED)  # same rule; the registry now declares another address
    src = dataclasses.replace(registry_source(url), key=with_query + "?format=rss")
    # a different address is a different source: its own (empty) cursor
    replay.log.clear()
    run_collect([src], replay.url, since=SINCE)
    assert "If-None-Match" not in replay.log[0]["headers"]
    assert replay.log[0]["args"] == {"format": "rss"}  # the feed's own query string is kept


def test_429_waits_retry_after_then_500_is_retried(collect_env, replay):
    url = serve(replay)
    replay.fail(FEED, 500, body={"error": "boom"})
    replay.fail(FEED, 429, headers={"Retry-After": "3"})  # checked first: 429, then 500, then the feed
    sleeps = Sleeps()
    [r] = run_collect([registry_source(url)], replay.url, since=SINCE, sleep=sleeps)
    assert r.status == "ok", r.error
    assert sleeps[0] == 3.0  # what Retry-After asked
    assert len(sleeps) == 2 and 0 < sleeps[1] <= 30  # the 500: backoff
    assert r.requests == 3 and r.inserted == 7


def test_long_retry_after_stops_the_source_until_next_run(collect_env, replay):
    url = serve(replay)
    replay.fail(FEED, 429, headers={"Retry-After": "3600"})
    [r] = run_collect([registry_source(url)], replay.url, since=SINCE)
    assert r.status == "partial" and "3600 s" in r.error
    assert rows("SELECT count(*) FROM messages") == [(0,)]


def test_a_web_page_instead_of_a_feed_is_a_clear_french_error(collect_env, replay):
    url = serve(replay, "page_accueil.html", content_type="text/html; charset=utf-8")
    [r] = run_collect([registry_source(url)], replay.url, since=SINCE)
    assert r.status == "error"
    assert "n'est pas un flux RSS/Atom mais une page web" in r.error
    assert "Le Courrier de la Loire - Actualités" in r.error
    assert f"{replay.url}/rss/saint-aubin.xml" in r.error  # the feed the page announces, as an address
    assert rows("SELECT count(*) FROM messages") == [(0,)]
    assert rows("SELECT cursor FROM collect_state") == [(None,)]


def test_unknown_feed_and_bad_address(collect_env, replay):
    replay.text("/rss/ferme.xml", "<html><body><h1>404</h1></body></html>", content_type="text/html", status=404)
    res = run_collect([Source("press", "feed", replay.url + "/rss/ferme.xml", "saint-aubin", "own"),
                       Source("press", "feed", "presse.example/rss", "saint-aubin", "own")], replay.url)
    assert [r.status for r in res] == ["error", "error"]
    assert "est introuvable (HTTP 404)" in res[0].error and "<html>" not in res[0].error
    assert "n'est pas une adresse de flux" in res[1].error


def test_edited_item_is_updated_not_duplicated(collect_env, replay):
    url = serve(replay)
    run_collect([registry_source(url)], replay.url, since=SINCE)
    changed = text("courrier_loire.rss").replace("4,2 millions", "4,8 millions")
    replay.reset()
    serve(replay, body=changed)
    [r] = run_collect([registry_source(url)], replay.url, since=SINCE)
    assert (r.status, r.inserted, r.updated, r.edited) == ("ok", 0, 1, 1)
    pid = f"press:{SITE}/saint-aubin/piscine-des-greves-renover-ou-fermer-88390"
    [(txt, edited)] = rows("SELECT text, edited_at IS NOT NULL FROM messages WHERE message_id = ?", [pid])
    assert "4,8 millions" in txt and edited
    assert rows("SELECT count(*) FROM messages") == [(7,)]


def test_since_leaves_older_items_out(collect_env, replay):
    url = serve(replay)
    [r] = run_collect([registry_source(url)], replay.url, since=datetime(2026, 12, 1))
    got = set(press_rows())
    # 30 Nov, 29 Nov and 28 Nov are older; the undated alert is taken as fetched now
    assert got == SAINT_AUBIN_IDS - {f"press:{HOST}/88330", f"press:{SITE}/saint-aubin/horaires-mairie-88301",
                                     f"press:{HOST}/88297"}
    assert any("antérieur" in n for n in r.notes)


def test_atom_rdf_and_ill_formed_feeds_for_any_territory(collect_env, replay):
    atom = serve(replay, "courrier_loire_alertes.atom", "/alertes.atom", content_type="application/atom+xml")
    rdf = serve(replay, "prefecture_alertes.rdf", "/alertes.rdf", content_type="application/rdf+xml")
    bozo = serve(replay, "fil_info_mal_forme.xml", "/fil-info.xml", content_type="text/xml")
    res = run_collect([any_territory_source(u) for u in (atom, rdf, bozo)], replay.url, since=SINCE)
    assert [r.status for r in res] == ["ok", "ok", "ok"], [r.error for r in res]
    got = {m: (v[2], v[8], v[11]) for m, v in press_rows().items()}
    assert got == {
        "press:tag:courrier-loire.example,2026:alerte-4411": ("saint-aubin", datetime(2026, 12, 3, 12, 50), "fr"),
        "press:tag:courrier-loire.example,2026:alerte-4405": ("saint-aubin", datetime(2026, 12, 2, 8, 0), "en"),
        "press:tag:courrier-loire.example,2026:alerte-4398": ("port-marel", datetime(2026, 11, 30, 6, 30), "fr"),
        # names both: filed under our own territory first
        "press:https://www.prefecture-loire-centre.example/alertes/vigilance-crues-1203":
            ("saint-aubin", datetime(2026, 12, 3, 5, 0), None),
        "press:courrier-loire.example/88420": ("saint-aubin", datetime(2026, 12, 4, 9, 0), None),
    }
    assert rows("SELECT text FROM messages WHERE message_id LIKE '%alerte-4411'") == [(
        "Coupure d’eau rue Nationale à Saint-Aubin-sur-Loire\nTravaux d’urgence sur une canalisation : "
        "l’eau sera coupée de 9 h à 17 h jeudi.",)]
    assert any("flux mal formé" in n for n in res[2].notes)
    assert rows("SELECT account_id, name FROM accounts WHERE platform = 'press' ORDER BY 1") == [
        ("press:courrier-loire.example", "Le Courrier de la Loire"),  # one name for the outlet's feeds
        ("press:prefecture-loire-centre.example", "Préfecture de Loire-Centre")]


def test_cli_json_against_local_replay(collect_env, replay):
    url = serve(replay)
    cmd = [sys.executable, "-m", "analysis", "--db", str(collect_env), "collect", "rss", url,
           "--since", "2026-11-01", "--json", "--no-enrich"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    [src] = json.loads(out.stdout)["sources"]
    assert {k: src[k] for k in ("platform", "account", "posts", "messages", "followers", "inserted", "updated",
                                "status", "error", "requests")} == {
        "platform": "press", "account": url, "posts": 0, "messages": 8, "followers": None, "inserted": 8,
        "updated": 0, "status": "ok", "error": None, "requests": 1}
    # without --territory every territory's items are kept, each under the territory it names
    assert rows("SELECT territory_id, count(*) FROM messages GROUP BY 1 ORDER BY 1") == [
        ("port-marel", 1), ("saint-aubin", 7)]
    again = run_cli(cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert json.loads(again.stdout)["sources"][0]["inserted"] == 0
    peer = subprocess.run(cmd + ["--territory", "port-marel"], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120)
    assert peer.returncode == 0, peer.stderr
    [p] = json.loads(peer.stdout)["sources"]
    assert (p["messages"], p["inserted"]) == (1, 0)


# ------------------------------------------------------------------------------------ saved feeds
def test_saved_feed_import_gives_the_same_rows_as_collection(collect_env, replay, tmp_path, monkeypatch):
    url = serve(replay)
    [r] = run_collect([any_territory_source(url)], replay.url, since=SINCE)
    assert r.inserted == 8
    collected = press_rows()
    outlet = rows("SELECT account_id, native_id, name, official FROM accounts WHERE platform = 'press'")
    other = tmp_path / "other.duckdb"
    out = run_cli([sys.executable, "-m", "analysis", "--db", str(other), "import",
                          str(FIX / "courrier_loire.rss"), "--json"],
                         capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    [f] = json.loads(out.stdout)["files"]
    assert (f["format"], f["status"], f["inserted"], f["rows_read"]) == ("rss_feed", "ok", 8, 9)
    monkeypatch.setenv("VIGIE_DB", str(other))
    imported = press_rows()
    assert set(imported) == set(collected)
    for mid in collected:
        if mid != UNDATED_ID:
            assert imported[mid] == collected[mid], mid
    # an undated item takes the date the file was saved, and is the same row otherwise
    mtime = datetime.fromtimestamp((FIX / "courrier_loire.rss").stat().st_mtime, UTC).replace(tzinfo=None)
    assert abs((imported[UNDATED_ID][8] - mtime).total_seconds()) < 0.001
    assert imported[UNDATED_ID][:8] + imported[UNDATED_ID][9:] == collected[UNDATED_ID][:8] + collected[UNDATED_ID][9:]
    assert rows("SELECT account_id, native_id, name, official FROM accounts WHERE platform = 'press'") == outlet


@pytest.mark.parametrize("name, body", [
    ("flux.rss", None), ("alertes.atom", None), ("alertes.rdf", None), ("mal_forme.xml", None),
    ("sans_declaration.xml", '<rss version="2.0"><channel><title>T</title><link>https://a.example/</link>'
                             "<item><title>Saint-Aubin-sur-Loire, a, b, c</title></item></channel></rss>"),
    ("bom.xml", '\ufeff<?xml version="1.0"?>\n<!-- généré -->\n<feed xmlns="http://www.w3.org/2005/Atom">'
                "<title>T</title><entry><title>x</title><id>urn:x:1</id></entry></feed>"),
])
def test_saved_feeds_are_recognised_by_their_root_element(tmp_path, name, body):
    from analysis.ingest import detect
    from analysis.ingest.sniff import probe

    src = {"flux.rss": "courrier_loire.rss", "alertes.atom": "courrier_loire_alertes.atom",
           "alertes.rdf": "prefecture_alertes.rdf", "mal_forme.xml": "fil_info_mal_forme.xml"}
    p = tmp_path / name
    p.write_text(body if body is not None else text(src[name]), encoding="utf-8")
    assert detect(probe(p)).name == "rss_feed"


@pytest.mark.parametrize("path", [
    Path(__file__).resolve().parent / "fixtures" / "fb_legacy" / "posts_spreadsheetml.xls",
    Path(__file__).resolve().parent / "fixtures" / "fb_legacy" / "page_spreadsheetml.xls",
    FIX / "page_accueil.html",
])
def test_other_xml_and_html_files_are_not_taken_for_feeds(path):
    from analysis.ingest.rss import FeedFile
    from analysis.ingest.sniff import probe

    assert FeedFile().sniff(probe(path)) == 0.0


def test_feed_dates_in_every_form():
    from analysis.ingest.rss import parse_date

    assert parse_date("Thu, 03 Dec 2026 18:30:00 CET") == (datetime(2026, 12, 3, 17, 30), "CET")
    assert parse_date("Wed, 03 Jun 2026 10:00:00 CEST") == (datetime(2026, 6, 3, 8, 0), "CEST")
    assert parse_date("Wed, 03 Dec 2026 10:00:00 EST") == (datetime(2026, 12, 3, 15, 0), "EST")
    assert parse_date("Wed, 03 Dec 2026 10:00:00 Europe/Paris") == (datetime(2026, 12, 3, 9, 0), "Europe/Paris")
    assert parse_date("Wed, 03 Jun 2026 10:00:00 Europe/Paris") == (datetime(2026, 6, 3, 8, 0), "Europe/Paris")
    assert parse_date("mer., 03 déc. 2026 10:00:00 +0100") == (datetime(2026, 12, 3, 9, 0), "+0100")
    assert parse_date("3 décembre 2026 10:00:00 +0100") == (datetime(2026, 12, 3, 9, 0), "+0100")
    assert parse_date("Wed, 03 Dec 26 10:00 +0100") == (datetime(2026, 12, 3, 9, 0), "+0100")
    assert parse_date("Wed, 03 Dec 2026 10:00:00 -0000") == (datetime(2026, 12, 3, 10, 0), "UTC")
    assert parse_date("2026-12-03T10:00:00.5Z") == (datetime(2026, 12, 3, 10, 0, 0, 500000), "UTC")
    assert parse_date("2026-12-03T10:00:00+01:00") == (datetime(2026, 12, 3, 9, 0), "+0100")
    assert parse_date("2026-07-03 10:00") == (datetime(2026, 7, 3, 8, 0), "Europe/Paris")  # no zone: French time
    assert parse_date("hier soir") == (None, None)
    assert parse_date(None) == (None, None)


def test_links_lose_their_tracking_parameters_only():
    from analysis.ingest.rss import clean_link

    assert clean_link("https://WWW.a.example/x?id=3&utm_source=rss&utm_medium=flux#xtor=RSS-3") == (
        "https://www.a.example/x?id=3")
    assert clean_link("https://a.example/x?page=2#commentaires") == "https://a.example/x?page=2#commentaires"


# ------------------------------------------------------------------------------------ analyses
def test_press_counts_in_ereputation_but_never_in_moderation(collect_env, replay):
    """Press articles are in the volumes, sentiment and platform filter of E-réputation and Synthèse;
    they are not in the moderation queue, the response rates, the alerts' messages or the contacts,
    even when every one of them looks like a hostile question."""
    from analysis import derived, ereputation, queries, schema, store, synthese
    from analysis.moderation import contacts
    from analysis.moderation.queue import queue
    from analysis.moderation.responsiveness import summary_sql
    from analysis.privacy import pseudonymise
    from analysis.queries import Filters

    url = serve(replay)
    run_collect([registry_source(url)], replay.url, since=SINCE)
    press = sorted(SAINT_AUBIN_IDS)
    negative = {press[0], press[1], press[2]}
    citizen = "bluesky:at://did:plc:c1tizen/app.bsky.feed.post/q1"
    with derived_refresh.writer() as con:
        msg = pd.DataFrame([{
            "message_id": citizen, "platform": "bluesky", "kind": "reply", "account_id":
            "bluesky:saintaubinsurloire.bsky.social", "territory_id": "saint-aubin", "author_hash": "a_citizen",
            "is_official": False, "created_at": datetime(2026, 12, 2, 10, 0), "text": "Quand rouvre la piscine ?"}])
        store.upsert(con, "messages", msg)
        ids = press + [citizen]
        # every message a hostile question, as far as the scores go: only the kind keeps press out
        store.upsert(con, "toxicity", pd.DataFrame({
            "message_id": ids, "model_version": "test", "p_toxic": 0.95, "is_question": True,
            "lexicon_hits": [["honte"]] * len(ids)}))
        store.upsert(con, "sentiment", pd.DataFrame({
            "item_id": ids, "item_type": "message", "model_version": "test", "lang": "fr",
            "label": ["negative" if i in negative or i == citizen else "positive" for i in ids]}))
    # to tomorrow: the undated alert is dated when it was fetched (now). Tomorrow in France: from 23:00
    # UTC (22:00 in summer) the fetch is already on the next French day, which the daily counts go by.
    f = Filters(("saint-aubin",), date(2026, 11, 1), datetime.now(ZoneInfo(LOCAL_TZ)).date() + timedelta(days=1))
    with store.reader() as con:
        assert derived.current(con)
        by_platform = ereputation.sentiment_table(con, f, by=("platform",)).set_index("platform")
        assert by_platform.loc["press", ["messages", "negative", "positive"]].tolist() == [7, 3, 4]
        assert by_platform.loc["bluesky", ["messages", "negative"]].tolist() == [1, 1]
        only_press = ereputation.kpis(con, dataclasses.replace(f, platforms=("press",)))
        assert (only_press["messages"], only_press["negative"]) == (7, 3)
        assert "press" in queries.platforms(con) and schema.platform_label("press") == "Presse locale"
        daily = con.execute("SELECT sum(messages) FROM daily_sentiment WHERE platform = 'press'").fetchone()
        assert daily == (7,)
        heads = {h["kpi"]: h for h in synthese.headlines(con, f)["findings"]}
        assert heads["messages"]["value"] == 8  # the 7 articles and the citizen's reply
        # moderation: the citizen's question is queued, no article is
        q = queue(con, f, limit=None)
        assert q["message_id"].tolist() == [citizen]
        resp = summary_sql(con, f, "all", by=("platform",), derived=False)
        assert resp["platform"].tolist() == ["bluesky"] and resp["incoming"].tolist() == [1]
        assert con.execute("SELECT count(*) FROM incoming_messages WHERE platform = 'press'").fetchone() == (0,)
        authors = contacts.author_stats(con, "saint-aubin", f)
        assert pseudonymise("press", HOST) not in set(authors["author_hash"])
        assert authors["author_hash"].tolist() == ["a_citizen"]


def test_a_local_news_site_named_after_the_town_is_no_impersonator(collect_env, replay):
    from analysis import store
    from analysis.moderation.impersonation import watch
    from analysis.registry import load_registry

    body = text("courrier_loire.rss").replace(
        "<title>Le Courrier de la Loire - Saint-Aubin et son agglomération</title>",
        "<title>Info Saint-Aubin - Faits divers</title>").replace(SITE, "https://www.info-saint-aubin.example")
    url = serve(replay, body=body)
    run_collect([registry_source(url)], replay.url, since=SINCE)
    assert rows("SELECT account_id, name FROM accounts WHERE platform = 'press'") == [
        ("press:info-saint-aubin.example", "Info Saint-Aubin")]
    with store.reader() as con:
        suspects = watch(con, load_registry())
    assert "press:info-saint-aubin.example" not in set(suspects["account_id"])

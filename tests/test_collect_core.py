"""The collection core: credentials, what the registry declares, the HTTP client's manners, the store lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from analysis import derived_refresh
from analysis.cli.collect import writer_when_free
from analysis.collect.credentials import Credentials, load_credentials
from analysis.collect.http import ApiClient, AuthError, CollectError, RateLimited, redact, retry_after
from analysis.collect.sources import declared_sources
from analysis.registry import load_registry
from tests.api_replay import Sleeps

REGISTRY = Path(__file__).resolve().parent / "fixtures" / "registry_collect.toml"


def test_credentials_file_env_precedence_permissions_and_no_secret_in_repr(tmp_path):
    p = tmp_path / "credentials.toml"
    p.write_text('[youtube]\napi_key = "AIza-file"\n[bluesky]\nhandle = "veille.bsky.social"\n', encoding="utf-8")
    p.chmod(0o644)
    creds = load_credentials(p, environ={"VIGIE_YOUTUBE_API_KEY": "AIza-env"})
    assert creds.get("youtube", "api_key") == "AIza-env"  # the environment wins
    assert creds.get("bluesky", "handle") == "veille.bsky.social"
    assert creds.warnings and "chmod 600" in creds.warnings[0]
    assert "AIza" not in repr(creds)
    p.chmod(0o600)
    assert load_credentials(p, environ={}).warnings == []
    with pytest.raises(CollectError, match=r"\[meta\].*VIGIE_META_PAGE_TOKEN"):
        creds.require("meta", "page_token", "Page Facebook")


def test_unreadable_credentials_file_never_quotes_its_content(tmp_path):
    p = tmp_path / "credentials.toml"
    p.write_text('[youtube]\napi_key = "AIza-secret\n', encoding="utf-8")  # unterminated string
    with pytest.raises(CollectError) as e:
        load_credentials(p, environ={})
    assert "AIza" not in str(e.value) and "illisible" in str(e.value)


def test_declared_sources_from_the_registry():
    reg = load_registry(REGISTRY)
    plan = declared_sources(reg, Credentials())
    ids = [s.source_id for s in plan.sources]
    assert ids == [
        "bluesky:account:saintaubinsurloire.bsky.social",
        "mastodon:account:@saintaubin@mastodon.example",
        "youtube:account:UCsaintaubin00000000001",
        "facebook:account:104857600000001",
        "instagram:account:178414000000001",
        "mastodon:hashtag:#saintaubin@mastodon.example",
        "mastodon:hashtag:#noelasaintaubin@mastodon.example",
        "press:feed:https://presse.example/saint-aubin.rss",
        "bluesky:account:portmarel.bsky.social",
        "instagram:discovery:portmarel_officiel",
    ]
    notes = " ".join(plan.notes)
    assert "X : l'API est payante" in notes  # X is declared but cannot be collected: said
    assert "CrowdTangle" in notes  # a peer's Facebook Page: said why not
    assert "Jetstream" in notes  # no Bluesky app password: searches are not planned, the note says how
    feed = next(s for s in plan.sources if s.platform == "press")
    assert "Saint-Aubin-sur-Loire" in feed.terms and "#saintaubin" in feed.terms
    with_login = declared_sources(reg, Credentials(values={("bluesky", "app_password"): "x"}), roles={"own"})
    searches = [s.key for s in with_login.sources if s.kind == "search"]
    assert searches == ["#saintaubin", "#noelasaintaubin", "Saint-Aubin-sur-Loire", "mairie de Saint-Aubin"]
    assert all(s.role == "own" for s in with_login.sources)
    only_press = declared_sources(reg, Credentials(), platforms={"press"})
    assert [s.platform for s in only_press.sources] == ["press"]


def test_registry_watch_errors_name_the_territory(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[[territory]]\nid = "a"\nname = "A"\nkind = "own"\n[territory.watch]\nhashtag = ["x"]\n',
                 encoding="utf-8")
    with pytest.raises(ValueError, match=r"« a ».*hashtag"):
        load_registry(p)


def test_retry_after_seconds_and_http_date():
    assert retry_after("7") == 7.0
    when = datetime.now(UTC) + timedelta(seconds=90)
    assert 85 <= retry_after(format_datetime(when, usegmt=True)) <= 91
    assert retry_after(None) is None and retry_after("demain") is None


def test_redact_masks_tokens_in_urls_and_headers():
    s = redact("GET https://x/y?key=AIzaSECRET&part=id access_token=EAAB123 Authorization: Bearer eyJabc.def")
    assert "SECRET" not in s and "EAAB123" not in s and "eyJabc" not in s
    assert "part=id" in s


def test_client_long_retry_after_stops_the_source_and_401_is_french(replay):
    replay.json("/slow", {}, status=429, headers={"Retry-After": "3600"})
    replay.json("/private", {"error": "invalid_token"}, status=401)
    c = ApiClient(replay.url, "Essai", sleep=Sleeps(), params={"access_token": "tok-SECRET"})
    with pytest.raises(RateLimited, match="3600 s"):
        c.get("/slow")
    with pytest.raises(AuthError) as e:
        c.get("/private")
    assert "accès refusé" in str(e.value) and "SECRET" not in str(e.value)
    assert c.requests == 2


def test_client_gives_up_after_its_attempts_with_a_resume_message(replay):
    replay.json("/down", {"error": "x"}, status=503)
    sleeps = Sleeps()
    c = ApiClient(replay.url, "Essai", sleep=sleeps, attempts=3)
    with pytest.raises(CollectError, match="reprendra"):
        c.get("/down")
    assert c.requests == 3 and sleeps == [1.0, 2.0]  # exponential backoff between attempts


def test_collection_waits_for_another_writer_then_says_busy(db):

    with derived_refresh.writer():
        pass  # create the store
    hold = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(float(sys.argv[2]))")
    p = subprocess.Popen([sys.executable, "-c", hold, str(db), "1.5"], stdout=subprocess.PIPE, text=True,
                         env=os.environ.copy())
    assert p.stdout.readline().strip() == "ok"
    t0 = time.monotonic()
    with writer_when_free(wait=30) as con:  # waits for the other process, then writes
        assert con.execute("SELECT 1").fetchone() == (1,)
    assert time.monotonic() - t0 >= 0.5
    p.wait()
    p = subprocess.Popen([sys.executable, "-c", hold, str(db), "5"], stdout=subprocess.PIPE, text=True,
                         env=os.environ.copy())
    assert p.stdout.readline().strip() == "ok"
    with pytest.raises(CollectError, match="Base occupée"), writer_when_free(wait=0.3):
        pass
    p.kill()
    p.wait()


def test_a_url_with_its_own_query_keeps_it(replay):
    replay.json("/page", {"ok": True}, when={"after": "QVFI", "fields": "id,message", "key": "k"})
    c = ApiClient(replay.url, "Essai", sleep=Sleeps(), params={"key": "k"})
    assert c.get_json(f"{replay.url}/page?fields=id,message&after=QVFI") == {"ok": True}
    assert replay.calls("/page") == [{"fields": "id,message", "after": "QVFI", "key": "k"}]

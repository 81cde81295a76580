"""Issue 20, part B — the pieces of « one server, many territories » outside the page walks
(tests/test_security_scope.py): scopes in the users file and `vigie users`, the read rules of
``analysis.access`` on every read model the pages use, writes refused outside the scope, the audit
log and its retention, the notebook helper, `vigie report --as-user`, and the mapping of an identity
provider's claims to a role and territories (AppTest's ``st.user``; the real provider is in
tests/test_browser_oidc.py)."""

from __future__ import annotations

import json
import re
import stat
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from analysis import access, audit, derived_refresh, sso, store, users
from analysis.cli import app as vigie
from analysis.queries import Filters
from tests import app_store
from tests.page_helpers import APP, linked_page, rendered

ROOT = Path(__file__).resolve().parents[1]
PAGES_DIR = ROOT / "streamlit_app" / "app_pages"


@pytest.fixture()
def conf(tmp_path, monkeypatch) -> Path:
    """Users file, login state and settings of one test (fast bcrypt), the small app store."""
    monkeypatch.setenv("VIGIE_USERS", str(tmp_path / "conf" / "users.toml"))
    monkeypatch.setenv("VIGIE_AUTH_DB", str(tmp_path / "conf" / "auth.sqlite"))
    monkeypatch.setenv("VIGIE_CONFIG", str(tmp_path / "conf" / "config.toml"))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    yield tmp_path / "conf"


@pytest.fixture()
def small(tmp_path, monkeypatch) -> Path:
    db = app_store.build(tmp_path / "small.duckdb")
    monkeypatch.setenv("VIGIE_DB", str(db))
    return db


# ------------------------------------------------------------------------------ users and scopes
@pytest.mark.parametrize("typed,role", [("élu", "elu"), ("Élu·e", "elu"), ("élue", "elu"), ("elu(e)", "elu"),
                                        ("ELUS", "elu"), ("analyst", "analyste"), ("Analyste", "analyste"),
                                        ("administrateur·rice", "admin"), ("Administratrice", "admin")])
def test_role_spellings_people_type(typed, role):
    assert users.normalize_role(typed) == role


def test_unknown_role_refused_in_french():
    with pytest.raises(users.UserError, match="Rôle inconnu « maire »"):
        users.normalize_role("maire")


def test_users_cli_scope_add_list_change(conf):
    r = CliRunner()
    res = r.invoke(vigie, ["users", "add", "lea", "--role", "élu·e", "--scope", "port-marel,saint-aubin",
                           "--password-stdin"], input="un mot de passe long\n")
    assert res.exit_code == 0, res.output
    raw = tomllib.loads((conf / "users.toml").read_text())["users"]["lea"]
    assert raw["role"] == "elu" and raw["scope"] == ["port-marel", "saint-aubin"]
    assert users.load_users()["lea"].scope == ("port-marel", "saint-aubin")
    # an unknown territory is refused, with the registry's ids
    res = r.invoke(vigie, ["users", "add", "paul", "-r", "analyste", "-s", "atlantis", "--password-stdin"],
                   input="un mot de passe long\n")
    assert res.exit_code == 1 and "atlantis" in res.output and "port-marel" in res.output
    assert "paul" not in users.load_users()
    r.invoke(vigie, ["users", "add", "hote", "-r", "admin", "--password-stdin"], input="un mot de passe long\n")
    listing = r.invoke(vigie, ["users", "list"]).output
    assert re.search(r"lea\s+│\s+élu·e\s+│\s+port-marel, saint-aubin", listing), listing
    assert re.search(r"hote\s+│\s+admin\s+│\s+tous", listing), listing
    # change the scope, then every territory; change the role; each closes the open sessions
    t = users.Throttle()
    login = time.time() - 1
    assert r.invoke(vigie, ["users", "scope", "lea", "port-marel"]).exit_code == 0
    assert users.load_users()["lea"].scope == ("port-marel",) and t.revoked_after("lea", login)
    assert r.invoke(vigie, ["users", "scope", "lea", "--tous"]).exit_code == 0
    assert users.load_users()["lea"].scope is None
    assert r.invoke(vigie, ["users", "scope", "lea"]).exit_code == 1  # neither territories nor --tous
    assert r.invoke(vigie, ["users", "role", "lea", "Analyste"]).exit_code == 0
    assert users.load_users()["lea"].role == "analyste"
    # a password change keeps the scope
    r.invoke(vigie, ["users", "scope", "lea", "saint-aubin"])
    users.set_password("lea", "encore un autre secret")
    assert users.load_users()["lea"].scope == ("saint-aubin",)
    # the administrators' changes are in the audit log, never a password
    log = audit.AuditLog().entries(action="account")
    assert {"créé, rôle elu, territoires port-marel, saint-aubin", "territoires : tous"} <= \
        {d.split(" (par")[0] for d in log["detail"]}
    assert "mot de passe long" not in log.to_string()


@pytest.mark.parametrize("scope", ['"port-marel"', "[]", "[1, 2]", '["*"]'])
def test_a_malformed_scope_never_widens_access(conf, scope):
    """A scope that is not a list of territory ids (or an empty one) must not read as « every
    territory »: the entry is ignored, like a malformed role."""
    pw = users.hash_password("un mot de passe long", 4)
    (conf).mkdir(parents=True, exist_ok=True)
    (conf / "users.toml").write_text(f'[users.eve]\nrole = "analyste"\npassword = "{pw}"\nscope = {scope}\n')
    assert users.load_users() == {}
    assert users.verify("eve", "un mot de passe long") is None


# ------------------------------------------------------------------------------ the read rules
def _page_targets() -> set[str]:
    """The read models the pages and the data module call (``data.call("module:function", …)``)."""
    import ast

    found = set()
    for f in [*PAGES_DIR.glob("*.py"), ROOT / "streamlit_app" / "data.py"]:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        # the read model is passed as the function itself: ``data.call(analysis.x.y.fn, f)`` (module
        # imported whole), or as a list handed to a helper that calls data.call (Synthèse's fetch_all)
        refs = [n.args[0] for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args
                and getattr(n.func, "attr", getattr(n.func, "id", None)) == "call"]
        refs += [e for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "fetch_all"
                 for e in n.args[0].elts]
        imported = {a.asname or a.name: (n.module + "." + a.name if n.module else a.name)
                    for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        for ref in refs:
            if isinstance(ref, ast.Attribute):
                dotted = ast.unparse(ref)
                head = dotted.split(".")[0]
                dotted = imported.get(head, head) + dotted[len(head):]
                mod, _, fn = dotted.rpartition(".")
                if mod.startswith("analysis"):
                    found.add(access.target_name(access.resolve(f"{mod}:{fn}")))
    return found


def test_every_read_the_pages_make_is_classified():
    """A read model a scoped user may reach must say what it shows (analysis.access.READ_MODELS):
    one missing would be refused to them, so a page would break rather than leak."""
    targets = _page_targets()
    assert len(targets) > 40
    assert not targets - set(access.READ_MODELS), sorted(targets - set(access.READ_MODELS))
    for t, rule in access.READ_MODELS.items():
        assert callable(access.resolve(t)), t
        assert rule.kind in (access.OWN, access.COMPARE, access.PEERS, access.PUBLIC, access.HOST)
        assert rule.what, t


def test_an_unclassified_read_is_refused_to_a_scoped_user(small):
    with store.reader() as con:
        with pytest.raises(access.OutOfScope):
            access.read(con, access.Scope(("port-marel",)), "analysis.queries:default_period")
        assert access.read(con, access.EVERYTHING, "analysis.queries:default_period")  # the host: as before


def test_read_rules_cut_filters_arguments_and_results(small):
    pm = access.Scope(("port-marel",))
    sa = access.Scope(("saint-aubin",))  # whose registry peer is port-marel
    everything = Filters(territories=("saint-aubin", "port-marel"))
    with store.reader() as con:
        cov = access.read(con, pm, "analysis.queries:coverage", everything)
        assert set(cov["territory_id"]) == {"port-marel"}
        # nothing asked: the whole scope, never « every territory »
        assert set(access.read(con, pm, "analysis.queries:coverage", Filters())["territory_id"]) == {"port-marel"}
        assert set(access.read(con, access.EVERYTHING, "analysis.queries:coverage", Filters())["territory_id"]) \
            == {"saint-aubin", "port-marel"}
        # the registry as a scoped user sees it: theirs are « own », peers are peers, others absent
        reg = access.read(con, sa, "analysis.queries:territories")
        assert reg[["territory_id", "kind"]].values.tolist() == [["saint-aubin", "own"], ["port-marel", "peer"]]
        reg = access.read(con, pm, "analysis.queries:territories")
        assert reg[["territory_id", "kind"]].values.tolist() == [["port-marel", "own"]]
        assert list(reg["peers"].iloc[0]) == []
        # a territory asked by name outside the scope: refused; a list: cut
        with pytest.raises(access.OutOfScope):
            access.read(con, pm, "analysis.reports.render:available_periods", None, None, territory="saint-aubin")
        b = access.read(con, sa, "analysis.campaigns:benchmark", None, None, start=datetime(2026, 1, 1).date(),
                        end=datetime(2026, 5, 1).date(), territories=["saint-aubin", "port-marel", "atlantis"])
        assert set(b["territory_id"]) == {"saint-aubin", "port-marel"}  # peers' aggregates: allowed
        b = access.read(con, pm, "analysis.campaigns:benchmark", None, None, start=datetime(2026, 1, 1).date(),
                        end=datetime(2026, 5, 1).date(), territories=["saint-aubin", "port-marel"])
        assert set(b["territory_id"]) == {"port-marel"}  # saint-aubin is not a peer of port-marel
        posts = access.read(con, sa, "analysis.campaigns:post_table", None, None, territories=("port-marel",),
                            start=None, end=None, platforms=())
        assert posts.empty or set(posts["territory_id"]) <= {"saint-aubin"}  # texts: the scope only
        # host-only reads
        for target in ("analysis.queries:import_log", "analysis.queries:rejects", "analysis.store:table_counts"):
            with pytest.raises(access.OutOfScope):
                access.read(con, pm, target)
        assert len(access.read(con, access.EVERYTHING, "analysis.queries:rejects")) == 2
        # the sidebar's platforms and dates: the scope's data
        assert access.read(con, pm, "analysis.queries:platforms", Filters()) == ["facebook"]
        assert access.read(con, pm, "analysis.queries:data_range", Filters())[1].isoformat() == "2026-04-10"


def test_scoped_writes_refused_before_anything_is_written(small):
    from analysis import campaigns as camp

    pm = access.Scope(("port-marel",))
    with derived_refresh.writer() as con:
        access.check_write(con, pm, messages=["facebook:m-port-marel-2026-03-0"])  # ours: allowed
        with pytest.raises(KeyError):  # another territory's message reads as unknown
            access.check_write(con, pm, messages=["facebook:m-saint-aubin-2026-01-0"])
        with pytest.raises(KeyError):
            access.check_write(con, pm, messages=["facebook:nope"])
        with pytest.raises(access.OutOfScope):
            access.check_write(con, pm, territories=["saint-aubin"])
        camp.save_campaigns(con, [camp.Campaign("ete", "Été", "saint-aubin", datetime(2026, 6, 1).date(),
                                                datetime(2026, 6, 30).date(), "", "", [], "engagement", None, "test")])
        with pytest.raises(access.OutOfScope):  # overwriting another territory's campaign by its id
            access.check_write(con, pm, campaigns=["ete"], territories=["port-marel"])
        access.check_write(con, pm, campaigns=["nouvelle"], territories=["port-marel"])


def test_correction_of_another_territorys_message_refused_on_the_page(small, conf, monkeypatch):
    """An analyst of Port-Marel types the id of a Saint-Aubin message in the correction form."""
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    at = linked_page("e_reputation", timeout=120)
    at.session_state["vigie_user"] = {"name": "lea", "role": "analyste", "scope": ("port-marel",), "via": "password"}
    at.run()
    assert not at.exception
    if not [t for t in at.text_input if t.key == "ereputation_id"]:
        pytest.skip("no correction form on this tiny store")
    at.text_input(key="ereputation_id").input("facebook:m-saint-aubin-2026-01-0")
    at.button(key="FormSubmitter:ereputation_correction-Enregistrer la correction").click().run()
    assert any("Message introuvable" in e.value for e in at.error)
    with store.reader() as con:
        assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == 0


def test_notebook_reader_applies_the_users_scope(small, conf):
    users.add_user("lea", "analyste", "un mot de passe long", scope="port-marel")
    lire = access.Reader.for_user("lea")
    assert set(lire("analysis.queries:coverage", Filters())["territory_id"]) == {"port-marel"}
    with pytest.raises(access.OutOfScope):
        lire("analysis.queries:rejects")
    host = access.Reader()
    assert set(host("analysis.queries:coverage", Filters())["territory_id"]) == {"port-marel", "saint-aubin"}


def test_report_as_user_stays_in_their_territories(demo_db, conf, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_db))
    users.add_user("lea", "elu", "un mot de passe long", scope="port-marel")
    r = CliRunner()
    res = r.invoke(vigie, ["report", "--as-user", "lea", "-t", "saint-aubin", "-p", "2026-03", "-f", "html",
                           "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 1 and "hors de votre périmètre" in res.output and not (tmp_path / "r.html").exists()
    res = r.invoke(vigie, ["report", "--as-user", "lea", "-p", "2026-03", "-f", "html", "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text()
    assert "Port-Marel" in html and "Saint-Aubin-sur-Loire" not in html  # no declared peer: nobody else
    entry = audit.AuditLog().entries(action="report").iloc[0]
    assert entry["user"] == "lea" and entry["scope"] == "port-marel" and "period=2026-03" in entry["detail"]


# ------------------------------------------------------------------------------ the audit log
def _logged_in(page: str, user: dict, query: dict | None = None) -> AppTest:
    at = linked_page(page, query, timeout=120)
    at.session_state["vigie_user"] = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_audit_logs_logins_and_page_views_once_per_view(small, conf, monkeypatch):
    from streamlit_app import auth

    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    users.add_user("lea", "analyste", "un mot de passe long", scope="port-marel")
    assert auth.attempt("lea", "pas le bon")[0] is None
    user, _ = auth.attempt("lea", "un mot de passe long")
    assert user == {"name": "lea", "role": "analyste", "scope": ("port-marel",), "via": "password"}
    at = _logged_in("donnees.py", user, {"periode": "3m"})  # a link to Données
    at.run()
    at.run()  # reruns of the same view: one entry
    at.switch_page("app_pages/synthese.py").run()  # another page: a second entry
    log = audit.AuditLog()
    pages = log.entries(action="page")
    assert pages["page"].tolist() == ["Synthèse", "Données"]  # newest first
    assert "territoires=port-marel" in pages["detail"].iloc[0] and pages["scope"].iloc[0] == "port-marel"
    kinds = log.entries()["action"].tolist()
    assert kinds.count("login_failed") == 1 and kinds.count("login") == 1
    failed = log.entries(action="login_failed").iloc[0]
    assert failed["user"] == "lea" and "pas le bon" not in log.entries().to_string()


def test_audit_records_a_download_when_the_file_is_made(small, conf, monkeypatch):
    import streamlit as st

    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    made = []
    real = st.download_button
    monkeypatch.setattr(st, "download_button", lambda label, data, *a, **k: (made.append((k.get("file_name"), data)),
                                                                             real(label, data, *a, **k))[1])
    _logged_in("donnees.py", {"name": "hote", "role": "admin", "scope": None, "via": "password"})
    name, data = next(m for m in made if m[0] == "couverture.csv")
    assert audit.AuditLog().entries(action="download").empty  # drawn, not downloaded
    payload = data()
    assert payload.startswith(b"\xef\xbb\xbf")
    entry = audit.AuditLog().entries(action="download").iloc[0]
    assert entry["user"] == "hote" and entry["page"] == "Données" and entry["detail"] == "couverture.csv (3 lignes)"


def test_admins_read_the_audit_on_the_data_page_scoped_admins_their_users_only(small, conf, monkeypatch):
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    log = audit.AuditLog()
    log.record("login", user="lea", role="elu", scope=("port-marel",), via="password")
    log.record("login", user="sam", role="elu", scope=("saint-aubin",), via="oidc")
    log.record("login_failed", user="inconnu", via="password")
    host = _logged_in("donnees.py", {"name": "hote", "role": "admin", "scope": None, "via": "password"})
    table = next(d.value for d in host.dataframe if "Utilisateur" in d.value.columns)
    assert {"lea", "sam", "inconnu", "hote"} <= set(table["Utilisateur"])
    assert "connexion refusée" in set(table["Action"]) and "fournisseur d'identité" in set(table["Connexion"])
    local = _logged_in("donnees.py", {"name": "chef", "role": "admin", "scope": ("port-marel",), "via": "password"})
    table = next(d.value for d in local.dataframe if "Utilisateur" in d.value.columns)
    assert set(table["Utilisateur"]) == {"lea", "chef"}
    analyst = _logged_in("donnees.py", {"name": "lea", "role": "analyste", "scope": None, "via": "password"})
    assert not [d for d in analyst.dataframe if "Utilisateur" in d.value.columns]
    # a scoped user gets neither the import log nor the rejected rows nor the table counts
    assert any("Réservé aux administrateurs de l'hébergement" in c.value for c in local.caption)
    assert not [d for d in local.dataframe if "SHA-256" in d.value.columns or "Raison" in d.value.columns]


def test_vigie_audit_and_purge_of_the_audit_log(demo_db_copy, conf):
    log = audit.AuditLog(clock=lambda: time.time() - 400 * 86400)  # more than a year ago
    log.record("page", user="ancien", role="elu", page="Synthèse")
    audit.AuditLog().record("download", user="lea", role="analyste", scope=("port-marel",), page="Benchmark",
                            detail="benchmark.csv (5 lignes)")
    r = CliRunner()
    res = r.invoke(vigie, ["audit", "--json"])
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [x["user"] for x in rows if x["via"] != "base"] == ["lea", "ancien"]
    res = r.invoke(vigie, ["audit", "--user", "lea"])
    assert re.search(r"lea \(analyste, port-marel\) · téléchargement · Benchmark · benchmark\.csv \(5 lignes\)",
                     res.output), res.output
    assert "ancien" not in res.output
    res = r.invoke(vigie, ["purge", "--older-than", "30y", "--yes"])
    assert res.exit_code == 0, res.output
    assert "1 entrée antérieure" in res.output
    left = audit.AuditLog().entries()
    assert left["user"].tolist() == ["lea"]
    # the store's own log (the purge just written) is in `vigie audit` too
    res = r.invoke(vigie, ["audit", "--json", "--action", "privacy.purge"])
    assert [json.loads(line)["via"] for line in res.output.splitlines()] == ["base"]


def test_audit_file_is_private(conf):
    audit.AuditLog().record("login", user="lea")
    assert stat.S_IMODE(users.auth_db_path().stat().st_mode) == 0o600


# ------------------------------------------------------------------------------ identity provider
OIDC = """
[oidc]
provider = "collectivite"
label = "Compte de la collectivité"
user_claim = "preferred_username"
role_claim = "groups"
scope_claim = "territoires"

[oidc.roles]
"vigie-elus" = "élu·e"
"vigie-analystes" = "analyste"
"vigie-admins" = "admin"

[oidc.territories]
"/communes/port-marel" = ["port-marel"]
"/hebergeur" = "*"
"""


@pytest.fixture()
def oidc(conf) -> sso.SsoConfig:
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "config.toml").write_text(OIDC, encoding="utf-8")
    return sso.load_config()


def test_claims_map_to_role_and_territories(oidc):
    def m(**claims):
        return sso.map_claims({"sub": "s1", "iat": 1_800_000_000, **claims}, oidc)

    u, err = m(preferred_username="Lea", groups=["vigie-elus", "autre"], territoires=["/communes/port-marel"])
    assert err is None and u == {"name": "lea", "role": "elu", "scope": ("port-marel",), "via": "oidc",
                                 "issued": 1_800_000_000.0}
    u, _ = m(preferred_username="x", groups=["vigie-elus", "vigie-analystes"], territoires="/hebergeur")
    assert u["role"] == "analyste" and u["scope"] is None  # the most privileged group; every territory
    assert m(preferred_username="x", groups=["autre"], territoires="/hebergeur")[1].startswith(
        "Le compte « x » n'a pas de rôle dans Vigie")
    u, err = m(preferred_username="x", groups=["vigie-elus"])  # no territory claim: refused, not « all »
    assert u is None and "aucun territoire" in err
    u, err = m(preferred_username="x", groups=["vigie-elus"], territoires=["/communes/inconnue"])
    assert u is None and "aucun territoire" in err
    unknown = sso.SsoConfig(provider="k", role_claim="groups", scope_claim="territoires")  # ids as they come
    u, err = sso.map_claims({"sub": "x", "groups": ["elu"], "territoires": "atlantis,port-marel"}, unknown,
                            known=["port-marel", "saint-aubin"])
    assert u["scope"] == ("port-marel",)  # a territory the registry does not know is dropped
    assert sso.map_claims({"sub": "x", "groups": ["elu"], "territoires": "atlantis"}, unknown, known=["port-marel"])[0] \
        is None
    nested = sso.SsoConfig(provider="k", role_claim="realm_access.roles", scope_claim="")
    u, _ = sso.map_claims({"email": "A@b.fr", "realm_access": {"roles": ["Élu·e"]}}, nested)
    assert u["name"] == "a@b.fr" and u["role"] == "elu" and u["scope"] is None  # one-territory server


def test_provider_login_lands_with_mapped_role_and_scope(small, oidc, monkeypatch):
    """AppTest's ``st.user`` stands for the provider's signed cookie (the real flow: tests/test_browser_oidc.py)."""
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert at.title[0].value == "Vigie — connexion"
    assert [b.label for b in at.button][0] == "Se connecter : Compte de la collectivité"
    now = time.time()
    at.user = {"is_logged_in": True, "preferred_username": "lea", "groups": ["vigie-analystes"],
               "territoires": ["/communes/port-marel"], "iat": now, "sub": "s1"}
    at.run()
    at.switch_page("app_pages/donnees.py").run()
    assert not at.exception and at.title[0].value == "Données"
    assert at.session_state["vigie_user"] == {"name": "lea", "role": "analyste", "scope": ("port-marel",),
                                              "via": "oidc"}
    assert "territoires : port\\-marel" in at.sidebar.caption[0].value
    cov = next(d.value for d in at.dataframe if "Premier mois" in d.value.columns)
    assert set(cov["Territoire"]) == {"Port-Marel"}
    entry = audit.AuditLog().entries(action="login").iloc[0]
    assert (entry["user"], entry["via"], entry["scope"]) == ("lea", "oidc", "port-marel")


def test_provider_account_without_role_is_refused(small, oidc, monkeypatch):
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.user = {"is_logged_in": True, "preferred_username": "eve", "groups": ["compta"], "iat": time.time()}
    at.run()
    assert at.title[0].value == "Vigie — connexion" and "vigie_user" not in at.session_state
    assert "n'a pas de rôle dans Vigie" in at.error[0].value
    assert audit.AuditLog().entries(action="login_failed").iloc[0]["via"] == "oidc"


def test_provider_sessions_time_out_sign_out_and_are_revoked(small, oidc, monkeypatch):
    """The provider's cookie lasts 30 days: a login idle past the timeout in any session, signed out,
    or revoked (« Se déconnecter partout », `vigie users logout`) is not worth a new session."""
    monkeypatch.delenv("VIGIE_AUTH", raising=False)
    monkeypatch.setenv("VIGIE_IDLE_MINUTES", "1")
    issued = time.time() - 5
    claims = {"is_logged_in": True, "preferred_username": "lea", "groups": ["vigie-elus"],
              "territoires": ["/communes/port-marel"], "iat": issued}

    def session() -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.user = dict(claims)
        at.run()
        return at

    first = session()
    assert first.session_state["vigie_user"]["via"] == "oidc"
    # idle: the page's own timer and the next new session both refuse it
    con = users.open_auth_db(users.auth_db_path())
    con.execute("UPDATE sso_logins SET last_seen = last_seen - 120")
    con.close()
    again = session()
    assert again.title[0].value == "Vigie — connexion" and "vigie_user" not in again.session_state
    assert "sans activité" in again.error[0].value
    # signed out, then the same cookie replayed: refused
    claims["iat"] = issued = time.time() - 2
    s = session()
    s.sidebar.button(key="vigie_logout").click().run()  # the browser goes to the provider's sign-out
    assert "vigie_user" not in s.session_state and not s.title and not s.dataframe
    assert "déconnecté" in session().error[0].value
    # revoked from the server
    claims["iat"] = time.time() - 1
    s = session()
    assert s.session_state["vigie_user"]["name"] == "lea"
    time.sleep(0.01)
    users.Throttle().revoke("lea")
    s.run()
    assert s.title[0].value == "Vigie — connexion"
    replay = session()
    assert "vigie_user" not in replay.session_state and "Reconnectez-vous" in rendered(replay.error[0].value)
    # revoked while no session was open: the cookie alone is refused
    claims["iat"] = time.time() - 0.5
    time.sleep(0.01)
    users.Throttle().revoke("lea")
    assert "Toutes les sessions de ce compte ont été déconnectées" in rendered(session().error[0].value)
    # a new login at the provider (a newer token) is welcome again
    claims["iat"] = time.time() + 1
    assert session().session_state["vigie_user"]["name"] == "lea"
    kinds = audit.AuditLog().entries(user="lea")["action"].tolist()
    assert kinds.count("logout") >= 3

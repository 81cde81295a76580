"""A small, hand-written store for the app tests (AppTest and the headless browser).

Two territories (our own and one peer), two platforms, a known gap (March 2026 missing for
saint-aubin × facebook), one import with a rejected row whose value is an author name.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from analysis import derived_refresh, store

# (territory, platform, month, posts, messages) — the expected coverage.
CELLS = [
    ("saint-aubin", "facebook", "2026-01", 3, 5),
    ("saint-aubin", "facebook", "2026-02", 2, 4),
    # 2026-03 deliberately missing: a gap inside the covered range
    ("saint-aubin", "facebook", "2026-04", 1, 2),
    ("saint-aubin", "instagram", "2026-02", 4, 0),
    ("port-marel", "facebook", "2026-03", 2, 1),
    ("port-marel", "facebook", "2026-04", 1, 0),
]
LAST_DAY = datetime(2026, 4, 20, 10, 0)


def build(path: Path) -> Path:
    """Write the store at ``path`` (and publish its read copy); return ``path``."""
    terr = pd.DataFrame([
        {"territory_id": "saint-aubin", "name": "Saint-Aubin-sur-Loire", "population": 48250, "kind": "own",
         "peers": ["port-marel"]},
        {"territory_id": "port-marel", "name": "Port-Marel", "population": 31400, "kind": "peer",
         "peers": []},
    ])
    posts, messages = [], []
    for t, p, month, n_posts, n_msgs in CELLS:
        for i in range(n_posts):
            day = min(LAST_DAY, datetime.strptime(f"{month}-{10 + i}", "%Y-%m-%d"))
            posts.append({"post_id": f"{p}:{t}-{month}-{i}", "platform": p, "territory_id": t,
                          "account_id": f"{p}:{t}", "created_at": day, "text": "Publication"})
        for i in range(n_msgs):
            day = min(LAST_DAY, datetime.strptime(f"{month}-{5 + i}", "%Y-%m-%d"))
            messages.append({"message_id": f"{p}:m-{t}-{month}-{i}", "platform": p, "territory_id": t,
                             "kind": "comment", "created_at": day, "text": "Merci !",
                             "author_hash": f"h{i}"})
    imp = pd.DataFrame([{
        "import_id": "imp1", "path": "/home/jeanne.martin/exports/commentaires_mars.csv", "sha256": "ab" * 32,
        "format": "exportcomments", "encoding": "utf-8-sig", "started_at": LAST_DAY, "finished_at": LAST_DAY,
        "rows_read": 15, "inserted": 14, "updated": 0, "rejected": 2, "status": "ok",
    }])
    rej = pd.DataFrame([
        {"import_id": "imp1", "path": "/home/jeanne.martin/exports/commentaires_mars.csv", "line": 7,
         "column_name": "Date", "value": "31/02/2026", "reason": "date invalide"},
        {"import_id": "imp1", "path": "/home/jeanne.martin/exports/commentaires_mars.csv", "line": 9,
         "column_name": "Author Name", "value": "Paulette Dugommier", "reason": "message vide"},
    ])
    with derived_refresh.writer(path) as con:
        store.upsert(con, "territories", terr)
        store.upsert(con, "posts", pd.DataFrame(posts))
        store.upsert(con, "messages", pd.DataFrame(messages))
        store.upsert(con, "imports", imp)
        store.upsert(con, "rejects", rej)
    return path


# ------------------------------------------------------------------------------ hostile strings
HOST = "evil.example"
# What the adversarial check put in an X display name, plus the rest of the markdown/HTML toolbox:
# a link, a tracking pixel, raw HTML, bare links GFM would turn into links, Streamlit's colour and
# icon directives, LaTeX, emphasis, a heading.
PAYLOAD = (f"Aide 200 euros : [cliquez ici](https://{HOST}/phish) ![p](http://{HOST}/pixel.png) "
           f'<img src="http://{HOST}/raw.png" onerror="alert(1)"> <script>fetch("http://{HOST}/s")</script> '
           f"www.{HOST}/w https://{HOST}/bare :red[rouge] :material/warning: "
           f"$\\href{{https://{HOST}}}{{x}}$ **gras** _it_ `code` | a | b |\n# titre")
LOOKALIKE = "Mairie de Saint-Aubin-sur-Loire officiel "


def build_payload(demo_db: Path, path: Path) -> Path:
    """A copy of the demo store where every string a user or an attacker controls carries PAYLOAD:
    message texts, a look-alike X account first seen on the last day (the reported attack: its alert
    heads Synthèse), campaign names, a peer's name, an import's file name, a rejected value."""
    import shutil

    shutil.copyfile(demo_db, path)
    with derived_refresh.writer(path) as con:
        last = con.execute("SELECT max(created_at) FROM messages").fetchone()[0]
        con.execute("UPDATE messages SET text = text || ' ' || ?", [PAYLOAD])
        con.execute("UPDATE campaigns SET name = name || ' ' || ?", [PAYLOAD])
        con.execute("UPDATE territories SET name = name || ' ' || ? WHERE territory_id = 'port-marel'",
                    [f"[x](https://{HOST}/t)"])
        store.upsert(con, "accounts", pd.DataFrame([{
            "account_id": "x:555000666", "platform": "x", "native_id": "555000666", "handle": "mairie_staubin_off",
            "name": LOOKALIKE + PAYLOAD, "official": False, "first_seen": last}]))
        store.upsert(con, "imports", pd.DataFrame([{
            "import_id": "payload", "path": f"/home/agent/[fichier](https:{HOST}).csv", "sha256": "0" * 64,
            "format": "exportcomments", "started_at": last, "finished_at": last, "rows_read": 1, "inserted": 0,
            "updated": 0, "rejected": 1, "status": "ok"}]))
        store.upsert(con, "rejects", pd.DataFrame([{"import_id": "payload", "path": "x.csv", "line": 2,
                                                    "column_name": "Texte", "value": PAYLOAD, "reason": "test"}]))
    return path

"""File shapes shared by the demo's export writers: CSV dialects, xlsx with fixed timestamps, headers,
dates in the platforms' UI formats, feed documents."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import os
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from analysis.demo.model import FIXED_ZIP_TIME, PARIS
from analysis.text import strip_accents


# ------------------------------------------------------------------------------ writers
def _q(v) -> str:
    """MBS-style CSV cell: quoted only when it holds a space, comma, quote or newline."""
    s = "" if v is None else str(v)
    if any(c in s for c in ' ,"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _write_csv_mbs(path: Path, header: list[str], rows: list[list], bom: bool = True) -> None:
    lines = [",".join(_q(h) for h in header)] + [",".join(_q(v) for v in r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + "\n".join(lines).encode("utf-8") + b"\n")


def _write_csv_all_quoted(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _write_csv(path: Path, header: list[str], rows: list[list], bom: bool = False) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))


def _save_xlsx(wb, path: Path) -> None:
    """Save a workbook with fixed zip and document timestamps (same seed → same bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-11-01T00:00:00Z", data)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    path.write_bytes(out.getvalue())


def _set_mtime(path: Path, d: date) -> None:
    ts = datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp()
    os.utime(path, (ts, ts))


MBS_EN = ["Post ID", "Page ID", "Page name", "Title", "Description", "Duration (sec)", "Publish time", "Caption type",
          "Permalink", "Is crosspost", "Is share", "Post type", "Languages", "Custom labels", "Funded content status",
          "Data comment", "Date", "Views", "Reach", "Reactions, Comments and Shares", "Reactions", "Comments",
          "Shares", "Total clicks", "3-second video views"]
MBS_FR = ["Identifiant de la publication", "ID de la Page", "Nom de la page", "Titre", "Description", "Durée (s)",
          "Heure de publication", "Type de légende", "Permalien", "Est une publication croisée", "Est un partage",
          "Type de publication", "Langues", "Libellés personnalisés", "Statut du contenu financé",
          "Commentaire sur les données", "Date", "Vues", "Couverture", "Réactions, commentaires et partages",
          "Réactions", "Commentaires", "Partages", "Total des clics", "Vues de vidéo de 3 secondes"]
MBS_IG = ["Post ID", "Account ID", "Account username", "Account name", "Description", "Duration (sec)",
          "Publish time", "Permalink", "Post type", "Data comment", "Date", "Views", "Reach", "Likes", "Shares",
          "Follows", "Comments", "Saves"]


def _mon(d: date) -> str:
    return d.strftime("%b-%d-%Y")


# ------------------------------------------------------------------------------ new platforms: file shapes
def _yearless(d: date) -> str:
    """TikTok Studio's English UI date: « October 3 », without the year."""
    return f"{_EN_MONTHS[d.month - 1]} {d.day}"


_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
_EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _csv_tiktok(rows: list[list[str]]) -> str:
    """Every field quoted, and no newline after the last row (TikTok's writer)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return buf.getvalue().rstrip("\n")


def _iso_ms(ts: datetime) -> str:
    """``2026-03-09T07:30:00.000Z`` (naive UTC in, as the AppView and Mastodon write it)."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _cid(uri: str) -> str:
    """A CID-shaped content id, stable for the record."""
    return "bafyrei" + base64.b32encode(hashlib.sha256(uri.encode()).digest()).decode().lower().rstrip("=")[:52]


def _bsky_facets(text: str, officials: dict[str, str]) -> list[dict]:
    """Rich-text facets (byte offsets) of the @-mentions of official accounts and of the hashtags."""
    data = text.encode("utf-8")
    out = []
    for handle, did in officials.items():
        needle = f"@{handle}".encode()
        i = data.find(needle)
        if i >= 0:
            out.append({"index": {"byteStart": i, "byteEnd": i + len(needle)},
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    for m in re.finditer(r"(?<![\w#])#(\w+)", text):
        start = len(text[:m.start()].encode("utf-8"))
        out.append({"index": {"byteStart": start, "byteEnd": start + len(m.group(0).encode("utf-8"))},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": m.group(1)}]})
    return sorted(out, key=lambda f: f["index"]["byteStart"])


def _slug(text: str) -> str:
    s = strip_accents(text.lower())
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60].rstrip("-")


def _rfc822(local: datetime) -> str:
    return (f"{_EN_DAYS[local.weekday()]}, {local.day:02d} {_EN_MONTHS[local.month - 1][:3]} {local.year} "
            f"{local:%H:%M:%S} {local:%z}")


def _feed_document(cfg: dict, place: str, feed_url: str, items: list[dict], built: date) -> str:
    """A local daily's feed holding ``items``: RSS 2.0 (a bare number as guid), WordPress's RSS (guid
    ``?p=``, creator and category in CDATA, the « L'article … est apparu en premier sur … » trailer)
    or Atom (tag URIs); journalists' names included, as real feeds have them."""
    items = sorted(items, key=lambda i: (i["created_utc"], i["num"]), reverse=True)
    site, section, outlet = cfg["site"], cfg["section"], cfg["outlet"]
    host = site.split("://", 1)[1].removeprefix("www.")
    esc = html.escape
    built_at = datetime(built.year, built.month, built.day, 6, 0, tzinfo=PARIS)
    if cfg["dialect"] == "atom":
        lines = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">',
                 f"  <title>{esc(outlet)} — {esc(place)}</title>",
                 f'  <link href="{site}/{section}/" rel="alternate" type="text/html"/>',
                 f'  <link href="{esc(feed_url)}" rel="self" type="application/atom+xml"/>',
                 f"  <id>tag:{host},2023:{section}</id>", f"  <updated>{built_at.isoformat()}</updated>"]
        for i in items:
            when = i["created_local"].isoformat()
            lines += ["  <entry>", f"    <title>{esc(i['title'])}</title>",
                      f'    <link href="{site}/{section}/{_slug(i["title"])}-{i["num"]}.html" rel="alternate"/>',
                      f"    <id>{esc(i['native_id'])}</id>", f"    <published>{when}</published>",
                      f"    <updated>{when}</updated>", f"    <author><name>{esc(i['journalist'])}</name></author>",
                      f'    <category term="{esc(i["category"])}"/>',
                      f'    <summary type="html">{esc("<p>" + esc(i["summary"]) + "</p>")}</summary>', "  </entry>"]
        return "\n".join(lines + ["</feed>"]) + "\n"
    wordpress = cfg["dialect"] == "wordpress"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">',
             "<channel>", f"  <title>{esc(outlet)} - {esc(place)}</title>", f"  <link>{site}/{section}/</link>",
             f'  <atom:link href="{esc(feed_url)}" rel="self" type="application/rss+xml"/>',
             f"  <description>L'actualité de {esc(place)} et de ses environs</description>",
             "  <language>fr-FR</language>", f"  <lastBuildDate>{_rfc822(built_at)}</lastBuildDate>"]
    for i in items:
        local = i["created_local"]
        lines += ["  <item>", f"    <title>{esc(i['title'])}</title>"]
        if wordpress:
            link = f"{site}/{local:%Y/%m/%d}/{_slug(i['title'])}/"
            trailer = (f'<p>L\'article <a href="{link}">{esc(i["title"])}</a> est apparu en premier sur '
                       f'<a href="{site}">{esc(outlet)}</a>.</p>')
            utc = i["created_utc"].replace(tzinfo=UTC)
            lines += [f"    <link>{link}</link>", f"    <dc:creator><![CDATA[{i['journalist']}]]></dc:creator>",
                      f"    <pubDate>{_rfc822(utc)}</pubDate>", f"    <category><![CDATA[{i['category']}]]></category>",
                      f'    <guid isPermaLink="false">{site}/?p={i["num"]}</guid>',
                      f"    <description><![CDATA[<p>{esc(i['summary'])}</p>{trailer}]]></description>"]
        else:
            link = f"{site}/{section}/{_slug(i['title'])}-{i['num']}?xtor=RSS-12"
            lines += [f"    <link>{esc(link)}</link>", f'    <guid isPermaLink="false">{i["num"]}</guid>',
                      f"    <pubDate>{_rfc822(local)}</pubDate>", f"    <dc:creator>{esc(i['journalist'])}</dc:creator>",
                      f"    <category>{esc(i['category'])}</category>",
                      f"    <description>{esc('<p>' + esc(i['summary']) + '</p>')}</description>"]
        lines.append("  </item>")
    return "\n".join(lines + ["</channel>", "</rss>"]) + "\n"


def _fr_thousands(n: int) -> str:
    """CrowdTangle in a French/pt-BR locale: dot as thousands separator (``12.345``)."""
    return f"{n:,}".replace(",", ".")


def _fr_fb_date(local: datetime) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    return f"{local.day} {months[local.month - 1]} {local.year} à {local:%H:%M}"

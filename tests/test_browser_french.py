"""No English left on screen or for screen readers (issue 22, item 7): every page in headless Chromium,
its rendered text and its accessible labels (aria-label, title, placeholder) free of Streamlit's own
English strings — « Choose an option », « Help for … » on help icons, the table toolbar's « Search »,
« Fullscreen », « Download as CSV » — and of « None » in a table cell.

The check runs in ``tests/test_browser_pages.py``, on the page it opens for its screenshot and audit.
"""

from __future__ import annotations

import re

from streamlit_app.ui import STREAMLIT_FRENCH_LABELS, STREAMLIT_FRENCH_PREFIXES, STREAMLIT_FRENCH_TEXTS

ENGLISH = ["Choose an option", "Choose options", "No options to select", "Help for", "Show this message",
           "Download as CSV", "Search", "Fullscreen", "Page not found", "Drag and drop", "per file"]
# Streamlit's own labels and texts the app's script translates: none may be left as it was
ENGLISH_LABELS = {k for k, v in STREAMLIT_FRENCH_LABELS.items() if k != v}
ENGLISH_PREFIXES = tuple(STREAMLIT_FRENCH_PREFIXES)
ENGLISH_TEXTS = set(STREAMLIT_FRENCH_TEXTS)

# French typography: « 12 % » (never « 12% »), « −1,9 » (never « -1,9 »), no « compte(s) ».
TYPOGRAPHY = re.compile(r"\d%|(?<![\w-])-\d+,\d|\w\(s\)")

# Texts and labels of what is rendered (display:none subtrees, scripts and styles aside), and the
# texts of table cells (HTML tables and the data grid's accessible table).
RENDERED = """() => {
  const out = {texts: [], labels: [], cells: []};
  const walk = (el) => {
    if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(el.tagName)) return;
    if (el.checkVisibility && !el.checkVisibility() && !el.closest("[role=grid], table")) return;
    for (const a of ["aria-label", "title", "placeholder", "aria-placeholder", "alt"]) {
      const v = el.getAttribute(a); if (v) out.labels.push(v);
    }
    for (const n of el.childNodes) {
      if (n.nodeType === 3 && n.nodeValue.trim()) out.texts.push(n.nodeValue.trim());
      else if (n.nodeType === 1) walk(n);
    }
  };
  walk(document.body);
  document.querySelectorAll("td, th, [role=gridcell], [role=cell]").forEach((c) => out.cells.push(c.textContent.trim()));
  return out;
}"""


def check_no_english(page, title: str) -> None:
    """Fail on Streamlit's English strings, English typography or « None » in a cell of ``page`` (an
    open Playwright page); called by ``tests/test_browser_pages.py`` on every page it opens at desktop
    width (one load per page serves the screenshot, the axe audit and this check)."""
    seen = page.evaluate(RENDERED)
    assert len(seen["texts"]) > 10, seen  # the page was read
    found = sorted({f"{kind}: {s[:80]!r}" for kind in ("texts", "labels") for s in seen[kind]
                    for w in ENGLISH if w in s})
    found += sorted({f"labels: {s!r}" for s in seen["labels"] if s in ENGLISH_LABELS or s.startswith(ENGLISH_PREFIXES)})
    found += sorted({f"texts: {s!r}" for s in seen["texts"] if s in ENGLISH_TEXTS})
    assert not found, f"{title}: English left\n" + "\n".join(found)
    typo = sorted({s[:80] for s in seen["texts"] + seen["labels"] if TYPOGRAPHY.search(s)})
    assert not typo, f"{title}: « 0% », « -1,9 » or « (s) »\n" + "\n".join(typo)
    assert "None" not in seen["cells"], f"{title}: « None » in a table cell"

"""Word clouds: the most frequent words and phrases (:func:`word_frequencies`), drawn as a PNG
(:func:`word_cloud_png`) or inlined in HTML reports (:func:`word_cloud_html`)."""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.text import fold
from analysis.topics.lemmas import subject_terms_mask, surface_counts

PRINT_PALETTE = ("#1f3b57", "#8c2d04", "#2e5e3a", "#5b2c6f", "#3c3c3c", "#0b5563", "#7a4b00")


# Messages counted for a word cloud: beyond this a spread sample (see word_cloud_view).
WORD_CLOUD_SAMPLE = 10_000

def word_frequencies(texts: Sequence[str | None] | pd.Series, top: int = 150,
                     exclude: Iterable[str] = ()) -> dict[str, int]:
    """Most frequent words and bigrams (surface forms, accents kept, French stop words removed).

    A bigram is kept instead of its two words when it is at least half as frequent as each of them,
    so 'eau potable' shows as such; a word of a kept bigram is then not shown alone.
    ``exclude``: words to hide (e.g. the territory name).
    """
    X, terms = surface_counts(texts, (1, 2), binary=True)
    if not terms:
        return {}
    freq = pd.Series(np.asarray(X.sum(axis=0)).ravel(), index=pd.Index(terms, dtype=object))  # object: pyarrow strings iterate slowly
    excl = {e.lower() for e in exclude} | {fold(e.lower()) for e in exclude}
    freq = freq[subject_terms_mask(freq.index, excl)]
    is_bi = np.array([" " in t for t in freq.index], dtype=bool)
    uni, bi = freq[~is_bi], freq[is_bi]
    u = dict(zip(uni.index, uni.to_numpy(), strict=True))  # Series.get per bigram was most of the time
    # A bigram is shown when it is the main use of both its words (at least half of each), and its words
    # are then not shown alone: « standard » beside « standard mairie » said the same thing twice, and
    # « mairie », far more frequent than any of its phrases, stays a word (issue 22).
    bi = bi[np.array([v >= 0.5 * max(u.get(a, 0), u.get(b, 0)) for t, v in zip(bi.index, bi.to_numpy(), strict=True)
                      for a, b in [t.split()]], dtype=bool)]
    in_phrases = {w for t in bi.index for w in t.split()}
    uni = uni[[t not in in_phrases for t in uni.index]]
    freq = pd.concat([uni, bi]).sort_values(ascending=False, kind="stable").head(top)
    return {str(k): int(v) for k, v in freq.items() if v > 0}


def word_cloud_png(frequencies: dict[str, int], title: str | None = None, width: int = 900, height: int = 500,
                   seed: int = 0) -> bytes:
    """A word cloud as PNG bytes, dark print-readable palette on white, optional title on top.

    Raises ValueError (French message) when there is no word to draw.
    """
    from PIL import Image, ImageDraw, ImageFont
    from wordcloud import WordCloud
    from wordcloud.wordcloud import FONT_PATH

    if not frequencies:
        raise ValueError("Aucun mot à afficher pour cette sélection.")
    rng = np.random.default_rng(seed)
    palette = PRINT_PALETTE

    def color(*_args: Any, **_kw: Any) -> str:
        return palette[int(rng.integers(len(palette)))]

    title_h = 44 if title else 0
    # Layout on a half-size canvas drawn at scale 2: same output size and look, about 3× faster
    # (the placement search costs in proportion to the canvas area).
    wc = WordCloud(width=width // 2, height=(height - title_h) // 2, scale=2, background_color="white",
                   color_func=color, random_state=seed, prefer_horizontal=0.95, max_words=len(frequencies),
                   margin=2, collocations=False).generate_from_frequencies(frequencies)
    img = Image.new("RGB", (width, height), "white")
    img.paste(wc.to_image(), (0, title_h))
    if title:
        draw = ImageDraw.Draw(img)
        size = 22
        font = ImageFont.truetype(FONT_PATH, size)
        while size > 11 and font.getlength(title) > width - 24:  # shrink a long title to fit
            size -= 1
            font = ImageFont.truetype(FONT_PATH, size)
        if font.getlength(title) > width - 24:
            while title and font.getlength(title + "…") > width - 24:
                title = title[:-1]
            title += "…"
        draw.text((12, 10 + (22 - size) // 2), title, fill="#1a1a1a", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def word_cloud_html(png: bytes, title: str) -> str:
    """``<figure>`` with the PNG inlined; title and alt text HTML-escaped (reports)."""
    import base64

    t = html.escape(title, quote=True)
    return (f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{t}">'
            f"<figcaption>{t}</figcaption></figure>")

"""Themes and topics: taxonomy classifier, topic discovery, trends, emerging subjects, word clouds.

A package split by concern; every name lives in one module and is re-exported here, so callers keep
writing ``from analysis import topics`` / ``analysis.topics.theme_shares``:

- :mod:`~analysis.topics.lemmas`: surface clean-up, stop words, uni/bigram counts, lemma keys and
  :class:`LemmaVectorizer` (lemmatisation once per distinct vocabulary term, not per token);
- :mod:`~analysis.topics.taxonomy`: the editable taxonomy ``data/themes.toml`` (:func:`load_taxonomy`);
- :mod:`~analysis.topics.classifier`: :class:`ThemeClassifier` scores the taxonomy out of the box with a
  sparse keyword matrix, and learns from analyst labels (``fit``) with one logistic regression per
  theme on labelled examples plus seed pseudo-labels;
- :mod:`~analysis.topics.evaluation`: precision, recall and F1 per theme (:func:`evaluate`);
- :mod:`~analysis.topics.discovery`: :class:`TopicDiscovery` runs NMF on TF-IDF for several k and keeps
  the k with the best NPMI coherence (reported in ``coherence_``);
- :mod:`~analysis.topics.reads`: read models over the ``themes`` table (shares, sentiment, our posts
  against the conversation);
- :mod:`~analysis.topics.emerging`: :func:`detect_bursts` / :func:`emerging_subjects` flag terms and
  hashtags whose daily count jumps above their own baseline (z-score with minimum support), grouped
  into subjects with the messages behind them (no author identities);
- :mod:`~analysis.topics.clouds`: word frequencies and word clouds;
- :mod:`~analysis.topics.enricher`: analyst labels and :func:`enrich`, which writes the ``themes`` table
  incrementally, stamped with ``model_version``;
- :mod:`~analysis.topics.views`: what the « Thématiques » page and the periodic report fetch.
"""

from __future__ import annotations

from analysis.topics.classifier import (
    ADAPT_FLOOR,
    ADAPT_MIN_TEXTS,
    MODEL_FAMILY,
    SIMILARITY_CAP,
    ThemeClassifier,
    default_classifier,
    theme_centroids,
)
from analysis.topics.classifier import _keyword_parts as _keyword_parts
from analysis.topics.clouds import (
    PRINT_PALETTE,
    WORD_CLOUD_SAMPLE,
    word_cloud_html,
    word_cloud_png,
    word_frequencies,
)
from analysis.topics.discovery import LABEL_SKIP, TopicDiscovery, npmi_coherence, subject_label, topic_label
from analysis.topics.emerging import (
    GENERIC_SHARE,
    LONE_SHARE,
    MIN_AUTHORS,
    MIN_LIFT,
    EmergingSubject,
    detect_bursts,
    distinct_authors,
    emerging_subjects,
    emerging_table,
    generic_words,
    specific_term,
    territory_words,
)
from analysis.topics.enricher import (
    adaptation_sample,
    adaptation_state,
    adapted_classifier,
    classifier_from_store,
    enrich,
    parse_labels,
    store_adaptation,
    store_label,
)
from analysis.topics.evaluation import evaluate
from analysis.topics.lemmas import (
    LONE_GENERIC,
    STOP_WORDS_FR,
    TOKEN_PATTERN,
    LemmaVectorizer,
    lemma_counts,
    lemma_key,
    phrase_key,
    subject_term,
    subject_terms_mask,
    surface,
    surface_counts,
    surface_one,
)
from analysis.topics.lemmas import _count_vectorizer as _count_vectorizer
from analysis.topics.reads import (
    SITUATION_BALANCED,
    SITUATION_ECHO,
    SITUATION_NO_ECHO,
    SITUATION_SILENT,
    main_theme_sql,
    posts_vs_conversation,
    sentiment_by_theme,
    theme_shares,
    themed_messages,
    topic_shares,
)
from analysis.topics.taxonomy import NO_THEME, THEMES_PATH, Taxonomy, Theme, load_taxonomy
from analysis.topics.views import (
    emerging_view,
    fr_period_short,
    report_section,
    theme_labels,
    themed_share,
    themes_computed,
    themes_status,
    word_cloud_view,
)

__all__ = [
    "THEMES_PATH",
    "NO_THEME",
    "STOP_WORDS_FR",
    "TOKEN_PATTERN",
    "SITUATION_NO_ECHO",
    "SITUATION_ECHO",
    "SITUATION_SILENT",
    "SITUATION_BALANCED",
    "PRINT_PALETTE",
    "surface_one",
    "surface",
    "surface_counts",
    "lemma_counts",
    "lemma_key",
    "phrase_key",
    "subject_term",
    "subject_terms_mask",
    "LemmaVectorizer",
    "Theme",
    "Taxonomy",
    "load_taxonomy",
    "main_theme_sql",
    "MODEL_FAMILY",
    "SIMILARITY_CAP",
    "ADAPT_FLOOR",
    "ADAPT_MIN_TEXTS",
    "adapted_classifier",
    "adaptation_sample",
    "adaptation_state",
    "store_adaptation",
    "theme_centroids",
    "ThemeClassifier",
    "default_classifier",
    "parse_labels",
    "evaluate",
    "npmi_coherence",
    "TopicDiscovery",
    "LABEL_SKIP",
    "topic_label",
    "subject_label",
    "theme_shares",
    "topic_shares",
    "themed_messages",
    "sentiment_by_theme",
    "posts_vs_conversation",
    "detect_bursts",
    "EmergingSubject",
    "GENERIC_SHARE",
    "LONE_SHARE",
    "MIN_AUTHORS",
    "MIN_LIFT",
    "LONE_GENERIC",
    "generic_words",
    "specific_term",
    "distinct_authors",
    "emerging_subjects",
    "territory_words",
    "emerging_table",
    "WORD_CLOUD_SAMPLE",
    "word_frequencies",
    "word_cloud_png",
    "word_cloud_html",
    "store_label",
    "classifier_from_store",
    "enrich",
    "theme_labels",
    "themes_computed",
    "themes_status",
    "themed_share",
    "emerging_view",
    "word_cloud_view",
    "fr_period_short",
    "report_section",
]

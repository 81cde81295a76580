"""Every canonical table, declared once: columns, types, keys and meaning.

The DDL and the migrations are generated from these declarations, the importers
fill DataFrames with these column names, and the docs page lists them. A metric an
export does not carry stays NULL: missing is not zero.

Conventions
- IDs are strings. ``account_id``/``post_id``/``message_id`` are ``"<platform>:<native id>"``.
- Timestamps are UTC (``TIMESTAMP``); ``source_tz`` says which zone the export used.
- ``platform`` is one of :data:`PLATFORMS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PLATFORMS = ("facebook", "instagram", "x", "linkedin", "youtube", "bluesky", "mastodon", "threads",
             "tiktok", "press", "other")
# The one French name of each platform (app, reports, CLI). ``press`` = items of local press and
# alert feeds (RSS/Atom) collected by ``vigie collect rss``.
PLATFORM_LABELS: dict[str, str] = {
    "facebook": "Facebook", "instagram": "Instagram", "x": "X (Twitter)", "linkedin": "LinkedIn",
    "youtube": "YouTube", "bluesky": "Bluesky", "mastodon": "Mastodon", "threads": "Threads",
    "tiktok": "TikTok", "press": "Presse locale", "other": "Autre",
}


def platform_label(platform: str | None) -> str:
    """French display name of a platform id (the id itself when unknown)."""
    return PLATFORM_LABELS.get(platform or "", platform or "")

MESSAGE_KINDS = ("comment", "reply", "mention", "review", "article")  # article: a press item (RSS)
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    # False: ``key`` identifies a row (upserts match on it, the writers keep it unique) but is not a
    # PRIMARY KEY. DuckDB holds a primary key's ART index in memory and updates it on every insert:
    # for the model outputs rewritten in bulk by each enrichment (sentiment, themes, toxicity) it
    # cost more than the rows (1 M messages: writes 6,0 → 2,5 s, peak RSS 1,60 → 1,32 GB; issue 19).
    indexed: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    def ddl(self) -> str:
        cols = [f'    "{c.name}" {c.type}{"" if c.nullable else " NOT NULL"}' for c in self.columns]
        if self.key and self.indexed:
            cols.append(f"    PRIMARY KEY ({', '.join(self.key)})")
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n" + ",\n".join(cols) + "\n)"


def C(name: str, type_: str, doc: str, nullable: bool = True) -> Column:
    return Column(name, type_, doc, nullable)


# Metrics a post export may carry. All BIGINT/DOUBLE and NULL when the export lacks them.
POST_METRICS: tuple[Column, ...] = (
    C("impressions", "BIGINT", "Times the post was displayed (MBS 'Views', X 'impressions')."),
    C("reach", "BIGINT", "Unique people who saw the post."),
    C("reactions", "BIGINT", "All reactions (likes + love + wow + ...); X/LinkedIn likes."),
    C("likes", "BIGINT", "'Like' reactions only."),
    C("love", "BIGINT", "'Love' reactions."),
    C("wow", "BIGINT", "'Wow' reactions."),
    C("haha", "BIGINT", "'Haha' reactions."),
    C("sad", "BIGINT", "'Sad' reactions."),
    C("angry", "BIGINT", "'Angry' reactions."),
    C("care", "BIGINT", "'Care' reactions."),
    C("comments", "BIGINT", "Comments / replies received."),
    C("shares", "BIGINT", "Shares, retweets, reposts."),
    C("quotes", "BIGINT", "Quote posts (X)."),
    C("clicks", "BIGINT", "All clicks on the post."),
    C("link_clicks", "BIGINT", "Clicks on the link."),
    C("profile_clicks", "BIGINT", "Clicks on the author's profile."),
    C("video_views", "BIGINT", "Video views (3-second or platform definition)."),
    C("saves", "BIGINT", "Saves / bookmarks."),
    C("follows", "BIGINT", "Follows attributed to the post."),
    C("engagements_reported", "BIGINT", "Engagement total as reported by the platform (definition varies)."),
    C("followers_at_posting", "BIGINT", "Followers of the account when the post was published."),
)

# The keys of the derived tables counted per UTC day (daily_messages_utc, daily_themes_utc).
_UTC_DAY_KEYS = (
    C("territory_id", "VARCHAR", "Territory (NULL when unknown)."),
    C("platform", "VARCHAR", "Platform."),
    C("day", "DATE", "UTC day (created_at::DATE).", False),
)

TABLES: tuple[Table, ...] = (
    Table(
        "territories",
        "Territories followed: our own and the peers we compare with (from the registry TOML).",
        (
            C("territory_id", "VARCHAR", "Short stable id (slug) used everywhere.", False),
            C("name", "VARCHAR", "Display name in French."),
            C("insee_code", "VARCHAR", "INSEE code (commune, EPCI SIREN or département)."),
            C("population", "BIGINT", "Legal population (inhabitants)."),
            C("kind", "VARCHAR", "'own' or 'peer'."),
            C("territory_type", "VARCHAR", "commune, epci, departement, region, office_tourisme."),
            C("peer_group", "VARCHAR", "Size class used to compare like with like."),
            C("peers", "VARCHAR[]", "Territory ids this one compares with."),
            C("logo", "VARCHAR", "Optional path to a logo for reports."),
        ),
        key=("territory_id",),
    ),
    Table(
        "accounts",
        "Accounts seen: official ones from the registry (official=TRUE) and any other page or "
        "author-account met in the data (official=FALSE, territory_id NULL).",
        (
            C("account_id", "VARCHAR", "'<platform>:<native id or handle>'.", False),
            C("platform", "VARCHAR", "Platform."),
            C("native_id", "VARCHAR", "Platform id if known."),
            C("handle", "VARCHAR", "@handle / vanity name if known."),
            C("name", "VARCHAR", "Display name."),
            C("territory_id", "VARCHAR", "Territory it belongs to (official accounts)."),
            C("official", "BOOLEAN", "Listed in the registry as an official account."),
            C("first_seen", "TIMESTAMP", "First time seen in an import (UTC)."),
        ),
        key=("account_id",),
    ),
    Table(
        "posts",
        "Posts published by accounts (official or not) with every metric the export carries.",
        (
            C("post_id", "VARCHAR", "'<platform>:<native id>'.", False),
            C("platform", "VARCHAR", "Platform."),
            C("native_id", "VARCHAR", "Platform post id."),
            C("account_id", "VARCHAR", "Author account."),
            C("territory_id", "VARCHAR", "Territory of the author account if official."),
            C("created_at", "TIMESTAMP", "Publication time, UTC."),
            C("source_tz", "VARCHAR", "Timezone the export expressed times in."),
            C("text", "VARCHAR", "Caption / message (NFKC-normalised)."),
            C("post_type", "VARCHAR", "photo, video, reel, link, status, carousel, article, ..."),
            C("permalink", "VARCHAR", "URL of the post."),
            C("lang", "VARCHAR", "Language given by the export."),
            C("is_paid", "BOOLEAN", "Boosted/sponsored if the export says so."),
            *POST_METRICS,
            C("edited_at", "TIMESTAMP", "Last edit seen at the source (API collection), UTC."),
            C("deleted_at", "TIMESTAMP", "When collection found the post deleted at the source (UTC); "
              "NULL while it exists. Kept with its last metrics: it was published."),
            C("import_id", "VARCHAR", "Import that last wrote the row."),
        ),
        key=("post_id",),
    ),
    Table(
        "messages",
        "What users write: comments, replies, mentions, reviews. Authors are pseudonymised.",
        (
            C("message_id", "VARCHAR", "'<platform>:<native id>' or a content hash when the export has none.", False),
            C("platform", "VARCHAR", "Platform."),
            C("kind", "VARCHAR", "comment, reply, mention, review."),
            C("post_id", "VARCHAR", "Post commented on, if any."),
            C("parent_id", "VARCHAR", "Message replied to, if any."),
            C("account_id", "VARCHAR", "Official account the message is addressed to / under."),
            C("territory_id", "VARCHAR", "Territory concerned."),
            C("author_hash", "VARCHAR", "Keyed hash (HMAC-SHA256) of the platform author id."),
            C("author_name", "VARCHAR", "Display name: kept only when the analyst opted in, else NULL."),
            C("is_official", "BOOLEAN", "Written by the official account (our replies)."),
            C("created_at", "TIMESTAMP", "UTC."),
            C("source_tz", "VARCHAR", "Timezone of the export."),
            C("text", "VARCHAR", "Message text (NFKC)."),
            C("lang", "VARCHAR", "Language given by the export."),
            C("likes", "BIGINT", "Likes on the message."),
            C("replies", "BIGINT", "Replies count given by the export."),
            C("rating", "DOUBLE", "Review rating when the message is a review."),
            C("edited_at", "TIMESTAMP", "Last edit seen at the source (API collection), UTC."),
            C("deleted_at", "TIMESTAMP", "When collection found the message deleted by its author (UTC): "
              "its text and name are then erased, its scores kept for the aggregates."),
            C("import_id", "VARCHAR", "Import that last wrote the row."),
        ),
        key=("message_id",),
    ),
    Table(
        "audience_followers",
        "Follower counts over time (one row per account and day).",
        (
            C("account_id", "VARCHAR", "Account.", False),
            C("date", "DATE", "Day.", False),
            C("followers", "BIGINT", "Total followers that day."),
            C("new_followers", "BIGINT", "Follows gained that day."),
            C("lost_followers", "BIGINT", "Unfollows that day."),
            C("import_id", "VARCHAR", "Import that last wrote the row."),
        ),
        key=("account_id", "date"),
    ),
    Table(
        "audience_demographics",
        "Demographic breakdowns as the platform gives them (counts or shares), per snapshot date.",
        (
            C("account_id", "VARCHAR", "Account.", False),
            C("date", "DATE", "Snapshot date.", False),
            C("dimension", "VARCHAR", "age_gender, gender, age, city, country, language, job_function, ...", False),
            C("key", "VARCHAR", "Raw key as exported ('F.18-24', 'FR', 'Paris, Île-de-France, France').", False),
            C("gender", "VARCHAR", "F, M, U when the dimension carries it."),
            C("age_band", "VARCHAR", "'18-24', '65+' when the dimension carries it."),
            C("value", "DOUBLE", "Count or share."),
            C("unit", "VARCHAR", "'count' or 'share' (0-1)."),
            C("import_id", "VARCHAR", "Import that last wrote the row."),
        ),
        key=("account_id", "date", "dimension", "key"),
    ),
    Table(
        "population",
        "Population reference by sex and age band per territory (INSEE census file or the demo file), "
        "in bands aligned with the platforms' follower bands (35-44 kept as 35-39 + 40-44 when the "
        "source allows, for the 40+ segment).",
        (
            C("territory_id", "VARCHAR", "Territory.", False),
            C("sex", "VARCHAR", "F or M.", False),
            C("age_band", "VARCHAR", "0-12, 13-17, 18-24, 25-34, 35-39, 40-44 (or 35-44), 45-54, 55-64, 65+.", False),
            C("population", "DOUBLE", "Inhabitants (INSEE counts are weighted, hence fractional)."),
            C("approximate", "BOOLEAN", "Band obtained by splitting a wider source band uniformly by single year."),
            C("source", "VARCHAR", "File it was read from."),
        ),
        key=("territory_id", "sex", "age_band"),
    ),
    Table(
        "page_daily",
        "Page-level daily metrics in long form (views, visits, interactions, link clicks, reach...).",
        (
            C("account_id", "VARCHAR", "Account.", False),
            C("date", "DATE", "Day.", False),
            C("metric", "VARCHAR", "Canonical metric name (views, visits, interactions, link_clicks, reach, ...).", False),
            C("value", "DOUBLE", "Value."),
            C("import_id", "VARCHAR", "Import that last wrote the row."),
        ),
        key=("account_id", "date", "metric"),
    ),
    Table(
        "ad_results",
        "Paid results (Ads Manager and similar) per ad and reporting window.",
        (
            C("ad_row_id", "VARCHAR", "Hash of account, campaign, ad set, ad and window.", False),
            C("account_id", "VARCHAR", "Account the ads belong to (if known)."),
            C("campaign_name", "VARCHAR", "Campaign name."),
            C("ad_set_name", "VARCHAR", "Ad set name."),
            C("ad_name", "VARCHAR", "Ad name."),
            C("reporting_start", "DATE", "Window start."),
            C("reporting_end", "DATE", "Window end."),
            C("reach", "BIGINT", "Reach."),
            C("impressions", "BIGINT", "Impressions."),
            C("link_clicks", "BIGINT", "Link clicks."),
            C("post_engagement", "BIGINT", "Post engagement."),
            C("results", "DOUBLE", "Results (per 'result_indicator')."),
            C("result_indicator", "VARCHAR", "What 'results' counts."),
            C("spend", "DOUBLE", "Amount spent."),
            C("currency", "VARCHAR", "Currency of 'spend' (from the column name)."),
            C("import_id", "VARCHAR", "Import that last wrote the row."),
        ),
        key=("ad_row_id",),
    ),
    Table(
        "campaigns",
        "Communication campaigns to evaluate: dates and what identifies their content.",
        (
            C("campaign_id", "VARCHAR", "Slug.", False),
            C("name", "VARCHAR", "Name."),
            C("territory_id", "VARCHAR", "Territory running it."),
            C("start_date", "DATE", "First day."),
            C("end_date", "DATE", "Last day."),
            C("hashtags", "VARCHAR[]", "Hashtags (lower-case, without #)."),
            C("keywords", "VARCHAR[]", "Keywords."),
            C("post_ids", "VARCHAR[]", "Post ids explicitly part of it."),
            C("objective", "VARCHAR", "KPI it aims at (engagement, reach, followers, sentiment...)."),
            C("budget", "DOUBLE", "Budget in euros."),
            C("source", "VARCHAR", "file, cli, app, demo."),
        ),
        key=("campaign_id",),
    ),
    Table(
        "imports",
        "Lineage: one row per import attempt that wrote something or failed.",
        (
            C("import_id", "VARCHAR", "Id (uuid4 hex).", False),
            C("path", "VARCHAR", "File path as given."),
            C("sha256", "VARCHAR", "SHA-256 of the raw file."),
            C("format", "VARCHAR", "Detected format."),
            C("encoding", "VARCHAR", "Detected encoding."),
            C("started_at", "TIMESTAMP", "UTC."),
            C("finished_at", "TIMESTAMP", "UTC."),
            C("rows_read", "BIGINT", "Data rows read."),
            C("inserted", "BIGINT", "Rows inserted."),
            C("updated", "BIGINT", "Rows whose values changed."),
            C("rejected", "BIGINT", "Rows rejected."),
            C("status", "VARCHAR", "ok or error."),
            C("error", "VARCHAR", "Error message."),
        ),
        key=("import_id",),
    ),
    Table(
        "rejects",
        "Rows an import rejected, with where and why.",
        (
            C("import_id", "VARCHAR", "Import.", False),
            C("path", "VARCHAR", "File."),
            C("line", "BIGINT", "1-based line (or row) number in the file."),
            C("column_name", "VARCHAR", "Column."),
            C("value", "VARCHAR", "Offending value (truncated)."),
            C("reason", "VARCHAR", "Why."),
        ),
    ),
    # --- enrichment (rebuilt from raw; every row says which model produced it) -------------
    Table(
        "sentiment",
        "Sentiment of messages and posts, stamped with the model version.",
        (
            C("item_id", "VARCHAR", "message_id or post_id.", False),
            C("item_type", "VARCHAR", "'message' or 'post'.", False),
            C("model_version", "VARCHAR", "Model version that produced the label."),
            C("lang", "VARCHAR", "Detected language (fr, en, other, und)."),
            C("label", "VARCHAR", "negative, neutral, positive; NULL when not scored (non-French)."),
            C("p_negative", "DOUBLE", "Calibrated probability."),
            C("p_neutral", "DOUBLE", "Calibrated probability."),
            C("p_positive", "DOUBLE", "Calibrated probability."),
            C("scored_at", "TIMESTAMP", "UTC."),
        ),
        key=("item_id", "item_type"),
        indexed=False,
    ),
    Table(
        "themes",
        "Themes of messages and posts (multi-label, one row per item and theme).",
        (
            C("item_id", "VARCHAR", "message_id or post_id.", False),
            C("item_type", "VARCHAR", "'message' or 'post'.", False),
            C("theme", "VARCHAR", "Theme id from the taxonomy (data/themes.toml); 'none' = classified, no theme.", False),
            C("score", "DOUBLE", "Classifier score."),
            C("model_version", "VARCHAR", "Classifier version."),
        ),
        key=("item_id", "item_type", "theme"),
        indexed=False,
    ),
    Table(
        "text_keys",
        "Lemma keys of each distinct message text (analysis.topics.keys), computed once at enrichment: "
        "emerging subjects count them instead of tokenising texts. One row per text (no index: written in bulk; "
        "a text no message holds any more is deleted with its last message).",
        (
            C("text", "VARCHAR", "A message text, as in messages.text.", False),
            C("keys", "INTEGER[]", "Distinct lemma uni/bigram keys of the text (lemma_keys.key_id), ascending."),
            C("version", "VARCHAR", "Tokenisation version that produced them (stop words, lemmatiser)."),
        ),
    ),
    Table(
        "lemma_keys",
        "Lemma keys met in message texts, numbered for text_keys (append-only).",
        (
            C("key_id", "INTEGER", "Number of the key.", False),
            C("key", "VARCHAR", "Lemma key: 'piste cyclable', '#eausaintaubin'.", False),
        ),
    ),
    Table(
        "labels",
        "Analyst corrections and labels (sentiment, theme, toxicity); they override the models.",
        (
            C("item_id", "VARCHAR", "message_id or post_id.", False),
            C("item_type", "VARCHAR", "'message' or 'post'.", False),
            C("task", "VARCHAR", "sentiment, theme, toxicity.", False),
            C("value", "VARCHAR", "Label value (for theme: comma-separated theme ids).", False),
            C("author", "VARCHAR", "Analyst who set it."),
            C("created_at", "TIMESTAMP", "UTC."),
        ),
        key=("item_id", "item_type", "task"),
    ),
    Table(
        "toxicity",
        "Toxicity score of messages (moderation).",
        (
            C("message_id", "VARCHAR", "Message.", False),
            C("model_version", "VARCHAR", "Model version."),
            C("p_toxic", "DOUBLE", "Probability the message is hostile/insulting."),
            C("is_question", "BOOLEAN", "Interrogative or request."),
            C("lexicon_hits", "VARCHAR[]", "Lexicon terms found."),
        ),
        key=("message_id",),
        indexed=False,
    ),
    Table(
        "moderation_status",
        "Moderation decisions on messages.",
        (
            C("message_id", "VARCHAR", "Message.", False),
            C("status", "VARCHAR", "a_traiter, repondu, masque, ignore, escalade."),
            C("by_user", "VARCHAR", "Who set it (the logged-in user)."),
            C("at", "TIMESTAMP", "When (UTC)."),
            C("note", "VARCHAR", "Free note."),
            C("assigned_to", "VARCHAR", "Colleague (app user name) the message is assigned to."),
        ),
        key=("message_id",),
    ),
    Table(
        "alerts",
        "Alerts fired (each fires once per rule and key).",
        (
            C("alert_id", "VARCHAR", "Rule + key hash.", False),
            C("rule", "VARCHAR", "Rule id."),
            C("territory_id", "VARCHAR", "Territory."),
            C("fired_at", "TIMESTAMP", "When it was evaluated (UTC)."),
            C("period_start", "TIMESTAMP", "Evidence window start."),
            C("period_end", "TIMESTAMP", "Evidence window end."),
            C("severity", "VARCHAR", "info, warning, critical."),
            C("title", "VARCHAR", "French one-liner."),
            C("evidence", "VARCHAR", "JSON evidence."),
        ),
        key=("alert_id",),
    ),
    Table(
        "daily_messages_utc",
        "Derived (analysis.derived, rebuilt by every write session): user messages per territory × "
        "platform × UTC day with their positive and negative ones (analyst label first): the sums the "
        "campaign panel and the benchmark read (analysis.campaigns.model.daily_messages_sql).",
        (
            *_UTC_DAY_KEYS,
            C("messages", "BIGINT", "User messages."),
            C("positive", "BIGINT", "Positive (analyst label first)."),
            C("negative", "BIGINT", "Negative (analyst label first)."),
        ),
    ),
    Table(
        "daily_themes_utc",
        "Derived (analysis.derived, rebuilt by every write session): user messages per territory × "
        "platform × UTC day × theme (« none » included), with the model's sentiment labels among them: "
        "the sums the Thématiques page's shares and tone per theme read "
        "(analysis.topics.reads.daily_themes_sql).",
        (
            *_UTC_DAY_KEYS,
            C("theme", "VARCHAR", "Theme id (« none »: classified, without theme).", False),
            C("messages", "BIGINT", "User messages with the theme."),
            C("positive", "BIGINT", "Of them, positive (the model's label)."),
            C("neutral", "BIGINT", "Of them, neutral (the model's label)."),
            C("negative", "BIGINT", "Of them, negative (the model's label)."),
            C("first_theme", "BIGINT", "Of them, the messages counted once here: at their first theme (id "
              "order), at « none » when they have no other. Summed, the classified messages; without « none », "
              "those with at least one theme."),
        ),
    ),
    Table(
        "daily_sentiment",
        "Derived (analysis.derived, rebuilt by every write session): user messages per territory × "
        "platform × French local day by effective sentiment class.",
        (
            C("territory_id", "VARCHAR", "Territory (NULL when unknown)."),
            C("platform", "VARCHAR", "Platform."),
            C("day", "DATE", "French local day.", False),
            C("messages", "BIGINT", "User messages."),
            C("positive", "BIGINT", "Positive (analyst label first)."),
            C("neutral", "BIGINT", "Neutral."),
            C("negative", "BIGINT", "Negative."),
            C("scored", "BIGINT", "Positive + neutral + negative."),
            C("non_french", "BIGINT", "Not French."),
            C("unscored", "BIGINT", "Not scored."),
        ),
    ),
    Table(
        "incoming_messages",
        "Derived (analysis.derived): every message received on an official account (written by "
        "someone else), with its first official reply and the flags that put it in a scope.",
        (
            C("message_id", "VARCHAR", "Message.", False),
            C("territory_id", "VARCHAR", "Territory (the post's when the message has none)."),
            C("platform", "VARCHAR", "Platform."),
            C("created_at", "TIMESTAMP", "UTC."),
            C("first_reply_at", "TIMESTAMP", "First official reply (UTC), NULL when unanswered."),
            C("visible", "BOOLEAN", "Whether the territory's replies appear in the data on that platform."),
            C("is_question", "BOOLEAN", "Question or request (toxicity table)."),
            C("is_negative", "BOOLEAN", "Negative for the sentiment model."),
        ),
    ),
    Table(
        "moderation_messages",
        "Derived (analysis.derived): every user message moderation looks at (not official, not a press "
        "article), territory and account resolved from the post, with what the queue, the alerts and "
        "the contacts read of its enrichment and its first official reply.",
        (
            C("message_id", "VARCHAR", "Message.", False),
            C("territory_id", "VARCHAR", "Territory (the post's when the message has none)."),
            C("account_id", "VARCHAR", "Account (the post's when the message has none)."),
            C("platform", "VARCHAR", "Platform."),
            C("kind", "VARCHAR", "Message kind."),
            C("post_id", "VARCHAR", "Post."),
            C("created_at", "TIMESTAMP", "UTC."),
            C("likes", "BIGINT", "Likes."),
            C("replies", "BIGINT", "Replies."),
            C("p_toxic", "DOUBLE", "Toxicity model probability (NULL when not scored)."),
            C("lexicon_hits", "VARCHAR[]", "Hostility-lexicon terms found."),
            C("toxicity_label", "VARCHAR", "Analyst label hostile / non_hostile, if any."),
            C("is_question", "BOOLEAN", "Question or request (FALSE when not scored)."),
            C("sentiment", "VARCHAR", "Effective sentiment (analyst label first)."),
            C("first_reply_at", "TIMESTAMP", "First official reply (UTC), NULL when unanswered."),
            C("author_hash", "VARCHAR", "Pseudonymised author (as in messages)."),
            C("model_label", "VARCHAR", "Sentiment model's label (no correction), NULL when not scored."),
            C("themes", "VARCHAR[]", "Themes of the message (themes table, sorted), NULL when not classified."),
        ),
    ),
    Table(
        "derived_state",
        "When the derived tables were rebuilt, with the row counts of their sources then (readers "
        "use them only while those counts are unchanged).",
        (
            C("name", "VARCHAR", "Derived set ('daily').", False),
            C("refreshed_at", "TIMESTAMP", "UTC."),
            C("messages", "BIGINT", "Rows of messages."),
            C("sentiment", "BIGINT", "Rows of sentiment."),
            C("labels", "BIGINT", "Rows of labels."),
            C("toxicity", "BIGINT", "Rows of toxicity."),
            C("posts", "BIGINT", "Rows of posts."),
            C("accounts", "BIGINT", "Rows of accounts."),
            C("themes", "BIGINT", "Rows of themes."),
        ),
        key=("name",),
    ),
    Table(
        "derived_touched",
        "Messages whose rows, already counted by the derived tables, were deleted since their last refresh "
        "(the scores of an edited text): the next refresh recounts them, then empties the table.",
        (C("message_id", "VARCHAR", "Message to recount.", False),),
    ),
    # --- collection from the platforms' APIs (analysis.collect) --------------------------------
    Table(
        "collect_state",
        "One row per collected source: where the next run resumes. Written in the same transaction "
        "as the rows of each batch, so a crash never moves a cursor past data that was not stored.",
        (
            C("source_id", "VARCHAR", "'<platform>:<kind>:<key>' (e.g. 'bluesky:account:ville.bsky.social').", False),
            C("platform", "VARCHAR", "Platform."),
            C("kind", "VARCHAR", "account, hashtag, search, feed, discovery."),
            C("key", "VARCHAR", "Handle, channel id, hashtag, query or feed URL as declared."),
            C("territory_id", "VARCHAR", "Territory the source was declared for."),
            C("cursor", "VARCHAR", "Opaque resume point (JSON): newest item seen, page token, Jetstream time_us."),
            C("newest_at", "TIMESTAMP", "Creation time of the newest item stored (UTC)."),
            C("last_run_at", "TIMESTAMP", "Start of the last run (UTC)."),
            C("last_ok_at", "TIMESTAMP", "End of the last run that succeeded (UTC)."),
            C("last_error", "VARCHAR", "Error of the last run, NULL when it succeeded."),
        ),
        key=("source_id",),
    ),
    Table(
        "collect_runs",
        "Lineage of collection: one row per source and run (what was asked, stored, and how it ended).",
        (
            C("run_id", "VARCHAR", "Run (uuid4 hex), shared by the sources of one `vigie collect`.", False),
            C("source_id", "VARCHAR", "Source (collect_state.source_id).", False),
            C("platform", "VARCHAR", "Platform."),
            C("account", "VARCHAR", "Account, hashtag, query or feed as declared."),
            C("started_at", "TIMESTAMP", "UTC."),
            C("finished_at", "TIMESTAMP", "UTC."),
            C("requests", "BIGINT", "HTTP requests made (retries included)."),
            C("quota_units", "BIGINT", "API quota units spent (YouTube), NULL elsewhere."),
            C("posts", "BIGINT", "Posts received."),
            C("messages", "BIGINT", "Messages received."),
            C("followers", "BIGINT", "Followers count read (NULL when not read)."),
            C("inserted", "BIGINT", "Rows inserted."),
            C("updated", "BIGINT", "Rows whose values changed."),
            C("deleted", "BIGINT", "Items found deleted at the source."),
            C("edited", "BIGINT", "Items found edited at the source."),
            C("status", "VARCHAR", "ok, partial (stopped by a limit, resumes next run) or error."),
            C("error", "VARCHAR", "French error message."),
        ),
        key=("run_id", "source_id"),
    ),
    Table(
        "erased_authors",
        "Tombstones of the right to erasure: the pseudonyms of erased authors (never a name). No later "
        "import or collection writes a message or an account of theirs again (ingest._write_tables).",
        (
            C("author_hash", "VARCHAR", "Pseudonym (a_…) of an erased author.", False),
            C("erased_at", "TIMESTAMP", "When (UTC)."),
        ),
        key=("author_hash",),
    ),
    Table(
        "store_settings",
        "Facts about the store itself. ``pseudonym_key_check``: a fingerprint of the pseudonymisation key its "
        "authors were hashed with (HMAC of a constant: it reveals nothing of the key); a write that would hash "
        "them with another key is refused (analysis.privacy.check_store_key) until a rotation is recorded.",
        (
            C("name", "VARCHAR", "Setting.", False),
            C("value", "VARCHAR", "Its value."),
            C("set_at", "TIMESTAMP", "When (UTC)."),
        ),
        key=("name",),
    ),
    Table(
        "theme_model",
        "The theme classifier's adaptation to this store's texts (analysis.topics.ThemeClassifier.adapt): a "
        "model learned without labels from the texts a keyword names, over the taxonomy's keywords and the "
        "shipped word table (no word of the store's own). Learned again when the store has doubled since.",
        (
            C("name", "VARCHAR", "Model (« adaptation »).", False),
            C("base", "VARCHAR", "Taxonomy and word-table versions its columns follow."),
            C("items", "BIGINT", "Messages and posts in the store when it was learned."),
            C("examples", "BIGINT", "Texts it learned from (a keyword named their theme)."),
            C("fitted_at", "TIMESTAMP", "When (UTC)."),
            C("model", "BLOB", "The learned coefficients (NumPy npz, no pickle); NULL: too few examples."),
        ),
        key=("name",),
    ),
    Table(
        "enrich_marks",
        "Where each enrichment pass stopped (analysis.enrich): per task and source table, the highest rowid it "
        "had scored, with the row count and fingerprint of the source rows up to it and the rows of the task's "
        "result table then. While they hold, the next pass looks only at the rows above it.",
        (
            C("task", "VARCHAR", "Enrichment (sentiment, topics, moderation, keys).", False),
            C("source", "VARCHAR", "Source table (messages, posts).", False),
            C("version", "VARCHAR", "Model version the rows were scored with."),
            C("top", "BIGINT", "Highest rowid of the source table then."),
            C("source_rows", "BIGINT", "Rows of the source table up to that rowid."),
            C("fingerprint", "BIGINT", "Sum of the hashes of their key and text, modulo a prime."),
            C("results", "VARCHAR", "The task's result table."),
            C("result_rows", "BIGINT", "Its rows then."),
            C("marked_at", "TIMESTAMP", "When (UTC)."),
        ),
        key=("task", "source"),
    ),
    # --- publish and animate (analysis.events, issue 21) ---------------------------------------
    Table(
        "events",
        "Events of a territory (festivals, markets, council meetings, works) from its agendas (OpenAgenda, "
        "DATAtourisme, open-data CSV, iCalendar) or entered in the app; what their promotion is matched by.",
        (
            C("event_id", "VARCHAR", "'<source>:<native id>' (openagenda:2613221, ics:<UID>, app:<slug>).", False),
            C("territory_id", "VARCHAR", "Territory whose event it is (NULL: place matched no territory)."),
            C("title", "VARCHAR", "Title (French when the source has several languages)."),
            C("description", "VARCHAR", "Short description."),
            C("start_at", "TIMESTAMP", "Start, UTC (first occurrence)."),
            C("end_at", "TIMESTAMP", "End, UTC (last occurrence; start when the source gives none)."),
            C("all_day", "BOOLEAN", "Dates without times (all-day events)."),
            C("occurrences", "BIGINT", "Number of occurrences (OpenAgenda timings, DATAtourisme periods, dates)."),
            C("place", "VARCHAR", "Venue or address as given."),
            C("city", "VARCHAR", "Commune."),
            C("insee_code", "VARCHAR", "INSEE code of the commune when the source gives it."),
            C("latitude", "DOUBLE", "Latitude."),
            C("longitude", "DOUBLE", "Longitude."),
            C("theme", "VARCHAR", "Theme id of the taxonomy (data/themes.toml) the event is read under."),
            C("categories", "VARCHAR[]", "Categories/types/tags as the source gives them."),
            C("audiences", "VARCHAR[]", "Audiences targeted: jeunes, familles, enfants, 40_plus, seniors, touristes, "
              "tous (analysis.events.model.AUDIENCES)."),
            C("age_min", "BIGINT", "Minimum age when the source gives one."),
            C("age_max", "BIGINT", "Maximum age when the source gives one."),
            C("hashtags", "VARCHAR[]", "Hashtags its promotion uses (lower case, without #)."),
            C("keywords", "VARCHAR[]", "Keywords its promotion uses (lower case)."),
            C("links", "VARCHAR[]", "URLs of the event (page, registration): a post linking one promotes it."),
            C("is_free", "BOOLEAN", "Free entry when the source says so."),
            C("organizer", "VARCHAR", "Organiser (an organisation, never a private person's contact)."),
            C("source", "VARCHAR", "openagenda, datatourisme, agenda_csv, ics, app, demo."),
            C("source_tz", "VARCHAR", "Timezone the source expressed local times in."),
            C("updated_at", "TIMESTAMP", "Last update at the source (UTC)."),
            C("import_id", "VARCHAR", "Import that last wrote the row (NULL when entered in the app)."),
        ),
        key=("event_id",),
    ),
    Table(
        "planned_posts",
        "Posts planned on the editorial calendar (drafts checked by « Avant de publier »).",
        (
            C("planned_id", "VARCHAR", "Id (uuid4 hex).", False),
            C("territory_id", "VARCHAR", "Territory publishing it."),
            C("platform", "VARCHAR", "Platform."),
            C("post_format", "VARCHAR", "photo, video, link, text, carousel, reel."),
            C("planned_at", "TIMESTAMP", "Planned publication time, UTC."),
            C("text", "VARCHAR", "Draft text."),
            C("event_id", "VARCHAR", "Event it promotes, if any."),
            C("status", "VARCHAR", "brouillon, planifie, publie, abandonne."),
            C("expected_low", "DOUBLE", "Lower bound of the expected engagement (80 % interval) when checked."),
            C("expected_mid", "DOUBLE", "Expected (median) engagement when checked."),
            C("expected_high", "DOUBLE", "Upper bound of the expected engagement (80 % interval) when checked."),
            C("model_version", "VARCHAR", "Engagement model that gave the interval."),
            C("created_by", "VARCHAR", "App user who saved it."),
            C("created_at", "TIMESTAMP", "UTC."),
        ),
        key=("planned_id",),
    ),
    Table(
        "audit_log",
        "Privacy-relevant actions (erasure, purge, label changes, logins).",
        (
            C("at", "TIMESTAMP", "UTC.", False),
            C("actor", "VARCHAR", "Who."),
            C("action", "VARCHAR", "What."),
            C("detail", "VARCHAR", "JSON detail."),
        ),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
# What the enrichment computed from a message's or a post's text: (table, its item-type column or
# None for messages only, its id column). An edited text makes these rows stale (analysis.ingest).
TEXT_SCORES = (("sentiment", "item_type", "item_id"), ("themes", "item_type", "item_id"),
               ("toxicity", None, "message_id"))
# Moderation decisions (moderation_status.status) with their French labels, and those that take a
# message out of the queue (« escaladé » and « à traiter » leave it in); analysis.moderation.queue reads
# them, and an edited text reopens a closed decision (analysis.ingest).
MODERATION_STATUSES = {"a_traiter": "à traiter", "repondu": "répondu", "masque": "masqué", "ignore": "ignoré",
                       "escalade": "escaladé"}
MODERATION_DONE = ("repondu", "masque", "ignore")
# Rebuilt from the others by every write session (analysis.derived): no information of their own.
DERIVED_TABLES = ("daily_sentiment", "incoming_messages", "moderation_messages", "derived_state",
                  "daily_messages_utc", "daily_themes_utc", "derived_touched")
# Lineage: how rows arrived (imports, collection runs), privacy actions and bookkeeping; they change no figure.
LINEAGE_TABLES = ("imports", "rejects", "audit_log", "erased_authors", "collect_state", "collect_runs",
                  "store_settings", "enrich_marks")


def table(name: str) -> Table:
    """Return the declaration of table ``name``."""
    return TABLES_BY_NAME[name]


def _v1() -> list[str]:
    # No secondary indexes: DuckDB's zone maps serve range scans, and ART indexes slow bulk upserts.
    return [t.ddl() for t in TABLES]


# Versioned migrations: append (version, statements); never edit a released one. Version 1 is
# generated from TABLES and has not been released yet, so TABLES may still be edited in place.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, _v1()),
    # derived tables (analysis.derived) for stores created before they were declared
    (2, [table(n).ddl() for n in ("daily_sentiment", "incoming_messages", "derived_state")]),
    # API collection: state, runs, and items edited/deleted at the source
    (3, [table("collect_state").ddl(), table("collect_runs").ddl(),
         *(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} TIMESTAMP"
           for t in ("posts", "messages") for c in ("edited_at", "deleted_at"))]),
    # tombstones of erased authors (issue 20, part A, item 8)
    (4, [table("erased_authors").ddl()]),
    # events and the editorial calendar (issue 21)
    (5, [table("events").ddl(), table("planned_posts").ddl()]),
    # moderation's per-message flags (issue 19 item 3); the state row is dropped so that the session
    # that migrates rebuilds every derived table (an incremental refresh would leave this one empty)
    (6, [table("moderation_messages").ddl(), "ALTER TABLE derived_state ADD COLUMN IF NOT EXISTS themes BIGINT",
         "DELETE FROM derived_state"]),
    # user messages per UTC day (issue 19 item 3: campaigns and benchmark); the state row is dropped, as
    # in 6, so that the session that migrates rebuilds every derived table
    (7, [table("daily_messages_utc").ddl(), "DELETE FROM derived_state"]),
    # lemma keys of each distinct message text, stored at enrichment (issue 19 item 3)
    (8, [table("text_keys").ddl(), table("lemma_keys").ddl()]),
    # user messages per UTC day and theme (issue 19 item 3: the Thématiques page); state row dropped as in 6
    (9, [table("daily_themes_utc").ddl(), "DELETE FROM derived_state"]),
    # each message counted once per day (the share of messages with a theme); state row dropped as in 6
    (10, ["ALTER TABLE daily_themes_utc ADD COLUMN IF NOT EXISTS first_theme BIGINT", "DELETE FROM derived_state"]),
    # messages to recount after the scores of an edited text were deleted (the refresh stays incremental)
    (11, [table("derived_touched").ddl()]),
    # the fingerprint of the pseudonymisation key the store's authors were hashed with (analysis.privacy)
    (12, [table("store_settings").ddl()]),
    # the theme classifier adapted to the store's texts (issue 17)
    (13, [table("theme_model").ddl()]),
    # where each enrichment pass stopped: the next one looks at the rows above it (issue 19 item 2)
    (14, [table("enrich_marks").ddl()]),
    # the model outputs without a primary key (Table.indexed): each table rebuilt, rows unchanged
    (15, [st for n in ("sentiment", "themes", "toxicity") for st in (
        f"ALTER TABLE {n} RENAME TO _{n}_keyed", table(n).ddl(),
        f"INSERT INTO {n} BY NAME SELECT * FROM _{n}_keyed", f"DROP TABLE _{n}_keyed")]),
]


def created_in(name: str) -> int:
    """The latest migration that creates table ``name`` (a store whose migrations stop before it
    lacks the table until its next write session)."""
    ddl = f"CREATE TABLE IF NOT EXISTS {name} ("
    return max((v for v, statements in MIGRATIONS if any(st.startswith(ddl) for st in statements)), default=1)

"""Search that finds anything: indexes for the one search box (customers by name, email or
phone in any punctuation; deals by title words), and for the inbox listing every customer.

Core PostgreSQL only (the embedded server has no pg_trgm). A name or an email typed from its
start, or a name's later part ("smith" in "John Smith"), is a range scan of a byte-order btree
(`text_pattern_ops`, whatever the collation) read in order, so it costs the same for "jo" as
for "johnathan"; words in any order or position ("kar smi" finds Karen Smith, and deal titles)
are a full-text GIN index searched by word prefix; a phone is its digits read as a national
number, indexed forwards (what was typed is its start: "972-653") and reversed (its end:
"653-2552").

The index expressions are IMMUTABLE SQL functions defined here, and the queries call the same
functions (on what was typed), so each rule is written once. Each function uses only
`pg_catalog` (nothing of ours, no search_path), so the indexes rebuild the same anywhere
(a restore, the demo seeder's index rebuild).

Revision ID: 0015_search
Revises: 0014_tasks_and_deal_fields
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_search"
down_revision: str | None = "0014_tasks_and_deal_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words of $1 as a tsvector: lower case, no stemming ('simple'), the punctuation of
# emails and compound names read as spaces ("Smith-Jones" -> smith, jones) and apostrophes
# dropped ("O'Brien" -> obrien).
WORDS = (
    "pg_catalog.to_tsvector('pg_catalog.simple', "
    "pg_catalog.translate(coalesce($1, ''), '.-_+@/''\u2019', '      '))"
)

FUNCTIONS = {
    # The words of a customer's name or a deal's title.
    "salesengine_search_words(value text) RETURNS tsvector": f"SELECT {WORDS}",
    # What was typed, as a query: every word a prefix, all of them required ("kar smi" ->
    # 'kar':* & 'smi':*). The words come from the same parser as the documents', each quoted
    # as a lexeme, so nothing typed is read as a tsquery operator. One-letter words are left
    # out (each is the prefix of a tenth of all names; the in-order name scans cover
    # initials). NULL when no word is left.
    "salesengine_search_query(value text) RETURNS tsquery": (
        r"SELECT pg_catalog.string_agg('''' || pg_catalog.replace(pg_catalog.replace("
        r"lexeme, '\', '\\'), '''', '''''') || ''':*', ' & ')::pg_catalog.tsquery "
        f"FROM pg_catalog.unnest({WORDS}) WHERE pg_catalog.length(lexeme) > 1"
    ),
    # A name after its first word, lower case ("John Smith" -> "smith"): a last name typed
    # from its start is a range scan, as the whole name's start is on lower(name).
    "salesengine_name_rest(value text) RETURNS text": (
        r"SELECT pg_catalog.lower(pg_catalog.substring($1, '^\s*\S+\s+(.*\S)'))"
    ),
    # A phone number's digits as a national number: "(972) 653-2552", "972.653.2552" and
    # "+1 972 653 2552" all read 9726532552 (eleven digits starting with 1 lose the 1).
    "salesengine_phone_key(value text) RETURNS text": (
        "SELECT nullif(pg_catalog.regexp_replace(pg_catalog.regexp_replace("
        r"$1, '[^0-9]', '', 'g'), '^1([0-9]{10})$', '\1'), '')"
    ),
}

INDEXES = (
    ("ix_customers_name_lower", "customers (lower(name) text_pattern_ops)"),
    ("ix_customers_name_rest", "customers (salesengine_name_rest(name) text_pattern_ops)"),
    ("ix_customers_name_words", "customers USING gin (salesengine_search_words(name))"),
    ("ix_customers_phone_key", "customers (salesengine_phone_key(phone) text_pattern_ops)"),
    (
        "ix_customers_phone_key_reversed",
        "customers (reverse(salesengine_phone_key(phone)) text_pattern_ops)",
    ),
    ("ix_estimates_title_words", "estimates USING gin (salesengine_search_words(title))"),
    # The inbox listing active, churned or all customers (status first), in its order; the id
    # beside it so a deep page (the `G` key) is skipped in the index alone.
    (
        "ix_customers_status_inbox",
        "customers (status, last_interaction_at ASC NULLS FIRST, created_at DESC) INCLUDE (id)",
    ),
)


def upgrade() -> None:
    for signature, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {signature} LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ {body} $fn$"
        )
    for name, target in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {target}")
    # An email typed from its start: the lower(email) index (equality: duplicates, opt-outs)
    # answers prefixes too once it is a byte-order one.
    op.execute("DROP INDEX ix_customers_email_lower")
    op.execute("CREATE INDEX ix_customers_email_lower ON customers (lower(email) text_pattern_ops)")
    # Statistics on the new expressions now, not when autovacuum next passes: without them
    # the planner guesses how many names start with "jo" and may sort them all.
    op.execute("ANALYZE customers, estimates")


def downgrade() -> None:
    op.execute("DROP INDEX ix_customers_email_lower")
    op.execute("CREATE INDEX ix_customers_email_lower ON customers (lower(email))")
    for name, _target in INDEXES:
        op.execute(f"DROP INDEX {name}")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature.split(' RETURNS ')[0]}")

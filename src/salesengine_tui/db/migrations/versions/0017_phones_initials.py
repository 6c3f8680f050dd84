"""Phone numbers as E.164 with the extension apart; initials unique on the desk.

Phones: `customers.phone_ext` holds an extension, and every stored number the app's phone
rules (`customers.phones`, in the region of the setting `phone_region`) can read becomes E.164
(`(972) 653-2552 ext 12` -> `+19726532552` and `12`); one they cannot read is left as it was
typed, and shown as stored. Done in batches of rows read in id order, so memory stays flat
on a large table. The downgrade puts the extension back after the number ("… ext 12").

Initials: `users.initials`, unique, for cards and lists where a whole name does not fit.
`salesengine_free_initials(name)` picks the first free of: first and last name's initials
("JW"), then one or two more letters of the last name ("JWi", "JWil"), then a number ("JW2").
Existing users get theirs oldest first (people before the system user); an insert that names
none gets them from a trigger, so every way users are written (the CLI, the demo seeder, SQL)
keeps them unique.

Revision ID: 0017_phones_initials
Revises: 0016_drop_next_step
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_phones_initials"
down_revision: str | None = "0016_drop_next_step"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
E164 = r"^\+[1-9][0-9]{6,14}$"

FREE_INITIALS = r"""
CREATE FUNCTION salesengine_free_initials(full_name text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    -- the words that start with a letter or digit ("Mary-Jane O'Neil", not "&")
    words text[] := ARRAY(
        SELECT w FROM pg_catalog.regexp_split_to_table(coalesce(full_name, ''), '[[:space:]]+') w
        WHERE w ~ '^[[:alnum:]]');
    last_word text := coalesce(words[pg_catalog.cardinality(words)], 'X');
    base text := pg_catalog.upper(pg_catalog.left(coalesce(words[1], 'X'), 1));
    more text;
    candidate text;
BEGIN
    IF pg_catalog.cardinality(words) > 1 THEN
        base := base || pg_catalog.upper(pg_catalog.left(last_word, 1));
    END IF;
    -- on a clash: more of the last name, lower case so the initials still read as initials
    more := pg_catalog.lower(pg_catalog.regexp_replace(
        pg_catalog.substr(last_word, 2), '[^[:alnum:]]', '', 'g'));
    FOREACH candidate IN ARRAY
        ARRAY[base, base || pg_catalog.left(more, 1), base || pg_catalog.left(more, 2)]
        || ARRAY(SELECT base || n FROM pg_catalog.generate_series(2, 999) n)
    LOOP
        IF NOT EXISTS (
            SELECT 1 FROM users WHERE pg_catalog.upper(initials) = pg_catalog.upper(candidate)
        ) THEN
            RETURN candidate;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'no free initials for %', full_name;
END $fn$
"""

INITIALS_TRIGGER = """
CREATE FUNCTION salesengine_user_initials() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.initials IS NULL THEN
        NEW.initials := salesengine_free_initials(NEW.name);
    END IF;
    RETURN NEW;
END $fn$;
CREATE TRIGGER users_initials BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION salesengine_user_initials();
"""


def upgrade() -> None:
    op.add_column("customers", sa.Column("phone_ext", sa.Text))
    _normalise_phones()

    op.add_column("users", sa.Column("initials", sa.Text))
    op.execute(FREE_INITIALS)
    op.execute(
        """
        DO $$
        DECLARE u record;
        BEGIN
            FOR u IN SELECT id, name FROM users
                     ORDER BY role = 'system', created_at, id LOOP
                UPDATE users SET initials = salesengine_free_initials(u.name) WHERE id = u.id;
            END LOOP;
        END $$
        """
    )
    op.alter_column("users", "initials", nullable=False)
    op.create_unique_constraint(op.f("uq_users_initials"), "users", ["initials"])
    op.create_check_constraint(
        op.f("ck_users_initials_format"), "users", "initials ~ '^[[:alnum:]]{1,5}$'"
    )
    op.execute(INITIALS_TRIGGER)


def _normalise_phones() -> None:
    """Each number not already E.164, read by the app's rules; unreadable ones stay."""
    from salesengine_tui.base.errors import UserError
    from salesengine_tui.base.settings import load_settings
    from salesengine_tui.customers.phones import parse_phone

    region = load_settings().phone_region
    conn = op.get_bind()
    after = None
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, phone FROM customers WHERE phone IS NOT NULL AND phone !~ :e164 "
                "AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)) "
                "ORDER BY id LIMIT :n"
            ),
            {"e164": E164, "after": after, "n": BATCH},
        ).all()
        if not rows:
            return
        after = rows[-1].id
        ids, phones, exts = [], [], []
        for row in rows:
            try:
                phone = parse_phone(row.phone, region=region)
            except UserError:
                continue
            if phone is not None:
                ids.append(row.id)
                phones.append(phone.number)
                exts.append(phone.ext)
        if ids:
            conn.execute(
                sa.text(
                    "UPDATE customers c SET phone = v.phone, phone_ext = v.ext "
                    "FROM unnest(CAST(:ids AS uuid[]), CAST(:phones AS text[]), "
                    "CAST(:exts AS text[])) AS v(id, phone, ext) WHERE c.id = v.id"
                ),
                {"ids": ids, "phones": phones, "exts": exts},
            )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_initials ON users")
    op.execute("DROP FUNCTION salesengine_user_initials()")
    op.execute("DROP FUNCTION salesengine_free_initials(text)")
    op.drop_column("users", "initials")
    op.execute(
        "UPDATE customers SET phone = phone || ' ext ' || phone_ext WHERE phone_ext IS NOT NULL"
    )
    op.drop_column("customers", "phone_ext")

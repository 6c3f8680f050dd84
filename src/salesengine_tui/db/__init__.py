"""Database layer: tables, engine, embedded server, migrations, demo data. No Textual here."""

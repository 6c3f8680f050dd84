"""`salesengine leads import / export` against real PostgreSQL: good, bad and duplicate rows,
a file the database refuses midway (nothing imported), encodings and headers, round trip."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from factories import Desk
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url, run


def write(tmp_path: Path, body: str, name: str = "leads.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return str(path)


def count(engine: Engine, where: str = "true") -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM customers WHERE {where}")).scalar_one()


@pytest.fixture(autouse=True)
def _as_the_manager(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import acts as a user (the role rules decide `--owner`): here the desk's manager."""
    monkeypatch.setenv("SALESENGINE_USER", desk.manager.login)


def hank_stored_as_the_app_does(engine: Engine) -> None:
    """Hank's number in E.164 (the desk's factories store it as typed): the file has it in
    another punctuation."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE customers SET phone = '+12145550101' WHERE name = 'Hank Hill'"))


GOOD_AND_BAD = """Full Name,E-mail,Phone Number,City,Lead Source
Ada Lovelace,ada@example.com,(214) 555-0001,Dallas,Website
  ,nobody@example.com,214-555-0002,Plano,Website
Bad Email,not-an-email,214 555 0003,Frisco,
Grace Hopper,GRACE@example.com,,Austin,
Grace Again,grace@example.com,214-555-0009,Austin,
Hank Twin,hank2@example.com,1 (214) 555-0101,Arlen,
[@click=app.quit]Evil [2J,evil@example.com,,,Yelp
"""


def test_import_good_bad_and_duplicate_rows(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hank_stored_as_the_app_does(engine)
    before = count(engine)
    path = write(tmp_path, GOOD_AND_BAD)
    code, out, err = run(
        capsys, "--database-url", _url(db_url), "leads", "import", path, "--source", "Trade show",
        "--owner", "sam",
    )  # fmt: skip
    assert code == 0
    assert "7 rows: imported 3, 2 duplicates skipped, 2 invalid" in out
    assert f"{path}:3: name is required" in err
    assert f"{path}:4: email 'not-an-email' is not a valid email address" in err
    assert f"{path}:6: skipped: same email as line 5" in err
    assert f"{path}:7: skipped: same phone as existing customer 'Hank Hill'" in err
    assert count(engine) == before + 3
    with engine.connect() as conn:
        ada = conn.execute(
            text(
                "SELECT phone, lead_source, status::text, owner_id FROM customers WHERE name = 'Ada Lovelace'"
            )
        ).one()
        assert ada[:3] == ("+12145550001", "Website", "lead") and ada[3] == desk.rep.id
        grace = conn.execute(
            text("SELECT lead_source FROM customers WHERE name = 'Grace Hopper'")
        ).scalar()
        assert grace == "Trade show"  # --source fills rows without one
        assert count(engine, "name = '[@click=app.quit]Evil [2J'") == 1  # stored as typed


def test_dry_run_imports_nothing(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hank_stored_as_the_app_does(engine)
    before = count(engine)
    code, out, _ = run(
        capsys,
        "--database-url",
        _url(db_url),
        "leads",
        "import",
        write(tmp_path, GOOD_AND_BAD),
        "--dry-run",
    )
    assert code == 0 and "would import 3" in out
    assert count(engine) == before


def test_a_row_the_database_refuses_leaves_nothing_imported(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as conn:  # a rule only the database knows (a NUL is a row error)
        conn.execute(text("ALTER TABLE customers ADD CONSTRAINT ok CHECK (name <> 'Broken')"))
    before = count(engine)
    rows = "name,email\n" + "".join(f"Lead {i},lead{i}@example.com\n" for i in range(500))
    rows += "Broken,broken@example.com\n"  # the database refuses it
    rows += "".join(f"Late {i},late{i}@example.com\n" for i in range(10))
    code, _, err = run(
        capsys, "--database-url", _url(db_url), "leads", "import", write(tmp_path, rows)
    )
    assert code == 1
    assert "line 502" in err and "nothing was imported" in err
    assert count(engine) == before


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        ("name,email\nJosé,jose@example.com\n", "latin-1", "line 2 is not UTF-8 text"),
        ("email,phone\na@example.com,2145550100\n", "utf-8", "no name column in the header"),
        ("", "utf-8", "the file is empty"),
    ],
)
def test_unreadable_files_get_one_clear_line(
    db_url: URL,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: str,
    encoding: str,
    message: str,
) -> None:
    code, _, err = run(
        capsys,
        "--database-url",
        _url(db_url),
        "leads",
        "import",
        write(tmp_path, body, encoding=encoding),
    )
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_owner_and_missing_file(
    db_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "--database-url", _url(db_url), "leads", "import", str(tmp_path / "nope.csv")
    )
    assert code == 1 and "no such file" in err
    path = write(tmp_path, "name\nX\n")
    code, _, err = run(
        capsys, "--database-url", _url(db_url), "leads", "import", path, "--owner", "ghost"
    )
    assert code == 1 and "no active user with login 'ghost'" in err


def test_first_and_last_name_columns_and_bom(
    engine: Engine, db_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "\ufeffFirst Name,Last Name,Mobile\nLuanne,Platter,214.555.0188\n")
    code, out, _ = run(capsys, "--database-url", _url(db_url), "leads", "import", path)
    assert code == 0 and "imported 1" in out
    assert count(engine, "name = 'Luanne Platter' AND phone = '+12145550188'") == 1


def test_export_round_trips_and_defuses_formulas(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "name,email,phone\n=HYPERLINK(1),f@example.com,+12145550111\n")
    run(capsys, "--database-url", _url(db_url), "leads", "import", path)
    code, out, err = run(
        capsys, "--database-url", _url(db_url), "leads", "export", "--status", "lead"
    )
    assert code == 0 and "exported" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == count(engine, "status = 'lead'")
    formula = next(r for r in rows if r["email"] == "f@example.com")
    assert formula["name"] == "'=HYPERLINK(1)" and formula["phone"] == "+12145550111"
    assert {r["name"] for r in rows} >= {"Hank Hill", "Peggy Hill"}


PHONES = """name,phone,ext
Paren Pat,(972) 653-2552,
Dotted Dot,972.653.2552 ext 12,
Plus Pam,+1 972 653 2552 x13,
Hash Hal,9726532552#14,
Column Cal,972-653-2552,15
London Lil,+44 20 7123 4567,
Twin Pat,1-972-653-2552,
Twin Dot,(972) 653 2552 ext. 12,
No Area Ned,653-2552,
Words Wes,call the office,
Lone Ext,,16
"""


def test_phones_in_any_format_are_stored_as_e164_and_extension(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, PHONES)
    code, out, err = run(capsys, "--database-url", _url(db_url), "leads", "import", path)
    assert code == 0
    assert "11 rows: imported 6, 2 duplicates skipped, 3 invalid" in out
    assert f"{path}:8: skipped: same phone as line 2" in err  # the same number, typed otherwise
    assert f"{path}:9: skipped: same phone as line 3" in err  # and the same extension
    assert (
        f"{path}:10: phone '653-2552' is not a valid phone number (the area code is missing?)"
        in err
    )
    assert f"{path}:11: phone 'call the office' is not a phone number" in err
    assert f"{path}:12: phone 'ext 16' is not a phone number" in err
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text(
                    "SELECT name, phone || coalesce(' ext ' || phone_ext, '') FROM customers "
                    "WHERE name IN ('Paren Pat', 'Dotted Dot', 'Plus Pam', 'Hash Hal', "
                    "'Column Cal', 'London Lil')"
                )
            ).all()
        )
    assert stored == {
        "Paren Pat": "+19726532552",
        "Dotted Dot": "+19726532552 ext 12",
        "Plus Pam": "+19726532552 ext 13",
        "Hash Hal": "+19726532552 ext 14",
        "Column Cal": "+19726532552 ext 15",
        "London Lil": "+442071234567",
    }
    # Exported as stored (E.164, the extension in its own column): an import reads it back.
    code, out, _ = run(capsys, "--database-url", _url(db_url), "leads", "export")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert list(rows["Dotted Dot"])[:4] == ["name", "email", "phone", "phone_ext"]
    assert (rows["Dotted Dot"]["phone"], rows["Dotted Dot"]["phone_ext"]) == ("+19726532552", "12")
    again = write(tmp_path, out, name="again.csv")
    code, out, _ = run(
        capsys, "--database-url", _url(db_url), "leads", "import", again, "--dry-run"
    )
    assert code == 0 and "would import 0" in out  # every row is a customer already

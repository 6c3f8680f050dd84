"""Settings precedence: flags over environment over file over defaults; secrets stay hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesengine_tui.base.settings import load_settings


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('user = "from-file"\nbusiness_timezone = "America/Denver"\n')
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", str(config))
    assert load_settings().user == "from-file"
    assert load_settings().business_timezone == "America/Denver"

    monkeypatch.setenv("SALESENGINE_USER", "from-env")
    assert load_settings().user == "from-env"
    assert load_settings(user="from-flag").user == "from-flag"
    # A flag left unset does not hide the environment.
    assert load_settings(user=None).user == "from-env"


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", str(tmp_path / "missing.toml"))
    settings = load_settings()
    assert settings.database_url is None
    assert settings.email_provider == "file"
    assert settings.pgdata_dir == settings.data_dir / "pgdata"


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESENGINE_SENDGRID_API_KEY", "SG.topsecret")
    settings = load_settings(database_url="postgresql://u:hunter2@db.example.com/sales")
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "hunter2" not in shown and "SG.topsecret" not in shown
    assert settings.database_url is not None
    assert "hunter2" in settings.database_url.get_secret_value()

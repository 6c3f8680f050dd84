from sqlalchemy import Engine, text


def test_template_has_default_pipelines(engine: Engine) -> None:
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM deal_pipelines ORDER BY position")).scalars()
        assert list(names) == ["Residential Replacements", "Commercial Contracts"]

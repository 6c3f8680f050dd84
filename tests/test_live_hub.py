"""One LISTEN connection per process (`db/live.Hub`): every subscriber shares it, it follows
the channels wanted, survives a server that drops it, and closes with the last subscriber."""

from __future__ import annotations

import threading

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from waiting import listener_connected, wait_for

from salesengine_tui.db import live


def _listeners(engine: Engine) -> list[str]:
    """What each live-updates connection in this database last ran."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = :name"
                ),
                {"name": live.APPLICATION_NAME},
            ).scalars()
        )


def _notify(engine: Engine, channel: str, payload: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


@pytest.fixture
def hub(db_url: URL) -> live.Hub:
    return live.Hub(db_url, poll_seconds=0.05)


def test_subscribers_share_one_connection_and_hear_only_their_channels(
    hub: live.Hub, engine: Engine
) -> None:
    heard: dict[str, list[str]] = {"a": [], "b": [], "ab": []}
    ready = [threading.Event() for _ in range(3)]
    subs = [
        hub.subscribe("chan_a", heard["a"].append, on_connected=ready[0].set),
        hub.subscribe(["chan_b"], heard["b"].append, on_connected=ready[1].set),
        hub.subscribe(["chan_a", "chan_b"], heard["ab"].append, on_connected=ready[2].set),
    ]
    for event in ready:
        assert event.wait(10)
    assert len(_listeners(engine)) == 1, "three subscribers, one connection"
    assert listener_connected(engine, "chan_a") and listener_connected(engine, "chan_b")

    _notify(engine, "chan_a", "1")
    _notify(engine, "chan_b", "2")
    wait_for(lambda: len(heard["ab"]) == 2, "both payloads reach the subscriber of both")
    assert heard == {"a": ["1"], "b": ["2"], "ab": ["1", "2"]}

    subs[1].close()
    subs[2].close()
    wait_for(lambda: not listener_connected(engine, "chan_b"), "chan_b no longer listened")
    assert listener_connected(engine, "chan_a")
    subs[0].close()
    wait_for(lambda: not _listeners(engine), "the last one out closes the connection")
    assert not hub.connected


def test_a_failing_subscriber_does_not_silence_the_others(hub: live.Hub, engine: Engine) -> None:
    def broken(_payload: str) -> None:
        raise RuntimeError("a subscriber's bug")

    heard: list[str] = []
    ready = threading.Event()
    first = hub.subscribe("chan", broken)
    second = hub.subscribe("chan", heard.append, on_connected=ready.set)
    assert ready.wait(10)
    _notify(engine, "chan", "x")
    _notify(engine, "chan", "y")
    wait_for(lambda: heard == ["x", "y"], "the healthy subscriber hears both")
    first.close()
    second.close()


def test_a_dropped_connection_is_made_again(
    hub: live.Hub, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RETRY_SECONDS", 0.1)
    heard: list[str] = []
    connects: list[int] = []
    sub = hub.subscribe("chan", heard.append, on_connected=lambda: connects.append(1))
    wait_for(lambda: connects, "connected")
    with engine.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": live.APPLICATION_NAME},
        )
    wait_for(lambda: len(connects) == 2, "listening again after the server dropped it")
    _notify(engine, "chan", "after")
    wait_for(lambda: heard == ["after"], "heard on the new connection")
    sub.close()


def test_listen_blocks_until_stop_and_then_closes(hub: live.Hub, engine: Engine) -> None:
    stop = threading.Event()
    ready = threading.Event()
    thread = threading.Thread(
        target=hub.listen, args=("chan", lambda _p: None, stop), kwargs={"on_connected": ready.set}
    )
    thread.start()
    assert ready.wait(10)
    assert thread.is_alive()
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    wait_for(lambda: not _listeners(engine), "closed with its only subscriber")


def test_channel_names_are_quoted_not_interpreted(hub: live.Hub, engine: Engine) -> None:
    channel = 'odd"; SELECT pg_sleep(5); --'
    heard: list[str] = []
    ready = threading.Event()
    sub = hub.subscribe(channel, heard.append, on_connected=ready.set)
    assert ready.wait(10)
    with psycopg.connect(live.conninfo(engine.url), autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, 'ok')", (channel,))
    wait_for(lambda: heard == ["ok"], "heard on the odd channel")
    sub.close()

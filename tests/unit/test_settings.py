import os
from pathlib import Path

import pytest

from streams.settings import SettingsError, load_settings


def test_embedded_sqlite_is_the_default() -> None:
    settings = load_settings({})
    assert settings.event_store == "sqlite"
    assert settings.event_store_env() == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(Path(".cpis") / "cpis-events.sqlite"),
    }


def test_postgres_is_chosen_by_settings() -> None:
    env = load_settings({
        "CPIS_EVENT_STORE": "postgres", "CPIS_POSTGRES_HOST": "db", "CPIS_POSTGRES_PORT": "6543",
        "CPIS_POSTGRES_DBNAME": "cpis", "CPIS_POSTGRES_USER": "u", "CPIS_POSTGRES_PASSWORD": "p",
    }).event_store_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_PASSWORD"]) == (
        "db", "6543", "p")
    assert env["POSTGRES_PRE_PING"] == "y"  # connections dead after a restart are replaced


def test_memory_store_for_tests() -> None:
    env = load_settings({"CPIS_EVENT_STORE": "memory"}).event_store_env()
    assert env == {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def test_unknown_event_store_is_refused_with_the_choices() -> None:
    with pytest.raises(SettingsError, match="one of sqlite, postgres, memory, got 'mongo'"):
        load_settings({"CPIS_EVENT_STORE": "mongo"})


def test_port_must_be_a_number() -> None:
    with pytest.raises(SettingsError, match="CPIS_POSTGRES_PORT must be a whole number"):
        load_settings({"CPIS_POSTGRES_PORT": "five"})


def test_upload_processes_default_to_the_cpus_and_are_bounded() -> None:
    assert load_settings({}).upload_processes == min(os.cpu_count() or 1, 64)
    assert load_settings({"CPIS_UPLOAD_PROCESSES": "1"}).upload_processes == 1
    for bad in ("0", "65"):
        with pytest.raises(SettingsError, match="CPIS_UPLOAD_PROCESSES must be 1 to 64"):
            load_settings({"CPIS_UPLOAD_PROCESSES": bad})
    with pytest.raises(SettingsError, match="CPIS_UPLOAD_PROCESSES must be a whole number"):
        load_settings({"CPIS_UPLOAD_PROCESSES": "two"})


def test_an_access_window_longer_than_a_record_keeps_accesses_for_is_refused() -> None:
    assert load_settings({"CPIS_ACCESS_MAX_AGE_HOURS": "47"}).limits.access.max_age.days == 1
    with pytest.raises(SettingsError, match=r"CPIS_ACCESS_MAX_AGE_HOURS .* longer than the 48"):
        load_settings({"CPIS_ACCESS_MAX_AGE_HOURS": "48"})

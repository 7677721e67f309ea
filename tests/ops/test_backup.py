"""`crm backup` then `crm restore` into a fresh database: same tables, same counts, same checksums."""

import os
import sqlite3
import subprocess
import sys
from urllib.parse import urlunsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from crm.ops.backup import table_checksums
from crm.records.models import ContactEmail, DealStatus
from crm.search import index as search_index
from tests.factories import CompanyFactory, ContactFactory, DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def records(admin_user):
    company = CompanyFactory(name="Ünïcode Works", owner=admin_user, custom_fields={"tier": "gold"})
    contacts = [ContactFactory(company=company, owner=admin_user) for _ in range(5)]
    ContactEmail.objects.create(contact=contacts[0], email="first@example.com", is_primary=True)
    DealFactory(pipeline=PipelineFactory(), company=company, amount="1234.50", status=DealStatus.OPEN)
    for contact in contacts:
        search_index.update(contact)  # the search tables are in the backup too
    yield
    search_index.backend().clear()  # not a Django model: the test flush does not empty it


def _crm(*args, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "crm", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_database(tmp_path):
    """(url, open_connection) of an empty database of the same kind as the test database."""
    if connection.vendor == "sqlite":
        path = tmp_path / "fresh.sqlite3"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES)
        return
    import psycopg

    s = connection.settings_dict
    name = f"{s['NAME']}_restore"
    netloc = f"{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}"
    admin = urlunsplit(("postgresql", netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(("postgresql", netloc, f"/{name}", "", ""))
    yield url, lambda: psycopg.connect(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _source_checksums():
    if connection.vendor == "sqlite":
        return table_checksums(connection.connection, "sqlite")
    import psycopg

    s = connection.settings_dict
    url = (
        f"postgresql://{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"
    )
    with psycopg.connect(url) as conn:  # a plain connection, typed like the one that reads the restore
        return table_checksums(conn, "postgresql")


def test_restore_into_a_fresh_database_gives_identical_tables(records, tmp_path, fresh_database):
    url, connect = fresh_database
    file = tmp_path / "crm.backup"
    call_command("backup", str(file))
    assert file.stat().st_size > 0
    assert not list(tmp_path.glob(".*.partial"))  # the temporary name is gone once complete

    done = _crm("restore", str(file), "--yes", url=url)
    assert done.returncode == 0, done.stderr

    source = _source_checksums()
    with connect() as conn:
        restored = table_checksums(conn, connection.vendor)
    assert source["records_contact"][0] == 5 and source["records_deal"][0] == 1
    assert set(restored) == set(source)
    different = {t for t in source if source[t] != restored[t]}
    assert not different, f"tables differ after restore: {sorted(different)}"


def test_backup_is_taken_while_the_data_keeps_changing(records, tmp_path):
    """The backup is a snapshot: a write right after it does not leak into the file."""
    file = tmp_path / "snap.backup"
    call_command("backup", str(file))
    ContactFactory(owner=None)  # after the backup
    if connection.vendor == "sqlite":
        with sqlite3.connect(file) as conn:
            assert conn.execute("SELECT COUNT(*) FROM records_contact").fetchone()[0] == 5
    else:
        listing = subprocess.run(["pg_restore", "--list", str(file)], capture_output=True, text=True, check=True)
        assert "TABLE DATA public records_contact" in listing.stdout


def test_restore_needs_confirmation_and_a_matching_backup(db, tmp_path):
    wrong = tmp_path / "not-a-backup"
    wrong.write_bytes(b"hello, this is not a database")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(wrong))
    with pytest.raises(CommandError, match="is not a"):
        call_command("restore", str(wrong), "--yes")
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "missing"), "--yes")

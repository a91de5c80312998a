"""Call history and contacts in SQLite, with vCard import and export."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from softphone.core.history import (
    CallRecord,
    Contact,
    ContactNumber,
    History,
    data_dir,
    format_vcards,
    match_key,
    parse_vcards,
)


@pytest.fixture
def history(tmp_path: Path) -> History:
    h = History(tmp_path / "history.sqlite3")
    yield h  # type: ignore[misc]
    h.close()


def test_data_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOFTPHONE_DATA_DIR", raising=False)
    monkeypatch.delenv("SOFTPHONE_CONFIG_DIR", raising=False)
    assert "softphone" in str(data_dir())
    monkeypatch.setenv("SOFTPHONE_CONFIG_DIR", str(tmp_path / "profile"))
    assert data_dir() == tmp_path / "profile"
    monkeypatch.setenv("SOFTPHONE_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()


def test_a_history_from_before_recordings_is_upgraded_and_keeps_its_calls(tmp_path: Path) -> None:
    """Schema 1 (no recording column) opened by this version: the column is added, nothing is lost."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT, account TEXT,"
        " direction TEXT NOT NULL, remote_uri TEXT NOT NULL, remote_name TEXT, match_key TEXT NOT NULL,"
        " started REAL NOT NULL, duration REAL NOT NULL DEFAULT 0, outcome TEXT NOT NULL, status INTEGER,"
        " reason TEXT, seen INTEGER NOT NULL DEFAULT 1);"
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, organization TEXT,"
        " note TEXT, favorite INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE numbers (id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id INTEGER NOT NULL, label TEXT"
        " NOT NULL, uri TEXT NOT NULL, match_key TEXT NOT NULL, position INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO calls (direction, remote_uri, match_key, started, outcome) VALUES"
        " ('outgoing', 'sip:bob@example.com', 'bob@example.com', 1.0, 'answered');"
        "PRAGMA user_version = 1;"
    )
    db.close()
    with History(path) as history:
        old = history.calls()
        assert [c.remote_uri for c in old] == ["sip:bob@example.com"] and old[0].recording is None
        history.add_call(CallRecord("incoming", "sip:carol@example.com", recording="/tmp/carol.wav"))
        assert history.calls()[0].recording == "/tmp/carol.wav"


def test_calls_newest_first_and_missed_counted_until_seen(history: History) -> None:
    now = time.time()
    history.add_call(CallRecord("outgoing", "sip:bob@example.com", "Bob", started=now - 60, duration=42))
    history.add_call(
        CallRecord("incoming", "sip:carol@example.com", started=now - 30, outcome="missed", seen=False)
    )
    history.add_call(
        CallRecord("incoming", "sip:dave@example.com", started=now, outcome="missed", seen=False)
    )
    calls = history.calls()
    assert [c.remote_uri for c in calls] == [
        "sip:dave@example.com",
        "sip:carol@example.com",
        "sip:bob@example.com",
    ]
    assert calls[0].missed and not calls[2].missed
    assert calls[2].duration == 42 and calls[2].remote_name == "Bob"
    assert history.missed_count() == 2
    assert len(history.calls(missed_only=True)) == 2
    history.mark_seen()
    assert history.missed_count() == 0
    assert len(history.calls(missed_only=True)) == 2  # still marked missed


def test_history_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as h:
        h.add_call(CallRecord("incoming", "sip:bob@host", outcome="missed", seen=False))
    with History(path) as h:
        assert h.missed_count() == 1
        assert h.calls()[0].remote_uri == "sip:bob@host"


def test_bad_records_are_refused_and_leave_nothing(history: History) -> None:
    with pytest.raises(ValueError):
        history.add_call(CallRecord("sideways", "sip:bob@host"))
    with pytest.raises(ValueError):
        history.add_call(CallRecord("incoming", "sip:bob@host", outcome="exploded"))
    assert history.calls() == []


def test_a_failing_transaction_rolls_back(history: History) -> None:
    contact = Contact("Bob", [ContactNumber("work", "sip:bob@host")])
    history.add_contact(contact)
    contact.numbers = [ContactNumber("work", "sip:bob2@host")]
    contact.name = "   "
    with pytest.raises(ValueError):
        history.update_contact(contact)
    stored = history.contact(contact.id or 0)
    assert stored is not None and stored.numbers[0].uri == "sip:bob@host"


def test_delete_and_clear(history: History) -> None:
    first = history.add_call(CallRecord("outgoing", "sip:a@h"))
    history.add_call(CallRecord("outgoing", "sip:b@h"))
    history.delete_call(first)
    assert [c.remote_uri for c in history.calls()] == ["sip:b@h"]
    history.clear_calls()
    assert history.calls() == []


def test_match_key_finds_the_same_party() -> None:
    assert match_key("sip:+49301234@prov.example;user=phone") == "49301234"
    assert match_key("tel:+49-30-1234") == "49301234"
    assert match_key("0049301234") == "49301234"
    assert match_key("sip:Alice@Example.COM:5060") == "alice@example.com"
    assert match_key("bob") == "bob"


def test_contacts_with_several_numbers_and_lookup(history: History) -> None:
    bob = Contact(
        "Bob Builder",
        [ContactNumber("mobile", "+49 151 2345678"), ContactNumber("sip", "sip:bob@example.com")],
        organization="ACME",
    )
    history.add_contact(bob)
    history.add_contact(Contact("Alice", [ContactNumber("work", "sip:alice@example.com")]))
    assert [c.name for c in history.contacts()] == ["Alice", "Bob Builder"]
    found = history.find_contact("sip:01512345678@provider.example")
    assert found is not None and found.name == "Bob Builder"
    assert len(found.numbers) == 2 and found.numbers[0].label == "mobile"
    assert history.find_contact("sip:bob@example.com") is not None
    assert history.find_contact("sip:nobody@example.com") is None
    assert [c.name for c in history.contacts("acme")] == ["Bob Builder"]
    assert [c.name for c in history.contacts("2345")] == ["Bob Builder"]
    bob.numbers.pop(0)
    history.update_contact(bob)
    assert len((history.contact(bob.id or 0) or bob).numbers) == 1
    history.delete_contact(bob.id or 0)
    assert [c.name for c in history.contacts()] == ["Alice"]


def test_search_over_contacts_and_history(history: History) -> None:
    history.add_contact(Contact("Bob", [ContactNumber("work", "sip:bob@example.com")]))
    history.add_call(CallRecord("outgoing", "sip:bob@example.com", "Bob"))
    history.add_call(CallRecord("incoming", "sip:bobby@other.example", "Bobby"))
    history.add_call(CallRecord("incoming", "sip:carol@example.com"))
    hits = history.search("bob")
    assert [(h.kind, h.uri) for h in hits] == [
        ("contact", "sip:bob@example.com"),
        ("history", "sip:bobby@other.example"),
    ]
    assert history.search("") == []
    assert history.search("100%") == []


VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dr. Ann\r\n  Example\r\nN:Example;Ann;;Dr.;\r\n"
    "ORG:Example\\, Inc.;Sales\r\nitem1.TEL;TYPE=CELL,VOICE:+49 151 111\r\nTEL;TYPE=work:030 222\r\n"
    "IMPP;X-SERVICE-TYPE=SIP:sip:ann@example.com\r\nNOTE:line one\\nline two\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\nVERSION:2.1\nN:Smith;John\nTEL;HOME:0301234\nX-SIP:john@voip.example\nEND:VCARD\n"
)


def test_vcard_parsing_of_versions_and_oddities() -> None:
    ann, john = parse_vcards(VCARD)
    assert ann.name == "Dr. Ann Example"
    assert ann.organization == "Example, Inc. Sales"
    assert [(n.label, n.uri) for n in ann.numbers] == [
        ("mobile", "+49 151 111"),
        ("work", "030 222"),
        ("sip", "sip:ann@example.com"),
    ]
    assert ann.note == "line one\nline two"
    assert john.name == "John Smith"
    assert [(n.label, n.uri) for n in john.numbers] == [("home", "0301234"), ("sip", "sip:john@voip.example")]


def test_vcard_round_trip_through_the_database(history: History, tmp_path: Path) -> None:
    assert history.import_vcards(VCARD) == 2
    text = history.export_vcards()
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    with History(tmp_path / "other.sqlite3") as other:
        assert other.import_vcards(text) == 2
        names = [(c.name, [(n.label, n.uri) for n in c.numbers]) for c in other.contacts()]
    assert names == [(c.name, [(n.label, n.uri) for n in c.numbers]) for c in history.contacts()]


def test_long_and_special_values_fold_and_escape() -> None:
    contact = Contact("Ünïcødé " * 12, [ContactNumber("other", "+1 555 0100")], note="a;b,c\\d")
    text = format_vcards([contact])
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    (back,) = parse_vcards(text)
    assert back.name == contact.name.strip()
    assert back.note == "a;b,c\\d"
    assert back.numbers[0].uri == "+1 555 0100"


def test_in_memory_database_for_tests() -> None:
    with History(":memory:") as h:
        h.add_call(CallRecord("outgoing", "sip:a@h"))
        assert len(h.calls()) == 1

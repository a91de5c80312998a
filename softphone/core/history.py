"""Call history and contacts: SQLite under the platform's data folder, with vCard import and export.

The database runs in WAL mode; every change is one transaction, so a crash leaves either the old
or the new state. Nothing here knows about Qt: the GUI and the CLI both use it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

APP_NAME = "softphone"
SCHEMA_VERSION = 2  # 2: calls.recording
MAX_CALLS = 5000  # older entries are dropped

OUTCOMES = ("answered", "missed", "declined", "cancelled", "busy", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT,
    account TEXT,
    direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    remote_uri TEXT NOT NULL,
    remote_name TEXT,
    match_key TEXT NOT NULL,
    started REAL NOT NULL,
    duration REAL NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL,
    status INTEGER,
    reason TEXT,
    seen INTEGER NOT NULL DEFAULT 1,
    recording TEXT
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started DESC);
CREATE INDEX IF NOT EXISTS calls_key ON calls (match_key);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    organization TEXT,
    note TEXT,
    favorite INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    uri TEXT NOT NULL,
    match_key TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS numbers_key ON numbers (match_key);
CREATE INDEX IF NOT EXISTS numbers_contact ON numbers (contact_id);
"""


def data_dir() -> Path:
    """Where the history lives: ``$SOFTPHONE_DATA_DIR``, else ``$SOFTPHONE_CONFIG_DIR`` (a private
    profile keeps everything together), else the platform's user data folder."""
    override = os.environ.get("SOFTPHONE_DATA_DIR") or os.environ.get("SOFTPHONE_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def match_key(address: str) -> str:
    """A key that finds the same party under different spellings.

    ``sip:+49301234@prov``, ``tel:+49 30 1234`` and ``0049301234`` share a key (the digits without
    an international prefix); ``sip:alice@example.com`` keys as ``alice@example.com``.
    """
    text = address.strip()
    lowered = text.lower()
    for scheme in ("sips:", "sip:", "tel:"):
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    text = text.split(";", 1)[0].split("?", 1)[0]
    user, at, host = text.rpartition("@")
    if not at:
        user, host = text, ""
    digits = re.sub(r"[\s\-./()]", "", user)
    if re.fullmatch(r"\+?\d{3,}", digits):
        digits = digits.lstrip("+")
        if digits.startswith("00"):
            digits = digits[2:]
        return digits
    host = host.split(":", 1)[0].strip("[]").lower()
    return f"{user.lower()}@{host}" if host else user.lower()


def _same_number(key_a: str, key_b: str) -> bool:
    """Numbers match on their last 8 digits (national and international spellings)."""
    if key_a == key_b:
        return True
    if key_a.isdigit() and key_b.isdigit() and min(len(key_a), len(key_b)) >= 8:
        return key_a[-8:] == key_b[-8:]
    return False


@dataclass
class CallRecord:
    """One call in the history."""

    direction: str  # incoming | outgoing
    remote_uri: str
    remote_name: str | None = None
    account: str | None = None
    started: float = field(default_factory=time.time)
    duration: float = 0.0
    outcome: str = "answered"  # one of OUTCOMES
    status: int | None = None
    reason: str | None = None
    call_id: str | None = None
    seen: bool = True
    id: int | None = None
    recording: str | None = None  # the call's recording (a WAV file), if it was recorded

    @property
    def missed(self) -> bool:
        return self.outcome == "missed"


@dataclass
class ContactNumber:
    label: str  # mobile | work | home | sip | other
    uri: str


@dataclass
class Contact:
    name: str
    numbers: list[ContactNumber] = field(default_factory=list)
    organization: str | None = None
    note: str | None = None
    favorite: bool = False
    id: int | None = None


@dataclass(frozen=True)
class SearchHit:
    """A match for the dialer's search-as-you-type: a contact's number or a past call."""

    kind: str  # contact | history
    name: str
    uri: str
    label: str
    contact_id: int | None = None
    call_id: int | None = None


class History:
    """The call history and the address book, in one SQLite file."""

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            path = data_dir() / "history.sqlite3"
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=5.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        with self._transaction() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{path} was written by a newer version (schema {version})")
            if version == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
            elif version == 1:  # a history written before call recordings
                db.execute("ALTER TABLE calls ADD COLUMN recording TEXT")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all or nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- calls --
    def add_call(self, record: CallRecord) -> int:
        if record.direction not in ("incoming", "outgoing"):
            raise ValueError(f"direction must be incoming or outgoing, not {record.direction!r}")
        if record.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {record.outcome!r}")
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO calls (call_id, account, direction, remote_uri, remote_name, match_key, started,"
                " duration, outcome, status, reason, seen, recording)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.call_id,
                    record.account,
                    record.direction,
                    record.remote_uri,
                    record.remote_name,
                    match_key(record.remote_uri),
                    record.started,
                    record.duration,
                    record.outcome,
                    record.status,
                    record.reason,
                    int(record.seen),
                    record.recording,
                ),
            )
            db.execute(
                "DELETE FROM calls WHERE id NOT IN (SELECT id FROM calls ORDER BY started DESC LIMIT ?)",
                (MAX_CALLS,),
            )
            record.id = int(cursor.lastrowid or 0)
        return record.id

    def calls(
        self, *, limit: int = 500, query: str | None = None, missed_only: bool = False
    ) -> list[CallRecord]:
        """Newest first; ``query`` matches name or address (case-insensitive)."""
        sql = "SELECT * FROM calls"
        where: list[str] = []
        args: list[object] = []
        if missed_only:
            where.append("outcome = 'missed'")
        if query:
            like = f"%{_like_escape(query.strip())}%"
            digits = re.sub(r"\D", "", query)
            clause = "(remote_uri LIKE ? ESCAPE '\\' OR remote_name LIKE ? ESCAPE '\\'"
            args += [like, like]
            if len(digits) >= 2:
                clause += " OR match_key LIKE ?"
                args.append(f"%{digits}%")
            where.append(clause + ")")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, id DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_call_from_row(row) for row in rows]

    def call(self, call_id: int) -> CallRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
        return _call_from_row(row) if row else None

    def missed_count(self) -> int:
        """Missed calls the user has not looked at yet."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM calls WHERE outcome = 'missed' AND seen = 0"
            ).fetchone()
        return int(row[0])

    def mark_seen(self) -> None:
        with self._transaction() as db:
            db.execute("UPDATE calls SET seen = 1 WHERE seen = 0")

    def delete_call(self, call_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM calls WHERE id = ?", (call_id,))

    def clear_calls(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM calls")

    # -- contacts --
    def add_contact(self, contact: Contact) -> int:
        if not contact.name.strip():
            raise ValueError("a contact needs a name")
        with self._transaction() as db:
            contact.id = self._insert_contact(db, contact)
        return contact.id

    def _insert_contact(self, db: sqlite3.Connection, contact: Contact) -> int:
        cursor = db.execute(
            "INSERT INTO contacts (name, organization, note, favorite) VALUES (?, ?, ?, ?)",
            (contact.name.strip(), contact.organization, contact.note, int(contact.favorite)),
        )
        contact_id = int(cursor.lastrowid or 0)
        self._write_numbers(db, contact_id, contact.numbers)
        return contact_id

    def _write_numbers(
        self, db: sqlite3.Connection, contact_id: int, numbers: Iterable[ContactNumber]
    ) -> None:
        db.execute("DELETE FROM numbers WHERE contact_id = ?", (contact_id,))
        for position, number in enumerate(numbers):
            if not number.uri.strip():
                continue
            db.execute(
                "INSERT INTO numbers (contact_id, label, uri, match_key, position) VALUES (?, ?, ?, ?, ?)",
                (contact_id, number.label or "other", number.uri.strip(), match_key(number.uri), position),
            )

    def update_contact(self, contact: Contact) -> None:
        if contact.id is None:
            raise ValueError("the contact has no id: add it first")
        if not contact.name.strip():
            raise ValueError("a contact needs a name")
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE contacts SET name = ?, organization = ?, note = ?, favorite = ? WHERE id = ?",
                (contact.name.strip(), contact.organization, contact.note, int(contact.favorite), contact.id),
            )
            if cursor.rowcount == 0:
                raise KeyError(contact.id)
            self._write_numbers(db, contact.id, contact.numbers)

    def delete_contact(self, contact_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))

    def contact(self, contact_id: int) -> Contact | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
            return self._contact_from_row(row) if row else None

    def contacts(self, query: str | None = None) -> list[Contact]:
        """Every contact by name, or those whose name, organisation or number matches ``query``."""
        with self._lock:
            if not query:
                rows = self._db.execute("SELECT * FROM contacts ORDER BY name COLLATE NOCASE").fetchall()
            else:
                like = f"%{_like_escape(query.strip())}%"
                digits = re.sub(r"\D", "", query)
                digit_like = f"%{digits}%" if len(digits) >= 2 else None
                rows = self._db.execute(
                    "SELECT DISTINCT c.* FROM contacts c LEFT JOIN numbers n ON n.contact_id = c.id"
                    " WHERE c.name LIKE ? ESCAPE '\\' OR c.organization LIKE ? ESCAPE '\\'"
                    " OR n.uri LIKE ? ESCAPE '\\' OR (? IS NOT NULL AND n.match_key LIKE ?)"
                    " ORDER BY c.name COLLATE NOCASE",
                    (like, like, like, digit_like, digit_like),
                ).fetchall()
            return [self._contact_from_row(row) for row in rows]

    def _contact_from_row(self, row: sqlite3.Row) -> Contact:
        numbers = [
            ContactNumber(n["label"], n["uri"])
            for n in self._db.execute(
                "SELECT label, uri FROM numbers WHERE contact_id = ? ORDER BY position, id", (row["id"],)
            )
        ]
        return Contact(
            name=row["name"],
            numbers=numbers,
            organization=row["organization"],
            note=row["note"],
            favorite=bool(row["favorite"]),
            id=int(row["id"]),
        )

    def find_contact(self, address: str) -> Contact | None:
        """The contact with this number or SIP address, in any spelling."""
        key = match_key(address)
        with self._lock:
            row = self._db.execute(
                "SELECT contact_id FROM numbers WHERE match_key = ? ORDER BY id LIMIT 1", (key,)
            ).fetchone()
            if row is None and key.isdigit() and len(key) >= 8:
                for candidate in self._db.execute(
                    "SELECT contact_id, match_key FROM numbers WHERE match_key LIKE ?", (f"%{key[-8:]}",)
                ):
                    if _same_number(key, candidate["match_key"]):
                        row = candidate
                        break
            if row is None:
                return None
            contact_row = self._db.execute(
                "SELECT * FROM contacts WHERE id = ?", (row["contact_id"],)
            ).fetchone()
            return self._contact_from_row(contact_row) if contact_row else None

    # -- search --
    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Contacts first (each number), then addresses from the history not in the contacts."""
        text = text.strip()
        if not text:
            return []
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for contact in self.contacts(text):
            for number in contact.numbers:
                key = match_key(number.uri)
                if key in seen:
                    continue
                seen.add(key)
                hits.append(
                    SearchHit("contact", contact.name, number.uri, number.label, contact_id=contact.id)
                )
        for record in self.calls(query=text, limit=200):
            key = match_key(record.remote_uri)
            if key in seen:
                continue
            seen.add(key)
            hits.append(
                SearchHit(
                    "history",
                    record.remote_name or "",
                    record.remote_uri,
                    record.direction,
                    call_id=record.id,
                )
            )
        return hits[:limit]

    # -- vCard --
    def import_vcards(self, text: str) -> int:
        """Adds every card of ``text`` as a contact (one transaction); returns how many."""
        contacts = parse_vcards(text)
        with self._transaction() as db:
            for contact in contacts:
                contact.id = self._insert_contact(db, contact)
        return len(contacts)

    def export_vcards(self, contact_ids: Iterable[int] | None = None) -> str:
        contacts = self.contacts()
        if contact_ids is not None:
            wanted = set(contact_ids)
            contacts = [c for c in contacts if c.id in wanted]
        return format_vcards(contacts)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _call_from_row(row: sqlite3.Row) -> CallRecord:
    return CallRecord(
        direction=row["direction"],
        remote_uri=row["remote_uri"],
        remote_name=row["remote_name"],
        account=row["account"],
        started=float(row["started"]),
        duration=float(row["duration"]),
        outcome=row["outcome"],
        status=row["status"],
        reason=row["reason"],
        call_id=row["call_id"],
        seen=bool(row["seen"]),
        id=int(row["id"]),
        recording=row["recording"],
    )


# ---------------------------------------------------------------- vCard (RFC 6350, 2426, 2.1)

_TYPE_TO_LABEL = {"cell": "mobile", "mobile": "mobile", "work": "work", "home": "home", "main": "work"}
_LABEL_TO_TYPE = {"mobile": "cell", "work": "work", "home": "home", "other": "voice"}


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _split_unescaped(value: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if value[i] == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(value[i])
        i += 1
    parts.append("".join(current))
    return parts


def _params(raw: list[str]) -> tuple[set[str], dict[str, str]]:
    """vCard parameters: the set of types (``TYPE=cell,voice`` and 2.1's bare ``CELL``), others."""
    types: set[str] = set()
    other: dict[str, str] = {}
    for param in raw:
        name, eq, value = param.partition("=")
        if not eq:
            types.add(name.strip().lower())
            continue
        if name.strip().lower() == "type":
            for item in value.strip('"').split(","):
                types.add(item.strip().lower())
        else:
            other[name.strip().lower()] = value.strip('"')
    return types, other


def parse_vcards(text: str) -> list[Contact]:
    """Contacts from vCard text (versions 2.1, 3.0 and 4.0): FN/N, TEL, IMPP/X-SIP, ORG, NOTE."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    contacts: list[Contact] = []
    current: Contact | None = None
    structured_name = ""
    for line in unfolded.splitlines():
        if not line.strip() or ":" not in line:
            continue
        head, _, value = line.partition(":")
        parts = head.split(";")
        name = parts[0].split(".")[-1].strip().upper()  # item1.TEL -> TEL
        types, _ = _params(parts[1:])
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            current = Contact(name="")
            structured_name = ""
            continue
        if current is None:
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            if not current.name:
                current.name = structured_name or (current.numbers[0].uri if current.numbers else "")
            if current.name:
                contacts.append(current)
            current = None
        elif name == "FN":
            current.name = _unescape(value).strip()
        elif name == "N":
            fields = [_unescape(f) for f in _split_unescaped(value, ";")] + [""] * 5
            family, given, middle, prefix, suffix = (f.strip() for f in fields[:5])
            structured_name = " ".join(p for p in (prefix, given, middle, family, suffix) if p)
        elif name == "TEL":
            number = _unescape(value).strip()
            if number.lower().startswith("tel:"):
                number = number[4:]
            label = next((_TYPE_TO_LABEL[t] for t in sorted(types) if t in _TYPE_TO_LABEL), "other")
            if number:
                current.numbers.append(ContactNumber(label, number))
        elif name in ("IMPP", "X-SIP", "X-SIP-URI"):
            uri = _unescape(value).strip()
            if name != "IMPP" and not uri.lower().startswith(("sip:", "sips:")):
                uri = "sip:" + uri
            if uri.lower().startswith(("sip:", "sips:")):
                current.numbers.append(ContactNumber("sip", uri))
        elif name == "ORG":
            org = " ".join(p for p in (_unescape(f).strip() for f in _split_unescaped(value, ";")) if p)
            current.organization = org or None
        elif name == "NOTE":
            current.note = _unescape(value) or None
    return contacts


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 6350 §3.2), never inside a UTF-8 sequence."""
    out: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def format_vcards(contacts: Iterable[Contact]) -> str:
    """vCard 3.0 text, CRLF line ends; SIP addresses as IMPP."""
    lines: list[str] = []
    for contact in contacts:
        words = contact.name.split()
        family = words[-1] if len(words) > 1 else contact.name
        given = " ".join(words[:-1]) if len(words) > 1 else ""
        card = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"FN:{_escape(contact.name)}",
            f"N:{_escape(family)};{_escape(given)};;;",
        ]
        if contact.organization:
            card.append(f"ORG:{_escape(contact.organization)}")
        for number in contact.numbers:
            if number.uri.lower().startswith(("sip:", "sips:")) or number.label == "sip":
                uri = number.uri if ":" in number.uri.split("@")[0] else "sip:" + number.uri
                card.append(f"IMPP;TYPE=sip:{uri}")
            else:
                card.append(f"TEL;TYPE={_LABEL_TO_TYPE.get(number.label, 'voice')}:{_escape(number.uri)}")
        if contact.note:
            card.append(f"NOTE:{_escape(contact.note)}")
        card.append("END:VCARD")
        lines.extend(_fold(line) for line in card)
    return "".join(line + "\r\n" for line in lines)

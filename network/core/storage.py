"""Blob storage: sealed bytes (encrypted message attachments) kept in the database in pieces, so that any application
server reads what another wrote and nothing a request needs lives on one machine's disk.

One interface, `BlobStorage`, and two implementations:

- `DatabaseStorage` (the one in use): a blob is rows of `storage_chunks` (blob id, piece number, bytes), each piece at
  most `PIECE_SIZE` bytes. Pieces are written as they come (one INSERT per piece, in the caller's transaction: a blob
  lives or dies with the row that names it) and read one at a time, so neither writing nor reading holds a whole file
  in memory. PostgreSQL stores `bytea`, SQLite a BLOB; both are in the database's backups.
- `FolderStorage`: files named by blob id in a private folder, as releases before issue 16 wrote message
  attachments. Kept only to read what `flask --app app messaging attachments migrate` has not carried over yet.

The storage never sees plaintext: callers hand it what they sealed (messaging: AES-256-GCM chunks, one sealed
256 KiB chunk per piece) and authenticate what they read back.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import Integer, LargeBinary, String, delete, distinct, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from network.core.db import db

PIECE_SIZE = 256 * 1024 + 16  # one sealed 256 KiB chunk (plaintext + GCM tag): a row stays well under 1 MB
BLOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")


class BlobMissing(LookupError):
    """No blob with this id in this storage."""


class StoredChunk(db.Model):
    """One piece of a stored blob. The primary key (blob_id, seq) is the index every read walks."""

    __tablename__ = "storage_chunks"

    blob_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    def __repr__(self) -> str:
        return f"<StoredChunk {self.blob_id}#{self.seq}>"


class BlobStorage(Protocol):
    """Where sealed blobs live. Ids are chosen by the caller (random, never a name a member typed)."""

    def writer(self, blob_id: str) -> AbstractContextManager[BinaryIO]: ...  # `with writer(id) as stream: ...`

    def open(self, blob_id: str) -> BinaryIO: ...  # raises BlobMissing

    def exists(self, blob_id: str) -> bool: ...

    def delete(self, blob_id: str) -> None: ...


def _checked(blob_id: str) -> str:
    if not isinstance(blob_id, str) or not BLOB_ID.fullmatch(blob_id):
        raise ValueError("not a blob id")
    return blob_id


class _PieceWriter(io.RawIOBase):
    """Buffers what is written and inserts it as pieces of exactly `piece_size` bytes (the last may be shorter)."""

    def __init__(self, blob_id: str, piece_size: int) -> None:
        super().__init__()
        self.blob_id, self.piece_size = blob_id, piece_size
        self.buffer = bytearray()
        self.seq = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.buffer += data
        while len(self.buffer) >= self.piece_size:
            self._insert(bytes(self.buffer[:self.piece_size]))
            del self.buffer[:self.piece_size]
        return len(data)

    def _insert(self, piece: bytes) -> None:
        db.session.execute(insert(StoredChunk).values(blob_id=self.blob_id, seq=self.seq, data=piece))
        self.seq += 1

    def finish(self) -> int:
        """Insert what is left (one empty piece for an empty blob, so that it exists); the number of pieces."""
        if self.buffer or self.seq == 0:
            self._insert(bytes(self.buffer))
            self.buffer.clear()
        return self.seq


class _PieceReader(io.RawIOBase):
    """Reads a blob piece by piece: one SELECT per piece, only when the reader gets that far."""

    def __init__(self, blob_id: str) -> None:
        super().__init__()
        self.blob_id, self.seq, self.piece, self.offset, self.ended = blob_id, 0, b"", 0, False

    def readable(self) -> bool:
        return True

    def _next_piece(self) -> bool:
        if self.ended:
            return False
        piece = db.session.scalar(select(StoredChunk.data).where(StoredChunk.blob_id == self.blob_id,
                                                                 StoredChunk.seq == self.seq))
        if piece is None:
            self.ended = True
            return False
        self.piece, self.offset, self.seq = bytes(piece), 0, self.seq + 1
        return True

    def readinto(self, target) -> int:  # type: ignore[override]
        while self.offset >= len(self.piece):
            if not self._next_piece():
                return 0
        n = min(len(target), len(self.piece) - self.offset)
        target[:n] = self.piece[self.offset:self.offset + n]
        self.offset += n
        return n


class DatabaseStorage:
    """Blobs as rows of `storage_chunks`, written and read in the current database session's transaction."""

    name = "database"

    def __init__(self, piece_size: int = PIECE_SIZE) -> None:
        self.piece_size = piece_size

    @contextmanager
    def writer(self, blob_id: str) -> Iterator[BinaryIO]:
        """Write a new blob. Pieces go to the database as they fill; the blob is complete when the block ends (and
        visible to others when the caller's transaction commits; a rollback leaves nothing)."""
        stream = _PieceWriter(_checked(blob_id), self.piece_size)
        yield stream  # type: ignore[misc]
        stream.finish()

    def put(self, blob_id: str, source: BinaryIO) -> int:
        """Copy a whole stream into a new blob, piece by piece; returns its size."""
        size = 0
        with self.writer(blob_id) as stream:
            while piece := source.read(self.piece_size):
                stream.write(piece)
                size += len(piece)
        return size

    def open(self, blob_id: str) -> BinaryIO:
        if not self.exists(blob_id):
            raise BlobMissing(blob_id)
        return io.BufferedReader(_PieceReader(blob_id), buffer_size=self.piece_size)  # type: ignore[return-value]

    def exists(self, blob_id: str) -> bool:
        return db.session.scalar(select(StoredChunk.seq).where(StoredChunk.blob_id == _checked(blob_id),
                                                               StoredChunk.seq == 0)) is not None

    def size(self, blob_id: str) -> int:
        return int(db.session.scalar(select(func.coalesce(func.sum(func.length(StoredChunk.data)), 0))
                                     .where(StoredChunk.blob_id == _checked(blob_id))) or 0)

    def delete(self, blob_id: str) -> None:
        db.session.execute(delete(StoredChunk).where(StoredChunk.blob_id == _checked(blob_id)))

    def count(self, prefix: str = "") -> int:
        """How many blobs (whose id starts with `prefix`) are stored."""
        query = select(func.count(distinct(StoredChunk.blob_id)))
        if prefix:
            query = query.where(StoredChunk.blob_id.startswith(prefix, autoescape=True))
        return int(db.session.scalar(query) or 0)


class FolderStorage:
    """Blobs as files named by their id in a private folder (0700, files 0600): the layout before issue 16."""

    name = "folder"

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def path(self, blob_id: str) -> Path:
        return self.folder / _checked(blob_id)

    @contextmanager
    def writer(self, blob_id: str) -> Iterator[BinaryIO]:
        from network.core.files_at_rest import open_private, private_folder

        private_folder(self.folder)
        path = self.path(blob_id)
        try:
            with open_private(path) as stream:
                yield stream
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def open(self, blob_id: str) -> BinaryIO:
        try:
            return open(self.path(blob_id), "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError as error:
            raise BlobMissing(blob_id) from error

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).is_file()

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def ids(self, pattern: re.Pattern[str] | None = None) -> list[str]:
        """The ids of the files in the folder (matching `pattern`), sorted; none if the folder does not exist."""
        if not self.folder.is_dir():
            return []
        return sorted(entry.name for entry in self.folder.iterdir()
                      if entry.is_file() and not entry.is_symlink()
                      and BLOB_ID.fullmatch(entry.name) and (pattern is None or pattern.fullmatch(entry.name)))

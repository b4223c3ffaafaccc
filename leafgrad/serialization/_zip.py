"""The zip container of PyTorch checkpoints: a writer in PyTorch's layout, a bounds-checked reader.

PyTorch writes every record *stored* (uncompressed) under one top-level folder, pads each local
header with an ``FB`` extra field so the payload starts on a 64-byte boundary, follows each
payload with a data descriptor, and always ends with ZIP64 end records. The writer reproduces
that layout; the reader trusts nothing: every offset and size is checked against the archive
before a byte is read, records are CRC-checked, and deflated records (which PyTorch never
writes) are inflated under a hard cap.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

# Sizes at or above this need ZIP64 fields (a module constant so tests can exercise that path).
ZIP64_LIMIT = 0xFFFFFFFF
ALIGNMENT = 64
MAX_INFLATE = 1 << 30  # a deflated record may expand to at most 1 GiB (zip-bomb guard)

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header, 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory entry, 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # end of central directory, 22 bytes
_EOCD64 = struct.Struct("<IQHHIIQQQQ")  # ZIP64 end of central directory record, 56 bytes
_LOCATOR64 = struct.Struct("<IIQI")  # ZIP64 end of central directory locator, 20 bytes
_SIG_LOCAL, _SIG_CENTRAL, _SIG_EOCD = 0x04034B50, 0x02014B50, 0x06054B50
_SIG_EOCD64, _SIG_LOCATOR64, _SIG_DESCRIPTOR = 0x06064B50, 0x07064B50, 0x08074B50
_FLAGS = 0x0808  # bit 3: sizes in a data descriptor; bit 11: UTF-8 names (PyTorch's flags)
_CHUNK = 1 << 24  # CRC and copy granularity for large payloads
_READ_CHUNK = 1 << 18  # read and CRC in cache-sized pieces: the CRC then costs little


class ZipFormatError(RuntimeError):
    """The archive is not a readable PyTorch zip checkpoint (truncated, corrupt or hostile)."""


def _fail(msg: str, why: str) -> ZipFormatError:
    return ZipFormatError(f"PytorchStreamReader failed reading zip archive: {msg}\nWhy: {why}")


def _as_bytes_view(data) -> memoryview:
    """A flat byte view of ``data`` (bytes or a contiguous array), without copying."""
    if isinstance(data, np.ndarray):
        if not data.flags.c_contiguous:
            raise ValueError("zip records are written from contiguous memory")
        return memoryview(data.reshape(-1).view(np.uint8))
    return memoryview(data).cast("B")


class ZipWriter:
    """Write records into ``f`` in PyTorch's layout under the folder ``prefix``.

    >>> import io, zipfile
    >>> buf = io.BytesIO(); w = ZipWriter(buf, "archive"); w.write("version", b"3\\n"); w.close()
    >>> zipfile.ZipFile(buf).read("archive/version")
    b'3\\n'
    """

    def __init__(self, f, prefix: str) -> None:
        self.f = f
        self.prefix = prefix
        self.pos = 0
        self.entries: list[tuple[bytes, int, int, int]] = []  # name, crc, size, header offset

    def _put(self, data) -> None:
        self.f.write(data)
        self.pos += len(data)

    def write(self, name: str, data) -> None:
        """Write one stored record; ``data`` is bytes or a contiguous NumPy array."""
        view = _as_bytes_view(data)
        size = view.nbytes
        raw_name = f"{self.prefix}/{name}".encode()
        offset = self.pos
        zip64 = size >= ZIP64_LIMIT or offset >= ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, 0, 0) if zip64 else b""
        start = offset + _LOCAL.size + len(raw_name) + len(extra) + 4
        pad = -start % ALIGNMENT
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        marker = 0xFFFFFFFF if zip64 else 0
        self._put(_LOCAL.pack(_SIG_LOCAL, 45 if zip64 else 0, _FLAGS, 0, 0, 0, 0, marker, marker,
                              len(raw_name), len(extra)) + raw_name + extra)
        crc = 0
        for i in range(0, size, _CHUNK):
            piece = view[i:i + _CHUNK]
            crc = zlib.crc32(piece, crc)
            self._put(piece)
        if zip64:
            self._put(struct.pack("<IIQQ", _SIG_DESCRIPTOR, crc, size, size))
        else:
            self._put(struct.pack("<IIII", _SIG_DESCRIPTOR, crc, size, size))
        self.entries.append((raw_name, crc, size, offset))

    def close(self) -> None:
        """Write the central directory and the (ZIP64) end records."""
        cd_start = self.pos
        for raw_name, crc, size, offset in self.entries:
            big = [v for v in (size, size, offset) if v >= ZIP64_LIMIT]
            extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
            size32 = 0xFFFFFFFF if size >= ZIP64_LIMIT else size
            off32 = 0xFFFFFFFF if offset >= ZIP64_LIMIT else offset
            self._put(_CENTRAL.pack(_SIG_CENTRAL, 0, 45 if big else 0, _FLAGS, 0, 0, 0, crc,
                                    size32, size32, len(raw_name), len(extra), 0, 0, 0, 0,
                                    off32) + raw_name + extra)
        cd_size = self.pos - cd_start
        n = len(self.entries)
        eocd64 = self.pos
        self._put(_EOCD64.pack(_SIG_EOCD64, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_start))
        self._put(_LOCATOR64.pack(_SIG_LOCATOR64, 0, eocd64, 1))
        self._put(_EOCD.pack(_SIG_EOCD, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                             min(cd_size, 0xFFFFFFFF), min(cd_start, 0xFFFFFFFF), 0))


class Entry:
    """One record of an archive, as its central directory describes it."""

    __slots__ = ("name", "method", "crc", "csize", "size", "header", "flags")

    def __init__(self, name, method, crc, csize, size, header, flags):
        self.name, self.method, self.crc = name, method, crc
        self.csize, self.size, self.header, self.flags = csize, size, header, flags


class ZipReader:
    """Read records of a zip archive from a seekable binary file, checking every bound.

    >>> import io
    >>> buf = io.BytesIO(); w = ZipWriter(buf, "a"); w.write("x", b"hi"); w.close()
    >>> _ = buf.seek(0); r = ZipReader(buf); r.names(), r.read("a/x")
    (['a/x'], b'hi')
    """

    def __init__(self, f) -> None:
        self.f = f
        self.base = f.tell()
        self.size = f.seek(0, 2) - self.base
        self.entries: dict[str, Entry] = {}
        self._data_at: dict[str, int] = {}
        self._read_directory()

    # -- raw access ------------------------------------------------------------------------
    def _pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise _fail("truncated file", f"a read of {n} bytes at offset {offset} runs past the "
                        f"end of the {self.size}-byte archive; the file is cut short or corrupt")
        self.f.seek(self.base + offset)
        data = self.f.read(n)
        if len(data) != n:
            raise _fail("truncated file", "the file ended while a record was being read")
        return data

    def _read_directory(self) -> None:
        tail_len = min(self.size, 0xFFFF + _EOCD.size)
        tail = self._pread(self.size - tail_len, tail_len)
        at = tail.rfind(b"PK\x05\x06")
        # the record is 22 bytes plus a comment that must end exactly at the end of the file
        while at >= 0 and (at + _EOCD.size > tail_len or at + _EOCD.size + struct.unpack_from(
                "<H", tail, at + 20)[0] != tail_len):
            at = tail.rfind(b"PK\x05\x06", 0, at)
        if at < 0:
            raise _fail("failed finding central directory",
                        "a zip archive ends with an end-of-central-directory record and this "
                        "file has none: it is truncated, or not a zip checkpoint at all")
        eocd_pos = self.size - tail_len + at
        _, _, _, _, count, cd_size, cd_start, _ = _EOCD.unpack_from(tail, at)
        end = eocd_pos
        if eocd_pos >= _LOCATOR64.size:
            sig, _, eocd64_pos, _ = _LOCATOR64.unpack(
                self._pread(eocd_pos - _LOCATOR64.size, _LOCATOR64.size))
            if sig == _SIG_LOCATOR64:
                if eocd64_pos + _EOCD64.size > eocd_pos - _LOCATOR64.size:
                    raise _fail("corrupt ZIP64 locator", "it points outside the archive")
                rec = _EOCD64.unpack(self._pread(eocd64_pos, _EOCD64.size))
                if rec[0] != _SIG_EOCD64:
                    raise _fail("corrupt ZIP64 end record", "its signature is wrong")
                count, cd_size, cd_start = rec[7], rec[8], rec[9]
                end = eocd64_pos
        if cd_start + cd_size > end:
            raise _fail("corrupt central directory",
                        f"it claims {cd_size} bytes at offset {cd_start}, beyond the archive's "
                        f"records ({end} bytes)")
        if count * _CENTRAL.size > cd_size:
            raise _fail("corrupt central directory",
                        f"{count} entries cannot fit in {cd_size} bytes")
        self.cd_start = cd_start
        cd = self._pread(cd_start, cd_size)
        pos = 0
        for _ in range(count):
            self._parse_entry(cd, pos)
            pos += _CENTRAL.size + sum(struct.unpack_from("<HHH", cd, pos + 28))

    def _parse_entry(self, cd: bytes, pos: int) -> None:
        if pos + _CENTRAL.size > len(cd):
            raise _fail("corrupt central directory", "an entry runs past its end")
        (sig, _, _, flags, method, _, _, crc, csize, size, n_name, n_extra, n_comment, _, _, _,
         header) = _CENTRAL.unpack_from(cd, pos)
        if sig != _SIG_CENTRAL:
            raise _fail("corrupt central directory", "an entry has a wrong signature")
        start = pos + _CENTRAL.size
        if start + n_name + n_extra + n_comment > len(cd):
            raise _fail("corrupt central directory", "an entry's name runs past its end")
        try:
            name = cd[start:start + n_name].decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("corrupt central directory", "a record name is not UTF-8") from None
        extra = cd[start + n_name:start + n_name + n_extra]
        wide = [v == 0xFFFFFFFF for v in (size, csize, header)]
        if any(wide):
            vals = _zip64_values(extra, sum(wide))
            it = iter(vals)
            size = next(it) if wide[0] else size
            csize = next(it) if wide[1] else csize
            header = next(it) if wide[2] else header
        if flags & 1:
            raise _fail(f"record {name} is encrypted", "PyTorch checkpoints are never encrypted")
        if method not in (0, 8):
            raise _fail(f"record {name} uses compression method {method}",
                        "only stored (0) and deflated (8) records can be read")
        if method == 0 and csize != size:
            raise _fail(f"record {name} has inconsistent sizes",
                        f"a stored record must have equal sizes, got {csize} and {size}")
        if header + _LOCAL.size + csize > self.cd_start:
            raise _fail(f"record {name} points outside the archive",
                        f"its data (offset {header}, {csize} bytes) overlaps the central "
                        "directory or the end of the file")
        if name in self.entries:
            raise _fail(f"duplicate record {name}", "a record name must be unique")
        self.entries[name] = Entry(name, method, crc, csize, size, header, flags)

    # -- records ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Record names in directory order."""
        return list(self.entries)

    def has(self, name: str) -> bool:
        return name in self.entries

    def entry(self, name: str) -> Entry:
        try:
            return self.entries[name]
        except KeyError:
            raise _fail(f"record {name} not found",
                        "the checkpoint refers to a record its archive does not hold; it is "
                        "incomplete or corrupt") from None

    def data_offset(self, name: str) -> int:
        """Offset (from the archive start) of a record's payload, read from its local header."""
        off = self._data_at.get(name)
        if off is None:
            e = self.entry(name)
            sig, *_, n_name, n_extra = _LOCAL.unpack(self._pread(e.header, _LOCAL.size))
            if sig != _SIG_LOCAL:
                raise _fail(f"record {name} has a bad local header",
                            "the central directory points at something that is not a record")
            off = e.header + _LOCAL.size + n_name + n_extra
            if off + e.csize > self.cd_start:
                raise _fail(f"record {name} points outside the archive",
                            "its payload runs into the central directory")
            self._data_at[name] = off
        return off

    def read(self, name: str) -> bytes:
        """A whole record's bytes, CRC-checked (for small records: data.pkl, version...)."""
        out = np.empty(self.entry(name).size, np.uint8)
        self.read_into(name, out)
        return out.tobytes()

    def read_into(self, name: str, out: np.ndarray, check_crc: bool = True) -> None:
        """Fill the contiguous uint8 array ``out`` (exactly the record's size) with its payload."""
        e = self.entry(name)
        if out.nbytes != e.size:
            raise _fail(f"record {name} has {e.size} bytes, {out.nbytes} expected",
                        "the checkpoint's metadata and its data disagree (a lying header)")
        off = self.data_offset(name)
        view = memoryview(out).cast("B")
        crc = 0
        if e.method == 8:
            self._inflate(e, off, view)
            if check_crc:
                for i in range(0, e.size, _CHUNK):
                    crc = zlib.crc32(view[i:i + _CHUNK], crc)
        else:
            self.f.seek(self.base + off)
            got = 0
            readinto = self.f.readinto
            while got < e.size:
                n = readinto(view[got:got + _READ_CHUNK])
                if not n:
                    raise _fail("truncated file", f"record {name} ends early")
                if check_crc:  # while the chunk is still in cache: nearly free
                    crc = zlib.crc32(view[got:got + n], crc)
                got += n
        if check_crc:
            if crc != e.crc:
                raise _fail(f"CRC-32 mismatch in record {name}",
                            "the bytes read are not the bytes written: the file is corrupt "
                            "(PyTorch itself would load these values silently)")

    def _inflate(self, e: Entry, off: int, view: memoryview) -> None:
        if e.size > MAX_INFLATE:
            raise _fail(f"record {e.name} would inflate to {e.size} bytes",
                        f"deflated records are capped at {MAX_INFLATE} bytes (zip-bomb guard); "
                        "PyTorch writes records uncompressed, so re-save the checkpoint")
        d = zlib.decompressobj(-15)
        got = 0
        self.f.seek(self.base + off)
        left = e.csize
        try:
            while left and got <= e.size:
                piece = self.f.read(min(left, _CHUNK))
                if not piece:
                    raise _fail("truncated file", f"record {e.name} ends early")
                left -= len(piece)
                out = d.decompress(piece, e.size - got + 1)
                while True:
                    if got + len(out) > e.size:
                        raise _fail(f"record {e.name} inflates past its declared size",
                                    "the archive lies about the record's size (zip bomb?)")
                    view[got:got + len(out)] = out
                    got += len(out)
                    if not d.unconsumed_tail:
                        break
                    out = d.decompress(d.unconsumed_tail, e.size - got + 1)
        except zlib.error as err:
            raise _fail(f"record {e.name} is not valid deflate data ({err})",
                        "the compressed bytes are corrupt") from None
        if got != e.size:
            raise _fail(f"record {e.name} inflates to {got} bytes, not {e.size}",
                        "the archive lies about the record's size")


def _zip64_values(extra: bytes, n: int) -> tuple[int, ...]:
    pos = 0
    while pos + 4 <= len(extra):
        hid, hlen = struct.unpack_from("<HH", extra, pos)
        if hid == 1:
            if hlen < 8 * n or pos + 4 + 8 * n > len(extra):
                break
            return struct.unpack_from(f"<{n}Q", extra, pos + 4)
        pos += 4 + hlen
    raise _fail("corrupt ZIP64 extra field", "a 64-bit size or offset is missing")

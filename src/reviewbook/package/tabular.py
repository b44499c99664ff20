"""Reading small CSV inputs with precise error reporting (file, line, column).

Used by the ``pool`` command, the data-rows reader and the data package reader.
Nothing read is ever evaluated.  What is accepted, and what each refusal says
(every one an :class:`~reviewbook.errors.InputError` naming the file and, where
there is one, the line and column):

* only a regular file is opened: a folder, named pipe, device or socket is
  refused from its ``stat`` before any read (reading never blocks), and inside a
  package a symbolic link is refused too (``O_NOFOLLOW``); at most
  :data:`~.schema.MAX_FILE_BYTES` bytes are read;
* the text must be UTF-8 (an optional byte-order mark is dropped); a UTF-16 or
  UTF-32 file, a binary file (NUL bytes), a zip or Excel workbook, or text in a
  legacy 8-bit encoding is refused with what it looks like;
* comma-separated values: a file whose header splits on semicolons, tabs or
  bars but not on commas is refused as such; an empty file is refused where a
  table is required;
* each column once (a duplicated header is refused, never "last one wins");
* each cell at most :data:`~.schema.MAX_FIELD_CHARS` characters, and no control
  characters (other than tab and line breaks inside quoted cells) in any cell.
"""
from __future__ import annotations

import csv
import errno
import io
import math
import os
import re
import stat
from pathlib import Path

from ..errors import InputError, Problem
from .schema import MAX_FIELD_CHARS, MAX_FILE_BYTES, MAX_MAGNITUDE, NUMBER_RULE, parse_number

#: C0 control characters other than tab, line feed and carriage return; DEL.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))
_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32 text (byte-order mark 00 00 FE FF)"),
         (b"\xff\xfe\x00\x00", "UTF-32 text (byte-order mark FF FE 00 00)"),
         (b"\xfe\xff", "UTF-16 text (byte-order mark FE FF)"),
         (b"\xff\xfe", "UTF-16 text (byte-order mark FF FE)"))
_MAGIC = ((b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one), not text"),
          (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook (OLE2), not text"),
          (b"%PDF", "a PDF document, not text"))
UTF8_HINT = "a UTF-8 CSV file (in Excel: Save As 'CSV UTF-8')"


def kind_of(mode: int) -> str | None:
    """What a ``stat`` mode is, in words, when it is not a regular file (else None)."""
    if stat.S_ISREG(mode):
        return None
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def size_text(n: int) -> str:
    """Bytes in words: '64 MiB', '1.5 KiB', '12 bytes'."""
    for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def read_bytes(path, expected: str, *, display: str | None = None, follow: bool = True,
               limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``display`` is the name the messages use (default: the file name);
    ``expected`` says what the file should be.  With ``follow`` false (files
    inside a package) a symbolic link is refused instead of followed.  The file
    is checked with ``stat`` before it is opened and with ``fstat`` after
    (opened non-blocking), so a named pipe or device is never read and never
    blocks.  Raises :class:`InputError` naming the file and what it is.
    """
    path = Path(path)
    name = display or path.name

    def refuse(found, exp=expected):
        return InputError([Problem(name, None, None, found, exp)])

    try:
        st = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as exc:
        raise refuse(f"a path that cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    kind = kind_of(st.st_mode)
    if kind == "a symbolic link":
        raise refuse(f"a symbolic link (to '{os.readlink(path)}')",
                     f"{expected}, a regular file inside the package (links are not followed)")
    if kind:
        raise refuse(kind, expected)
    if st.st_size > limit:
        raise refuse(f"a file of {size_text(st.st_size)}", f"{expected} of at most {size_text(limit)}")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refuse("a symbolic link", f"{expected}, a regular file (links are not followed)") from None
        raise refuse(f"a file that cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        kind = kind_of(os.fstat(fd).st_mode)  # the file opened is the file checked
        if kind:
            raise refuse(kind, expected)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise refuse(f"a file of more than {size_text(limit)}", f"{expected} of at most {size_text(limit)}")
    except OSError as exc:
        raise refuse(f"a file that cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode(data: bytes, name: str, expected: str = UTF8_HINT) -> str:
    """``data`` as UTF-8 text (a byte-order mark dropped); :class:`InputError`
    saying what the bytes look like otherwise (UTF-16, binary, a workbook, an
    8-bit encoding), with the line of the first bad byte."""
    for bom, words in _BOMS:
        if data.startswith(bom):
            raise InputError([Problem(name, None, None, words, expected)])
    for magic, words in _MAGIC:
        if data.startswith(magic):
            raise InputError([Problem(name, None, None, words, expected)])
    nul = data.find(b"\0")
    if nul >= 0:
        head = data[:200]
        if head.count(b"\0") * 3 >= len(head) and len(head) >= 2:
            found = "UTF-16 text without a byte-order mark (every other byte is NUL)"
            line = None
        else:
            found = f"binary data (a NUL byte at byte {nul + 1})"
            line = data.count(b"\n", 0, nul) + 1
        raise InputError([Problem(name, line, None, found, expected)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex().upper()
        try:
            data.decode("cp1252")
            like = "; it looks like Windows-1252 or Latin-1 text"
        except UnicodeDecodeError:
            like = ""
        raise InputError([Problem(name, line, None, f"bytes that are not UTF-8 (byte 0x{bad} at byte "
                                  f"{exc.start + 1}{like})", expected)]) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_utf8(path, expected: str, *, display: str | None = None, follow: bool = True) -> str:
    """The text of a UTF-8 regular file; :class:`InputError` naming the file
    (missing, not a regular file, too large, unreadable or not UTF-8) otherwise.
    ``expected`` says what the file should be."""
    name = display or Path(path).name
    return decode(read_bytes(path, expected, display=name, follow=follow), name)


def _delimiter(first_line: str) -> str | None:
    """The delimiter a one-column header line splits on instead of commas, if any."""
    for delim, words in ((";", "semicolons (';')"), ("\t", "tabs"), ("|", "bars ('|')")):
        try:
            fields = next(csv.reader([first_line], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        if len(fields) >= 2:
            return words
    return None


#: Characters a message shows as escapes: controls, invisible format characters
#: (byte-order mark, zero-width characters, bidirectional controls), line and
#: paragraph separators and spaces other than U+0020.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f"
                       "\u3000\ufeff\ufff9-\ufffb]")


def _shown(text: str, width: int = 40) -> str:
    """A cell as shown in a message: control and invisible characters as escapes
    (``\\ufeff``), long text cut."""
    s = INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii")
                      if m.group() < "\x80" else f"\\u{ord(m.group()):04x}", text)
    return s if len(s) <= width else s[: width - 3] + "..."


def invisible_note(text: str) -> str:
    """' (it holds ...)' naming the first invisible character of ``text``, else ''."""
    import unicodedata

    m = INVISIBLE.search(text)
    if m is None or m.group() in "\t":
        return ""
    ch = m.group()
    what = unicodedata.name(ch, "") or "a control character"
    if ch == "\ufeff":
        what = "a byte-order mark, ZERO WIDTH NO-BREAK SPACE"
    return f" (it holds {what}, U+{ord(ch):04X}, at character {m.start() + 1}, which is invisible)"


def read_csv_text(text: str, name: str, *, allow_empty: bool = False):
    """Parse CSV ``text``; returns ``(header, rows)`` with ``rows`` as list of
    ``(line_number, dict)`` (header is line 1; blank lines skipped).

    Raises :class:`InputError`, with every problem, for: an empty file (unless
    ``allow_empty``; then ``([], [])``), a header that splits on another
    delimiter but not on commas, a column named twice, a cell longer than
    :data:`~.schema.MAX_FIELD_CHARS` characters, or a control character in a
    cell.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        if allow_empty:
            return [], []
        raise InputError([Problem(name, None, None, "an empty file" if not text else "a file of blank lines",
                                  "a CSV table: a header line of column names, then one line per row")])
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    rows = []
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        header = [h.strip() for h in next(reader)]
        if len(header) == 1:
            words = _delimiter(text.splitlines()[0])
            if words:
                raise InputError([Problem(name, 1, None, f"a header delimited by {words}, not commas",
                                          "comma-separated values (a header such as 'study,n1,mean1,...')")])
        seen: dict[str, list[int]] = {}
        for i, h in enumerate(header, start=1):
            if h:
                seen.setdefault(h, []).append(i)
        for h, where in seen.items():
            if len(where) > 1:
                problems.append(Problem(name, 1, h, f"the column '{_shown(h)}' {len(where)} times (columns "
                                        + ", ".join(map(str, where)) + ")",
                                        "each column once (which one to read would be a guess)"))
        controls = CONTROL.search(text) is not None  # cells are searched only when the text has one
        for h in header if controls else ():
            if CONTROL.search(h):
                problems.append(Problem(name, 1, _shown(h), "a control character in a column name",
                                        "column names without control characters"))
        for values in reader:
            line = reader.line_num
            for i, v in enumerate(values if controls else ()):
                if CONTROL.search(v):
                    col = header[i] if i < len(header) else f"column {i + 1}"
                    problems.append(Problem(name, line, _shown(col), f"a control character in '{_shown(v)}'",
                                            "text without control characters"))
            if not any(v.strip() for v in values):
                continue
            values = values + [""] * (len(header) - len(values))
            rows.append((line, dict(zip(header, values))))
    except csv.Error as exc:
        line = reader.line_num or 1
        if "field larger than field limit" in str(exc):
            problems.append(Problem(name, line, None, f"a cell longer than {MAX_FIELD_CHARS:,} characters",
                                    f"cells of at most {MAX_FIELD_CHARS:,} characters"))
        else:
            problems.append(Problem(name, line, None, f"text that is not CSV ({exc})", "comma-separated values"))
    finally:
        csv.field_size_limit(old_limit)
    if problems:
        raise InputError(problems)
    return header, rows


def read_csv(path, name: str | None = None, *, follow: bool = True):
    """Read a CSV file with every check of :func:`read_bytes`, :func:`decode` and
    :func:`read_csv_text`; an empty file is refused."""
    path = Path(path)
    name = name or path.name
    text = read_utf8(path, "a CSV file", display=name, follow=follow)
    return read_csv_text(text, name, allow_empty=False)


class Cells:
    """Typed access to the cells of one CSV row, collecting problems."""

    def __init__(self, file: str, line: int, row: dict, problems: list):
        self.file, self.line, self.row, self.problems = file, line, row, problems

    def problem(self, column, found, expected, severity="error"):
        self.problems.append(Problem(self.file, self.line, column, found, expected, severity))

    def text(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    def number(self, column: str, *, required=True, integer=False, minimum=None,
               strict_minimum=False, blank_as=None, maximum=MAX_MAGNITUDE, smallest_positive=None):
        """The cell as a float, or ``blank_as`` / None with the problem recorded.

        Every number must be finite and at most ``maximum`` in absolute value
        (:data:`~.schema.MAX_MAGNITUDE` unless stated); ``integer``: a whole
        number; ``minimum`` (``strict_minimum``: exclusive); ``smallest_positive``:
        a positive value at least this large."""
        raw = self.text(column)
        if raw == "":
            if required:
                self.problem(column, "an empty cell", "a number")
            return blank_as
        value = parse_number(raw)
        if value is None:
            self.problem(column, f"'{_shown(raw)}'{invisible_note(raw)}", NUMBER_RULE)
            return None
        if not math.isfinite(value):
            self.problem(column, f"'{_shown(raw)}'", "a finite number")
            return None
        if abs(value) > maximum:
            self.problem(column, f"'{_shown(raw)}'", f"a number of at most {maximum:g} in absolute value")
            return None
        if integer and value != int(value):
            self.problem(column, f"'{raw}'", "a whole number")
            return None
        if minimum is not None and (value <= minimum if strict_minimum else value < minimum):
            op = ">" if strict_minimum else ">="
            self.problem(column, f"'{raw}'", f"a number {op} {minimum:g}")
            return None
        if smallest_positive is not None and 0 < value < smallest_positive:
            self.problem(column, f"'{raw}'", f"a number >= {smallest_positive:g} (smaller ones make the "
                         "inverse-variance weights overflow)")
            return None
        return value

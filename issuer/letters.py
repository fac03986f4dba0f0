"""Printable letters: one A4 page per credential, in one PDF written as it is produced.

A bulk run may print a million letters, so the PDF is never held in memory. :class:`PdfWriter`
writes each object as soon as it is made (PDF 1.4, the standard Helvetica and Courier fonts,
nothing embedded) and keeps only what the cross-reference table needs, in a temporary side
file of 20 bytes per object. Pages hang from a two-level page tree (a node per thousand pages),
so the tree is balanced and the writer never holds more than a thousand page numbers. The
file appears under its name only when complete (temporary file, fsync, rename).

The QR code is drawn as vector rectangles from the module matrix, one per run of dark modules,
filled as one path: sharp at any printer resolution, with no seams between modules.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final

from issuer.render import QrSymbol
from verifier import errors

#: A4 in points.
PAGE_WIDTH: Final = 595.28
PAGE_HEIGHT: Final = 841.89
#: Side of the QR code with its 4-module quiet zone: 100 mm.
QR_SIDE: Final = 100 / 25.4 * 72
QUIET_ZONE_MODULES: Final = 4

_MARGIN: Final = 20 / 25.4 * 72
_TEXT_WIDTH: Final = PAGE_WIDTH - 2 * _MARGIN
_PAGES_PER_NODE: Final = 1000
_XREF_ENTRY: Final = 20
_HEADER: Final = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
_CATALOG: Final = 1
_ROOT_PAGES: Final = 2
_FIRST_FREE: Final = 7
#: Objects every page shares: the three fonts, and a resource dictionary naming them.
_SHARED_OBJECTS: Final = (
    (3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
    (4, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"),
    (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"),
    (6, b"<< /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >>"),
)
_RESOURCES: Final = 6
_REGULAR: Final = "F1"
_BOLD: Final = "F2"
_MONO: Final = "F3"

# Helvetica advance widths (Adobe's AFM, in 1/1000 em) for wrapping text; other characters
# count as 0.556 em. Bold runs about 5 % wider.
_WIDTHS: Final = {
    **dict.fromkeys(" !,./:;I[]fijlt|", 278),
    **dict.fromkeys("ijl", 222),
    **dict.fromkeys("'", 191),
    **dict.fromkeys("-()r`", 333),
    **dict.fromkeys("ckszxyvJ", 500),
    **dict.fromkeys("ABEKPSVXY&", 667),
    **dict.fromkeys("CDHNRUw", 722),
    **dict.fromkeys("GOQ", 778),
    **dict.fromkeys("FTZ", 611),
    **dict.fromkeys("L", 556),
    **dict.fromkeys("mM", 833),
    **dict.fromkeys("W", 944),
    **dict.fromkeys("%", 889),
    **dict.fromkeys("@", 1015),
}
_DEFAULT_WIDTH: Final = 556
_BOLD_FACTOR: Final = 1.05

_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
HOW_TO_USE: Final = (
    "Show this page at the benefit office, printed or on a phone screen. A clear photo of "
    "the code works too.",
    "The code holds no personal data: no name, no address, no ID number. It says only that "
    "its holder qualifies for the benefit above until the date above, signed by the issuing "
    "office.",
    "Keep this page private anyway: whoever shows it can claim the benefit. Do not post it "
    "or share a photo of it.",
    "Lost it, or has your situation changed? Contact the issuing office: this code can be "
    "withdrawn and a new one issued.",
)


class PdfWriter:
    """A PDF written page by page to ``path``, which appears only when :meth:`close` ends.

    Use as a context manager: leaving it normally closes the file, an exception discards it.
    """

    def __init__(self, path: Path, *, title: str = "plainclaim letters") -> None:
        """Open a temporary file next to ``path``; nothing is written under ``path`` yet."""
        self._path = path
        self._title = title
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self._temp = Path(temp)
        self._out: BinaryIO = os.fdopen(fd, "wb", buffering=1 << 16)
        # Entry n of the cross-reference table is at byte 20 * n of this file, in any order.
        self._xref: BinaryIO = tempfile.TemporaryFile(dir=path.parent)  # noqa: SIM115
        self._position = 0
        self._next_object = _FIRST_FREE
        self._pages = 0
        self._nodes: list[int] = []
        self._node_kids: list[int] = []
        self._closed = False
        self._emit(_HEADER)
        for number, body in _SHARED_OBJECTS:
            self._object(number, body)

    @property
    def page_count(self) -> int:
        """Pages added so far."""
        return self._pages

    def __enter__(self) -> PdfWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add_page(self, content: bytes) -> None:
        """Add an A4 page drawn by the content stream ``content`` (fonts F1, F2, F3)."""
        if self._closed:
            raise errors.UsageError("the PDF is closed")
        if self._pages % _PAGES_PER_NODE == 0:
            self._finish_node()
            self._nodes.append(self._allocate())
        compressed = zlib.compress(content, 6)
        content_number = self._allocate()
        self._object(
            content_number,
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(compressed)
            + compressed
            + b"\nendstream",
        )
        page_number = self._allocate()
        self._object(
            page_number,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources %d 0 R "
            b"/Contents %d 0 R >>"
            % (self._nodes[-1], PAGE_WIDTH, PAGE_HEIGHT, _RESOURCES, content_number),
        )
        self._node_kids.append(page_number)
        self._pages += 1

    def close(self) -> None:
        """Write the page tree, catalog and cross-reference table; put the file in place."""
        if self._closed:
            return
        if not self._pages:
            self.abort()
            raise errors.UsageError("a PDF needs at least one page")
        self._finish_node()
        kids = b" ".join(b"%d 0 R" % node for node in self._nodes)
        self._object(_ROOT_PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, self._pages))
        info = self._allocate()
        self._object(info, b"<< /Producer (plainclaim) /Title %s >>" % pdf_string(self._title))
        self._object(_CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % _ROOT_PAGES)
        xref_at = self._position
        self._emit(b"xref\n0 %d\n" % self._next_object)
        self._xref.seek(0)
        self._xref.write(b"0000000000 65535 f \n")
        self._xref.seek(0)
        self._out.flush()
        shutil.copyfileobj(self._xref, self._out)
        self._position += self._next_object * _XREF_ENTRY
        self._emit(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (self._next_object, _CATALOG, info, xref_at)
        )
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        self._xref.close()
        os.replace(self._temp, self._path)
        self._closed = True
        dir_fd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def abort(self) -> None:
        """Discard the unfinished file."""
        if self._closed:
            return
        self._closed = True
        self._out.close()
        self._xref.close()
        self._temp.unlink(missing_ok=True)

    def _allocate(self) -> int:
        number = self._next_object
        self._next_object += 1
        return number

    def _finish_node(self) -> None:
        if not self._node_kids:
            return
        kids = b" ".join(b"%d 0 R" % kid for kid in self._node_kids)
        self._object(
            self._nodes[-1],
            b"<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>"
            % (_ROOT_PAGES, kids, len(self._node_kids)),
        )
        self._node_kids = []

    def _object(self, number: int, body: bytes) -> None:
        self._xref.seek(number * _XREF_ENTRY)
        self._xref.write(b"%010d 00000 n \n" % self._position)
        self._emit(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)


def pdf_string(text: str) -> bytes:
    """``text`` as a PDF literal string in WinAnsiEncoding; other characters become ``?``."""
    raw = text.encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    # Octal escapes for everything outside printable ASCII keep the file's text parts ASCII.
    return b"(" + re.sub(rb"[^\x20-\x7e]", lambda m: b"\\%03o" % m.group()[0], escaped) + b")"


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Approximate width of ``text`` in Helvetica at ``size`` points."""
    units = sum(_WIDTHS.get(char, _DEFAULT_WIDTH) for char in text)
    return units * size / 1000 * (_BOLD_FACTOR if bold else 1)


@functools.lru_cache(maxsize=256)
def wrap(text: str, size: float, width: float, *, bold: bool = False) -> tuple[str, ...]:
    """Break ``text`` into lines no wider than ``width`` (a longer word gets a line alone).

    Cached: a run wraps the same instructions, office name and benefit names on every page.
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and text_width(candidate, size, bold=bold) > width:
            lines.append(line)
            candidate = word
        line = candidate
    if line:
        lines.append(line)
    return tuple(lines)


def long_date(day: date) -> str:
    """``30 April 2027``: no day-month order to misread."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class Letter:
    """What one letter shows. It names no person: the credential carries no personal data."""

    issuer_name: str
    benefit_name: str
    #: Last day of validity, and the first when later than the letter's date (else None).
    valid_until: date
    valid_from: date | None
    #: The zone the dates are read in, e.g. Europe/Tallinn.
    timezone: str
    credential_id: str
    case_ref: str | None
    qr: QrSymbol


class _Page:
    """A content stream being built, top to bottom."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.y = PAGE_HEIGHT - _MARGIN

    def text(
        self, text: str, size: float, *, font: str = _REGULAR, x: float = _MARGIN, gap: float = 0.4
    ) -> None:
        self.y -= size
        self.parts.append(
            b"BT /%s %.1f Tf %.2f %.2f Td %s Tj ET\n"
            % (font.encode(), size, x, self.y, pdf_string(text))
        )
        self.y -= size * gap

    def paragraph(self, text: str, size: float, *, font: str = _REGULAR, max_lines: int) -> None:
        lines = wrap(text, size, _TEXT_WIDTH, bold=font == _BOLD)
        if len(lines) > max_lines:
            lines = (*lines[: max_lines - 1], lines[max_lines - 1][:60] + "...")
        for line in lines:
            self.text(line, size, font=font, gap=0.25)
        self.y -= size * 0.2

    def bullet(self, text: str, size: float) -> None:
        indent = size * 1.2
        for number, line in enumerate(wrap(text, size, _TEXT_WIDTH - indent)):
            if number == 0:
                self.parts.append(
                    b"BT /%s %.1f Tf %.2f %.2f Td (-) Tj ET\n"
                    % (_REGULAR.encode(), size, _MARGIN, self.y - size)
                )
            self.text(line, size, x=_MARGIN + indent, gap=0.3)
        self.y -= size * 0.5

    def rule(self) -> None:
        self.parts.append(
            b"0.6 G 0.5 w %.2f %.2f m %.2f %.2f l S 0 G\n"
            % (_MARGIN, self.y, PAGE_WIDTH - _MARGIN, self.y)
        )

    def qr(self, symbol: QrSymbol) -> None:
        module = QR_SIDE / (symbol.size + 2 * QUIET_ZONE_MODULES)
        left = (PAGE_WIDTH - QR_SIDE) / 2 + QUIET_ZONE_MODULES * module
        top = self.y - QUIET_ZONE_MODULES * module
        self.parts.append(qr_path(symbol, module, left, top))
        self.y -= QR_SIDE

    def centred_mono(self, text: str, size: float) -> None:
        # Courier's every character is 0.6 em wide, so centring is exact.
        x = (PAGE_WIDTH - len(text) * 0.6 * size) / 2
        self.text(text, size, font=_MONO, x=x)


def qr_path(symbol: QrSymbol, module: float, left: float, top: float) -> bytes:
    """The dark modules of ``symbol`` as one filled path, ``module`` points a module.

    The coordinate system is scaled to modules with y pointing down from ``(left, top)``, so
    each run of dark modules in a row is one ``x y w 1 re`` in whole numbers.
    """
    size = symbol.size
    flat = format(symbol.bits, f"0{size * size}b")[::-1]  # bit row * size + col, row-major
    runs = []
    for row in range(size):
        column = 0
        # Splitting a row at its light modules leaves the dark runs (and empty strings).
        for run in flat[row * size : (row + 1) * size].split("0"):
            if run:
                runs.append(f"{column} {row} {len(run)} 1 re")
            column += len(run) + 1
    return (
        b"q %.4f 0 0 %.4f %.4f %.4f cm 0 g\n" % (module, -module, left, top)
        + "\n".join(runs).encode("ascii")
        + b"\nf Q\n"
    )


def letter_content(letter: Letter) -> bytes:
    """The content stream of one letter's page."""
    page = _Page()
    page.paragraph(letter.issuer_name, 16, font=_BOLD, max_lines=2)
    page.text("Benefit credential", 11)
    page.rule()
    page.y -= 18
    page.paragraph(letter.benefit_name, 22 if len(letter.benefit_name) <= 36 else 16,
                   font=_BOLD, max_lines=3)  # fmt: skip
    until = long_date(letter.valid_until)
    if letter.valid_from is None:
        validity = f"Valid until {until} (inclusive)"
    else:
        validity = f"Valid from {long_date(letter.valid_from)} until {until} (inclusive)"
    page.text(validity, 13)
    page.text(f"Dates are calendar days in the {letter.timezone} time zone.", 9, gap=1.2)
    page.qr(letter.qr)
    page.y -= 6
    page.centred_mono(f"Credential ID  {letter.credential_id}", 11)
    page.y -= 16
    page.text("How to use this letter", 12, font=_BOLD)
    for item in HOW_TO_USE:
        page.bullet(item, 10.5)
    page.y = _MARGIN + 8
    footer = f"Issued by {letter.issuer_name}"
    if letter.case_ref is not None:
        footer += f"  |  Office reference {letter.case_ref}"
    page.parts.append(b"0.35 g\n")
    page.text(footer[:150], 8)
    return b"".join(page.parts)


class LetterPdf:
    """A PDF of letters, one page each, written as they come (see :class:`PdfWriter`)."""

    def __init__(self, path: Path) -> None:
        """Start the PDF at ``path`` (it appears there when closed)."""
        try:
            self._writer = PdfWriter(path, title="Benefit credentials")
        except OSError as exc:
            raise errors.UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.path = path

    def add(self, letter: Letter) -> None:
        """Append one letter."""
        self._writer.add_page(letter_content(letter))

    def close(self) -> None:
        """Finish the PDF and put it in place."""
        self._writer.close()

    def abort(self) -> None:
        """Discard the unfinished PDF."""
        with contextlib.suppress(OSError):
            self._writer.abort()

"""Bulk issuance: one credential per row of a CSV file, as PNG files or one PDF of letters.

The CSV has a header row naming the columns ``case_ref``, ``benefit``, ``valid_until`` and,
optionally, ``valid_from`` (dates as YYYY-MM-DD; an empty ``case_ref`` or ``valid_from`` is
allowed). Any other column is refused: a name or an address column has no business in a file
that feeds the registry.

* **All or nothing up front.** A first pass reads the whole file and checks every row against
  the issuer's settings; if any row is bad, nothing is issued and the error names the rows
  (row numbers are the file's line numbers, the header being row 1). The second pass issues.
* **Streaming.** Both passes read the file row by row; the second issues ``batch_size`` rows
  per registry transaction and writes each output as soon as its batch is committed. Nothing
  grows with the number of rows: memory is the same for a thousand rows or a million.
* **Safe to run again.** Each row's request id is derived from a namespace (``--batch-id``, or
  the CSV's absolute path), its row number and its content. Running the same file again after
  a crash returns the credentials already issued (counted as replayed, and written out again)
  and issues the rest: no row is ever issued twice.

Credentials without ``valid_from`` are valid from the start of the run (``now``); a second
run keeps the start of the first one for the rows that run issued.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final, Protocol, TextIO

from issuer.errors import IssuerError, RequestConflict, RequestInvalid
from issuer.issuance import credential_signer, open_registry, validity_window
from issuer.issuer_dir import IssuerConfig, IssuerDir, load_zone
from issuer.letters import Letter, LetterPdf
from issuer.registry import IssuedRecord, IssueRequest, Registry, Signer
from issuer.render import ErrorCorrection, qr_matrix, render_png
from verifier import errors
from verifier.clock import aware_now
from verifier.qrtext import encode_qr_text

REQUIRED_COLUMNS: Final = ("case_ref", "benefit", "valid_until")
OPTIONAL_COLUMNS: Final = ("valid_from",)
DEFAULT_BATCH_SIZE: Final = 200
#: A batch is signed inside the registry's issuance lock; other issuers wait that long.
MAX_BATCH_SIZE: Final = 5000
#: Bad rows listed in the error; the rest are counted.
MAX_REPORTED_ROWS: Final = 20
REQUEST_ID_PREFIX: Final = "csv:"

_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSAFE_FILENAME_CHARS: Final = re.compile(r"[^A-Za-z0-9._-]")


class CsvRejected(RequestInvalid):
    """The CSV file, or rows of it, cannot be issued; nothing was issued from it."""

    reason = "csv_rejected"


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row, its fields checked for form (not yet against the issuer's settings)."""

    #: The row's line number in the file; the header is row 1.
    number: int
    case_ref: str | None
    benefit: str
    valid_until: date
    valid_from: date | None


@dataclass(frozen=True, slots=True)
class BulkReport:
    """What a bulk run did."""

    rows: int
    issued: int
    #: Rows issued by an earlier run of the same file: the stored credential, written again.
    replayed: int
    output: Path
    seconds: float


class LetterSink(Protocol):
    """Where a run writes each credential: a directory of PNGs or one PDF."""

    def write(self, row: CsvRow, record: IssuedRecord) -> None:
        """Write the credential issued for ``row``."""
        ...

    def close(self) -> None:
        """Finish: every credential has been written."""
        ...

    def abort(self) -> None:
        """Stop after a failure; keep what is complete."""
        ...


@dataclass(frozen=True, slots=True)
class PngOutput:
    """One PNG per credential in ``directory``, named by row number and case reference."""

    directory: Path
    ecc: ErrorCorrection = ErrorCorrection.M

    def open(self, config: IssuerConfig) -> LetterSink:
        """Create the directory if needed and check that it takes files."""
        del config  # a PNG shows the code alone
        return _PngDirectory(self.directory, self.ecc)


@dataclass(frozen=True, slots=True)
class PdfOutput:
    """One PDF at ``path`` with one A4 letter per credential."""

    path: Path
    ecc: ErrorCorrection = ErrorCorrection.M

    def open(self, config: IssuerConfig) -> LetterSink:
        """Start the PDF (under a temporary name until the run completes)."""
        return _PdfLetters(self.path, self.ecc, config)


def png_name(row: CsvRow) -> str:
    """``0000042-CASE-7.png``: unique by row number, findable by case reference."""
    if row.case_ref is None:
        return f"{row.number:07d}.png"
    return f"{row.number:07d}-{_UNSAFE_FILENAME_CHARS.sub('_', row.case_ref)}.png"


def request_id(namespace: str, row: CsvRow) -> str:
    """The request id of ``row``: the same for the same namespace, row number and content."""
    canonical = json.dumps(
        [
            namespace,
            row.number,
            row.case_ref,
            row.benefit,
            row.valid_until.isoformat(),
            None if row.valid_from is None else row.valid_from.isoformat(),
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return REQUEST_ID_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def default_namespace(csv_path: Path) -> str:
    """The namespace of a run without ``--batch-id``: the CSV file's absolute path."""
    return f"file:{csv_path.resolve()}"


def read_csv(path: Path) -> Iterator[CsvRow | tuple[int, str]]:
    """The rows of ``path`` in order: a :class:`CsvRow`, or ``(row number, problem)``.

    :raises CsvRejected: for a file that cannot be read, or a header that is not right.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CsvRejected(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise CsvRejected(f"{path} is empty; it needs a header row")
            columns = _columns(header)
            for fields in reader:
                if not fields:
                    continue  # a blank line
                yield _row(reader.line_num, fields, columns)
        except csv.Error as exc:
            raise CsvRejected(f"{path} row {reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise CsvRejected(
                f"{path} is not UTF-8 text (after row {reader.line_num}); save it as CSV UTF-8"
            ) from None


def issue_bulk(
    issuer: IssuerDir,
    csv_path: Path,
    output: PngOutput | PdfOutput,
    *,
    namespace: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: str = "cli",
    now: datetime | None = None,
    progress: Progress | None = None,
) -> BulkReport:
    """Issue a credential for every row of ``csv_path`` and write each to ``output``.

    :raises CsvRejected: the file or some of its rows are bad; nothing was issued.
    :raises RequestConflict: a row's request id was issued with other parameters (the same
        ``--batch-id`` reused for another file); the rows before it were issued.
    """
    started = time.monotonic()
    moment = aware_now(now)
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise errors.UsageError(f"the batch size must be 1 to {MAX_BATCH_SIZE}")
    config = issuer.config
    run = _Run(config, namespace or default_namespace(csv_path), actor, moment)
    total = run.check(csv_path)
    sign = credential_signer(issuer)
    sink = output.open(config)
    issued = replayed = 0
    if progress is not None:
        progress.start(total)
    try:
        with open_registry(issuer) as registry:
            for batch in run.batches(csv_path, batch_size):
                for row, record in zip(batch, run.issue(registry, batch, sign), strict=True):
                    sink.write(row, record)
                    if record.replayed:
                        replayed += 1
                    else:
                        issued += 1
                if progress is not None:
                    progress.update(issued + replayed, replayed)
        sink.close()
    except BaseException:
        sink.abort()
        raise
    finally:
        if progress is not None:
            progress.finish()
    target = output.directory if isinstance(output, PngOutput) else output.path
    return BulkReport(total, issued, replayed, target, time.monotonic() - started)


class _Run:
    """The settings one run applies to every row."""

    def __init__(self, config: IssuerConfig, namespace: str, actor: str, now: datetime) -> None:
        self.config = config
        self.namespace = namespace
        self.actor = actor
        self.now = now
        self.now_seconds = int(now.timestamp())

    def request(self, row: CsvRow) -> IssueRequest:
        """The registry request for ``row``; raises an issuer error for a row it refuses."""
        not_before, expires = validity_window(
            self.config, row.benefit, row.valid_until, valid_from=row.valid_from, now=self.now
        )
        return IssueRequest(
            request_id=request_id(self.namespace, row),
            benefit=row.benefit,
            not_before=not_before,
            expires=expires,
            case_ref=row.case_ref,
            issued_by=self.actor,
        )

    def check(self, csv_path: Path) -> int:
        """Check every row; return how many there are, or refuse the file naming bad rows."""
        rows = 0
        problems: list[str] = []
        bad = 0
        for item in read_csv(csv_path):
            problem = item[1] if isinstance(item, tuple) else self._problem(item)
            if problem is None:
                rows += 1
                continue
            bad += 1
            if len(problems) < MAX_REPORTED_ROWS:
                number = item[0] if isinstance(item, tuple) else item.number
                problems.append(f"row {number}: {problem}")
        if bad:
            more = f"\n  ... and {bad - len(problems)} more" if bad > len(problems) else ""
            raise CsvRejected(
                f"{csv_path}: {bad} bad row(s); nothing was issued. Fix them and run again:\n  "
                + "\n  ".join(problems)
                + more
            )
        if not rows:
            raise CsvRejected(f"{csv_path} has no rows to issue")
        return rows

    def _problem(self, row: CsvRow) -> str | None:
        try:
            self.request(row)
        except IssuerError as exc:
            return exc.detail or exc.reason
        return None

    def batches(self, csv_path: Path, size: int) -> Iterator[list[CsvRow]]:
        """The rows again, ``size`` at a time (the file was checked: every item is a row)."""
        batch: list[CsvRow] = []
        for item in read_csv(csv_path):
            if isinstance(item, tuple):
                raise CsvRejected(f"{csv_path} changed while being issued: row {item[0]}")
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def issue(self, registry: Registry, rows: list[CsvRow], sign: Signer) -> list[IssuedRecord]:
        """Issue one batch; rows an earlier run issued come back as replayed records."""
        requests = []
        for row in rows:
            try:
                requests.append(self.request(row))
            except IssuerError as exc:  # checked in the first pass: the file changed since
                raise CsvRejected(
                    f"row {row.number}: {exc.detail or exc.reason} (the file changed while "
                    "being issued; the rows before it were issued)"
                ) from None
        try:
            return registry.issue_batch(requests, sign)
        except RequestConflict:
            pass
        # A row issued by an earlier run without valid_from was valid from that run's start,
        # not this one's: ask for that credential again, as it was.
        earlier_requests = [self._as_issued_before(registry, request) for request in requests]
        try:
            return registry.issue_batch(earlier_requests, sign)
        except RequestConflict as exc:
            row = rows[[r.request_id for r in requests].index(exc.request_id)]
            raise RequestConflict(
                f"row {row.number} was issued before with other parameters, as credential "
                f"{exc.credential_id} (another file with the same --batch-id, or changed "
                "issuer settings); the rows before it were issued",
                request_id=exc.request_id,
                credential_id=exc.credential_id,
            ) from None

    def _as_issued_before(self, registry: Registry, request: IssueRequest) -> IssueRequest:
        if request.not_before != self.now_seconds:
            return request
        earlier = registry.find_by_request(request.request_id)
        if earlier is None or earlier.not_before > request.not_before:
            return request
        return dataclasses.replace(request, not_before=earlier.not_before)


def _columns(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise CsvRejected(
            f"unknown column(s) {unknown}: the header must be {','.join(REQUIRED_COLUMNS)}"
            f"[,{','.join(OPTIONAL_COLUMNS)}] (never names or other personal data)"
        )
    if len(set(names)) != len(names):
        raise CsvRejected(f"a column is named twice in the header {names}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise CsvRejected(f"the header lacks the column(s) {missing}")
    return {name: position for position, name in enumerate(names)}


def _row(number: int, fields: list[str], columns: dict[str, int]) -> CsvRow | tuple[int, str]:
    if len(fields) != len(columns):
        return number, f"{len(fields)} fields, the header has {len(columns)}"
    values = {name: fields[position].strip() for name, position in columns.items()}
    valid_until = _date(values["valid_until"])
    if valid_until is None:
        return number, f"valid_until {values['valid_until']!r} is not a date YYYY-MM-DD"
    valid_from = None
    if values.get("valid_from"):
        valid_from = _date(values["valid_from"])
        if valid_from is None:
            return number, f"valid_from {values['valid_from']!r} is not a date YYYY-MM-DD"
    if not values["benefit"]:
        return number, "benefit is empty"
    return CsvRow(number, values["case_ref"] or None, values["benefit"], valid_until, valid_from)


def _date(text: str) -> date | None:
    # date.fromisoformat alone also takes 20270430 and 2027-W17-5.
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class _PngDirectory:
    def __init__(self, directory: Path, ecc: ErrorCorrection) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".plainclaim-write-test.tmp"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise errors.UsageError(f"cannot write into {directory}: {exc.strerror}") from None
        self._directory = directory
        self._ecc = ecc

    def write(self, row: CsvRow, record: IssuedRecord) -> None:
        target = self._directory / png_name(row)
        # A fixed temporary name: what a killed run left is overwritten when the file is
        # written again, and a reader never sees half a PNG under the real name.
        temp = self._directory / f".{target.name}.tmp"
        try:
            temp.write_bytes(render_png(encode_qr_text(record.token), ecc=self._ecc))
            os.replace(temp, target)
        except OSError as exc:
            raise errors.UsageError(f"cannot write {target}: {exc.strerror}") from None

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _PdfLetters:
    def __init__(self, path: Path, ecc: ErrorCorrection, config: IssuerConfig) -> None:
        if not path.parent.is_dir():
            raise errors.UsageError(f"--pdf {path}: directory {path.parent} does not exist")
        _remove_leftovers(path)
        self._pdf = LetterPdf(path)
        self._ecc = ecc
        self._config = config
        self._zone = load_zone(config.timezone)

    def write(self, row: CsvRow, record: IssuedRecord) -> None:
        del row  # the letter shows what the registry holds
        zone = self._zone
        first_day = datetime.fromtimestamp(record.not_before, zone).date()
        issued_day = datetime.fromtimestamp(record.issued_at, zone).date()
        self._pdf.add(
            Letter(
                issuer_name=self._config.name,
                benefit_name=self._config.benefit_name(record.benefit),
                # exp is the first second after the last valid day.
                valid_until=datetime.fromtimestamp(record.expires - 1, zone).date(),
                valid_from=first_day if first_day > issued_day else None,
                timezone=zone.key,
                credential_id=record.credential_id,
                case_ref=record.case_ref,
                qr=qr_matrix(encode_qr_text(record.token), self._ecc),
            )
        )

    def close(self) -> None:
        self._pdf.close()

    def abort(self) -> None:
        self._pdf.abort()


def _remove_leftovers(path: Path) -> None:
    """Temporary files of ``path`` that a killed run left behind."""
    prefix = f".{path.name}."
    for entry in os.scandir(path.parent):
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            Path(entry.path).unlink(missing_ok=True)


class Progress:
    """Progress on stderr: a bar redrawn in place on a terminal, else a line now and then."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``interval`` is the seconds between lines (default 0.2 on a terminal, else 10)."""
        self._stream = sys.stderr if stream is None else stream
        self._tty = self._stream.isatty()
        self._interval = interval if interval is not None else 0.2 if self._tty else 10.0
        self._clock = clock
        self._total = 1
        self._started = self._last = clock()
        self._done = self._replayed = 0

    def start(self, total: int) -> None:
        """Issuing begins: ``total`` rows to go."""
        self._total = max(total, 1)
        self._started = self._last = self._clock()

    def update(self, done: int, replayed: int) -> None:
        """``done`` rows are written, ``replayed`` of them issued by an earlier run."""
        self._done, self._replayed = done, replayed
        if self._clock() - self._last >= self._interval:
            self._show()

    def finish(self) -> None:
        """Show the final state and end the line."""
        self._show()
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()

    def _show(self) -> None:
        now = self._clock()
        self._last = now
        rate = self._done / max(now - self._started, 1e-9)
        left = (self._total - self._done) / rate if rate else 0.0
        share = self._done / self._total
        text = (
            f"{self._done}/{self._total} rows ({share:.0%}), {rate:.0f}/s, "
            f"{self._replayed} replayed, {_duration(left)} left"
        )
        if self._tty:
            bar = "#" * int(share * 30)
            self._stream.write(f"\r[{bar:<30}] {text}\x1b[K")
        else:
            self._stream.write(f"issue-bulk: {text}\n")
        self._stream.flush()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"

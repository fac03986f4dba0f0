"""Bulk issuance from CSV: PNG files, a PDF of letters, bad rows, crashes, and flat memory."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from issuer.bulk import (
    CsvRejected,
    PdfOutput,
    PngOutput,
    Progress,
    default_namespace,
    issue_bulk,
    png_name,
    read_csv,
    request_id,
)
from issuer.cli import main as issuer_main
from issuer.issuance import open_registry
from issuer.issuer_dir import IssuerDir
from tests.conftest import NOW
from tests.memory import reported_peak_mb, reporting_peak
from verifier.jws import CREDENTIAL_TYP, parse_compact
from verifier.qrtext import decode_qr_text

ROOT = Path(__file__).resolve().parent.parent
HEADER = "case_ref,benefit,valid_until,valid_from\n"
NEEDS_POPPLER = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils (pdfinfo, pdftoppm) not installed"
)


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def decode_png(path: Path) -> str:
    found = zxingcpp.read_barcodes(Image.open(path), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, path
    return str(found[0].text)


def credentials_in(issuer: IssuerDir) -> int:
    with open_registry(issuer) as registry:
        return sum(info.allocated for info in registry.status_lists())


def test_png_per_row_named_by_row_and_case_ref(issuer_dir: IssuerDir, tmp_path: Path) -> None:
    csv_path = write_csv(
        tmp_path / "rows.csv",
        ["A-1,heating-2027,2027-06-30,", "B/2,child-allowance,2027-12-31,2027-04-01",
         ",heating-2027,2027-05-31,"],
    )  # fmt: skip
    out = tmp_path / "png"

    report = issue_bulk(issuer_dir, csv_path, PngOutput(out), now=NOW)

    assert (report.rows, report.issued, report.replayed) == (3, 3, 0)
    assert sorted(os.listdir(out)) == ["0000002-A-1.png", "0000003-B_2.png", "0000004.png"]
    namespace = default_namespace(csv_path)
    with open_registry(issuer_dir) as registry:
        for row in read_csv(csv_path):
            assert not isinstance(row, tuple)
            record = registry.find_by_request(request_id(namespace, row))
            assert record is not None
            assert record.case_ref == row.case_ref
            assert decode_qr_text(decode_png(out / png_name(row))) == record.token
            assert parse_compact(record.token, CREDENTIAL_TYP).header.kid == "mosa-1"


def test_running_the_same_file_again_issues_nothing_twice(
    issuer_dir: IssuerDir, tmp_path: Path
) -> None:
    rows = [f"C-{n},heating-2027,2027-06-30," for n in range(5)]
    csv_path = write_csv(tmp_path / "rows.csv", rows[:3])
    issue_bulk(issuer_dir, csv_path, PngOutput(tmp_path / "png"), now=NOW)
    first = {p.name: p.read_bytes() for p in (tmp_path / "png").iterdir()}

    # The whole file now, an hour later: the first three rows were valid from the first
    # run's start, and are asked for again as they were issued.
    write_csv(csv_path, rows)
    report = issue_bulk(
        issuer_dir, csv_path, PngOutput(tmp_path / "png"), now=NOW + timedelta(hours=1)
    )

    assert (report.issued, report.replayed) == (2, 3)
    assert credentials_in(issuer_dir) == 5
    again = {p.name: p.read_bytes() for p in (tmp_path / "png").iterdir()}
    assert {name: again[name] for name in first} == first  # the same credentials


def test_a_batch_id_names_the_run_whatever_the_file_path(
    issuer_dir: IssuerDir, tmp_path: Path
) -> None:
    original = write_csv(tmp_path / "a.csv", ["D-1,heating-2027,2027-06-30,2027-04-01"])
    copy = tmp_path / "copy-of-a.csv"
    shutil.copy(original, copy)

    for path in (original, copy):
        last = issue_bulk(
            issuer_dir, path, PngOutput(tmp_path / "png"), namespace="batch:march", now=NOW
        )

    assert (last.issued, last.replayed) == (0, 1)
    assert credentials_in(issuer_dir) == 1


def test_bad_rows_are_all_named_and_nothing_is_issued(
    issuer_dir: IssuerDir, tmp_path: Path
) -> None:
    csv_path = write_csv(
        tmp_path / "rows.csv",
        [
            "E-1,heating-2027,2027-06-30,",
            "E-2,heating-2027,30.06.2027,",
            "E-3,transport-discount,2027-06-30,",
            "E-4,heating-2027,2027-02-01,",
            "Jüri Tamm,heating-2027,2027-06-30,",
            "E-6,heating-2027",
            "E-7,heating-2027,2027-06-30,",
        ],
    )

    with pytest.raises(CsvRejected) as refused:
        issue_bulk(issuer_dir, csv_path, PngOutput(tmp_path / "png"), now=NOW)

    message = refused.value.detail
    assert "5 bad row(s); nothing was issued" in message
    for row in (3, 4, 5, 6, 7):
        assert f"row {row}:" in message
    assert "row 2:" not in message and "row 8:" not in message
    assert refused.value.exit_code == 65
    assert not (issuer_dir.path / "registry.sqlite3").exists()
    assert not (tmp_path / "png").exists()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("case_ref,benefit,valid_until,name\n", "unknown column"),
        ("case_ref,benefit\n", "lacks"),
        ("case_ref,benefit,valid_until,benefit\n", "twice"),
        ("", "empty"),
    ],
)
def test_a_bad_header_is_refused(
    issuer_dir: IssuerDir, tmp_path: Path, header: str, message: str
) -> None:
    csv_path = write_csv(tmp_path / "rows.csv", [], header=header)

    with pytest.raises(CsvRejected, match=message):
        issue_bulk(issuer_dir, csv_path, PngOutput(tmp_path / "png"), now=NOW)


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter(range(100))
    lines, terminal = io.StringIO(), Terminal()
    for stream in (lines, terminal):
        progress = Progress(stream, interval=0, clock=lambda: float(next(ticks)))
        progress.start(4)
        progress.update(2, 1)
        progress.finish()

    assert lines.getvalue().splitlines()[0].startswith("issue-bulk: 2/4 rows (50%)")
    assert "1 replayed" in lines.getvalue()
    assert terminal.getvalue().startswith("\r[###############")
    assert terminal.getvalue().endswith("\n")


# PDF


@NEEDS_POPPLER
def test_pdf_has_one_sharp_scannable_letter_per_row(issuer_dir: IssuerDir, tmp_path: Path) -> None:
    csv_path = write_csv(
        tmp_path / "rows.csv",
        ["F-1,heating-2027,2027-06-30,", "F-2,child-allowance,2027-12-31,2027-04-01",
         "F-3,heating-2027,2027-05-31,"],
    )  # fmt: skip
    pdf = tmp_path / "letters.pdf"
    (tmp_path / ".letters.pdf.k1ll3d.tmp").write_bytes(b"%PDF-1.4 what a killed run left")

    issue_bulk(issuer_dir, csv_path, PdfOutput(pdf), now=NOW)

    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert "Pages:           3" in info
    assert "A4" in info
    data = pdf.read_bytes()
    assert b"/Subtype /Image" not in data  # the QR is vector rectangles, not a bitmap
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    namespace = default_namespace(csv_path)
    with open_registry(issuer_dir) as registry:
        rows = [row for row in read_csv(csv_path) if not isinstance(row, tuple)]
        records = [registry.find_by_request(request_id(namespace, row)) for row in rows]
    # Low resolution on purpose: at 72 dpi a module is about 4 pixels.
    for page, dpi in ((1, 72), (2, 150)):
        prefix = tmp_path / f"page{page}"
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
             "-singlefile", pdf, prefix],
            check=True,
        )  # fmt: skip
        record = records[page - 1]
        assert record is not None
        assert decode_qr_text(decode_png(prefix.with_suffix(".png"))) == record.token
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", "2", "-l", "2", pdf, "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    second = records[1]
    assert second is not None
    for expected in (
        "Ministry of Social Affairs",
        "Child allowance",  # the display name, not the code
        "Valid from 1 April 2027 until 31 December 2027",
        second.credential_id,
        "Show this page",
        "no personal data",
        "Keep this page private",
        "Office reference F-2",
    ):
        assert expected in text, expected


# Crash and memory, in subprocesses on the real clock


def cli_command(issuer: IssuerDir, csv_path: Path, *output: object) -> list[str]:
    return [sys.executable, "-m", "issuer.cli", "--dir", str(issuer.path), "issue-bulk",
            "--csv", str(csv_path), *map(str, output)]  # fmt: skip


def future_rows(count: int) -> list[str]:
    until = (date.today() + timedelta(days=200)).isoformat()
    return [f"G-{n},heating-2027,{until}," for n in range(count)]


def test_killed_run_finishes_when_run_again_issuing_every_row_once(
    issuer_dir: IssuerDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = 800
    csv_path = write_csv(tmp_path / "rows.csv", future_rows(rows))
    out = tmp_path / "png"
    command = cli_command(issuer_dir, csv_path, "--out-dir", out, "--batch-size", "25")
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not out.is_dir() or len(os.listdir(out)) < 150:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert 0 < credentials_in(issuer_dir) < rows

    code = issuer_main(
        ["--dir", str(issuer_dir.path), "issue-bulk", "--csv", str(csv_path),
         "--out-dir", str(out)]
    )  # fmt: skip

    assert code == 0, capsys.readouterr().err
    summary = capsys.readouterr().out
    issued, replayed = (int(summary.split(" issued")[0].split()[-1]),
                        int(summary.split(" issued by an earlier run")[0].split()[-1]))  # fmt: skip
    assert issued + replayed == rows
    assert replayed >= 150
    assert credentials_in(issuer_dir) == rows
    assert sorted(p for p in os.listdir(out) if p.endswith(".png")) == [
        f"{n + 2:07d}-G-{n}.png" for n in range(rows)
    ]
    namespace = default_namespace(csv_path)
    with open_registry(issuer_dir) as registry:
        registry.check_integrity()
        for row in list(read_csv(csv_path))[::97]:
            assert not isinstance(row, tuple)
            record = registry.find_by_request(request_id(namespace, row))
            assert record is not None
            png = out / f"{row.number:07d}-{row.case_ref}.png"
            assert decode_qr_text(decode_png(png)) == record.token


def test_peak_memory_does_not_grow_with_the_number_of_rows(tmp_path: Path) -> None:
    runs = {}
    for rows in (1_000, 10_000):
        directory = tmp_path / str(rows)
        issuer = IssuerDir.create(
            directory / "issuer", issuer_id="mosa", name="M", benefits=["heating-2027"]
        )
        csv_path = write_csv(directory / "rows.csv", future_rows(rows))
        command = cli_command(issuer, csv_path, "--pdf", directory / "letters.pdf")
        runs[rows] = subprocess.Popen(
            reporting_peak(command, directory / "peak"),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    peak = {}
    for rows, process in runs.items():
        assert process.wait() == 0
        peak[rows] = reported_peak_mb(tmp_path / str(rows) / "peak")

    # A real measurement, not an inherited high-water mark: a CLI process is well over 20 MB.
    assert min(peak.values()) > 20, peak
    assert max(peak.values()) < 200, peak
    assert peak[10_000] - peak[1_000] < 8, peak

"""``plainclaim-verify``: check one credential offline and answer VALID, INVALID or INDETERMINATE.

Usage::

    plainclaim-verify [--trust-dir DIR] [--at ISO8601] [--json] INPUT
    plainclaim-verify [--trust-dir DIR] [--json] --each-line -
    plainclaim-verify sync SOURCE [--trust-dir DIR] [--anchor FILE]

INPUT is an image file (PNG, JPEG, WebP), a ``.txt`` file holding QR text, the QR text itself,
or ``-`` to read the QR text from standard input, which is what a keyboard-wedge scanner types
(trailing CR, LF and Tab are ignored).

Exit status: 0 VALID, 1 INVALID, 2 INDETERMINATE, 64 usage error, 66 input file missing,
74 input/output error, 78 trust directory not configured. Nothing is sent anywhere and
nothing is logged.

``sync`` fetches the trust list and the status lists it names from SOURCE (a directory, e.g. a
USB stick, or an http(s) URL), verifies them and stores them in the trust directory. Exit
status: 0 done, 65 the source's data was refused (bad signature, older than the cache), 69 the
source could not be read, 74 the trust directory could not be written, 78 no pinned anchor
(give ``--anchor`` the first time).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple, NoReturn

from verifier import errors
from verifier.errors import Status
from verifier.result import VerificationResult

if TYPE_CHECKING:
    import argparse

EXIT_CODES: Final = {Status.VALID: 0, Status.INVALID: 1, Status.INDETERMINATE: 2}
EX_NOINPUT: Final = 66
TRUST_DIR_ENV: Final = "PLAINCLAIM_TRUST_DIR"
_IMAGE_SUFFIXES: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
)
_TEXT_SUFFIX: Final = ".txt"
# Room for the longest accepted QR text plus a scanner's line endings; more is refused anyway.
_MAX_TEXT_READ: Final = 8192


def default_trust_dir() -> Path:
    """``$PLAINCLAIM_TRUST_DIR``, else ``$XDG_DATA_HOME/plainclaim/trust``."""
    if env := os.environ.get(TRUST_DIR_ENV):
        return Path(env)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "plainclaim" / "trust"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so the docs and tests can show the usage)."""
    parser = _new_parser(
        prog="plainclaim-verify",
        description="Verify a plainclaim credential offline.",
        epilog="Exit status: 0 VALID, 1 INVALID, 2 INDETERMINATE, 64+ usage or setup error.",
    )
    parser.add_argument(
        "--trust-dir",
        type=Path,
        default=None,
        help=f"directory with anchor.jwk and trustlist.jwt (default: ${TRUST_DIR_ENV} "
        "or ~/.local/share/plainclaim/trust)",
    )
    parser.add_argument(
        "--at",
        metavar="ISO8601",
        help="verify as of this time (default: now), e.g. 2027-01-31T12:00Z",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--each-line",
        action="store_true",
        help="with INPUT -: keep verifying scans, one per line, until end of input (a counter)",
    )
    parser.add_argument(
        "input", metavar="INPUT", help="image file, .txt file, QR text, or - for stdin"
    )
    return parser


def _new_parser(prog: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """An ArgumentParser that exits with 64 on bad arguments: argparse's 2 reads as
    INDETERMINATE. (argparse is imported here, not at the top: see :func:`_parse_usual`.)
    """
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            self.exit(errors.UsageError.exit_code, f"{self.prog}: error: {message}\n")

    return _Parser(prog=prog, description=description, epilog=epilog)


class _Arguments(NamedTuple):
    """The verify command's arguments, as :func:`build_parser` would parse them."""

    trust_dir: Path | None
    at: str | None
    json: bool
    input: str
    each_line: bool = False


_OPTIONS_WITH_VALUE: Final = ("--trust-dir", "--at")


def _parse_usual(arguments: list[str]) -> _Arguments | None:
    """Parse the usual command lines without argparse, whose import (with gettext) costs a
    verifier's cold start 1.5 ms; None for anything else (``--help``, a mistake, an abbreviation,
    ``--option=value``, a value starting with ``-``), which argparse then parses, answers
    and refuses exactly as it always has.
    """
    values: dict[str, str] = {}
    as_json = each_line = False
    positional: list[str] = []
    words = iter(arguments)
    for word in words:
        if word == "--json":
            as_json = True
        elif word == "--each-line":
            each_line = True
        elif word in _OPTIONS_WITH_VALUE:
            value = next(words, None)
            if value is None or value.startswith("-"):
                return None
            values[word] = value
        elif word.startswith("-") and word != "-":
            return None
        else:
            positional.append(word)
    if len(positional) != 1:
        return None
    trust_dir = values.get("--trust-dir")
    return _Arguments(
        trust_dir=None if trust_dir is None else Path(trust_dir),
        at=values.get("--at"),
        json=as_json,
        input=positional[0],
        each_line=each_line,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["sync"]:
        return _sync_main(arguments[1:])
    try:
        args = _parse_usual(arguments) or build_parser().parse_args(arguments)
    except SystemExit as exc:  # --help, or bad arguments (already reported, exit 64)
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return _run(args)
    except errors.UsageError as exc:
        print(f"plainclaim-verify: {exc.detail or exc.reason}", file=sys.stderr)
        return exc.exit_code
    except _MissingInput as exc:
        print(f"plainclaim-verify: no such file: {exc}", file=sys.stderr)
        return EX_NOINPUT
    except OSError as exc:
        # Exit 1 would read as INVALID: an I/O failure is the verifier's problem, not the card's.
        print(f"plainclaim-verify: {exc.strerror or exc}", file=sys.stderr)
        return EX_IOERR


def _run(args: _Arguments | argparse.Namespace) -> int:
    now = _parse_time(args.at) if args.at else None
    trust_dir = args.trust_dir or default_trust_dir()
    if args.each_line:
        return _counter(trust_dir, args.input, now, args.json)
    result = _verify(_read_input(args.input), trust_dir, now)
    _print(result, as_json=args.json)
    return EXIT_CODES[result.status]


EX_DATAERR: Final = 65
EX_IOERR: Final = 74


def _sync_main(argv: list[str]) -> int:
    parser = _new_parser(
        prog="plainclaim-verify sync",
        description="Fetch and verify the trust list and status lists for offline use.",
    )
    parser.add_argument(
        "source", metavar="SOURCE", help="directory (e.g. a USB stick) or http(s) URL"
    )
    parser.add_argument(
        "--trust-dir", type=Path, default=None, help="the trust directory to update"
    )
    parser.add_argument(
        "--anchor", type=Path, help="pin this anchor.jwk first (new trust directory)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    trust_dir: Path = args.trust_dir or default_trust_dir()
    from verifier.sync import install_anchor, open_source, sync

    try:
        if args.anchor:
            install_anchor(trust_dir, args.anchor)
        report = sync(open_source(args.source), trust_dir)
    except errors.UsageError as exc:
        print(f"plainclaim-verify sync: {exc.detail or exc.reason}", file=sys.stderr)
        return exc.exit_code
    except errors.PlainclaimError as exc:
        print(f"plainclaim-verify sync: refused ({exc.reason}): {exc.detail}", file=sys.stderr)
        return EX_DATAERR
    except OSError as exc:
        print(f"plainclaim-verify sync: {exc.strerror or exc}", file=sys.stderr)
        return EX_IOERR
    print(f"Trust list {report.trust_list_sequence}: {report.issuers} issuers.")
    print(f"Status lists updated: {len(report.status_lists_updated)}")
    for name in report.status_lists_kept:
        print(f"Kept the newer cached status list {name} (the source had an older one).")
    for issuer_id in report.issuers_without_lists:
        print(f"Warning: the source has no status lists for {issuer_id}.")
    return 0


class _MissingInput(Exception):
    pass


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise errors.UsageError(f"--at: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise errors.UsageError("--at needs a time zone, e.g. 2027-01-31T12:00Z")
    return moment


def _read_input(arg: str) -> str | Path:
    """QR text (``str``) or an image path, from the INPUT argument."""
    if arg == "-":
        # One line: a wedge scanner ends its scan with Enter, and waiting for end-of-file
        # would keep the clerk waiting until someone pressed Ctrl-D.
        return sys.stdin.readline(_MAX_TEXT_READ)
    path = Path(arg)
    suffix = path.suffix.lower()
    if suffix == _TEXT_SUFFIX or suffix in _IMAGE_SUFFIXES:
        if not path.is_file():
            raise _MissingInput(arg)
        if suffix == _TEXT_SUFFIX:
            with path.open(encoding="ascii", errors="replace") as handle:
                return handle.read(_MAX_TEXT_READ)
        return path
    if ":" not in arg and path.is_file():
        return path  # an image without the usual suffix
    return arg


def _counter(trust_dir: Path, source: str, now: datetime | None, as_json: bool) -> int:
    if source != "-":
        raise errors.UsageError("--each-line reads scans from standard input: give - as INPUT")
    _check_trust_dir(trust_dir)
    from verifier.counter import run_counter

    def answer(result: VerificationResult) -> None:
        _print(result, as_json=as_json)
        if not as_json:
            print()  # a blank line between verdicts
        sys.stdout.flush()

    try:
        return run_counter(trust_dir, sys.stdin, answer, now=now)
    except KeyboardInterrupt:
        return 0


def _check_trust_dir(trust_dir: Path) -> None:
    if not trust_dir.is_dir():
        raise errors.ConfigurationError(
            f"trust directory {trust_dir} does not exist: pass --trust-dir or sync one first"
        )


def _verify(source: str | Path, trust_dir: Path, now: datetime | None) -> VerificationResult:
    from verifier.trust_dir import load_trust_store
    from verifier.verify import verify

    _check_trust_dir(trust_dir)
    try:
        store = load_trust_store(trust_dir)
    except errors.UsageError:
        raise
    except errors.PlainclaimError as error:
        return VerificationResult.from_error(error, checked_at=now)
    return verify(source, store.trust_list, status=store.status, now=now)


def _print(result: VerificationResult, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    print(result.status.value)
    print(result.message)
    for warning in result.warnings:
        print(f"Warning: {warning}")
    credential = result.credential
    if credential is not None:
        print(f"  Benefit:     {credential.benefit.name} ({credential.benefit.code})")
        print(f"  Issuer:      {credential.issuer.name} ({credential.issuer.issuer_id})")
        print(f"  Valid from:  {credential.valid_from:%Y-%m-%d %H:%M} UTC")
        print(f"  Valid until: {credential.valid_until:%Y-%m-%d %H:%M} UTC")
        print(f"  Credential:  {credential.credential_id}")
    else:
        print(f"  Reason code: {result.reason}")


if __name__ == "__main__":
    sys.exit(main())

"""``plainclaim-issuer``: issue credentials, manage an issuer's keys, run a trust authority.

Usage::

    plainclaim-issuer --dir DIR init --id ID --name NAME --benefit CODE[=NAME] [--benefit ...]
                                     [--max-validity-days N] [--timezone TZ] [--status-uri URI]
    plainclaim-issuer --dir DIR issue --benefit CODE --valid-until YYYY-MM-DD --out FILE
                                      [--valid-from YYYY-MM-DD] [--case-ref REF]
                                      [--request-id ID] [--ecc M|Q|H] [--json]
    plainclaim-issuer --dir DIR issue-bulk --csv FILE (--out-dir DIR | --pdf FILE)
                                      [--batch-id ID] [--batch-size N] [--ecc M|Q|H]
                                      [--actor NAME]
    plainclaim-issuer --dir DIR revoke CREDENTIAL_ID --reason TEXT [--actor NAME]
    plainclaim-issuer --dir DIR suspend CREDENTIAL_ID --reason TEXT [--actor NAME]
    plainclaim-issuer --dir DIR reinstate CREDENTIAL_ID --reason TEXT [--actor NAME]
    plainclaim-issuer --dir DIR status CREDENTIAL_ID [--json]
    plainclaim-issuer --dir DIR publish --out OUTDIR [--validity-days N] [--ttl-hours N]
    plainclaim-issuer --dir DIR new-key
    plainclaim-issuer --dir DIR activate-key KID
    plainclaim-issuer --dir DIR export-keys [--kid KID] [--out FILE]

    plainclaim-issuer --dir AUTHDIR authority init --id ID [--validity-days N]
    plainclaim-issuer --dir AUTHDIR authority add-issuer --id ID --name NAME [--status-uri URI]
    plainclaim-issuer --dir AUTHDIR authority remove-issuer --id ID
    plainclaim-issuer --dir AUTHDIR authority add-key --issuer ID --jwks FILE
                                              [--not-before DATE] [--not-after DATE]
    plainclaim-issuer --dir AUTHDIR authority remove-key --kid KID
    plainclaim-issuer --dir AUTHDIR authority allow-benefit --issuer ID --code CODE --name NAME
    plainclaim-issuer --dir AUTHDIR authority disallow-benefit --issuer ID --code CODE
    plainclaim-issuer --dir AUTHDIR authority set-validity --days N
    plainclaim-issuer --dir AUTHDIR authority publish --out DIR [--validity-days N]

Errors print one line on stderr and exit with the error class's code (64 usage, 65 a refused
request: an unknown credential id, a change to a revoked credential, bad CSV rows; 78
configuration, e.g. publishing without a status_uri; ...), never with a traceback. Heavy
imports (the registry's database layer, the QR renderer) happen inside the commands that need
them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Final, NoReturn

from verifier import errors
from verifier.claims import CREDENTIAL_ID
from verifier.status_list import StatusValue

PROG: Final = "plainclaim-issuer"
OUTPUT_SUFFIXES: Final = (".png", ".svg", ".txt")
EX_SOFTWARE: Final = 70
EX_IOERR: Final = 74
_INTERRUPTED: Final = 130
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_ID_COMMANDS: Final = frozenset({"revoke", "suspend", "reinstate", "status"})
_ID_COMMAND_VALUE_OPTIONS: Final = frozenset({"--reason", "--actor"})
_STATUS_WORDS: Final = {
    StatusValue.VALID: "valid",
    StatusValue.INVALID: "revoked",
    StatusValue.SUSPENDED: "suspended",
    StatusValue.APPLICATION_SPECIFIC: "application-specific",
}

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as :class:`UsageError` (exit 64), not exit 2."""

    def error(self, message: str) -> NoReturn:
        raise errors.UsageError(f"{self.prog}: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    try:
        arguments = list(sys.argv[1:] if argv is None else argv)
        args = _parser().parse_args(_credential_id_last(arguments))
        command: Command = args.command
        return command(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except errors.PlainclaimError as exc:
        _fail(exc.detail or exc.reason)
        return exc.exit_code if isinstance(exc, errors.UsageError) else EX_SOFTWARE
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        return EX_IOERR
    except KeyboardInterrupt:
        return _INTERRUPTED


def _credential_id_last(argv: list[str]) -> list[str]:
    """Move a credential id that starts with ``-`` behind ``--``, so it is not an option.

    Credential ids are base64url: one in 64 starts with ``-``, and argparse would take
    ``revoke -Xb3...`` for an unknown option. Only the status commands take ids.
    """
    position = 0
    while position < len(argv) and argv[position].startswith("-"):
        # The only global option with a value is --dir (or an abbreviation of it).
        takes_value = argv[position].startswith("--d") and "=" not in argv[position]
        position += 2 if takes_value else 1
    if position >= len(argv) or argv[position] not in _ID_COMMANDS or "--" in argv:
        return argv
    rest = argv[position + 1 :]
    for index, token in enumerate(rest):
        after_option = index > 0 and rest[index - 1] in _ID_COMMAND_VALUE_OPTIONS
        if not after_option and token.startswith("-") and CREDENTIAL_ID.fullmatch(token):
            return [*argv[: position + 1], *rest[:index], *rest[index + 1 :], "--", token]
    return argv


def _fail(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


# Issuer commands


def _cmd_init(args: argparse.Namespace) -> int:
    from issuer.issuer_dir import IssuerDir

    benefits = [code for code, _name in args.benefit]
    issuer = IssuerDir.create(
        args.dir,
        issuer_id=args.id,
        name=args.name,
        benefits=benefits,
        max_validity_days=args.max_validity_days,
        timezone=args.timezone,
        status_uri=args.status_uri,
        benefit_names={code: name for code, name in args.benefit if name is not None},
    )
    print(f"issuer {issuer.config.issuer_id} created in {args.dir}")
    print(f"active key: {issuer.config.active_kid}")
    print(f"next: {PROG} --dir {args.dir} export-keys --out keys.jwks, for the trust authority")
    return 0


def _cmd_issue(args: argparse.Namespace) -> int:
    out: Path = args.out
    # Refuse before issuing: a credential recorded but never written is a wasted entry.
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise errors.UsageError(f"--out {out}: the file name must end in .png, .svg or .txt")
    if not out.parent.is_dir():
        raise errors.UsageError(f"--out {out}: directory {out.parent} does not exist")

    from issuer.issuance import issue_credential
    from issuer.issuer_dir import IssuerDir
    from issuer.render import ErrorCorrection, write_credential

    issuer = IssuerDir.open(args.dir)
    request_id = args.request_id or str(uuid.uuid4())
    credential = issue_credential(
        issuer,
        args.benefit,
        args.valid_until,
        valid_from=args.valid_from,
        case_ref=args.case_ref,
        request_id=request_id,
    )
    ecc = ErrorCorrection(args.ecc)
    try:
        symbol = write_credential(credential.qr_text, out, ecc=ecc)
    except errors.UsageError as exc:
        raise type(exc)(
            f"credential {credential.credential_id} was issued but not written ({exc.detail}); "
            f"to write the same credential again, repeat with --request-id {request_id}"
        ) from None
    if args.json:
        report = {
            "credential_id": credential.credential_id,
            "qr_version": symbol.version,
            "ecc": ecc.value,
            "out": str(out),
            "not_before": credential.not_before,
            "expires": credential.expires,
            "status_list": credential.status_ref.list_id,
            "status_index": credential.status_ref.index,
            "replayed": credential.replayed,
        }
        print(json.dumps(report))
    else:
        again = " (request issued before: the same credential again)" if credential.replayed else ""
        print(f"credential {credential.credential_id} written to {out}{again}")
        print(f"QR version {symbol.version}, error correction {ecc.value}")
    return 0


def _cmd_issue_bulk(args: argparse.Namespace) -> int:
    from issuer.bulk import PdfOutput, PngOutput, Progress, issue_bulk
    from issuer.issuer_dir import IssuerDir
    from issuer.render import ErrorCorrection

    issuer = IssuerDir.open(args.dir)
    ecc = ErrorCorrection(args.ecc)
    output = PngOutput(args.out_dir, ecc) if args.out_dir else PdfOutput(args.pdf, ecc)
    report = issue_bulk(
        issuer,
        args.csv,
        output,
        namespace=None if args.batch_id is None else f"batch:{args.batch_id}",
        batch_size=args.batch_size,
        actor=_actor(args),
        progress=Progress(),
    )
    rate = report.rows / report.seconds if report.seconds else 0.0
    print(
        f"{report.rows} rows: {report.issued} issued, {report.replayed} issued by an earlier "
        f"run (written again); output {report.output} ({rate:.0f} rows/s)"
    )
    return 0


def _cmd_set_status(args: argparse.Namespace) -> int:
    from issuer.issuer_dir import IssuerDir
    from issuer.revocation import change_status

    outcome = change_status(
        IssuerDir.open(args.dir),
        args.credential_id,
        args.new_status,
        reason=args.reason,
        actor=_actor(args),
    )
    status = _STATUS_WORDS[outcome.record.status]
    if outcome.changed:
        print(f"credential {args.credential_id} is now {status}")
        print(f"verifiers learn of it from the next status list: {PROG} --dir {args.dir} publish")
    else:
        print(f"credential {args.credential_id} was {status} already; nothing changed")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from issuer.issuer_dir import IssuerDir
    from issuer.revocation import credential_status

    found = credential_status(IssuerDir.open(args.dir), args.credential_id)
    record = found.record

    def moment(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")

    history = [
        {
            "at": moment(change.changed_at),
            "from": _STATUS_WORDS[change.old_status],
            "to": _STATUS_WORDS[change.new_status],
            "reason": change.reason,
            "actor": change.actor,
        }
        for change in found.history
    ]
    fields: dict[str, object] = {
        "credential_id": record.credential_id,
        "status": _STATUS_WORDS[record.status],
        "benefit": record.benefit,
        "valid_from": moment(record.not_before),
        "expires": moment(record.expires),
        "status_list": record.status_ref.list_id,
        "status_index": record.status_ref.index,
        "case_ref": record.case_ref,
        "request_id": record.request_id,
        "issued_by": record.issued_by,
        "issued_at": moment(record.issued_at),
    }
    if args.json:
        print(json.dumps({**fields, "history": history}))
        return 0
    for name, value in fields.items():
        print(f"{name + ':':<15} {'-' if value is None else value}")
    print("history:" if history else "history:       no status changes")
    for change in history:
        print(
            f"  {change['at']}  {change['from']} -> {change['to']}  by {change['actor']}: "
            f"{change['reason']}"
        )
    return 0


def _cmd_publish_status(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from issuer.issuer_dir import IssuerDir
    from issuer.publish import publish_status_lists

    report = publish_status_lists(
        IssuerDir.open(args.dir),
        args.out,
        validity=timedelta(days=args.validity_days),
        ttl=timedelta(hours=args.ttl_hours),
    )
    print(
        f"{len(report.lists)} status list(s) signed with {report.kid}, valid until "
        f"{report.expires_at:%Y-%m-%d %H:%M} UTC, written to {args.out}:"
    )
    for published in report.lists:
        note = " (placeholder: no credentials)" if published.placeholder else ""
        print(
            f"  list {published.list_id}: {published.size} entries, {published.revoked} revoked, "
            f"{published.suspended} suspended -> {published.path}{note}"
        )
    print(f"public keys -> {report.keys_path}")
    print("next: copy it next to the trust authority's trustlist.jwt, where verifiers sync")
    return 0


def _actor(args: argparse.Namespace) -> str:
    from issuer.revocation import default_actor

    return str(args.actor) if args.actor else default_actor()


def _cmd_new_key(args: argparse.Namespace) -> int:
    from issuer.issuer_dir import IssuerDir

    issuer = IssuerDir.open(args.dir)
    kid = issuer.new_key()
    print(f"key {kid} created, NOT active yet (active: {issuer.config.active_kid})")
    print("next: export-keys, have the trust authority publish it, then activate-key " + kid)
    return 0


def _cmd_activate_key(args: argparse.Namespace) -> int:
    from issuer.issuer_dir import IssuerDir

    issuer = IssuerDir.open(args.dir)
    previous = issuer.config.active_kid
    issuer.activate_key(args.kid)
    print(f"key {args.kid} is active (was {previous}); {previous} is kept for its credentials")
    return 0


def _cmd_export_keys(args: argparse.Namespace) -> int:
    from issuer.issuer_dir import IssuerDir
    from verifier.trust_dir import write_atomic

    issuer = IssuerDir.open(args.dir)
    jwks = issuer.public_jwks(args.kid or None)
    text = json.dumps(jwks, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_atomic(args.out, text.encode("ascii"))
        kids = ", ".join(str(jwk["kid"]) for jwk in jwks["keys"])
        print(f"public keys {kids} written to {args.out}")
    return 0


# Trust authority commands


def _cmd_authority_init(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    authority = Authority.init(args.dir, args.id, validity_days=args.validity_days)
    print(f"trust authority {args.id} created in {args.dir}")
    print(f"anchor key {authority.state.anchor_kid} (keep {args.dir}/anchor.pem offline)")
    return 0


def _cmd_add_issuer(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    Authority.open(args.dir).add_issuer(args.id, args.name, args.status_uri)
    print(f"issuer {args.id} added; next: add-key and allow-benefit, then publish")
    return 0


def _cmd_remove_issuer(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    Authority.open(args.dir).remove_issuer(args.id)
    print(f"issuer {args.id} removed; its credentials stop verifying once you publish")
    return 0


def _cmd_add_key(args: argparse.Namespace) -> int:
    from issuer.authority import Authority, read_jwks

    authority = Authority.open(args.dir)
    keys = read_jwks(args.jwks)
    added = authority.add_keys(
        args.issuer, keys, not_before=args.not_before, not_after=args.not_after
    )
    unchanged = [key.kid for key in keys if key.kid not in added]
    if added:
        print(f"added for {args.issuer}: {', '.join(added)}")
    if unchanged:
        print(f"listed already, unchanged: {', '.join(unchanged)}")
    return 0


def _cmd_remove_key(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    issuer_id = Authority.open(args.dir).remove_key(args.kid)
    print(f"key {args.kid} of {issuer_id} removed; its credentials stop verifying once published")
    return 0


def _cmd_allow_benefit(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    Authority.open(args.dir).allow_benefit(args.issuer, args.code, args.name)
    print(f"{args.issuer} may vouch for {args.code} ({args.name}) once you publish")
    return 0


def _cmd_disallow_benefit(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    Authority.open(args.dir).disallow_benefit(args.issuer, args.code)
    print(f"{args.issuer} may no longer vouch for {args.code} once you publish")
    return 0


def _cmd_set_validity(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    Authority.open(args.dir).set_validity(args.days)
    print(f"trust lists published from now on are valid for {args.days} days")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from issuer.authority import Authority

    authority = Authority.open(args.dir)
    trust_list = authority.publish(args.out, validity_days=args.validity_days)
    for issuer in trust_list.issuers.values():
        if not issuer.keys or not issuer.benefits:
            print(f"warning: issuer {issuer.issuer_id} has no keys or no benefits", file=sys.stderr)
    print(
        f"trust list {trust_list.sequence} of {trust_list.authority} written to {args.out} "
        f"({len(trust_list.issuers)} issuers, valid until {trust_list.expires:%Y-%m-%d %H:%M} UTC)"
    )
    return 0


# Arguments


def _date(text: str) -> date:
    """A calendar date written YYYY-MM-DD, nothing looser."""
    # date.fromisoformat alone also takes 20270430 and 2027-W17-5; a typo should not parse.
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD")


def _benefit(text: str) -> tuple[str, str | None]:
    """``CODE`` or ``CODE=Display name``."""
    code, equals, name = text.partition("=")
    if equals and not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write CODE or CODE=NAME")
    return code.strip(), name.strip() if equals else None


def _positive(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")


def _parser() -> _Parser:
    from issuer.issuer_dir import DEFAULT_MAX_VALIDITY_DAYS, DEFAULT_TIMEZONE

    parser = _Parser(prog=PROG, description="Issue plainclaim credentials; run a trust authority.")
    parser.add_argument(
        "--dir", type=Path, required=True, help="issuer directory (or AUTHDIR for authority)"
    )
    commands = parser.add_subparsers(metavar="COMMAND", required=True)

    init = _add(commands, "init", _cmd_init, "create an issuer directory with a first key")
    init.add_argument("--id", required=True, help="issuer id as on the trust list, e.g. mosa")
    init.add_argument("--name", required=True, help="display name")
    init.add_argument(
        "--benefit",
        action="append",
        required=True,
        type=_benefit,
        metavar="CODE[=NAME]",
        help="benefit code, and its display name for letters (repeatable)",
    )
    init.add_argument("--max-validity-days", type=_positive, default=DEFAULT_MAX_VALIDITY_DAYS)
    init.add_argument(
        "--timezone", default=DEFAULT_TIMEZONE, help="IANA zone in which dates end (UTC)"
    )
    init.add_argument(
        "--status-uri", help="status list URI template with {list}, as on the trust list"
    )

    issue = _add(commands, "issue", _cmd_issue, "issue one credential as a QR code")
    issue.add_argument("--benefit", required=True, help="benefit code")
    issue.add_argument("--valid-until", type=_date, required=True, help="last valid day")
    issue.add_argument("--valid-from", type=_date, help="first valid day (default: now)")
    issue.add_argument("--out", type=Path, required=True, help="output file: .png, .svg or .txt")
    issue.add_argument("--case-ref", help="opaque office reference (never a name)")
    issue.add_argument("--request-id", help="idempotency key; a retry returns the same credential")
    issue.add_argument("--ecc", choices=("M", "Q", "H"), default="M", help="error correction")
    issue.add_argument("--json", action="store_true", help="print one JSON object")

    bulk = _add(commands, "issue-bulk", _cmd_issue_bulk, "issue one credential per CSV row")
    bulk.add_argument(
        "--csv", type=Path, required=True, help="header case_ref,benefit,valid_until[,valid_from]"
    )
    target = bulk.add_mutually_exclusive_group(required=True)
    target.add_argument("--out-dir", type=Path, help="write one PNG per credential here")
    target.add_argument("--pdf", type=Path, help="write one PDF with an A4 letter each")
    bulk.add_argument("--batch-id", help="names the run for its request ids (default: CSV path)")
    bulk.add_argument(
        "--batch-size", type=_positive, default=200, help="credentials per transaction"
    )
    bulk.add_argument("--ecc", choices=("M", "Q", "H"), default="M", help="error correction")
    bulk.add_argument("--actor", help="recorded as the issuer (default: your user name)")

    for name, value, summary in (
        ("revoke", StatusValue.INVALID, "revoke a credential, for good"),
        ("suspend", StatusValue.SUSPENDED, "suspend a credential until reinstated"),
        ("reinstate", StatusValue.VALID, "make a suspended credential valid again"),
    ):
        change = _add(commands, name, _cmd_set_status, summary)
        change.set_defaults(new_status=value)
        change.add_argument("credential_id", metavar="CREDENTIAL_ID")
        change.add_argument("--reason", required=True, help="kept in the history; no names")
        change.add_argument("--actor", help="who decides (default: your user name)")
    status = _add(commands, "status", _cmd_status, "show a credential's status and history")
    status.add_argument("credential_id", metavar="CREDENTIAL_ID")
    status.add_argument("--json", action="store_true", help="print one JSON object")

    publish = _add(commands, "publish", _cmd_publish_status, "sign and write the status lists")
    publish.add_argument("--out", type=Path, required=True, help="directory to publish from")
    publish.add_argument(
        "--validity-days", type=_positive, default=10, help="how long verifiers may use them"
    )
    publish.add_argument(
        "--ttl-hours", type=_positive, default=24, help="how soon verifiers should refresh"
    )

    _add(commands, "new-key", _cmd_new_key, "create a new signing key, not active yet")
    activate = _add(commands, "activate-key", _cmd_activate_key, "sign with KID from now on")
    activate.add_argument("kid", metavar="KID")
    export = _add(commands, "export-keys", _cmd_export_keys, "write the public keys (JWKS)")
    export.add_argument("--kid", action="append", help="only this key (repeatable)")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")

    authority = _add(commands, "authority", None, "trust authority commands")
    _add_authority_actions(authority.add_subparsers(metavar="ACTION", required=True))
    return parser


def _add_authority_actions(actions: argparse._SubParsersAction[_Parser]) -> None:
    a_init = _add(actions, "init", _cmd_authority_init, "create the authority and anchor key")
    a_init.add_argument("--id", required=True, help="authority id")
    a_init.add_argument("--validity-days", type=_positive, default=30, help="trust list life")

    add_issuer = _add(actions, "add-issuer", _cmd_add_issuer, "add an issuer")
    add_issuer.add_argument("--id", required=True)
    add_issuer.add_argument("--name", required=True)
    add_issuer.add_argument("--status-uri", help="status list URI template with {list}")
    remove_issuer = _add(actions, "remove-issuer", _cmd_remove_issuer, "remove an issuer")
    remove_issuer.add_argument("--id", required=True)

    add_key = _add(actions, "add-key", _cmd_add_key, "list an issuer's public keys")
    add_key.add_argument("--issuer", required=True)
    add_key.add_argument("--jwks", type=Path, required=True, help="JWKS from export-keys")
    add_key.add_argument("--not-before", type=_date, help="first valid day, UTC (today)")
    add_key.add_argument("--not-after", type=_date, help="last valid day, UTC (3 years on)")
    remove_key = _add(actions, "remove-key", _cmd_remove_key, "take a key off the list")
    remove_key.add_argument("--kid", required=True)

    allow = _add(actions, "allow-benefit", _cmd_allow_benefit, "let an issuer vouch for a benefit")
    allow.add_argument("--issuer", required=True)
    allow.add_argument("--code", required=True)
    allow.add_argument("--name", required=True)
    disallow = _add(actions, "disallow-benefit", _cmd_disallow_benefit, "withdraw a benefit")
    disallow.add_argument("--issuer", required=True)
    disallow.add_argument("--code", required=True)

    validity = _add(actions, "set-validity", _cmd_set_validity, "trust list validity in days")
    validity.add_argument("--days", type=_positive, required=True)
    publish = _add(actions, "publish", _cmd_publish, "sign and write the next trust list")
    publish.add_argument("--out", type=Path, required=True, help="verifier trust directory")
    publish.add_argument("--validity-days", type=_positive, help="for this list only")


def _add(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    command: Command | None,
    summary: str,
) -> _Parser:
    sub = commands.add_parser(name, help=summary, description=summary)
    if command is not None:
        sub.set_defaults(command=command)
    return sub


if __name__ == "__main__":
    sys.exit(main())

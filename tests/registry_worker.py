"""The kill -9 test's worker: issue a range of request ids, acknowledging each one.

    python tests/registry_worker.py URL FIRST STOP [--descending] [--batch N] [--capacity C]

Prints ``READY`` once the registry is open, then ``ACK <request id> <credential id>
<list>:<index>`` for each request, only after ``issue`` (or ``issue_batch``) has returned, and
``DONE`` at the end. Every request id asks for the same credential parameters, so a restarted
worker replays what an earlier one stored.
"""

from __future__ import annotations

import argparse
import sys

from cryptography.hazmat.primitives.asymmetric import ec

from issuer.registry import IssuedRecord, IssueRequest, Registry
from verifier.claims import CredentialClaims
from verifier.jws import CREDENTIAL_TYP, sign_compact

ISSUER = "durable"
NOT_BEFORE = 1_798_761_600
EXPIRES = 1_830_297_600


def request_for(number: int) -> IssueRequest:
    """The one request a request number always stands for."""
    return IssueRequest(
        request_id=f"req-{number:06d}",
        benefit="heating-2027",
        not_before=NOT_BEFORE,
        expires=EXPIRES,
        case_ref=f"case-{number}",
        issued_by="worker",
    )


def ack(record: IssuedRecord) -> str:
    ref = record.status_ref
    return f"ACK {record.request_id} {record.credential_id} {ref.list_id}:{ref.index}\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("first", type=int)
    parser.add_argument("stop", type=int)
    parser.add_argument("--descending", action="store_true")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--capacity", type=int, default=1 << 20)
    args = parser.parse_args()

    key = ec.generate_private_key(ec.SECP256R1())

    def sign(claims: CredentialClaims) -> str:
        return sign_compact(claims.to_payload(), key, "worker", CREDENTIAL_TYP)

    numbers = list(range(args.first, args.stop))
    if args.descending:
        numbers.reverse()
    registry = Registry.open(args.url, issuer_id=ISSUER, list_capacity=args.capacity)
    print("READY", flush=True)
    for start in range(0, len(numbers), args.batch):
        requests = [request_for(number) for number in numbers[start : start + args.batch]]
        if len(requests) == 1:
            records = [registry.issue(requests[0], sign)]
        else:
            records = registry.issue_batch(requests, sign)
        sys.stdout.write("".join(ack(record) for record in records))
        sys.stdout.flush()
    registry.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()

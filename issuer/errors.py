"""The issuer's errors: a subtree of :class:`verifier.errors.UsageError`.

An issuer error is never about a presented credential; it refuses an operator's request or
reports a registry that cannot serve it. Each class carries a stable ``reason`` code and its
own ``exit_code`` (sysexits.h), so the CLI needs no table of its own::

    UsageError
    └── IssuerError
        ├── RequestInvalid              a field of an issue or status request      (65)
        ├── RequestConflict             a request id reused with other parameters   (65)
        ├── UnknownCredential           no credential with that id                  (65)
        ├── UnknownStatusList           no status list with that id                 (65)
        ├── CredentialAlreadyRevoked    revocation is final                         (65)
        ├── SignerMismatch              the signer signed something else            (70)
        └── RegistryError               the registry database itself
            ├── RegistryUnavailable     cannot connect, or locked for too long      (69)
            ├── RegistryMismatch        the registry belongs to another issuer      (78)
            └── RegistryCorrupt         integrity check or invariant failed         (70)

Database driver errors (SQLAlchemy, sqlite3, psycopg) are translated at the registry's public
methods; none escapes it.
"""

from __future__ import annotations

from verifier.errors import UsageError

EX_DATAERR = 65
EX_SOFTWARE = 70
EX_UNAVAILABLE = 69
EX_CONFIG = 78


class IssuerError(UsageError):
    """Root of the errors the issuer side raises on purpose."""

    reason = "issuer_error"


class RequestInvalid(IssuerError):
    """A request field outside what the registry stores (length, characters, range)."""

    reason = "request_invalid"
    exit_code = EX_DATAERR


class RequestConflict(IssuerError):
    """A request id already issued with different parameters.

    The stored credential stays as it was; the new request is refused rather than issued twice.
    """

    reason = "request_conflict"
    exit_code = EX_DATAERR

    def __init__(self, detail: str = "", *, request_id: str = "", credential_id: str = "") -> None:
        super().__init__(detail)
        self.request_id = request_id
        #: The credential already issued for that request id.
        self.credential_id = credential_id


class UnknownCredential(IssuerError):
    reason = "unknown_credential"
    exit_code = EX_DATAERR

    def __init__(self, detail: str = "", *, credential_id: str = "") -> None:
        super().__init__(detail)
        self.credential_id = credential_id


class UnknownStatusList(IssuerError):
    reason = "unknown_status_list"
    exit_code = EX_DATAERR


class CredentialAlreadyRevoked(IssuerError):
    """Revocation is final: a revoked credential can be neither suspended nor reinstated."""

    reason = "credential_already_revoked"
    exit_code = EX_DATAERR

    def __init__(self, detail: str = "", *, credential_id: str = "") -> None:
        super().__init__(detail)
        self.credential_id = credential_id


class SignerMismatch(IssuerError):
    """The signer returned a token that is not a credential JWS of the claims it was given."""

    reason = "signer_mismatch"
    exit_code = EX_SOFTWARE


class RegistryError(IssuerError):
    """The registry database cannot serve the request."""

    reason = "registry_error"
    exit_code = EX_SOFTWARE


class RegistryUnavailable(RegistryError):
    """The database cannot be reached, or stayed locked by another writer for too long."""

    reason = "registry_unavailable"
    exit_code = EX_UNAVAILABLE


class RegistryMismatch(RegistryError):
    """The registry was created for another issuer id (or by a newer plainclaim)."""

    reason = "registry_mismatch"
    exit_code = EX_CONFIG


class RegistryCorrupt(RegistryError):
    """The integrity check or one of the registry's invariants failed."""

    reason = "registry_corrupt"
    exit_code = EX_SOFTWARE

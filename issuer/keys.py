"""Signing keys on disk: P-256 private keys as unencrypted PKCS#8 PEM files, mode 0600.

A key file on disk is the simple path, for pilots and small offices. In production the private
key belongs in an HSM or a KMS that signs without ever handing the key out; the rest of the
issuer only needs a "sign these claims" function, so that swap stays local to this module.

Files are created with ``O_CREAT | O_EXCL`` and mode 0600 in the same call, so there is never a
moment when a key sits in a file that others may read, and an existing key is never
overwritten. Loading refuses a file that its group or others can read: such a key must be taken
as leaked, and failing loudly is the only way anyone notices.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import errors
from verifier.keys import ALGORITHM, public_key_to_jwk

PRIVATE_FILE_MODE: Final = 0o600
#: Permission bits that must be clear on a private key file: anything for group or others.
_SHARED_BITS: Final = 0o077
_MAX_KEY_FILE_BYTES: Final = 16 * 1024


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key, the only key type of format 1."""
    return ec.generate_private_key(ec.SECP256R1())


def write_private_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM to a new file that only its owner can read.

    Refuses to overwrite an existing file (:class:`~verifier.errors.ConfigurationError`).
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise errors.ConfigurationError(
            f"{path} already exists; keys are never overwritten"
        ) from None
    except OSError as exc:
        raise errors.ConfigurationError(f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # A half-written key is worse than none: the next run would refuse it as garbage.
        path.unlink(missing_ok=True)
        raise


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Load a P-256 private key written by :func:`write_private_key`.

    Raises :class:`~verifier.errors.ConfigurationError` for a missing or unreadable file, a
    file group or others may read, or anything but an unencrypted P-256 key.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise errors.ConfigurationError(f"no key file {path}") from None
    except OSError as exc:
        raise errors.ConfigurationError(f"cannot open key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        # fstat on the open file: the mode checked is the mode of the bytes read.
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise errors.ConfigurationError(f"key file {path} is not a regular file")
        if mode & _SHARED_BITS:
            raise errors.ConfigurationError(
                f"key file {path} can be read by others (mode {stat.S_IMODE(mode):03o}); "
                f"run: chmod 600 {path}"
            )
        pem = handle.read(_MAX_KEY_FILE_BYTES + 1)
    if len(pem) > _MAX_KEY_FILE_BYTES:
        raise errors.ConfigurationError(f"key file {path} is too large to be a P-256 key")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # TypeError: the PEM is encrypted. ValueError: not a PEM key at all.
        raise errors.ConfigurationError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise errors.ConfigurationError(f"{path} is not a P-256 key")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    """The public half of ``key`` as the JWK an issuer hands to its trust authority."""
    return {**public_key_to_jwk(key.public_key()), "kid": kid, "use": "sig", "alg": ALGORITHM}

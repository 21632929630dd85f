"""Secrets of the service: passwords, login tokens, voting codes, ballot locators, receipts.

* Passwords: ``hashlib.scrypt`` (n = 2**14, r = 8, p = 1, 64 bytes) with a 16-byte random salt
  per organiser, stored as ``scrypt$n$r$p$salt$hash`` (hex), compared in constant time.
* Login tokens: 32 random bytes (``secrets.token_urlsafe``), stored as their SHA-256 (a
  high-entropy token needs no slow hash).
* Voting codes: :data:`CODE_LENGTH` characters drawn with :mod:`secrets` from a 32-letter
  alphabet without look-alikes (no 0/O, 1/I): ``24 × 5 = 120`` bits, printed in groups of
  four (``ABCD-EFGH-...``). Spaces, dashes and case do not matter when typed. Stored only as
  ``HMAC-SHA256(code key, code)``.
* Ballot locators: ``HMAC-SHA256(locator key, code)``, the two keys derived from the server
  secret under different labels (:meth:`service.settings.Settings.derived_key`).
* Receipts: 128 random bits given to the voter; the ballot keeps ``sha256(receipt)``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "format_code",
    "hash_password",
    "keyed_hash",
    "new_code",
    "new_receipt",
    "new_token",
    "normalise_code",
    "receipt_hash",
    "token_hash",
    "verify_password",
]

CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH: Final = 24
_GROUP: Final = 4

_SCRYPT_N: Final = 2**14
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_SCRYPT_LEN: Final = 64


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_SCRYPT_LEN, maxmem=64 << 20
    )


def hash_password(password: str) -> str:
    """The stored form of a password (scrypt with a fresh salt)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


#: Checked against when the organiser does not exist, so that the time taken does not tell.
_DUMMY: Final = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${'00' * 16}${'00' * _SCRYPT_LEN}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (always does the slow work)."""
    text = stored or _DUMMY
    try:
        scheme, n, r, p, salt, digest = text.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, bytes.fromhex(digest)) and stored is not None


def new_token() -> str:
    """A login token (256 random bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_code() -> str:
    """A fresh voting code, formatted for a letter."""
    return format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + _GROUP] for i in range(0, len(raw), _GROUP))


def normalise_code(text: str) -> str | None:
    """The code as stored (capitals, no separators), or None if it cannot be a code."""
    raw = "".join(text.split()).replace("-", "").upper()
    if len(raw) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    return raw


def keyed_hash(key: bytes, code: str) -> str:
    """``HMAC-SHA256(key, code)`` in hex, of a normalised code."""
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()


def new_receipt() -> str:
    """A receipt for a voter (128 random bits)."""
    return secrets.token_hex(16)


def receipt_hash(receipt: str) -> str:
    """What the published ballots show next to a voter's ballot: ``sha256(receipt)``."""
    return hashlib.sha256(receipt.encode("ascii")).hexdigest()

"""The service's settings, read from the environment.

=============================== ==================================================================
variable                        meaning (default)
=============================== ==================================================================
``DATABASE_URL``                SQLAlchemy URL of the database (``sqlite:///stadmaken.db``, a
                                file in the working directory); PostgreSQL as
                                ``postgresql+psycopg://user@host:5432/name`` (psycopg 3; a
                                ``postgresql://`` URL is read as that).
``STADMAKEN_SECRET_KEY``        The server secret (at least 32 characters; hex or any text) from
                                which the keys of the keyed hashes (voting codes, ballot
                                locators) are derived. When unset it is read from
                                ``STADMAKEN_SECRET_FILE``; with SQLite that defaults to a file
                                beside the database (``stadmaken.db.secret``), created (mode 0600,
                                32 random bytes as hex) at the first start. With PostgreSQL one of
                                the two must be given (every server of a deployment must use the
                                same secret; a missing file is then created there). Back the
                                secret up apart from the database: without it no voting code
                                can vote and no ballot can be changed; with it and the database
                                together, a changeable ballot can be linked to its code.
``STADMAKEN_MAX_BODY_BYTES``    Largest request body accepted (2 MiB); larger gives 413.
``STADMAKEN_TOKEN_HOURS``       How long an organiser's login token lasts (12 hours).
``STADMAKEN_CODE_ATTEMPTS``     Failed voting-code attempts allowed per client and round within
                                ``STADMAKEN_CODE_WINDOW`` seconds (10 per 600 s) before 429.
=============================== ==================================================================
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "normalise_database_url", "secret_file_for"]

DEFAULT_DATABASE_URL: Final = "sqlite:///stadmaken.db"
_MIN_SECRET_CHARS: Final = 32


def normalise_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_file_for(database_url: str) -> Path:
    """Where the generated secret lives when ``STADMAKEN_SECRET_FILE`` is not set (SQLite).

    Raises
    ------
    ValueError
        For another database: its secret must be given.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".secret")
    raise ValueError(
        f"set STADMAKEN_SECRET_KEY or STADMAKEN_SECRET_FILE for a {url.get_backend_name()} "
        "database (every server of a deployment must use the same secret)"
    )


def _load_or_create_secret(path: Path) -> bytes:
    """Read the secret file, or create it atomically (O_EXCL: concurrent starts agree)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as stream:
            stream.write(secrets.token_hex(32) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
    for _ in range(50):  # a concurrent creator may not have written it yet
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text.encode("ascii")
        time.sleep(0.02)
    raise RuntimeError(f"the secret file {path} is empty")


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with.

    Attributes
    ----------
    database_url : str
        SQLAlchemy URL.
    secret_key : bytes
        The server secret; see :meth:`derived_key`.
    max_body_bytes : int
        Largest request body accepted.
    token_hours : float
        Lifetime of a login token.
    code_attempts, code_window_seconds : int
        The rate limit on failed voting-code attempts.
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: bytes = field(default=b"", repr=False)
    max_body_bytes: int = 2 * 1024 * 1024
    token_hours: float = 12.0
    code_attempts: int = 10
    code_window_seconds: int = 600

    def __post_init__(self) -> None:
        if len(self.secret_key) < _MIN_SECRET_CHARS:
            raise ValueError(f"the secret key must have at least {_MIN_SECRET_CHARS} characters")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the settings from the environment (see the module's table)."""
        env = dict(os.environ if environ is None else environ)
        url = normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        secret_text = env.get("STADMAKEN_SECRET_KEY")
        if secret_text:
            secret = secret_text.encode("utf-8")
        else:
            path = Path(env.get("STADMAKEN_SECRET_FILE") or secret_file_for(url))
            secret = _load_or_create_secret(path)
        return cls(
            database_url=url,
            secret_key=secret,
            max_body_bytes=int(env.get("STADMAKEN_MAX_BODY_BYTES", 2 * 1024 * 1024)),
            token_hours=float(env.get("STADMAKEN_TOKEN_HOURS", 12)),
            code_attempts=int(env.get("STADMAKEN_CODE_ATTEMPTS", 10)),
            code_window_seconds=int(env.get("STADMAKEN_CODE_WINDOW", 600)),
        )

    def derived_key(self, label: str) -> bytes:
        """An independent key for one purpose: ``HMAC-SHA256(secret, "stadmaken/" + label)``."""
        return hmac.new(self.secret_key, f"stadmaken/{label}".encode(), hashlib.sha256).digest()

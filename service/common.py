"""What every ``stadmaken`` command shares: exit codes, error lines, atomic files, output.

The rules (see :mod:`service.cli`): results on stdout or in a file written all at once, messages
and progress on stderr, an error of the cores as one ``error: ...`` line naming file, row and
column (or the bundle field), exit code 2 for the user's input and 1 for a bundle that does not
verify or a solver failure, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from enum import StrEnum
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import typer
from rich.console import Console
from rich.status import Status
from rich.text import Text

if TYPE_CHECKING:
    from sortition import SortitionError


#: Exit code of a usage error, bad input file or impossible quotas (as click uses for usage).
EXIT_INPUT: Final = 2


#: Exit code of a failure that is not the user's input (a solver failure).
EXIT_FAILURE: Final = 1


#: Progress is shown only for work that takes longer than this many seconds.
PROGRESS_DELAY: Final = 1.0


class OutputFormat(StrEnum):
    """How a command writes its result."""

    TABLE = "table"
    JSON = "json"


def software_version() -> str:
    try:
        return package_version("stadmaken")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def one_line(text: str) -> str:
    return " ".join(text.splitlines())


def exit_code(error: SortitionError) -> int:
    """The exit code for an error of the cores.

    Parameters
    ----------
    error : SortitionError
        The error.

    Returns
    -------
    int
        ``2`` for :class:`~sortition.InputError` and :class:`~sortition.QuotaError` (the user's
        files or options are wrong) and an :class:`~sortition.AuditError` about a file that
        is not a bundle or a request that cannot be done; ``1`` for a bundle that does not
        verify and for a :class:`~sortition.SolverError` (not the user's fault).
    """
    from sortition import AuditError, InputError, QuotaError

    if isinstance(error, AuditError):
        return EXIT_FAILURE if error.code == "mismatch" else EXIT_INPUT
    return EXIT_INPUT if isinstance(error, InputError | QuotaError) else EXIT_FAILURE


#: Quota errors about the pool as a whole rather than the quota file.
_POOL_QUOTA_CODES: Final = frozenset({"pool-too-small"})


#: Quota errors that concern neither file.
_FILELESS_QUOTA_CODES: Final = frozenset({"bad-size"})


@contextmanager
def reported_errors(
    *,
    quota_file: Path | None = None,
    people_file: Path | None = None,
    bundle_file: Path | None = None,
) -> Iterator[None]:
    """Turn an error of the cores into one line on stderr and an exit code.

    The line is ``error: <file>, row R, column 'C': <message>`` with the parts that are known.
    When the error names no file, the file it is about is filled in: the quota file for a
    :class:`~sortition.QuotaError` (the pool file for ``pool-too-small``), the pool file for an
    :class:`~sortition.InputError`.

    Parameters
    ----------
    quota_file, people_file, bundle_file : Path, optional
        The files of the command, to name in errors that do not name one (the bundle file
        for an :class:`~sortition.AuditError`).

    Raises
    ------
    typer.Exit
        With :func:`exit_code` of the error, after writing the line.
    """
    from sortition import AuditError, InputError, QuotaError, SortitionError

    try:
        yield
    except SortitionError as error:
        if error.file is None:
            if isinstance(error, QuotaError):
                if error.code in _POOL_QUOTA_CODES:
                    error.file = None if people_file is None else str(people_file)
                elif error.code not in _FILELESS_QUOTA_CODES:
                    error.file = None if quota_file is None else str(quota_file)
            elif isinstance(error, InputError):
                error.file = None if people_file is None else str(people_file)
            elif isinstance(error, AuditError):
                error.file = None if bundle_file is None else str(bundle_file)
        typer.echo(f"error: {one_line(error.describe())}", err=True)
        raise typer.Exit(exit_code(error)) from None


@contextmanager
def solver_output_to_stderr() -> Iterator[None]:
    """Send whatever native code writes to file descriptor 1 to stderr for a while.

    HiGHS prints a banner on stdout (from C++, past ``sys.stdout``) the first time a solver is
    made in a process; this keeps it, and any other native chatter, out of the results.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no usable file descriptors (an embedding host): nothing to protect
        yield
        return
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


class DelayedStatus:
    """A progress callback that shows a transient rich spinner once work takes a while.

    Nothing is shown unless ``console`` is a terminal; the spinner appears ``delay`` seconds
    after entering the context, with the latest message and the seconds elapsed, and
    disappears on exit.

    Parameters
    ----------
    console : rich.console.Console
        Where to show the spinner (stderr in the command line).
    message : str
        The message until the work reports its own.
    delay : float
        Seconds to wait before showing anything.

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> with DelayedStatus(Console(file=io.StringIO()), "Working") as progress:
    ...     progress("Step", 1, 2)
    """

    def __init__(self, console: Console, message: str, *, delay: float = PROGRESS_DELAY) -> None:
        self._console = console
        self._message = message
        self._delay = delay
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._timer: threading.Timer | None = None
        self._closed = False
        self._started = time.monotonic()

    def __enter__(self) -> DelayedStatus:
        self._started = time.monotonic()
        if self._console.is_terminal:
            self._timer = threading.Timer(self._delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._status is not None:
                self._status.stop()
                self._status = None

    def _show(self) -> None:
        with self._lock:
            if self._closed or self._status is not None:
                return
            self._status = self._console.status(self)  # rendered by __rich__ at every refresh
            self._status.start()

    def __rich__(self) -> Text:
        """The latest message and the seconds since the work began."""
        seconds = int(time.monotonic() - self._started)
        return Text(f"{self._message}  ·  {seconds} s")

    def __call__(self, message: str, done: int, total: int) -> None:
        """Record progress: ``message`` with ``done`` of ``total`` (0 if unknown)."""
        self._message = f"{message} ({done}/{total})" if total > 0 else message

    @property
    def shown(self) -> bool:
        """Whether the spinner is showing now."""
        return self._status is not None


def write_atomic(files: Sequence[tuple[Path, bytes, bool]]) -> None:
    """Write every ``(path, data, private)`` all at once, or none of them.

    Each file is staged in a temporary file in its own folder (flushed to disk, mode 0600 when
    ``private``: pseudonym mappings and council states link pseudonyms to people, else 0644);
    only when all are staged are they renamed over their targets, in the order given. A crash
    or a full disk leaves the old files or the new ones, never half of one.

    Raises
    ------
    OSError
        If a file cannot be written (the temporary files are removed).
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data, private in files:
            folder = path.parent if str(path.parent) else Path(".")
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as stream:
                os.fchmod(stream.fileno(), 0o600 if private else 0o644)
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        for temporary, path in staged:
            os.replace(temporary, path)
    except BaseException:
        for temporary, _ in staged:
            with suppress(OSError):
                os.unlink(temporary)
        raise


def write_files(files: Sequence[tuple[Path, bytes, bool]]) -> None:
    """:func:`write_atomic`, with a failure reported as one line and exit code 2."""
    try:
        write_atomic(files)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        name = exc.filename or (files[-1][0] if files else "")
        typer.echo(f"error: {name}: cannot write the file ({reason})", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    for path, _, _ in files:
        typer.echo(f"wrote {path}", err=True)


def write_file(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write one file with :func:`write_files`."""
    write_files([(path, data, private)])


def check_out(value: Path | None) -> Path | None:
    """Reject an ``--out`` path that cannot be written, before any work is done."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(f"'{value}' is a folder; give a file name")
    parent = value.parent if str(value.parent) else Path(".")
    if not parent.is_dir():
        raise typer.BadParameter(f"the folder '{parent}' does not exist")
    if not os.access(parent, os.W_OK) or (value.exists() and not os.access(value, os.W_OK)):
        raise typer.BadParameter(f"no permission to write '{value}'")
    return value


MAPPING_FORMAT: Final = "stadmaken-pseudonyms"


def check_key(value: str | None) -> str | None:
    if value is not None:
        try:
            if len(bytes.fromhex(value)) < 16:
                raise ValueError
        except ValueError:
            raise typer.BadParameter(
                "give at least 32 hexadecimal digits (16 bytes), for example from the "
                "mapping file of an earlier commit"
            ) from None
    return value


def read_bundle(path: Path) -> dict[str, Any]:
    from sortition.audit import load_bundle

    return load_bundle(path)


def read_mapping(path: Path, pseudonyms: Collection[str] | None = None) -> dict[str, str]:
    """Read a private mapping file (pseudonym -> id); with ``pseudonyms``, check it is theirs."""
    from sortition import InputError

    def bad(message: str = "not a pseudonym mapping written by stadmaken") -> InputError:
        return InputError("bad-mapping", message, file=str(path))

    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise bad() from None
    mapping = value.get("pseudonyms") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("format") != MAPPING_FORMAT
        or not isinstance(mapping, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
    ):
        raise bad()
    if pseudonyms is not None and set(mapping) != set(pseudonyms):
        raise bad("the mapping does not belong to this bundle (its pseudonyms differ)")
    return dict(mapping)


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    from sortition.audit import canonical_json

    return canonical_json(bundle) + b"\n"


def emit(data: dict[str, Any], lines: list[str], output_format: OutputFormat) -> None:
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2))
    else:
        typer.echo("\n".join(lines))

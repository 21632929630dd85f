"""Voting codes as the rounds and the elections issue them: new codes with their keyed hashes,
and the one response that shows them (JSON, or CSV for the letters).

A code is stored only as ``keyed_hash(keys.code, normalised code)``; the code itself appears
only in the issuing response.
"""

from __future__ import annotations

import csv
import io

from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from service.api_common import Keys
from service.security import keyed_hash, new_code, normalise_code

__all__ = ["CodeOut", "CodeSummary", "codes_csv", "new_codes"]


class CodeOut(BaseModel):
    serial: int
    code: str


class CodeSummary(BaseModel):
    serial: int
    status: str
    issued_on: str
    replaces: int | None


def new_codes(keys: Keys, first: int, count: int) -> list[tuple[CodeOut, str]]:
    """``count`` new codes numbered from ``first``, each with the keyed hash to store."""
    issued = []
    for serial in range(first, first + count):
        code = new_code()
        issued.append(
            (CodeOut(serial=serial, code=code), keyed_hash(keys.code, normalise_code(code) or ""))
        )
    return issued


def codes_csv(owner: str, owner_id: int, codes: list[CodeOut]) -> PlainTextResponse:
    """The issued codes as a CSV download: ``<owner>_id,serial,code`` (``owner`` is ``round``
    or ``election``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f"{owner}_id", "serial", "code"])
    for item in codes:
        writer.writerow([owner_id, item.serial, item.code])
    return PlainTextResponse(
        buffer.getvalue(),
        status_code=201,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{owner}-{owner_id}-codes.csv"'},
    )

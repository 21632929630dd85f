"""Compiled float runs of the Method of Equal Shares (``budgeting/_mesrun.c``; the
arguments are listed in ``run.__doc__`` and in ``budgeting.mes._compiled_run``)."""

from typing import Any

class Supporters:
    def __init__(self, sup_ptr: Any, sup_ballot: Any, n_ballots: int) -> None: ...

def run(*args: Any) -> tuple[bool, list[int]]: ...
def prove(*args: Any) -> float: ...

#!/usr/bin/env bash
# Create benchmarks/.venv-anchor with the anchor library sortition-algorithms (GPL-3.0).
#
# The anchor lives ONLY in this virtual environment. stadmaken itself (EUPL-1.2) never imports
# it; the benchmark runs it in a subprocess (benchmarks/anchor_runner.py). Idempotent: re-running
# reuses the venv and only installs what is missing.
#
# Environment overrides:
#   PYTHON        interpreter that creates the venv (default: python3)
#   ANCHOR_VENV   where the venv goes (default: benchmarks/.venv-anchor)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ANCHOR_VENV:-$here/.venv-anchor}"
python="${PYTHON:-python3}"

ANCHOR_VERSION="0.12.15"
# highspy: the free HiGHS MIP/LP solver, the library's default backend ("highspy").
# The library's optional "gurobi" extra is NOT installed (commercial licence).
REQUIREMENTS=(
  "sortition-algorithms==${ANCHOR_VERSION}"
  "highspy"
)

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi

if "$venv/bin/python" - "$ANCHOR_VERSION" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version

import highspy  # noqa: F401
import sortition_algorithms  # noqa: F401

sys.exit(0 if version("sortition-algorithms") == sys.argv[1] else 1)
PY
  echo "anchor already installed in $venv"
else
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "${REQUIREMENTS[@]}"
fi

"$venv/bin/python" - <<'PY'
from importlib.metadata import version

for name in ("sortition-algorithms", "highspy", "mip", "numpy"):
    try:
        print(f"  {name}=={version(name)}")
    except Exception:
        print(f"  {name}: not installed")
PY

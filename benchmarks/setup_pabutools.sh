#!/usr/bin/env bash
# Create benchmarks/.venv-pabutools with the anchor library pabutools (GPL-3.0).
#
# pabutools lives ONLY in this virtual environment. stadmaken itself (EUPL-1.2) never imports
# it; the participatory-budgeting benchmark runs it in a subprocess
# (benchmarks/pb_anchor_runner.py). Idempotent: re-running reuses the venv and only installs
# what is missing.
#
# Environment overrides:
#   PYTHON           interpreter that creates the venv (default: python3)
#   PABUTOOLS_VENV   where the venv goes (default: benchmarks/.venv-pabutools)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${PABUTOOLS_VENV:-$here/.venv-pabutools}"
python="${PYTHON:-python3}"

PABUTOOLS_VERSION="1.2.3"

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi

if "$venv/bin/python" - "$PABUTOOLS_VERSION" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version

import pabutools  # noqa: F401

sys.exit(0 if version("pabutools") == sys.argv[1] else 1)
PY
  echo "pabutools already installed in $venv"
else
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "pabutools==${PABUTOOLS_VERSION}"
fi

"$venv/bin/python" - <<'PY'
from importlib.metadata import version

for name in ("pabutools", "mip", "numpy", "gmpy2"):
    try:
        print(f"  {name}=={version(name)}")
    except Exception:
        print(f"  {name}: not installed")
PY

#!/usr/bin/env bash
# Create benchmarks/.venv-voting with the vote-counting anchor libraries.
#
#   pref_voting (MIT), votekit (MIT), abcvoting (MIT), pyyaml
#
# They live ONLY in this virtual environment. stadmaken itself (EUPL-1.2) never imports them;
# benchmarks/voting_bench.py runs them in a subprocess (benchmarks/voting_anchor_runner.py),
# which reads the .blt files itself. Idempotent: re-running reuses the venv and only installs
# what is missing or at another version.
#
# Environment overrides:
#   PYTHON        interpreter that creates the venv (default: python3)
#   VOTING_VENV   where the venv goes (default: benchmarks/.venv-voting)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VOTING_VENV:-$here/.venv-voting}"
python="${PYTHON:-python3}"

PREF_VOTING_VERSION="1.18.2"
VOTEKIT_VERSION="3.5.0"
ABCVOTING_VERSION="2.19.2"

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi

if "$venv/bin/python" - "$PREF_VOTING_VERSION" "$VOTEKIT_VERSION" "$ABCVOTING_VERSION" \
  <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version

import abcvoting  # noqa: F401
import pref_voting  # noqa: F401
import votekit  # noqa: F401
import yaml  # noqa: F401

wanted = dict(zip(("pref_voting", "votekit", "abcvoting"), sys.argv[1:]))
sys.exit(0 if all(version(k) == v for k, v in wanted.items()) else 1)
PY
  echo "anchors already installed in $venv"
else
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet \
    "pref_voting==${PREF_VOTING_VERSION}" \
    "votekit==${VOTEKIT_VERSION}" \
    "abcvoting==${ABCVOTING_VERSION}" \
    pyyaml
fi

"$venv/bin/python" - <<'PY'
from importlib.metadata import version

for name in ("pref_voting", "votekit", "abcvoting", "numpy", "pandas", "pyyaml"):
    try:
        print(f"  {name}=={version(name)}")
    except Exception:
        print(f"  {name}: not installed")
PY

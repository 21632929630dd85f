"""PrefLib conformance: our reader and writer (:mod:`voting.preflib`) against ``preflibtools``.

Usage (from the repository root, in the project venv)::

    bash benchmarks/setup_voting_anchors.sh      # once: preflibtools comes with abcvoting
    .venv/bin/python benchmarks/preflib_conformance.py

Two sets of files are read by both sides and compared (alternative names, and every distinct
preference with its count; for ``.cat`` files the first category, which we read as the approved
set):

* every ``.soc``, ``.soi``, ``.toc``, ``.toi`` and ``.cat`` file under
  ``$STADMAKEN_SHARED_DATA/voting`` (default ``/work/shared/data``), read in place, never copied;
* files written by our :func:`voting.preflib.write_preflib` from seeded random profiles of
  every type, in a temporary folder: this checks that what we write is PrefLib as
  ``preflibtools`` (the PrefLib project's own parser, used by abcvoting) reads it.

``preflibtools`` runs in ``benchmarks/.venv-voting`` in a subprocess; stadmaken never imports
it. A conformance check, not a test: it prints a table and exits 0.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from instances import shared_data_dir  # noqa: E402

from voting.ballots import ApprovalProfile, MarkedProfile, Profile  # noqa: E402
from voting.preflib import PREFLIB_KINDS, read_preflib, write_preflib  # noqa: E402

ANCHOR_PYTHON = HERE / ".venv-voting" / "bin" / "python"

ANCHOR_CODE = r"""
import json, sys
from collections import Counter
from preflibtools.instances import get_parsed_instance
out = {}
for path in json.load(sys.stdin):
    try:
        inst = get_parsed_instance(path)
        names = [inst.alternatives_name.get(i, str(i)) for i in range(1, inst.num_alternatives + 1)]
        prefs = Counter()
        for pref, count in inst.multiplicity.items():
            if path.endswith(".cat"):
                key = [sorted(pref[0])] if pref else [[]]
            else:
                key = [sorted(group) for group in pref]
            prefs[json.dumps(key)] += count
        out[path] = {"names": names, "prefs": dict(prefs)}
    except Exception as exc:
        out[path] = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps(out))
"""


def data_dir() -> Path:
    return shared_data_dir()


def ours(path: Path) -> dict:
    f = read_preflib(path)
    prefs: Counter[str] = Counter()
    profile = f.profile
    if isinstance(profile, Profile):
        for b in profile.ballots:
            prefs[json.dumps([[c + 1] for c in b.ranking])] += b.weight
    elif isinstance(profile, MarkedProfile):
        for mb in profile.ballots:
            prefs[json.dumps([[c + 1 for c in rank] for rank in mb.marks])] += mb.weight
    else:
        for ab in profile.ballots:
            prefs[json.dumps([[c + 1 for c in ab.approved]])] += ab.weight
    return {"names": list(profile.candidates), "prefs": dict(prefs)}


def generated(folder: Path, seed: int = 2026) -> list[Path]:
    rnd = random.Random(seed)
    paths = []
    for kind in PREFLIB_KINDS:
        for k, (n, papers) in enumerate([(4, 30), (9, 5000)]):
            names = [f"Cand {i} ({rnd.choice('ABC')})" for i in range(1, n + 1)]
            pairs = []
            for _ in range(papers):
                perm = rnd.sample(range(n), n)
                length = n if kind in ("soc", "toc") else rnd.randint(1, n)
                pairs.append((perm[:length], 1))
            profile: Profile | MarkedProfile | ApprovalProfile
            if kind in ("soc", "soi"):
                profile = Profile.build(names, pairs)
            elif kind == "cat":
                profile = ApprovalProfile.build(
                    names, ((r[: rnd.randint(0, n)], w) for r, w in pairs)
                )
            else:
                marked = []
                for ranking, w in pairs:
                    groups: list[list[int]] = []
                    for c in ranking:
                        if groups and rnd.random() < 0.3:
                            groups[-1].append(c)
                        else:
                            groups.append([c])
                    marked.append((groups, w))
                profile = MarkedProfile.build(names, marked)
            path = folder / f"generated-{k}.{kind}"
            write_preflib(path, profile, title=f"generated {kind} {k}")
            paths.append(path)
    return paths


def main() -> int:
    root = data_dir() / "voting"
    real = (
        sorted(p for kind in PREFLIB_KINDS for p in root.rglob(f"*.{kind}"))
        if root.is_dir()
        else []
    )
    if not real:
        print(f"note: no PrefLib files under {root}; checking generated files only")
    if not ANCHOR_PYTHON.exists():
        print(f"skipped: {ANCHOR_PYTHON} not found (bash benchmarks/setup_voting_anchors.sh)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        files = real + generated(Path(tmp))
        proc = subprocess.run(
            [str(ANCHOR_PYTHON), "-c", ANCHOR_CODE],
            input=json.dumps([str(p) for p in files]),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print("preflibtools failed:", proc.stderr.strip().splitlines()[-1:])
            return 0
        theirs = json.loads(proc.stdout)
        same = 0
        print(f"{'file':60} {'ballots':>8} {'unique':>7}  ours = preflibtools")
        for path in files:
            mine = ours(path)
            other = theirs[str(path)]
            ok = "error" not in other and mine == other
            same += ok
            label = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
            detail = "yes" if ok else f"NO {other.get('error', '')}".strip()
            print(f"{label:60} {sum(mine['prefs'].values()):>8} {len(mine['prefs']):>7}  {detail}")
    print(f"\n{same} of {len(files)} files read identically ({len(real)} real, rest generated)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The draws API end to end: upload, background job, commit, publish, reveal, replace, verify.

Pools and quotas are generated here; the bundle is checked with the stand-alone
``docs/verify_bundle.py`` and compared byte for byte with ``stadmaken draw commit``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from api_helpers import Api
from fastapi import FastAPI
from roles_draws import ROWS
from sqlmodel import select, update
from typer.testing import CliRunner

from service.api_common import utcnow
from service.models import AuditEntry
from service.models_draws import DrawJob, SortitionDraw

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "docs" / "verify_bundle.py"
SIZE = 10
QUOTAS = (
    ("gender", "f", 4, 6),
    ("gender", "m", 4, 6),
    ("age", "young", 2, 4),
    ("age", "mid", 3, 5),
    ("age", "old", 2, 4),
    ("area", "north", 2, 5),
    ("area", "south", 2, 5),
    ("area", "east", 2, 5),
)
SOURCE = "dice on camera, 28-11-2026"


def pool_csv(n: int = 60, seed: int = 7) -> bytes:
    """A pool with personal data in ignored columns; people 0-19 live in pairs."""
    rng = random.Random(seed)
    lines = ["id,naam,email,gender,age,area,postcode,huisnummer"]
    for i in range(n):
        household = i // 2 if i < 20 else 100 + i
        lines.append(
            f"R-{i:03d},Geheimnaam{i} de Vries,geheim{i}@voorbeeld.nl,{rng.choice('fm')},"
            f"{rng.choice(['young', 'mid', 'old'])},{rng.choice(['north', 'south', 'east'])},"
            f"ZQ{household:03d}XQ,{household}-huisnr"
        )
    return ("\n".join(lines) + "\n").encode()


def quotas_csv(quotas: tuple[tuple[str, str, object, object], ...] = QUOTAS) -> bytes:
    lines = ["feature,value,min,max"] + [f"{f},{v},{lo},{hi}" for f, v, lo, hi in quotas]
    return ("\n".join(lines) + "\n").encode()


def big_instance(n: int = 1000, k: int = 40) -> tuple[bytes, bytes]:
    """A larger pool (five features) whose lottery over 3000 panels takes a second or more."""
    rng = random.Random(3)
    features = {
        "a": [f"a{i}" for i in range(6)],
        "b": [f"b{i}" for i in range(5)],
        "c": [f"c{i}" for i in range(4)],
        "d": ["d0", "d1", "d2"],
        "e": ["e0", "e1"],
    }
    rows = []
    for _ in range(n):
        rows.append({f: rng.choice(v) if rng.random() < 0.7 else v[0] for f, v in features.items()})
    pool = ["id," + ",".join(features)] + [
        f"x{i}," + ",".join(r[f] for f in features) for i, r in enumerate(rows)
    ]
    quotas = ["feature,value,min,max"]
    for f, values in features.items():
        for v in values:
            share = sum(r[f] == v for r in rows) / n * k
            quotas.append(f"{f},{v},{max(0, int(share * 0.8))},{int(share * 1.2) + 1}")
    return ("\n".join(pool) + "\n").encode(), ("\n".join(quotas) + "\n").encode()


def files(pool: bytes | None = None, quotas: bytes | None = None) -> dict[str, Any]:
    return {
        "pool": ("people.csv", pool if pool is not None else pool_csv(), "text/csv"),
        "quotas": ("quotas.csv", quotas if quotas is not None else quotas_csv(), "text/csv"),
    }


def form(**extra: object) -> dict[str, str]:
    data = {"size": SIZE, "source": SOURCE, "households": "postcode,huisnummer", "panels": 1000}
    data.update(extra)
    return {k: str(v) for k, v in data.items()}


def create(api: Api, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    upload = extra.pop("files", None) or files()
    response = api.client.post("/api/draws", headers=headers, files=upload, data=form(**extra))
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/draws/{response.json()['draw_id']}"
    body: dict[str, Any] = response.json()
    return body


def wait(api: Api, headers: dict[str, str], draw_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.client.get(f"/api/draws/{draw_id}", headers=headers).json()
        if body["job"]["status"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def committed(api: Api, headers: dict[str, str], **extra: Any) -> int:
    draw_id = int(create(api, headers, **extra)["draw_id"])
    body = wait(api, headers, draw_id)
    assert body["job"]["status"] == "done", body
    assert body["status"] == "committed" and body["job"]["progress"] == 1.0
    return draw_id


def verify_bytes(tmp_path: Path, data: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bundle.json"
    path.write_bytes(data)
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(path), *args],
        capture_output=True,
        text=True,
        check=False,
    )


# --------------------------------------------------------------------------- end to end


def test_end_to_end(api: Api, app: FastAPI, tmp_path: Path) -> None:
    a = api.organiser("anna")
    key = "ab" * 32
    draw_id = committed(api, a, pseudonym_key=key)
    client = api.client
    path = f"/api/draws/{draw_id}"

    # nothing public before the commitment is published; no reveal before it either
    assert client.get(f"/api/public/draws/{draw_id}").status_code == 404
    early = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:471"})
    assert early.status_code == 409 and early.json()["code"] == "not-published"

    draw = client.get(path, headers=a).json()
    published = client.post(f"{path}/publish", headers=a)
    assert published.status_code == 200 and published.json()["status"] == "published"
    public = client.get(f"/api/public/draws/{draw_id}").json()
    assert public["commitment"] == draw["commitment"] and public["panel"] is None
    assert public["source"] == SOURCE

    # the bundle is the one the command line writes, byte for byte
    bundle = client.get(f"{path}/bundle", headers=a).content
    assert client.get(f"/api/public/draws/{draw_id}/bundle").content == bundle
    (tmp_path / "people.csv").write_bytes(pool_csv())
    (tmp_path / "quotas.csv").write_bytes(quotas_csv())
    from service.cli import app as cli

    result = CliRunner().invoke(
        cli,
        [
            "draw", "commit", "--people", str(tmp_path / "people.csv"),
            "--quotas", str(tmp_path / "quotas.csv"), "--size", str(SIZE),
            "--source", SOURCE, "--households", "postcode,huisnummer",
            "--out", str(tmp_path / "cli.json"), "--mapping", str(tmp_path / "map.json"),
            "--pseudonym-key", key,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.json").read_bytes() == bundle

    checked = verify_bytes(tmp_path, bundle, "--commitment", draw["commitment"])
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # probabilities: before and after rounding, for pseudonyms only
    chances = client.get(f"/api/public/draws/{draw_id}/probabilities").json()
    assert len(chances["probabilities"]) == 60
    assert all(pid.startswith("P") and "R-" not in pid for pid in chances["probabilities"])
    assert sum(int(c["after"].split("/")[0]) for c in chances["probabilities"].values()) == (
        SIZE * 1000
    )

    # a wrong seed is refused and changes nothing; the right one reveals the panel
    wrong = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:47"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "bad-seed"
    assert client.post(f"{path}/reveal", headers=a, json={"seed": ""}).status_code == 422
    revealed = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:471"})
    assert revealed.status_code == 200, revealed.text
    panel = revealed.json()["panel"]
    assert revealed.json()["index"] == 471 and len(panel) == SIZE
    assert all(m["id"].startswith("R-") for m in panel)
    again = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:471"})
    assert again.status_code == 409 and again.json()["code"] == "already-revealed"
    public = client.get(f"/api/public/draws/{draw_id}").json()
    assert public["panel"] == sorted(m["pseudonym"] for m in panel)
    assert "R-" not in json.dumps(public)

    # a member leaves (named by id): the first eligible reserve of the seed's order follows
    leaving = panel[0]
    replaced = client.post(f"{path}/replacements", headers=a, json={"withdrawn": leaving["id"]})
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["withdrawn"] == leaving and body["event"] == 0
    current = client.get(f"{path}/panel", headers=a).json()["panel"]
    assert leaving not in current and body["replacement"] in current
    gone = client.post(f"{path}/replacements", headers=a, json={"withdrawn": leaving["id"]})
    assert gone.status_code == 422 and gone.json()["code"] == "not-on-panel"

    final = client.get(f"/api/public/draws/{draw_id}/bundle").content
    checked = verify_bytes(tmp_path, final, "--commitment", draw["commitment"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tampered = json.loads(final)
    tampered["events"][0]["replacement"] = current[0]
    failed = verify_bytes(tmp_path, json.dumps(tampered).encode())
    assert failed.returncode == 1 and "events[0]" in failed.stdout + failed.stderr

    # every organiser action is in the audit log, with no ids of people nor personal data
    with app.state.db.reading() as session:
        entries = session.exec(select(AuditEntry)).all()
    actions = [e.action for e in entries if e.action.startswith("draw.")]
    assert actions == ["draw.create", "draw.publish", "draw.reveal", "draw.replace"]
    logged = " ".join(e.details for e in entries)
    assert "R-0" not in logged and "Geheim" not in logged and "ZQ" not in logged
    with app.state.db.reading() as session:
        stored = session.exec(select(SortitionDraw)).one()
    assert "Geheim" not in stored.pool_json + stored.mapping_json and "ZQ" not in stored.pool_json


def test_check_reports_feasibility(api: Api) -> None:
    a = api.organiser("anna")
    response = api.client.post("/api/draws/check", headers=a, files=files(), data=form())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["feasible"] and body["pool_size"] == 60 and len(body["quotas"]) == len(QUOTAS)
    assert sum(q["pool"] for q in body["quotas"] if q["feature"] == "gender") == 60


# --------------------------------------------------------------------------- bad input


def _bad(api: Api, upload: dict[str, Any], **extra: object) -> dict[str, Any]:
    a = api.organiser("anna")
    response = api.client.post("/api/draws", headers=a, files=upload, data=form(**extra))
    assert 400 <= response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


def test_malformed_pool_names_file_row_and_column(api: Api) -> None:
    lines = pool_csv().decode().splitlines()
    lines[3] = "R-001" + lines[3][5:]  # row 4 repeats the id of row 3
    body = _bad(api, files(pool=("\n".join(lines) + "\n").encode()))
    assert (body["file"], body["row"], body["column"]) == ("people.csv", 4, "id")
    assert body["code"] == "duplicate-id" and "people.csv, row 4, column 'id'" in body["detail"]
    lines = pool_csv().decode().splitlines()
    lines[5] = lines[5].replace(",north,", ",west,").replace(",south,", ",west,")
    lines[5] = lines[5].replace(",east,", ",west,")
    body = _bad(api, files(pool=("\n".join(lines) + "\n").encode()))
    assert (body["file"], body["row"], body["column"]) == ("people.csv", 6, "area")
    with api.client.app.state.db.reading() as session:  # type: ignore[attr-defined]
        assert session.exec(select(SortitionDraw)).all() == []


def test_malformed_quotas_and_bad_sizes(api: Api) -> None:
    body = _bad(api, files(quotas=b"feature,value,min,max\ngender,f,4,x\n"))
    assert body["file"] == "quotas.csv" and body["row"] == 2 and body["column"] == "max"
    body = _bad(api, files(), size=500)
    assert body["code"] == "pool-too-small" and body["file"] == "people.csv"
    body = _bad(api, files(), size=0)
    assert body["code"] == "invalid-request"
    body = _bad(api, files(quotas=quotas_csv((("gender", "f", 9, 10), ("gender", "m", 9, 10)))))
    assert body["code"] == "infeasible" or body["code"].startswith("mins")
    body = _bad(api, files(pool=b"\x00" * 10))
    assert body["file"] == "people.csv" and body["code"] == "unreadable-file"
    body = _bad(api, files(), algorithm="legacy")
    assert body["code"] == "invalid-request"


def test_other_organiser_and_anonymous(api: Api) -> None:
    a, b = api.organiser("anna"), api.organiser("bert")
    draw_id = committed(api, a)
    for method, rest, payload in (
        ("GET", "", None),
        ("POST", "/publish", None),
        ("POST", "/reveal", {"seed": "1"}),
        ("GET", "/bundle", None),
        ("POST", "/run", None),
    ):
        url = f"/api/draws/{draw_id}{rest}"
        assert api.client.request(method, url, headers=b, json=payload).status_code == 404
        assert api.client.request(method, url, json=payload).status_code == 401
    assert api.client.get("/api/draws", headers=b).json() == []
    assert api.client.post("/api/draws", files=files(), data=form()).status_code == 401


# --------------------------------------------------------------------------- jobs


def test_requests_answer_while_a_draw_runs(api: Api) -> None:
    a = api.organiser("anna")
    pool, quotas = big_instance()
    started = create(api, a, files=files(pool, quotas), size=40, panels=3000, households="")
    draw_id = started["draw_id"]
    seen_running, slowest = 0, 0.0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        t = time.monotonic()
        state = api.client.get(f"/api/draws/{draw_id}", headers=a).json()
        assert api.client.get("/api/public/draws").status_code == 200
        assert api.client.get("/api/auth/me", headers=a).status_code == 200
        slowest = max(slowest, time.monotonic() - t)
        if state["job"]["status"] in ("done", "failed"):
            break
        if state["job"]["status"] == "running":
            seen_running += 1
            assert 0 <= state["job"]["progress"] < 1
        time.sleep(0.05)
    assert state["job"]["status"] == "done", state
    assert seen_running >= 3, "the job ended before it could be observed running"
    assert slowest < 2.0, f"a request took {slowest:.2f} s while the draw ran"


def test_interrupted_job_is_marked_failed_and_can_run_again(api: Api, app: FastAPI) -> None:
    a = api.organiser("anna")
    draw_id = committed(api, a)
    long_ago = utcnow() - timedelta(minutes=5)
    with app.state.db.writing() as session:  # as if the server stopped while the job ran
        session.exec(
            update(SortitionDraw)
            .where(SortitionDraw.id == draw_id)  # type: ignore[arg-type]
            .values(status="draft", bundle_json=None, commitment=None)
        )
        session.add(
            DrawJob(
                draw_id=draw_id,
                status="running",
                progress=0.3,
                owner="gone:1:x",
                created_at=long_ago,
                started_at=long_ago,
                heartbeat_at=long_ago,
            )
        )
        session.commit()
    body = api.client.get(f"/api/draws/{draw_id}", headers=a).json()
    assert body["job"]["status"] == "failed" and body["job"]["error_code"] == "interrupted"
    rerun = api.client.post(f"/api/draws/{draw_id}/run", headers=a)
    assert rerun.status_code == 202
    assert wait(api, a, draw_id)["status"] == "committed"
    again = api.client.post(f"/api/draws/{draw_id}/run", headers=a)
    assert again.status_code == 409


# --------------------------------------------------------------------------- councils

SEATS = b"wijk,seats\nnoord,3\nzuid,3\n"


def respondents_csv(n: int = 40, seed: int = 5) -> bytes:
    rng = random.Random(seed)
    lines = ["id,naam,wijk,gender"]
    for i in range(n):
        lines.append(f"R-{i:03d},Geheimnaam{i},{('noord', 'zuid')[i % 2]},{rng.choice('fm')}")
    return ("\n".join(lines) + "\n").encode()


def council(api: Api, headers: dict[str, str]) -> int:
    response = api.client.post(
        "/api/draws/councils",
        headers=headers,
        files={
            "seats": ("seats.csv", SEATS, "text/csv"),
            "people": ("respondents.csv", respondents_csv(), "text/csv"),
        },
        data={
            "name": "Wijkraad Noord-Zuid",
            "year": "2026",
            "term_years": "2",
            "cohorts": "2",
            "cooldown_years": "2",
            "source": SOURCE,
        },
    )
    assert response.status_code == 202, response.text
    council_id = int(response.json()["council_id"])
    assert wait_council(api, headers, council_id)["status"] == "pending"
    return council_id


def wait_council(
    api: Api, headers: dict[str, str], council_id: int, job_id: int | None = None
) -> dict[str, Any]:
    """The council once its job (``job_id``, or the latest) has finished."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.client.get(
            f"/api/draws/councils/{council_id}", headers=headers
        ).json()
        if job_id is not None and body["job"]["id"] != job_id:
            time.sleep(0.1)
            continue
        if body["job"]["status"] in ("done", "failed"):
            assert body["job"]["status"] == "done", body
            return body
        time.sleep(0.1)
    raise AssertionError("the council job did not finish")


def test_council_draw_replace_and_renew(api: Api, tmp_path: Path) -> None:
    a, b = api.organiser("anna"), api.organiser("bert")
    council_id = council(api, a)
    path = f"/api/draws/councils/{council_id}"
    client = api.client
    assert client.get(path, headers=b).status_code == 404
    public = client.get(f"/api/public/draws/councils/{council_id}").json()
    assert public["rounds"][0]["panel"] is None and public["rounds"][0]["source"] == SOURCE

    revealed = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:417"})
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["index"] == 417 and len(revealed.json()["joined"]) == 6
    again = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:417"})
    assert again.status_code == 409
    state = client.get(path, headers=a).json()
    assert state["status"] == "seated" and len(state["members"]) == 6

    leaving = state["members"][0]
    replaced = client.post(
        f"{path}/replacements", headers=a, json={"member": leaving["id"], "year": 2026}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["replacement"]["wijk"] == leaving["wijk"]
    members = {m["id"] for m in client.get(path, headers=a).json()["members"]}
    assert leaving["id"] not in members and replaced.json()["replacement"]["id"] in members

    round0 = client.get(f"/api/public/draws/councils/{council_id}/rounds/0/bundle").content
    assert client.get(f"{path}/rounds/0/bundle", headers=a).content == round0
    checked = verify_bytes(tmp_path, round0, "--commitment", state["rounds"][0]["commitment"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert b"R-0" not in round0 and b"Geheim" not in round0

    renewal = client.post(
        f"{path}/renewals",
        headers=a,
        files={"people": ("respondents.csv", respondents_csv(seed=6), "text/csv")},
        data={"source": "dice on camera, 2027"},
    )
    assert renewal.status_code == 202, renewal.text
    state = wait_council(api, a, council_id, renewal.json()["job_id"])
    assert state["status"] == "pending" and [r["round"] for r in state["rounds"]] == [0, 1]
    assert state["rounds"][1]["year"] == 2027
    revealed = client.post(f"{path}/reveal", headers=a, json={"seed": "dice:042"})
    assert revealed.status_code == 200, revealed.text
    assert len(revealed.json()["joined"]) == 3 and len(revealed.json()["left"]) == 3

    round1 = client.get(f"/api/public/draws/councils/{council_id}/rounds/1/bundle").content
    (tmp_path / "round-0.json").write_bytes(
        client.get(f"/api/public/draws/councils/{council_id}/rounds/0/bundle").content
    )
    checked = verify_bytes(tmp_path, round1, "--previous", str(tmp_path / "round-0.json"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    public = client.get(f"/api/public/draws/councils/{council_id}").json()
    assert [r["seed"] for r in public["rounds"]] == ["dice:417", "dice:042"]
    assert "R-0" not in json.dumps(public)


def test_council_bad_input(api: Api) -> None:
    a = api.organiser("anna")
    response = api.client.post(
        "/api/draws/councils",
        headers=a,
        files={
            "seats": ("seats.csv", SEATS, "text/csv"),
            "people": ("respondents.csv", b"id,wijk\nR-1,west\n", "text/csv"),
        },
        data={
            "name": "Wijkraad",
            "year": "2026",
            "term_years": "2",
            "cohorts": "2",
            "cooldown_years": "2",
            "source": SOURCE,
        },
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["file"], body["row"], body["column"]) == ("respondents.csv", 2, "wijk")


# --------------------------------------------------------------------------- role matrix


def test_every_draw_endpoint_has_rows(app: FastAPI) -> None:
    endpoints = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(("/api/draws", "/api/public/draws"))
        for method in operations
    }
    assert endpoints == {(method, path) for method, path, _, _ in ROWS}


def test_role_matrix(api: Api) -> None:
    a, b = api.organiser("organiser_a"), api.organiser("organiser_b")
    draw_id = committed(api, a)
    council_id = council(api, a)
    assert api.client.post(f"/api/draws/{draw_id}/publish", headers=a).status_code == 200
    headers = {"anonymous": {}, "organiser_a": a, "organiser_b": b}
    bodies = {"reveal": {"seed": "dice:1"}, "replacements": {"withdrawn": "P0001"}}
    wrong = []
    for method, path, role, expected in ROWS:
        url = path.replace("{draw_id}", str(draw_id)).replace("{council_id}", str(council_id))
        url = url.replace("{round_number}", "0")
        payload = bodies.get(path.rsplit("/", 1)[-1]) if method == "POST" else None
        if path.endswith("{council_id}/replacements"):
            payload = {"member": "nobody"}
        status = api.client.request(method, url, headers=headers[role], json=payload).status_code
        if status != expected:
            wrong.append((method, path, role, expected, status))
    assert wrong == []
    assert api.client.get(f"/api/draws/{draw_id}", headers=a).json()["status"] == "published"

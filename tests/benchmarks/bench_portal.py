"""Benchmark: 200 experts submitting at once against one portal process on 127.0.0.1.

    .venv/bin/python tests/benchmarks/bench_portal.py [--experts 200] [--apps 400] [--k 5]

A generated scenario round is assigned (k experts per application, so each
expert has apps·k/experts applications), every expert gets a link, and the
portal runs as a real process (`rounds portal DIR`, uvicorn). Then, with
asyncio and one httpx AsyncClient per expert (own cookies):
  phase 1 — every expert opens the link and saves a draft of each application, all at once;
  phase 2 — after a barrier, all experts press 提交 at the same moment.
Prints p50/p95/max latency of the saves and of the submissions, and
submissions per second. Afterwards it checks that no submission was lost: one
file per expert in scores/, byte-identical to the journal's newest revision,
nothing left unfinished, and the whole round's scores read back by the normal
intake (validated against the assignment) with nothing owed.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scoring.uscc import ALPHABET, make_uscc  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CRITERIA = {"innovation": 25, "effectiveness": 30, "replicability": 20, "maturity": 15, "benefit": 10}


def write_round(folder: Path, n_apps: int, n_experts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    (folder / "round.toml").write_text('programme = "scenario"\nyear = 2026\n', encoding="utf-8")
    with (folder / "submissions.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["submission_id", "enterprise_name", "credit_code", "contact_name", "contact_email", "title",
                    "submitted_at", "category", "district"])
        for i in range(n_apps):
            code = make_uscc("91350100" + "".join(rng.choice(ALPHABET) for _ in range(9)))
            w.writerow([f"SC-{i:05d}", f"福州测试{i:05d}科技有限公司", code, "联系人", f"c{i}@example.cn",
                        f"人工智能应用场景{i}", "2026-07-15 10:00", "scenario", "鼓楼区"])
    with (folder / "experts.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["expert_id", "name", "email", "organisation", "org_credit_code"])
        for i in range(n_experts):
            w.writerow([f"X{i:03d}", f"专家{i:03d}", f"x{i}@example.edu.cn", f"福建某大学{i % 17}", ""])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


async def expert_session(base: str, token: str, sids: list[str], barrier: asyncio.Barrier,
                         saves: list[float], submits: list[tuple[float, int]], rng: random.Random) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=120) as c:
        r = await c.get(f"/e/{token}")
        csrf = CSRF.search(r.text).group(1)
        for sid in sids:
            data = {"csrf": csrf, **{f"c.{k}": str(rng.randint(m // 2, m)) for k, m in CRITERIA.items()}}
            t = time.perf_counter()
            r = await c.post(f"/expert/save/{sid}", data=data)
            saves.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[-500:]
        await barrier.wait()
        t = time.perf_counter()
        r = await c.post("/expert/submit", data={"csrf": csrf})
        submits.append((time.perf_counter() - t, r.status_code))
        assert r.status_code == 200 and "评分已提交" in r.text, r.text[-500:]


async def drive(base: str, tokens: dict[str, str], mine: dict[str, list[str]]) -> tuple[list, list, float]:
    barrier = asyncio.Barrier(len(tokens))
    saves: list[float] = []
    submits: list[tuple[float, int]] = []
    rng = random.Random(1)
    started = time.perf_counter()
    await asyncio.gather(*(expert_session(base, tok, mine[e], barrier, saves, submits, random.Random(rng.random()))
                           for e, tok in tokens.items()))
    return saves, submits, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experts", type=int, default=200)
    ap.add_argument("--apps", type=int, default=400)
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()

    from flows.cli import main as rounds
    from flows.intake import load_workspace
    from flows.panel import owed_by_expert, read_assignment
    from flows.portal.store import PortalStore
    from flows.workspace import Workspace
    from tests.integration.portal_helpers import PortalServer, issue

    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        root = Path(tmp) / "round"
        write_round(root, args.apps, args.experts)
        assert rounds(["assign", str(root), "--k", str(args.k)]) == 0
        tokens = issue(root)
        assignment = read_assignment(Workspace.at(root))
        mine = {e: sorted(g.submission_id) for e, g in assignment.groupby("expert_id")}
        print(f"round: {args.apps} applications × {args.k} experts = {len(assignment)} pairs; "
              f"{len(tokens)} experts, {len(assignment) // len(tokens)} applications each")
        with PortalServer(root) as server:
            first_submit = time.perf_counter()
            saves, submits, total = asyncio.run(drive(server.url, tokens, mine))
            del first_submit
        latencies = [t for t, _ in submits]
        window = max(latencies)  # all submits start at the barrier: the last one ends after `window`
        print(f"drafts saved: {len(saves)}; latency p50 {pct(saves, .5):.0f} ms, p95 {pct(saves, .95):.0f} ms")
        print(f"submissions: {len(submits)} at once; latency p50 {pct(latencies, .5):.0f} ms, "
              f"p95 {pct(latencies, .95):.0f} ms, max {window * 1000:.0f} ms; "
              f"{len(submits) / window:.1f} submissions/s; whole run {total:.1f} s")

        ws = Workspace.at(root)
        store = PortalStore(ws.out / "portal.sqlite")
        latest = store.latest_submissions()
        lost = [e for e in tokens if e not in latest]
        assert not lost, f"submissions lost: {lost}"
        assert store.unfinished() == [], "revisions left unfinished"
        for e, sub in latest.items():
            assert (root / "scores" / f"portal-{e}.csv").read_bytes() == store.submission_body(e, sub.revision)
        _, programme = ws.load_config()
        inputs = load_workspace(root, programme, require_scores=True, assigned=assignment)
        owed = owed_by_expert(assignment, inputs.scores)
        assert not owed and len(inputs.scores) == len(assignment) * len(CRITERIA)
        print(f"check: {len(latest)} score files, all equal to their journal entry; intake read "
              f"{len(inputs.scores)} scores, nothing owed — no submission lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())

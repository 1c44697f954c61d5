"""Benchmark: a 20,000-application × 5-expert scenario round, against baselines measured in the same run.

    .venv/bin/python tests/benchmarks/bench_scoring.py [--apps 20000] [--experts 5]

Prints, from one run on this machine:
- the pipeline (intake of the CSV files, formal review, scoring, ranking, caps,
  panel statistics without the bootstrap) as a ratio to pandas only reading the
  same CSV files (target ≤ 2×);
- the same rules implemented row by row, as a first version usually is (pandas
  iterrows and Decimal), as a ratio to the pipeline (target ≥ 30× faster); and,
  for honesty, a tighter row-by-row oracle (tests/reference_impl.py: lists and
  Fractions on already-parsed rows);
- 200 bootstrap resamples as a ratio to the base scoring (target ≤ 10×);
- peak memory of the pipeline in a fresh process (target < 1 GB).
Each timing is the best of a few repetitions, since the machine is shared.
"""
from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from scoring.uscc import ALPHABET, make_uscc  # noqa: E402


def write_round(folder: Path, n_apps: int, n_experts: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    (folder / "scores").mkdir(parents=True)
    (folder / "round.toml").write_text('programme = "scenario"\nyear = 2026\n', encoding="utf-8")
    with (folder / "submissions.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["submission_id", "enterprise_name", "credit_code", "contact_name", "contact_email", "title",
                    "submitted_at", "category", "district"])
        for i in range(n_apps):
            body = "91350100" + "".join(rng.choice(ALPHABET) for _ in range(9))
            w.writerow([f"B{i:06d}", f"福州测试{i}科技有限公司", make_uscc(body), "张三", f"a{i}@example.cn",
                        f"人工智能应用项目{i}", f"2026-07-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}",
                        "scenario" if i % 2 else "key_project", "鼓楼区"])
    with (folder / "experts.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["expert_id", "name", "email", "organisation", "org_credit_code"])
        for e in range(n_experts):
            w.writerow([f"E{e:02d}", f"专家{e}", f"e{e}@example.cn", f"大学{e}", ""])
    crit = {"innovation": 25, "effectiveness": 30, "replicability": 20, "maturity": 15, "benefit": 10}
    with (folder / "scores" / "all.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["expert_id", "submission_id", "criterion", "score"])
        for i in range(n_apps):
            q = rng.uniform(0.4, 0.98)
            for e in range(n_experts):
                for c, m in crit.items():
                    s = min(m, max(0, round(m * q * rng.uniform(0.9, 1.1) * 2) / 2))
                    w.writerow([f"E{e:02d}", f"B{i:06d}", c, f"{s:g}"])


def best(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def naive_rowwise(submissions: pd.DataFrame, scores: pd.DataFrame, programme) -> dict[str, tuple]:
    """The same rules as most first versions are written: DataFrame.iterrows and Decimal, row by row."""
    from decimal import ROUND_HALF_UP, Decimal

    weights = {c.id: (Decimal(c.weight), Decimal(c.max_points)) for c in programme.criteria}
    totals: dict[tuple[str, str], Decimal] = {}
    for _, row in scores.iterrows():
        w, m = weights[row["criterion"]]
        key = (row["submission_id"], row["expert_id"])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(row["score"]) / m * w
    panels: dict[str, list[Decimal]] = {}
    for (sid, _), t in totals.items():
        panels.setdefault(sid, []).append(t)
    result = {}
    for _, sub in submissions.iterrows():
        vals = sorted(panels.get(sub["submission_id"], []))
        if len(vals) >= 5:
            vals = vals[1:-1]
        score = (sum(vals) / len(vals)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if vals else Decimal(0)
        result[sub["submission_id"]] = (score, sub["submitted_at"])
    order = sorted(result, key=lambda s: (-result[s][0], result[s][1], s))
    out, taken = {}, 0
    for sid in order:
        if result[sid][0] < 60:
            out[sid] = ("not_selected", 0)
        elif taken < 10:
            out[sid], taken = ("selected", 200000), taken + 1
        else:
            out[sid] = ("reserve" if taken < 13 else "not_selected", 0)
            taken += 1
    return out


def pipeline(folder: Path):
    from flows.intake import load_workspace
    from flows.workspace import Workspace
    from scoring.panel_report import panel_summary
    from scoring.pipeline import evaluate_round
    from scoring.statistics import application_spread, expert_leniency

    ws = Workspace.at(folder)
    config, programme = ws.load_config()
    inputs = load_workspace(ws.root, programme)
    result = evaluate_round(submissions=inputs.submissions, scores=inputs.scores, programme=programme, config=config)
    application_spread(result.expert_totals)
    expert_leniency(result.expert_totals)
    panel_summary(result)
    return inputs, result, programme


def peak_memory_mb(folder: Path) -> float:
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
            f"import tests.benchmarks.bench_scoring as b; b.pipeline(Path({str(folder)!r})); "
            "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=20_000)
    ap.add_argument("--experts", type=int, default=5)
    ap.add_argument("--reference-sample", type=int, default=2_000,
                    help="applications the row-by-row baseline runs on (its rate is extrapolated linearly)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "round"
        write_round(folder, args.apps, args.experts)
        n_rows = args.apps * args.experts * 5
        print(f"round: {args.apps:,} applications × {args.experts} experts = {n_rows:,} score rows")

        t_read, _ = best(lambda: (pd.read_csv(folder / "submissions.csv", dtype=str),
                                  pd.read_csv(folder / "experts.csv", dtype=str),
                                  pd.read_csv(folder / "scores" / "all.csv", dtype=str)))
        t_pipe, (inputs, result, programme) = best(lambda: pipeline(folder))

        from scoring.aggregation import expert_totals, panel_scores
        from scoring.sensitivity import bootstrap_selection, top_n_selector

        t_score, _ = best(lambda: panel_scores(expert_totals(inputs.scores, programme), programme))
        sel = top_n_selector(programme.award.count_cap, float(programme.scoring.pass_mark))
        t_boot, _ = best(lambda: bootstrap_selection(result.expert_totals, sel, 200, 1,
                                                     aggregation="trimmed_mean", trim_min_experts=5), repeat=2)

        from tests.reference_impl import reference_ranking

        sample = inputs.submissions.head(args.reference_sample)
        ids = set(sample["submission_id"])
        sc = inputs.scores[inputs.scores["submission_id"].isin(ids)]
        rows = [{"expert_id": e, "submission_id": s, "criterion": c, "score": str(u / 100)}
                for e, s, c, u in zip(sc.expert_id, sc.submission_id, sc.criterion, sc.score_units)]
        t_ref_sample, _ = best(lambda: reference_ranking(sample.to_dict("records"), rows, programme), repeat=1)
        t_ref = t_ref_sample * args.apps / len(sample)
        raw_scores = pd.read_csv(folder / "scores" / "all.csv", dtype=str)
        raw_subs = pd.read_csv(folder / "submissions.csv", dtype=str)
        naive_subs = raw_subs.head(args.reference_sample)
        naive_scores = raw_scores[raw_scores["submission_id"].isin(set(naive_subs["submission_id"]))]
        t_naive_sample, _ = best(lambda: naive_rowwise(naive_subs, naive_scores, programme), repeat=1)
        t_naive = t_read + t_naive_sample * args.apps / len(naive_subs)
        t_pipe_scoring = t_pipe - t_read  # the part of the pipeline beyond what pandas spends on reading
        mem = peak_memory_mb(folder)

        print(f"pandas read_csv of the inputs          {t_read:8.3f} s   (baseline)")
        print(f"pipeline (intake … caps, statistics)   {t_pipe:8.3f} s   = {t_pipe / t_read:5.2f}× the read   (target ≤ 2×)")
        print(f"base scoring (totals + panel scores)   {t_score:8.3f} s")
        print(f"row by row: iterrows + Decimal         {t_naive:8.3f} s   = {t_naive / t_pipe:5.1f}× the pipeline's time"
              f"   (target ≥ 30×; read + rules, extrapolated from {args.reference_sample:,} applications)")
        print(f"row by row: lists + Fractions (oracle) {t_ref:8.3f} s   = {t_ref / t_pipe:5.1f}× the pipeline's time"
              f" ({t_ref / max(t_pipe_scoring, 1e-9):.1f}× its work beyond reading; rules only, already parsed)")
        print(f"bootstrap, 200 resamples               {t_boot:8.3f} s   = {t_boot / t_score:5.2f}× base scoring   (target ≤ 10×)")
        print(f"peak memory of the pipeline            {mem:8.0f} MB  (target < 1024 MB)")
        ok = t_pipe / t_read <= 2 and t_naive / t_pipe >= 30 and t_boot / t_score <= 10 and mem < 1024
        print("all targets met" if ok else "SOME TARGETS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

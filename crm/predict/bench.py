"""`crm bench predict --scale S [--db postgres]`: training on every closed deal and scoring every open
deal (issue 15's goals: training ≤ 60 s with its memory reported, scoring ≤ 30 s), on the benchmark
database, in this process.

Figures: the feature read of every closed deal as of its instant (bulk SQL), the whole training run
(features, the time-ordered split, fit, evaluation, the refit when in use), and scoring every open
deal with a fitted model (features as of now, probabilities, reasons, the rows written). The benchmark
data has no planted signal, so the model is usually *not* in use there; scoring is then timed with
the pipeline fitted on all closed deals anyway (the cost of the model path, which is the larger one),
and the verdict is reported as computed. Memory: the process's peak resident size (ru_maxrss) before
and after each step. ``--docs`` writes the block between ``<!-- bench:predict:<database> -->`` markers
in docs/benchmarks.md.
"""

from __future__ import annotations

import resource
import time

from django.db import connection
from django.utils import timezone

from crm.bench.report import machine, write_block
from crm.predict import features, scoring, training
from crm.records.models import Activity, Deal, DealStatus

TRAIN_GOAL_S, SCORE_GOAL_S = 60.0, 30.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _step(fn):
    """``fn()`` and its (wall seconds, CPU seconds, peak memory after it): the machine is shared, so
    CPU time is the steadier figure."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, (time.perf_counter() - start, time.process_time() - cpu, _peak_mb())


def run() -> dict:
    closed = training.closed_deals()
    out = {
        "database": connection.vendor,
        "deals": Deal.objects.count(),
        "closed": len(closed),
        "open": Deal.objects.filter(status=DealStatus.OPEN).count(),
        "activities": Activity.objects.count(),
        "start_mb": _peak_mb(),
        "steps": {},
    }
    cutoffs = {pk: training.instant(pk, created, at) for pk, created, at, _ in closed}
    facts, took = _step(lambda: features.extract(cutoffs))
    out["steps"]["features of every closed deal (as of its instant)"] = (*took, None)
    record, took = _step(training.train)
    out["steps"]["training: features, split, fit, evaluation"] = (*took, TRAIN_GOAL_S)
    out["verdict"] = record.reason
    pipe = training.load(record) if record.in_use else None
    if pipe is None and closed:
        rows = [r for r in closed if r[0] in facts]
        pipe = training.make_pipeline().fit([features.vector(facts[r[0]]) for r in rows], [r[3] for r in rows])
    count, took = _step(lambda: scoring.write_scores(pipe, None, now=timezone.now()))
    out["steps"][f"scoring {count:,} open deals with the model (features, reasons, write)"] = (*took, SCORE_GOAL_S)
    scoring.score_open_deals()  # leave the scores the app would have
    return out


def report(result: dict, at) -> str:
    m = machine()
    load = ", ".join(f"{x:.1f}" for x in m["load_avg"])
    lines = [
        f"### Win probability on {result['database']} ({at:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {m['nproc']} cores ({m.get('cpu', '?')}), Python {m['python']}; load average {load}. "
        f"{result['deals']:,} deals ({result['closed']:,} closed, {result['open']:,} open), "
        f"{result['activities']:,} activities. Peak memory of the process before: {result['start_mb']:.0f} MB.",
        "",
        "| step | time | CPU | peak memory after | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (secs, cpu, peak, goal) in result["steps"].items():
        verdict = "" if goal is None else f"≤ {goal:.0f} s: {'met' if secs <= goal else 'MISS'}"
        lines.append(f"| {name} | {secs:.1f} s | {cpu:.1f} s | {peak:.0f} MB | {verdict} |")
    lines += ["", f"Verdict of the training run (computed, not asserted): {result['verdict']}"]
    return "\n".join(lines)


def update_docs(text: str, vendor: str) -> None:
    """The block of this database (``<!-- bench:predict:sqlite -->``), replaced or added at the end."""
    write_block(f"predict:{vendor}", text)

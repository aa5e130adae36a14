#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-report.py: turn the console log of a scripts/bench.sh guest run into
bench/results/<kernel>_qemu-<version>.{md,csv,png,json} (+ -stream.png) and
bench/results/latest.md.  The .json holds the stamp (commit, kernel, QEMU)
and every target with its numbers, for scripts that quote them.

Reads the machine-readable lines the guest printed (see
scripts/guest/bench.sh and bench/atomic_alloc_bench.c): BENCH and BHIST (the
alloc+free tables), BSKIP, BENV, BGUEST, BLAB, BBUDDY, BREFILL, BSUSTAIN,
BSTREAM, BSHIST, BPOOL, BTIME.  Everything is from one boot: ratios between
methods are meaningful, absolute times are this run's only (TCG emulation).

Usage: bench-report.py --log LOG --kernel RELEASE --qemu VERSION [--host TEXT]
                       [--source TEXT] [--commit REV]
                       --out DIR [--accel ARGS] [--build-seconds N]
                       [--run-seconds N] [--total-seconds N]
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import sys
import tempfile

from aa_report import (NS_TICS, fmt_ns, gnuplot, kv, md_table, num, stamp,
                       stamp_md)
import aa_insn

# Contexts the report knows by name; one the module adds later (bench_ctx.c)
# is listed after these under its own name (Run.contexts(), ctx_text()).
CTX_ORDER = ["irqoff", "hardirq", "bh", "nmi"]
CTX_TEXT = {
    "irqoff": "IRQs off",
    "hardirq": "hard IRQ (hrtimer)",
    "bh": "BH disabled",
    "nmi": "NMI (IPI from another CPU)",
}
METHOD_ORDER = ["timer", "irqsave_x2", "guard_x2", "floor", "floor_guarded",
                "floor_lockless", "floor_split", "atomic_alloc", "page_pool", "alloc_pages", "mempool",
                "zeroing", "wq_wakeup"]
METHOD_TEXT = {
    "timer": "timer overhead (empty pair)",
    "irqsave_x2": "2 x local_irq_save/restore (reference)",
    "guard_x2": "2 x preempt_disable + re-entrancy count up/down (tier 1's previous guard, reference)",
    "floor": "floor: per-CPU array pop/push, IRQs off",
    "floor_guarded": "the floor's array under atomic_alloc's guard (cmpxchg commit of {level, count}, push flag, no IRQ disabling)",
    "floor_lockless": "the floor as a lock-free list: this_cpu_cmpxchg() on {head, tag}, preemption disabled (reference)",
    "floor_split": "the floor split by context: one array per class (task, BH, hard IRQ, NMI) from preempt_count(), plain loads and stores (reference)",
    "atomic_alloc": "atomic_alloc_page()/atomic_alloc_free()",
    "alloc_pages": "alloc_pages(GFP_ATOMIC)/__free_pages()",
    "mempool": "mempool page pool, mempool_alloc(GFP_ATOMIC)/mempool_free()",
    "page_pool": "page_pool_alloc_pages()/page_pool_put_full_page(direct)",
    "zeroing": "clear_highpage() of the buffer (reference)",
    "wq_wakeup": "work item queued from hard IRQ until it runs",
}
SCENARIO_TEXT = {
    "quiet": "Scenario 1: quiet heap",
    "labyrinth": "Scenario 2: labyrinth",
}


def ctx_text(ctx):
    return CTX_TEXT.get(ctx, ctx)


class Run:
    def __init__(self, path):
        self.rows = {}        # (tag, method, order, ctx) -> dict
        self.hist = {}        # same key -> list of (lo, hi, count)
        self.skips = []
        self.env = {}
        self.guest = {}
        self.lab = []
        self.buddy = []
        self.refill = []
        self.sustain = []
        self.stream = {}      # stream -> {key: value}; None -> global
        self.shist = {}       # (stream, kind) -> list of (lo, hi, count)
        self.pools = []
        self.times = []
        self.audio_pool = {}
        self.labcheck = []
        self.labnote = ""
        self.checks = []
        self.stream_skip = ""
        self.end_rc = None
        self.progress = []
        self.runs = {}        # tag -> BRUN line
        self.ctxinfo = {}     # (tag, ctx) -> BCTX line (the NMI context's counts)
        self.lines = []
        self.parse(path)

    def parse(self, path):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        self.lines = text.splitlines()
        for raw in self.lines:
            line = raw.replace("\r", "")
            m = re.search(r"AA-END rc=(\d+)", line)
            if m:
                self.end_rc = int(m.group(1))
            if line.startswith("ok - ") or line.startswith("not ok - "):
                self.checks.append(line)
                continue
            if not line.startswith("B"):
                continue
            word = line.split(" ", 1)[0]
            d = kv(line)
            if word == "BENCH":
                key = (d["tag"], d["method"], int(d["order"]), d["ctx"])
                self.rows[key] = {k: num(v, v) for k, v in d.items()}
            elif word == "BHIST":
                key = (d["tag"], d["method"], int(d["order"]), d["ctx"])
                for b in d.get("bins", "").split(","):
                    p = b.split(":")
                    if len(p) == 3:
                        self.hist.setdefault(key, []).append(
                            tuple(int(x) for x in p))
            elif word == "BSKIP":
                why = line.split("why=", 1)[1] if "why=" in line else ""
                self.skips.append((d["tag"], d["method"], int(d["order"]),
                                   d["ctx"], why))
            elif word == "BRUN":
                self.runs[d["tag"]] = d
            elif word == "BCTX":
                self.ctxinfo[(d.get("tag"), d.get("ctx"))] = d
            elif word == "BENV":
                self.env.update(d)
            elif word == "BGUEST":
                self.guest.update(d)
            elif word == "BLAB":
                self.lab.append(d)
            elif word == "BLABNOTE":
                self.labnote = line[len("BLABNOTE "):]
            elif word == "BLABCHECK":
                self.labcheck.append(d)
            elif word == "BBUDDY":
                m = re.match(r"BBUDDY when=(\S+) Node (\d+), zone\s+(\S+)\s+(.*)",
                             line)
                if m:
                    self.buddy.append((m.group(1), m.group(3),
                                       [int(x) for x in m.group(4).split()]))
            elif word == "BREFILL":
                self.refill.append({k: num(v, v) for k, v in d.items()})
            elif word == "BSUSTAIN":
                self.sustain.append({k: num(v, v) for k, v in d.items()})
            elif word == "BSTREAM":
                s = d.get("stream")
                self.stream.setdefault(s, {})[d.get("key")] = d.get("value")
            elif word == "BSTREAMSKIP":
                self.stream_skip = line.split("why=", 1)[-1]
            elif word == "BSTREAMPROGRESS":
                self.progress.append(d)
            elif word == "BSHIST":
                m = re.match(r"BSHIST stream=(\d+) kind=(\S+) (\d+)-(\d+|inf): (\d+)",
                             line)
                if m:
                    hi = m.group(4)
                    hi = int(hi) if hi != "inf" else int(m.group(3)) * 2
                    self.shist.setdefault((int(m.group(1)), m.group(2)), []).append(
                        (int(m.group(3)), hi, int(m.group(5))))
            elif word == "BPOOL":
                self.pools.append({k: num(v, v) for k, v in d.items()})
            elif word == "BAUDIOPOOL":
                m = re.match(r"BAUDIOPOOL (\w+): (\S+)", line)
                if m:
                    self.audio_pool[m.group(1)] = m.group(2)
            elif word == "BTIME":
                self.times.append(d)

    def contexts(self):
        """CTX_ORDER, then any other context of the log, as it came."""
        seen = list(CTX_ORDER)
        for k in list(self.rows) + [s[:4] for s in self.skips]:
            if k[3] not in seen:
                seen.append(k[3])
        return seen

    def row(self, tag, method, order, ctx):
        return self.rows.get((tag, method, order, ctx))

    def tags(self):
        seen = []
        for k in self.rows:
            if k[0] not in seen and k[0] in SCENARIO_TEXT:
                seen.append(k[0])
        return seen


def fmt_ps(v):
    if v is None:
        return "n/a"
    v = float(v)
    if v < 1e6:
        return "%.1f ns" % (v / 1e3)
    return fmt_ns(v / 1e3)


def fmt_rate(v):
    if v is None:
        return "n/a"
    v = float(v)
    if v >= 1e6:
        return "%.2f M/s" % (v / 1e6)
    if v >= 1e3:
        return "%.1f k/s" % (v / 1e3)
    return "%d/s" % v


def fmt_ratio(a, b):
    if a is None or b is None or not b:
        return "n/a"
    r = float(a) / float(b)
    if r >= 100:
        return "%.0fx" % r
    if r >= 10:
        return "%.1fx" % r
    return "%.2fx" % r


def blk(r):
    """A row's block-timed mean for the targets: the median over its batches
    of each batch's block-timed mean (ps), which one batch the host stalled
    cannot move; the overall block mean where the log has no batch median."""
    if not r:
        return None
    return r.get("block_p50_ps") or r.get("block_ps")


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return float(a) / float(b)


def fail_pct(r):
    tot = r["n"] + r["fail"]
    return 100.0 * r["fail"] / tot if tot else 0.0


def pct(r, key):
    """A percentile of a row, None when no pair succeeded."""
    if r is None or not r["n"]:
        return None
    return r[key]


def sorted_rows(run, tag):
    keys = [k for k in run.rows if k[0] == tag]

    def sk(k):
        m = METHOD_ORDER.index(k[1]) if k[1] in METHOD_ORDER else 99
        ctxs = run.contexts()
        return (m, k[2], ctxs.index(k[3]))
    return sorted(keys, key=sk)


def shist_pct(buckets, q):
    """Upper bound of the log2 bucket holding quantile q."""
    tot = sum(c for _, _, c in buckets)
    if not tot:
        return None
    want = q * tot
    seen = 0
    for lo, hi, c in sorted(buckets):
        seen += c
        if seen >= want:
            return hi
    return sorted(buckets)[-1][1]


# ---------------------------------------------------------------- targets --

class Targets:
    def __init__(self):
        self.items = []

    def add(self, name, met, detail):
        self.items.append((name, met, detail))


def evaluate(run):
    t = Targets()
    rt = run.env.get("kernel_rt") == "1"
    hi = int(run.env.get("order_hi", 2))
    tag = "quiet"
    # 1. The speed targets: block-timed means, one run.  A batch is timed
    # as one block, free of the per-pair clock reads; the targets compare
    # the median over the batches of those means (blk()), the overall
    # block means are shown beside.
    def both(a, b):
        return ("median of batch means %s vs %s = %s; overall block means %s vs %s "
                "= %s; p50 %s vs %s"
                % (fmt_ps(blk(a)), fmt_ps(blk(b)), fmt_ratio(blk(a), blk(b)),
                   fmt_ps(a.get("block_ps")), fmt_ps(b.get("block_ps")),
                   fmt_ratio(a.get("block_ps"), b.get("block_ps")),
                   fmt_ns(a["p50"]), fmt_ns(b["p50"])))
    for order in (0, hi):
        aa = run.row(tag, "atomic_alloc", order, "bh")
        pp = run.row(tag, "page_pool", order, "bh")
        if aa and pp:
            r = ratio(blk(aa), blk(pp))
            t.add("atomic_alloc alloc+free <= 1.0x page_pool direct recycling, "
                  "both with BH disabled, order %d (block-timed means)" % order,
                  r is not None and r <= 1.0, both(aa, pp))
    for order in (0, hi):
        for ctx in ("irqoff", "hardirq"):
            aa = run.row(tag, "atomic_alloc", order, ctx)
            fl = run.row(tag, "floor", 0, ctx)
            if not aa or not fl:
                continue
            r = ratio(blk(aa), blk(fl))
            t.add("atomic_alloc alloc+free <= 1.0x the floor (per-CPU array with "
                  "local_irq_save), %s, order %d (block-timed means)"
                  % (ctx_text(ctx), order),
                  r is not None and r <= 1.0,
                  both(aa, fl) + ("" if not order else
                                  " (the floor holds order-0 pages: an array's "
                                  "cost does not depend on the order)"))
    # The NMI row: the pair measured in an NMI handler.
    ci = run.ctxinfo.get((tag, "nmi"), {})
    for order in (0, hi):
        name = ("NMI row: atomic_alloc alloc+free measured in an NMI handler, "
                "order %d, every pair served" % order)
        aa = run.row(tag, "atomic_alloc", order, "nmi")
        if not aa:
            why = [s[4] for s in run.skips
                   if s[:4] == (tag, "atomic_alloc", order, "nmi")]
            t.add(name, False, "not measured: %s" % (why[0] if why else
                                                     "no NMI row in the log"))
            continue
        hard = run.row(tag, "atomic_alloc", order, "hardirq")
        t.add(name, aa["n"] > 0 and not aa["fail"] and not aa["ctxerr"] and
              ci.get("stray") == "0" and ci.get("timeouts") == "0",
              "%d pairs, %d failed, %d outside NMI; block mean (median of batches) "
              "%s = %s of the same pair in hard IRQ (%s), p50 %s; NMIs sent from "
              "CPU %s: %s, batches run: %s, stray: %s, lost: %s"
              % (aa["n"], aa["fail"], aa["ctxerr"], fmt_ps(blk(aa)),
                 fmt_ratio(blk(aa), blk(hard)), fmt_ps(blk(hard)),
                 fmt_ns(aa["p50"]), ci.get("sender_cpu", "?"), ci.get("sent", "?"),
                 ci.get("batches", "?"), ci.get("stray", "?"),
                 ci.get("timeouts", "?")))
    # 2. aa p99.9 < alloc_pages p50 and aa max < alloc_pages p99
    for order in (0, hi):
        for ctx in ("irqoff", "hardirq"):
            aa = run.row(tag, "atomic_alloc", order, ctx)
            ap = run.row(tag, "alloc_pages", order, ctx)
            note = ""
            if aa and not ap and rt:
                ap = run.row(tag, "alloc_pages", order, "bh")
                note = " (PREEMPT_RT: alloc_pages measured with BH disabled, the only context it is legal in of the three)"
            if not aa or not ap:
                continue
            p50 = pct(ap, "p50")
            p99 = pct(ap, "p99")
            t.add("atomic_alloc p99.9 below alloc_pages(GFP_ATOMIC) p50 (order %d, %s)" % (order, ctx),
                  p50 is not None and aa["p999"] < p50,
                  "p99.9 %s vs p50 %s%s" % (fmt_ns(aa["p999"]), fmt_ns(p50), note))
            fl = run.row(tag, "floor", 0, ctx)
            tm = run.row(tag, "timer", 0, ctx)
            t.add("atomic_alloc max below alloc_pages(GFP_ATOMIC) p99 (order %d, %s)" % (order, ctx),
                  p99 is not None and aa["max"] < p99,
                  "max %s vs p99 %s%s; for scale, in the same context the floor's max was "
                  "%s and the empty timer pair's %s" % (
                      fmt_ns(aa["max"]), fmt_ns(p99), note,
                      fmt_ns(fl["max"]) if fl else "n/a",
                      fmt_ns(tm["max"]) if tm else "n/a"))
    # 3. labyrinth failures
    tag = "labyrinth"
    if any(k[0] == tag for k in run.rows):
        aa_fail = sum(r["fail"] for k, r in run.rows.items()
                      if k[0] == tag and k[1] == "atomic_alloc")
        aa_tot = sum(r["fail"] + r["n"] for k, r in run.rows.items()
                     if k[0] == tag and k[1] == "atomic_alloc")
        ap = [r for k, r in run.rows.items()
              if k[0] == tag and k[1] == "alloc_pages" and k[2] == hi]
        ap_fail = sum(r["fail"] for r in ap)
        ap_tot = sum(r["fail"] + r["n"] for r in ap)
        ap_rate = 100.0 * ap_fail / ap_tot if ap_tot else None
        t.add("labyrinth: zero atomic_alloc failures",
              aa_tot > 0 and aa_fail == 0,
              "%d of %d atomic_alloc pairs failed (all orders and contexts)" % (aa_fail, aa_tot))
        t.add("labyrinth: order-%d alloc_pages(GFP_ATOMIC) fails at least half the time" % hi,
              ap_rate is not None and ap_rate >= 50.0,
              "%s of %d attempts failed" % ("n/a" if ap_rate is None else "%.1f%%" % ap_rate, ap_tot))
    # 4. stream
    g = run.stream.get(None, {})
    if run.stream and any(k is not None for k in run.stream):
        xr = sum(int(v.get("xrun_alloc", 0)) for k, v in run.stream.items() if k is not None)
        ve = sum(int(v.get("verify_errors", 0)) for k, v in run.stream.items() if k is not None)
        per = sum(int(v.get("periods", 0)) for k, v in run.stream.items() if k is not None)
        target = int(g.get("target_periods", 1000000))
        t.add("stream: %d interrupts on the labyrinth heap" % target, per >= target,
              "%d period interrupts" % per)
        t.add("stream: zero xrun_alloc", xr == 0 and per > 0, "%d" % xr)
        t.add("stream: zero verify errors", ve == 0 and per > 0, "%d" % ve)
    elif run.stream_skip:
        t.add("stream: scenario ran", False, run.stream_skip)
    return t


# ------------------------------------------------------------------ plots --

PLOT_STYLE = {
    ("floor", 0): ("floor", "#000000", 1),
    ("atomic_alloc", 0): ("atomic_alloc o0", "#d62728", 1),
    ("atomic_alloc", 2): ("atomic_alloc o2", "#d62728", 2),
    ("page_pool", 0): ("page_pool o0", "#2ca02c", 1),
    ("page_pool", 2): ("page_pool o2", "#2ca02c", 2),
    ("alloc_pages", 0): ("alloc_pages o0", "#1f77b4", 1),
    ("alloc_pages", 2): ("alloc_pages o2", "#1f77b4", 2),
    ("mempool", 0): ("mempool o0", "#9467bd", 1),
    ("mempool", 2): ("mempool o2", "#9467bd", 2),
    ("timer", 0): ("timer", "#7f7f7f", 3),
}


def plot_tables(run, tmp, png, title):
    tags = run.tags()
    if not tags:
        return False
    panels = []
    for tag in tags:
        for ctx in run.contexts():
            series = []
            for (method, order), (label, color, dt) in PLOT_STYLE.items():
                key = (tag, method, order, ctx)
                if key not in run.hist:
                    continue
                r = run.rows[key]
                n = r["n"]
                if not n:
                    continue
                fn = os.path.join(tmp, "h_%s_%s_%s_%d.dat" % (tag, ctx, method, order))
                with open(fn, "w") as f:
                    prev = None
                    for lo, hi, c in sorted(run.hist[key]):
                        # fraction of samples per bin (1/8 octave); a blank
                        # line where empty bins lie between, so that gnuplot
                        # does not draw across them
                        if prev is not None and lo != prev:
                            f.write("\n")
                        f.write("%g %g %g\n" % (math.sqrt(max(lo, 1) * hi), lo, c / n))
                        prev = hi
                series.append((fn, label, color, dt))
            if series:
                panels.append((tag, ctx, series))
    if not panels:
        return False
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    s = []
    s.append("set terminal pngcairo noenhanced size %d,%d font 'sans,9'" % (1500, 430 * rows + 60))
    s.append("set output '%s'" % png)
    s.append("set multiplot layout %d,%d title \"%s\"" % (rows, cols, title))
    s.append("set logscale x 10; set logscale y 10")
    s.append("set xrange [10:2e7]; set yrange [1e-6:1.5]")
    s.append("set xtics (%s)" % NS_TICS)
    s.append("set format y '%g'")
    s.append("set xlabel 'ns per alloc+free pair (bins of 1/8 octave, at their centre)'")
    s.append("set ylabel 'fraction of pairs'")
    s.append("set key top right font ',8'")
    s.append("set grid xtics ytics")
    for tag, ctx, series in panels:
        s.append("set title '%s, %s'" % (tag, CTX_TEXT.get(ctx, ctx)))
        parts = []
        for fn, label, color, dt in series:
            parts.append("'%s' using 1:3 with linespoints pt 7 ps 0.3 lw 1.4 dt %d lc rgb '%s' title '%s'"
                         % (fn, dt, color, label))
        s.append("plot " + ", \\\n     ".join(parts))
    s.append("unset multiplot")
    return gnuplot("\n".join(s) + "\n", png)


def plot_stream(run, tmp, png, title):
    kinds = [("handler", "period interrupt handler run time"),
             ("alloc", "atomic_alloc_page() inside the interrupt")]
    have = [k for k, _ in kinds if any(kk[1] == k for kk in run.shist)]
    if not have:
        return False
    s = []
    s.append("set terminal pngcairo noenhanced size 1200,460 font 'sans,9'")
    s.append("set output '%s'" % png)
    s.append("set multiplot layout 1,2 title \"%s\"" % title)
    s.append("set logscale x 10; set logscale y 10")
    s.append("set xtics (%s)" % NS_TICS)
    s.append("set format y '%g'; set yrange [0.8:*]")
    s.append("set xlabel 'time (buckets of one power of two)'; set ylabel 'interrupts'")
    s.append("set grid; set key top right")
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]
    for kind, text in kinds:
        parts = []
        for (stream, k), buckets in sorted(run.shist.items()):
            if k != kind:
                continue
            fn = os.path.join(tmp, "s_%s_%d.dat" % (kind, stream))
            with open(fn, "w") as f:
                # Every bucket from the first to the last (empty ones as
                # 0.5, below the axis), and the last one's upper edge, so
                # that the steps show each bucket's whole width.
                have = {lo: (hi, c) for lo, hi, c in buckets}
                los = sorted(have)
                lo = los[0]
                while lo <= los[-1]:
                    hi, c = have.get(lo, (max(2 * lo - 1, lo), 0))
                    f.write("%d %g\n" % (max(lo, 1), c if c else 0.5))
                    last = (hi, c)
                    lo = hi + 1
                f.write("%d %g\n" % (last[0], last[1] if last[1] else 0.5))
            parts.append("'%s' using 1:2 with steps lw 1.5 lc rgb '%s' title 'stream%d'"
                         % (fn, colors[stream % len(colors)], stream))
        s.append("set title '%s'" % text)
        if parts:
            s.append("plot " + ", \\\n     ".join(parts))
    s.append("unset multiplot")
    return gnuplot("\n".join(s) + "\n", png)


# ----------------------------------------------------------------- report --

def write_csv(run, path, meta):
    cols = ["kernel", "qemu", "scenario", "method", "order", "context", "n_ok",
            "failed", "fail_pct", "min_ns", "p50_ns", "p90_ns", "p99_ns",
            "p999_ns", "max_ns", "mean_ns", "ctx_errors", "p50_over_floor",
            "p999_over_floor", "p50_over_atomic_alloc",
            "p999_over_atomic_alloc", "block_mean_ps", "block_batch_median_ps"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for tag in run.tags():
            for key in sorted_rows(run, tag):
                r = run.rows[key]
                _, method, order, ctx = key
                fl = run.row(tag, "floor", 0, ctx)
                aa = run.row(tag, "atomic_alloc", order, ctx)
                if method == "page_pool" and aa is None:
                    aa = run.row(tag, "atomic_alloc", order, "bh")

                def rr(a, b, k):
                    if not r["n"] or not b or not b["n"]:
                        return ""
                    v = ratio(r[k], b[k])
                    return "" if v is None else "%.3f" % v
                w.writerow([meta["kernel"], meta["qemu"], tag, method, order, ctx,
                            r["n"], r["fail"], "%.3f" % fail_pct(r), r["min"],
                            r["p50"], r["p90"], r["p99"], r["p999"], r["max"],
                            r["mean"], r["ctxerr"], rr(r, fl, "p50"),
                            rr(r, fl, "p999"), rr(r, aa, "p50"),
                            rr(r, aa, "p999"), r.get("block_ps", ""),
                            r.get("block_p50_ps", "")])
        for s in run.skips:
            tag, method, order, ctx, why = s
            if tag in SCENARIO_TEXT:
                w.writerow([meta["kernel"], meta["qemu"], tag, method, order, ctx,
                            "", "", "", "", "", "", "", "", "", "", "",
                            "skipped: " + why, "", "", "", "", ""])


def scenario_md(run, tag):
    out = []
    hi = int(run.env.get("order_hi", 2))
    header = ["method", "order", "context", "pairs", "failed", "p50", "p99",
              "p99.9", "max", "block mean", "block mean, median of batches",
              "p50 / floor", "p99.9 / floor",
              "p50 / atomic_alloc", "p99.9 / atomic_alloc",
              "block mean (median of batches) / atomic_alloc"]
    rows = []
    for key in sorted_rows(run, tag):
        r = run.rows[key]
        _, method, order, ctx = key
        if method == "wq_wakeup":
            continue
        fl = run.row(tag, "floor", 0, ctx)
        aa = run.row(tag, "atomic_alloc", order, ctx)
        aa_note = ""
        if method == "page_pool":
            aa = run.row(tag, "atomic_alloc", order, "bh")
        name = method if method != "page_pool" else "page_pool (direct recycling)"
        ok = r["n"] > 0

        def rr(a, b, k):
            if not ok or b is None or not b["n"]:
                return "n/a"
            return fmt_ratio(a[k], b[k])
        tot = r["n"] + r["fail"]
        rows.append([name, order, ctx_text(ctx), tot,
                     "%.1f%%" % fail_pct(r) if r["fail"] else "0",
                     fmt_ns(r["p50"]) if ok else "n/a",
                     fmt_ns(r["p99"]) if ok else "n/a",
                     fmt_ns(r["p999"]) if ok else "n/a",
                     fmt_ns(r["max"]) if ok else "n/a",
                     fmt_ps(r.get("block_ps")), fmt_ps(r.get("block_p50_ps")),
                     rr(r, fl, "p50"), rr(r, fl, "p999"),
                     rr(r, aa, "p50") + aa_note, rr(r, aa, "p999"),
                     fmt_ratio(blk(r), blk(aa)) if aa else "n/a"])
    out.append(md_table(header, rows))
    sk = [s for s in run.skips if s[0] == tag]
    if sk:
        out.append("")
        out.append("Not measured (illegal in that context):")
        seen = set()
        for _, method, order, ctx, why in sk:
            k = (method, ctx, why)
            if k in seen:
                continue
            seen.add(k)
            out.append("- %s, %s: %s" % (method, ctx_text(ctx), why))
    return "\n".join(out)


def buddy_md(run, whens):
    rows = []
    for when, zone, counts in run.buddy:
        if when in whens:
            hi = sum(counts[1:])
            rows.append([when, zone] + counts + [hi])
    if not rows:
        return ""
    n = max(len(r) for r in rows) - 3
    header = ["when", "zone"] + ["o%d" % i for i in range(n)] + ["blocks >= o1"]
    return md_table(header, rows)


def median(vals):
    v = sorted(vals)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def spread(vals, fmt):
    """'median (min-max)' of a list, formatted with fmt."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return fmt(vals[0])
    return "%s (%s - %s)" % (fmt(median(vals)), fmt(min(vals)), fmt(max(vals)))


def refill_rate(r):
    """Buffers/s the worker put back: first batch to full when the observer
    saw the steps, else kick to full (wake-up included)."""
    full = r.get("full_ns") or 0
    first = r.get("wake_first_ns") or 0
    if r.get("complete") != 1 or not full:
        return None
    if full > first and r.get("refill_rate"):
        return float(r["refill_rate"])
    return r.get("want", 0) * 1e9 / full


def refill_md(run):
    out = []
    groups = {}
    for r in run.refill:
        groups.setdefault((r["tag"], r["order"]), []).append(r)
    rows = []
    for (tag, order), rs in groups.items():
        per_s = fmt_rate
        done = [r for r in rs if r.get("complete") == 1]
        rows.append([tag, order, "%d x %d" % (len(rs), rs[0]["drained"]),
                     spread([r["drain_rate"] for r in rs], per_s),
                     spread([r.get("wake_first_ns") or None for r in done], fmt_ns),
                     spread([r.get("full_ns") or None for r in done], fmt_ns),
                     spread([refill_rate(r) for r in done], per_s),
                     spread([r.get("alloc_rate") for r in rs], per_s),
                     "%d of %d" % (len(done), len(rs))])
    if rows:
        out.append(md_table(["heap", "order", "runs x buffers drained",
                             "drain rate (IRQs off, pool tiers 1+2)",
                             "refill: kick to first batch seen",
                             "kick to full", "worker refill rate",
                             "raw alloc rate with the worker's gfp",
                             "refilled within 3 s"], rows))
        out.append("")
        out.append("Median (min - max) over the runs. The refill worker is kicked "
                   "when the CPU's array drops below its low watermark and runs on "
                   "that CPU once the draining thread gives it up; its rate is "
                   "from the first batch it pushed to the last (or from the kick, "
                   "wake-up included, when the observer saw only the end).")
    srows = []
    for s in run.sustain:
        secs = s["ms"] / 1000.0
        srows.append([s["tag"], s["order"], fmt_rate(s["target_rate"]),
                      fmt_rate(s["allocs"] / secs), s["fails"],
                      s["overruns"], "%d / %d" % (s["local"], s["remote"]),
                      s["refilled"], s["released"]])
    if srows:
        out.append("")
        out.append("Sustained draw: an hrtimer on the bench CPU takes N buffers per "
                   "1 ms tick (pool tiers only, gfp 0) and a kthread on another CPU "
                   "frees them (as the audio DMA-completion interrupt does), %d ms per "
                   "step. *Achieved* is lower than *asked* where ticks were lost "
                   "(the emulated timer interrupt came late):"
                   % run.sustain[0]["ms"])
        out.append("")
        out.append(md_table(["heap", "order", "asked", "achieved", "failed allocs",
                             "lost ticks", "tier 1 / tier 2", "refilled",
                             "released"], srows))
    return "\n".join(out)


def depth_md(run, wake):
    # Buffers a 192 kHz stream consumes per ms = 192 / frames per buffer.
    cases = [
        ("2 ch s24_le, 4 KiB (order 0)", 512),
        ("8 ch s24_le, 4 KiB (order 0) - this run's stream", 128),
        ("2 ch s24_le, 16 KiB (order 2)", 2048),
        ("2 ch, one buffer per 1 ms period", 192),
        ("2 ch, one buffer per 64 frames", 64),
        ("worst case: one buffer per frame", 1),
    ]
    lat = []
    if wake:
        lat = [("p99", wake["p99"]), ("max", wake["max"])]
    header = ["buffer holds", "buffers/s per stream", "depth for 1 ms, 1 stream/CPU",
              "depth for 1 ms, 4 streams/CPU"]
    for name, _ in lat:
        header.append("depth for measured wake-up %s (%s), 4 streams/CPU"
                      % (name, fmt_ns(dict(lat)[name])))
    rows = []
    for name, fpb in cases:
        per_s = 192000.0 / fpb
        row = [name + " (%d frames)" % fpb, "%.0f" % per_s,
               math.ceil(per_s * 1e-3), math.ceil(4 * per_s * 1e-3)]
        for _, ns in lat:
            row.append(math.ceil(4 * per_s * ns * 1e-9))
        rows.append(row)
    return md_table(header, rows)


def stream_md(run):
    out = []
    g = run.stream.get(None, {})
    streams = sorted(k for k in run.stream if k is not None)
    if not streams:
        return run.stream_skip and ("Not run: " + run.stream_skip) or ""
    keys = ["cpu", "dma_cpu", "periods", "buffers_submitted", "buffers_completed",
            "bytes_played", "xrun_alloc", "xrun_ring_full", "timer_overruns",
            "verify_errors", "dma_overruns", "not_hardirq"]
    rows = []
    tot = {k: 0 for k in keys}
    for s in streams:
        d = run.stream[s]
        rows.append(["stream%s" % s] + [d.get(k, "?") for k in keys])
        for k in keys:
            if k not in ("cpu", "dma_cpu"):
                tot[k] += int(d.get(k, 0) or 0)
    rows.append(["**total**", "", ""] + ["**%d**" % tot[k] for k in keys[2:]])
    s0 = run.stream[streams[0]]
    out.append("Configuration: %s Hz, %s channels, %s, %s frames (%s bytes) per buffer, "
               "period = one buffer (%s ns), ring %s, %d streams; guest time %s s for %s "
               "period interrupts (target %s)."
               % (s0.get("rate"), s0.get("channels"), s0.get("format"),
                  s0.get("period_frames"), s0.get("pool_buffer_bytes"),
                  s0.get("period_ns"), s0.get("ring_entries"), len(streams),
                  g.get("elapsed_s", "?"), tot["periods"], g.get("target_periods", "?")))
    out.append("")
    out.append(md_table(["stream"] + keys, rows))
    el = num(g.get("elapsed_s"), 0)
    if el:
        out.append("")
        out.append("Effective interrupt rate: %.0f/s over all streams (real time would be "
                   "%.0f/s). The emulated guest could not keep up: %d periods were lost "
                   "as timer overruns (the period timer fired late and skipped them) and "
                   "%d blocks were dropped because the DMA ring was full (the simulated "
                   "DMA completion ran late). Neither is an allocation failure; each "
                   "handled period still allocated its buffer in the interrupt."
                   % (tot["periods"] / el,
                      len(streams) * num(s0.get("rate"), 192000)
                      / max(num(s0.get("period_frames"), 1), 1),
                      tot["timer_overruns"], tot["xrun_ring_full"]))
    ap = run.audio_pool
    if ap:
        out.append("")
        out.append("Audio pool (order %s, %s buffers per CPU, low watermark %s, shared "
                   "reserve %s) after the stream: %s allocations from the CPU's array, %s "
                   "from the shared reserve, %s from the page allocator, %s failed; the "
                   "worker refilled %s and released %s buffers."
                   % (ap.get("order"), ap.get("cpu_buffers"), ap.get("low_watermark"),
                      ap.get("shared_buffers"), ap.get("alloc_local"),
                      ap.get("alloc_remote"), ap.get("alloc_direct"),
                      ap.get("alloc_failed"), ap.get("refilled"), ap.get("released")))
    # histograms, all streams together
    for kind, text in (("handler", "period interrupt handler run time"),
                       ("alloc", "atomic_alloc_page() in the interrupt")):
        agg = {}
        for (s, k), b in run.shist.items():
            if k != kind:
                continue
            for lo, hi, c in b:
                agg[(lo, hi)] = agg.get((lo, hi), 0) + c
        if not agg:
            continue
        b = [(lo, hi, c) for (lo, hi), c in agg.items()]
        out.append("")
        out.append("%s, all streams (log2 buckets; percentiles are bucket upper bounds): "
                   "p50 <= %s, p99 <= %s, p99.9 <= %s, max bucket %s."
                   % (text[0].upper() + text[1:], fmt_ns(shist_pct(b, 0.5)),
                      fmt_ns(shist_pct(b, 0.99)), fmt_ns(shist_pct(b, 0.999)),
                      "%s-%s" % (fmt_ns(max(b)[0]), fmt_ns(max(b)[1]))))
        out.append("")
        out.append(md_table(["bucket", "interrupts"],
                            [["%s - %s" % (fmt_ns(lo), fmt_ns(hi)), c]
                             for lo, hi, c in sorted(b) if c]))
    return "\n".join(out)


def insn_notes(run, insn):
    """What the instruction counts say about the speed targets."""
    out = []
    q = "quiet"
    pairs = {e["method"]: e for e in (insn or {}).get("pairs", [])
             if e.get("order") == 0 and "error" not in e}
    ctx_of = {"page_pool": "bh"}
    per = []
    for m in ("floor", "floor_guarded", "floor_lockless", "floor_split",
              "page_pool", "atomic_alloc"):
        e = pairs.get(m)
        r = run.row(q, m, 0, ctx_of.get(m, "irqoff"))
        if e and blk(r):
            per.append((m, e["total"]["instructions"],
                        e["total"]["memory_accesses"],
                        float(blk(r)) / 1000.0 / e["total"]["instructions"]))
    if len(per) >= 2:
        out.append("- Instructions: one alloc+free pair executes %s (section "
                   "*Instruction counts*). Block mean (median of batches) per "
                   "instruction in this run (IRQs off; page_pool with BH disabled): "
                   "%s, the empty timer pair's call overhead included. Under TCG an "
                   "instruction's cost depends on what it is: the ratios of the speed "
                   "targets follow the instruction counts only roughly."
                   % (", ".join("%s %d instructions (%d memory accesses)" % (m, n, a)
                                for m, n, a, _ in per),
                      ", ".join("%s %.2f ns" % (m, x) for m, _, _, x in per)))
    aa = pairs.get("atomic_alloc")
    gf = pairs.get("floor_guarded")
    st = (insn or {}).get("static", {})
    if aa and gf and st:
        src = {}
        for name in ("atomic_alloc_page", "atomic_alloc_free"):
            for k, v in st.get(name, {}).get("by_source_function", {}).items():
                src[k] = src.get(k, 0) + v
        out.append("- atomic_alloc against the guarded floor (the same guard, nothing "
                   "else): %d library instructions per pair against %d. By source "
                   "function (objdump -l of atomic_alloc.ko, inlined helpers under "
                   "their own name): %s."
                   % (aa["alloc"]["instructions"] + aa["free"]["instructions"],
                      gf["alloc"]["instructions"] + gf["free"]["instructions"],
                      ", ".join("%s %d" % kv for kv in
                                sorted(src.items(), key=lambda kv: -kv[1]))))
    crossing = [e for e in pairs.values() if e.get("page_crossings_in_functions")]
    if crossing:
        out.append("- Page boundaries: %s. Under TCG a jump is chained to the next "
                   "translation block only within the page where that block started, "
                   "so such a crossing costs a block lookup on every pair (on hardware, "
                   "nothing); which functions cross depends on where the module's code "
                   "landed, not on what it does."
                   % "; ".join("the %s pair's path crosses %d inside a function"
                               % (e["method"], e["page_crossings_in_functions"])
                               for e in crossing))
    ig = run.row(q, "guard_x2", 0, "irqoff")
    ii = run.row(q, "irqsave_x2", 0, "irqoff")
    igb = run.row(q, "guard_x2", 0, "bh")
    iib = run.row(q, "irqsave_x2", 0, "bh")
    if ig and ii:
        out.append("- Tier 1's previous guard: two preempt_disable() + re-entrancy count sections "
                   "(guard_x2) take %s with IRQs off and %s with BH disabled; two "
                   "local_irq_save()/restore() pairs (irqsave_x2) %s and %s (under TCG, "
                   "re-enabling interrupts ends a translation block)."
                   % (fmt_ps(blk(ig)), fmt_ps(blk(igb)), fmt_ps(blk(ii)),
                      fmt_ps(blk(iib))))
    out.extend(lockless_notes(run))
    out.extend(split_notes(run))
    return out


def split_notes(run):
    """The floor split by context: the guard's cost without any atomic
    instruction, against the floor and page_pool, in each context."""
    q = "quiet"
    sp = {c: blk(run.row(q, "floor_split", 0, c)) for c in CTX_ORDER}
    fl = {c: blk(run.row(q, "floor", 0, c)) for c in ("irqoff", "hardirq")}
    pp = blk(run.row(q, "page_pool", 0, "bh"))
    gf = blk(run.row(q, "floor_guarded", 0, "irqoff"))
    if None in (sp["irqoff"], sp["hardirq"], sp["bh"], fl["irqoff"],
                fl["hardirq"], pp, gf):
        return []
    nmi = (", and %s in NMI" % fmt_ps(sp["nmi"])) if sp.get("nmi") else ""
    return ["- Split by context instead of a guard: the floor as one array per "
            "class of context (floor_split: task, BH, hard IRQ, NMI, from "
            "preempt_count(); plain loads and stores, preemption disabled in the "
            "task class only) takes %s with IRQs off (a task: it pays "
            "preempt_disable()) and %s in hard IRQ, %.2fx and %.2fx the floor; %s "
            "with BH disabled, %.2fx page_pool%s. Against the guarded floor (IRQs "
            "off) that is %s less per pair."
            % (fmt_ps(sp["irqoff"]), fmt_ps(sp["hardirq"]),
               ratio(sp["irqoff"], fl["irqoff"]),
               ratio(sp["hardirq"], fl["hardirq"]), fmt_ps(sp["bh"]),
               ratio(sp["bh"], pp), nmi,
               fmt_ps(float(gf) - float(sp["irqoff"])))]


def lockless_notes(run):
    """The two NMI-safe ways to guard a per-CPU list, against the floor and
    page_pool, and how much of atomic_alloc's cost is the guard."""
    q = "quiet"
    ll = {c: blk(run.row(q, "floor_lockless", 0, c)) for c in ("irqoff", "hardirq", "bh")}
    fl = {c: blk(run.row(q, "floor", 0, c)) for c in ("irqoff", "hardirq")}
    gf = blk(run.row(q, "floor_guarded", 0, "irqoff"))
    aa = blk(run.row(q, "atomic_alloc", 0, "irqoff"))
    pp = blk(run.row(q, "page_pool", 0, "bh"))
    if None in ll.values() or None in fl.values() or None in (gf, aa, pp):
        return []
    gap = float(aa) - float(fl["irqoff"])
    return ["- Lock-free list instead of an array: the floor as a "
            "lock-free LIFO list (floor_lockless: one per-CPU word holding the head "
            "page's pfn and a 24-bit tag, swapped by this_cpu_cmpxchg() with "
            "preemption disabled; no level, no limit, no counters) takes %s with IRQs "
            "off and %s in hard IRQ, %.2fx and %.2fx the floor, and %s with BH "
            "disabled, %.2fx page_pool; the guarded floor takes %s with IRQs off, "
            "%.2fx the floor. Of atomic_alloc's %s above the floor (IRQs off), the "
            "guard accounts for %s (%s with the lock-free list) and the rest of its "
            "work (owner tag, counters, watermark, checks of the pool and the page) "
            "for %s."
            % (fmt_ps(ll["irqoff"]), fmt_ps(ll["hardirq"]),
               ratio(ll["irqoff"], fl["irqoff"]), ratio(ll["hardirq"], fl["hardirq"]),
               fmt_ps(ll["bh"]), ratio(ll["bh"], pp), fmt_ps(gf),
               ratio(gf, fl["irqoff"]), fmt_ps(gap),
               fmt_ps(float(gf) - float(fl["irqoff"])),
               fmt_ps(float(ll["irqoff"]) - float(fl["irqoff"])),
               fmt_ps(float(aa) - float(gf)))]


def insn_md(insn, run, listing_file):
    """The "Instruction counts" section."""
    if not insn:
        return ""
    if "pairs" not in insn:
        return "Not measured: %s." % insn.get("skip", "no trace in the log")
    q = "quiet"
    ctx_of = {"page_pool": "bh"}
    out = [aa_insn.HOW_WE_COUNT, ""]
    rows = []
    for e in insn["pairs"]:
        if "error" in e:
            rows.append([e["method"], e["order"], e["error"]] + [""] * 9)
            continue
        r = run.row(q, e["method"], e["order"], ctx_of.get(e["method"], "irqoff"))
        bm = blk(r)
        n = e["total"]["instructions"]
        rows.append([e["method"], e["order"], n, e["alloc"]["instructions"],
                     e["free"]["instructions"], e["caller"]["instructions"] +
                     e["other"]["instructions"],
                     e["total"]["memory_accesses"],
                     e["total"]["conditional_branches"],
                     e["total"]["percpu_accesses"],
                     e.get("page_crossings_in_functions", "?"),
                     fmt_ps(bm),
                     "%.2f ns" % (float(bm) / 1000.0 / n) if bm and n else "n/a"])
    out.append(md_table(["pair", "order", "instructions per pair",
                         "library: alloc", "library: free",
                         "caller (pair function, inline helpers, thunks)",
                         "memory accesses", "conditional branches",
                         "per-CPU accesses",
                         "page boundaries crossed inside a function (TCG cost)",
                         "block mean, median of batches (IRQs off; page_pool BH disabled)",
                         "per instruction"], rows))
    out.append("")
    out.append("Library functions: the pop and push of floor, floor_guarded, "
               "floor_lockless and floor_split (traced with BH disabled, so its "
               "BH class: no preempt_disable()) "
               "(bench_methods.c); atomic_alloc_page() and atomic_alloc_free(); "
               "page_pool_alloc_pages() with page_pool_alloc_netmems() and "
               "page_pool_put_unrefed_netmem() (6.1: page_pool_put_defragged_page()). "
               "page_pool_put_full_page() is inline: its refcount test is counted "
               "in the caller, where a driver compiles it. Two traced runs of each "
               "pair agree: %s."
               % ("yes" if all(e.get("counts_agree") for e in insn["pairs"]
                               if "error" not in e) else "NO"))
    st = insn.get("static", {})
    if st:
        out.append("")
        out.append("atomic_alloc's functions from objdump of the built atomic_alloc.ko, "
                   "at the offsets the trace visited:")
        out.append("")
        srows = []
        for name in ("atomic_alloc_page", "atomic_alloc_free"):
            d = st.get(name)
            if not d:
                continue
            srows.append([name, d["tally"]["instructions"],
                          d["tally"]["memory_accesses"],
                          d["tally"]["conditional_branches"],
                          d["tally"]["percpu_accesses"],
                          d["tally"]["rmw_on_memory"],
                          "; ".join(d["patched_sites"]) or "none",
                          ", ".join("%s %d" % kv for kv in sorted(
                              d["by_source_function"].items(), key=lambda kv: -kv[1]))])
        out.append(md_table(["function", "instructions", "memory accesses",
                             "conditional branches", "per-CPU accesses",
                             "read-modify-writes", "built vs run (patched at load)",
                             "by source function (objdump -l)"], srows))
    out.append("")
    out.append("Every instruction of every path, with its source line: [%s](%s)."
               % (listing_file, listing_file))
    return "\n".join(out)


def insn_listing_md(insn, title):
    out = ["# %s" % title, "", aa_insn.HOW_WE_COUNT, ""]
    for name, lst in sorted((insn or {}).get("listings", {}).items()):
        if not name.startswith("pair:"):
            continue
        out.append("## %s, order 0, as it ran" % name[5:])
        out.append("")
        out.append("```")
        out.extend(lst)
        out.append("```")
        out.append("")
    for name, d in sorted((insn or {}).get("static", {}).items()):
        out.append("## %s from objdump -d -l of %s" % (name, d["module"]))
        out.append("")
        out.append("```")
        out.extend(d["listing"])
        out.append("```")
        out.append("")
    return "\n".join(out)


def insn_json(insn):
    """The counts for the .json: without the listings (they are in -insn.md)."""
    if not insn:
        return None
    out = {k: v for k, v in insn.items() if k != "listings"}
    out["static"] = {n: {k: v for k, v in d.items() if k != "listing"}
                     for n, d in insn.get("static", {}).items()}
    return out


def notes_md(run, insn=None):
    out = []
    q = "quiet"
    out.extend(insn_notes(run, insn))
    ap = run.row(q, "alloc_pages", 0, "irqoff")
    zr = run.row(q, "zeroing", 0, "irqoff")
    if ap and zr and run.env.get("init_on_alloc") == "1":
        out.append("- alloc_pages: with init_on_alloc=1 (Debian's default) every "
                   "alloc_pages() clears the page; clearing alone takes %s of its %s p50 "
                   "(order 0; order 2 likewise). The p50 atomic_alloc's tail is compared "
                   "with is mostly that clearing."
                   % (fmt_ns(zr["p50"]), fmt_ns(ap["p50"])))
    fl = run.row(q, "floor", 0, "irqoff")
    tm = run.row(q, "timer", 0, "irqoff")
    flh = run.row(q, "floor", 0, "hardirq")
    if fl and tm and flh:
        out.append("- Tails with IRQs off: the floor (%s) and even the empty timer pair (%s) "
                   "have p99.9 values in microseconds there, against %s for the floor in "
                   "hard IRQ, where a batch starts right after an interrupt. Shared by the "
                   "floor and the empty pair, they come from the emulation and the host "
                   "(most likely a timer interrupt arriving while interrupts are off, and "
                   "vCPU threads descheduled by the host), not from the allocator; the "
                   "max of each row (one sample in %d) is dominated by host scheduling."
                   % (fmt_ns(fl["p999"]), fmt_ns(tm["p999"]), fmt_ns(flh["p999"]),
                      fl["n"]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--accel", default="")
    ap.add_argument("--host", default="")
    ap.add_argument("--source", default="")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--build-seconds", type=int, default=0)
    ap.add_argument("--run-seconds", type=int, default=0)
    ap.add_argument("--total-seconds", type=int, default=0)
    ap.add_argument("--ko-dir", default="",
                    help="the modules the guest loaded (atomic_alloc.ko), for "
                         "the instruction listing from objdump")
    a = ap.parse_args()

    run = Run(a.log)
    if not run.rows:
        print("bench-report: no BENCH lines in %s" % a.log, file=sys.stderr)
        return 1
    os.makedirs(a.out, exist_ok=True)
    base = "%s_qemu-%s" % (a.kernel, a.qemu)
    md_path = os.path.join(a.out, base + ".md")
    csv_path = os.path.join(a.out, base + ".csv")
    png = base + ".png"
    spng = base + "-stream.png"
    meta = {"kernel": a.kernel, "qemu": a.qemu}
    tcg = "tcg" in a.accel
    targets = evaluate(run)
    where = "%s, QEMU %s%s" % (a.kernel, a.qemu, " TCG" if tcg else "")
    try:
        insn = aa_insn.analyse(run.lines, a.ko_dir or None)
    except (OSError, ValueError, KeyError) as e:
        print("bench-report: instruction counts failed: %s" % e, file=sys.stderr)
        insn = None
    insn_file = base + "-insn.md"

    with tempfile.TemporaryDirectory() as tmp:
        have_png = plot_tables(run, tmp, os.path.join(a.out, png),
                               "alloc+free pair latency, %s, QEMU %s %s, one run"
                               % (a.kernel, a.qemu, "TCG" if tcg else a.accel))
        have_spng = plot_stream(run, tmp, os.path.join(a.out, spng),
                                "Stream on the labyrinth heap, %s, QEMU %s" % (a.kernel, a.qemu))
    write_csv(run, csv_path, meta)

    e, g = run.env, run.guest
    L = []
    st = stamp(a.commit, a.kernel, a.qemu, "TCG" if tcg else a.accel, a.host,
               {"source": a.source, "samples": num(e.get("samples"), None),
                "guest_seconds": a.run_seconds}, log=a.log)
    L.append("# atomic_alloc benchmark: %s, QEMU %s" % (a.kernel, a.qemu))
    L.append("")
    L.append(stamp_md(st))
    L.append("")
    L.append("**Every figure below comes from one boot of one guest under QEMU %s%s. "
             "Compare methods by their ratios within this run; the absolute times are "
             "emulated and hold for this run only.**"
             % (a.qemu, " with TCG (full emulation, `%s`)" % a.accel if tcg
                else " (`%s`)" % a.accel))
    L.append("")
    L.append("- Kernel: Debian %s (stock image), %s CPUs (`-smp 4`), %s MiB; clocksource %s; "
             "preemption %s; init_on_alloc=%s (Debian's default: alloc_pages() zeroes every page)."
             % (a.kernel, g.get("cpus", "?"), int(g.get("mem_kb", 0)) // 1024,
                g.get("clocksource", "?"), g.get("preempt", "?") or "?",
                e.get("init_on_alloc", "?")))
    L.append("- Timing: %s (%s kHz; back-to-back reads in this guest differ by %s ns at "
             "the median, by at least %s ns when they differ), "
             "read before and after each pair by one loop for every method (an indirect "
             "call per pair); histograms with 64 buckets per power of two (percentiles "
             "within 1.6%%, and never finer than the clock step). %s pairs per method and "
             "context, in batches of %s, methods interleaved batch by batch on CPU %s. "
             "Each batch is then run again timed as one block, without a clock read per "
             "pair: the *block mean* column, free of the timer's overhead and step."
             % ("the cycle counter converted to ns" if e.get("clock") == "cycles"
                else "ktime_get_ns()", e.get("clock_khz", "?"),
                "%.1f" % (num(e.get("clock_read_median_ps"), 0) / 1000.0),
                "%.1f" % (num(e.get("clock_step_min_ps"), 0) / 1000.0), e.get("samples", "?"),
                e.get("batch", "?"), e.get("bench_cpu", "?")))
    L.append("- Pools: atomic_alloc with %s buffers per CPU (default low watermark and shared "
             "reserve), mempool_create_page_pool(%s, order), page_pool with pool_size 256; "
             "atomic_alloc is called with gfp 0 (its own tiers only)."
             % (e.get("pool_buffers", "?"), e.get("pool_buffers", "?")))
    if a.source:
        L.append("- Measured: %s." % a.source)
    L.append("- Run time: build %ds, guest %ds, whole `scripts/bench.sh` %ds."
             % (a.build_seconds, a.run_seconds, a.total_seconds))
    if a.host:
        L.append("- Host: %s. The emulated CPUs are host threads: whatever else the host "
                 "runs (builds, other guests) lands in the tails (p99.9, max) of every "
                 "method alike." % a.host)
    steps = ", ".join("%s %ss" % (t.get("step"), t.get("since_prev")) for t in run.times)
    if steps:
        L.append("- Guest steps: %s." % steps)
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("All targets from this one run: %s." % where)
    L.append("")
    L.append(md_table(["target", "result", "numbers", "kernel, QEMU"],
                      [[n, "**met**" if m else "**missed**", d, where]
                       for n, m, d in targets.items]))
    L.append("")
    notes = notes_md(run, insn)
    if notes:
        L.append("What lies behind the results, from the reference rows and the "
                 "instruction counts of the same run:")
        L.append("")
        L.append(notes)
        L.append("")
    for tag in ("quiet", "labyrinth"):
        ctxs = run.contexts()
        tm = [run.row(tag, "timer", 0, c) for c in ctxs]
        if not any(tm):
            continue
        L.append("## %s" % SCENARIO_TEXT[tag])
        L.append("")
        if tag == "labyrinth":
            L.append("Before measuring, atomic_alloc_labyrinth.ko took all memory above a "
                     "target as order-0 pages, then on every CPU broke up every block of "
                     "order >= 1 still free (buddy lists and per-CPU lists), keeping even "
                     "pages pinned and freeing odd ones, so that no freed page has a free "
                     "buddy. A hold pass keeps every zone's free memory halfway between its "
                     "min and low watermarks (freeing odd pinned pages or taking pages); the "
                     "benchmark loads the labyrinth with hold_sweep=0, so the blocks of order "
                     ">= 1 that form meanwhile are broken up before each measurement and, on "
                     "the bench CPU, before every round of the table (outside the timed "
                     "region): %s such blocks were found there during this table. Direct "
                     "reclaim (GFP_KERNEL callers, including the pool's refill worker) can "
                     "get 64 KiB blocks back from a reserve through a shrinker; atomic "
                     "callers cannot. "
                     % run.runs.get("labyrinth", {}).get("lab_swept_blocks", "?")
                     + (run.labnote and "Guest setting: %s." % run.labnote or ""))
            L.append("")
            bm = buddy_md(run, ("before-labyrinth", "labyrinth", "after-labyrinth-table",
                                "after-stream"))
            if bm:
                L.append("/proc/buddyinfo (free blocks per order), printed by the guest "
                         "shell: every command it starts is a fork, which needs an order-1 "
                         "block and so takes a 64 KiB block from the reclaim reserve; the "
                         "remainders of those show up as blocks >= o1 here. The module's "
                         "own count right after the build and after each sweep is in the "
                         "table below it.")
                L.append("")
                L.append(bm)
                L.append("")
            lab = [d for d in run.lab if d.get("when") in ("built", "swept")]
            if lab:
                L.append(md_table(["when", "zone", "free pages", "min", "low", "target",
                                   "blocks >= o1", "pinned pages", "reclaim gave back"],
                                  [[d["when"], d["zone"], d["free"], d["min"], d["low"],
                                    d["target"], d["order1plus_blocks"], d["pinned"],
                                    d.get("shrunk", "?")] for d in lab]))
                L.append("")
        L.append("Timer overhead (empty pair through the same loop): " + "; ".join(
            "%s p50 %s, p99.9 %s" % (ctx_text(c), fmt_ns(r["p50"]), fmt_ns(r["p999"]))
            for c, r in zip(ctxs, tm) if r) + ". The figures below include it.")
        L.append("")
        L.append(scenario_md(run, tag))
        L.append("")
        pools = [p for p in run.pools if p.get("tag") == tag]
        if pools:
            L.append("atomic_alloc pools after the table: " + "; ".join(
                "order %d: %d local, %d shared, %d direct, %d failed, %d refilled, %d refill failures"
                % (p["order"], p["alloc_local"], p["alloc_remote"], p["alloc_direct"],
                   p["alloc_failed"], p["refilled"], p["refill_failed"]) for p in pools) + ".")
            L.append("")
    if have_png:
        L.append("![alloc+free latency histograms](%s)" % png)
        L.append("")
    im = insn_md(insn, run, insn_file)
    if im:
        L.append("## Instruction counts")
        L.append("")
        L.append(im)
        L.append("")
    L.append("## Scenario 3: stream on the labyrinth heap")
    L.append("")
    L.append("atomic_alloc_audio: 192 kHz, 24-bit (s24_le), 4 streams, one buffer "
             "allocated with atomic_alloc_page() in every period interrupt (hard-IRQ "
             "hrtimer), freed by the DMA-completion interrupt on the next CPU. 8 channels "
             "instead of 2: with the smallest buffer (one 4 KiB page) a stereo stream "
             "interrupts 375 times a second and 10^6 interrupts would take 11 minutes of "
             "guest time; at 8 channels a buffer holds 128 frames (0.67 ms), 1500 "
             "interrupts/s per stream, 6000/s for four. The pool was created before the "
             "labyrinth (at load, as a driver's would be at probe).")
    L.append("")
    L.append(stream_md(run))
    L.append("")
    if have_spng:
        L.append("![stream interrupt histograms](%s)" % spng)
        L.append("")
    L.append("## Scenario 4: refill capacity")
    L.append("")
    L.append("Drain: on the bench CPU with IRQs off, atomic_alloc_page(pool, 0) until it "
             "returns NULL (the CPU's array, then the shared reserve), holding every "
             "buffer. Refill: a thread on another CPU watches the pool's available count "
             "until the worker has put back the CPU's array and the reserve. Raw alloc "
             "rate: the same number of buffers allocated with the worker's gfp on the "
             "bench CPU, timed together.")
    L.append("")
    L.append(refill_md(run))
    L.append("")
    wake = run.row("quiet", "wq_wakeup", 0, "hardirq")
    if wake:
        L.append("Work-item wake-up latency (queued on the bench CPU from a hard-IRQ "
                 "hrtimer, on a WQ_HIGHPRI | WQ_MEM_RECLAIM workqueue like the pool's, %d "
                 "samples): p50 %s, p99 %s, max %s."
                 % (wake["n"], fmt_ns(wake["p50"]), fmt_ns(wake["p99"]),
                    fmt_ns(wake["max"])))
        lw = run.row("labyrinth", "wq_wakeup", 0, "hardirq")
        if lw:
            L.append("On the labyrinth: p50 %s, p99 %s, max %s."
                     % (fmt_ns(lw["p50"]), fmt_ns(lw["p99"]), fmt_ns(lw["max"])))
        L.append("")
    L.append("Pool depth per CPU that covers the refill worker's wake-up at 192 kHz "
             "(buffers a CPU consumes meanwhile; the low watermark must be at least "
             "this, cpu_buffers above it):")
    L.append("")
    L.append(depth_md(run, wake))
    L.append("")
    qr = [refill_rate(r) for r in run.refill if r["tag"] == "quiet" and r["order"] == 0]
    qr = [x for x in qr if x]
    if qr:
        L.append("For comparison, this run's refill worker put back a median %d order-0 "
                 "buffers/s on the quiet heap: the steady draw of even the one-buffer-"
                 "per-64-frames case (3000/s per stream) is far below what it can refill, "
                 "so depth is about covering its wake-up latency, not its throughput."
                 % median(qr))
        low = int(e.get("pool_buffers", 64)) // 2
        L.append("")
        L.append("With the bench pools' low watermark (%d) the worker is woken with %d "
                 "buffers still in the CPU's array, enough for 1 ms of 4 streams per CPU "
                 "down to one buffer per %d frames; one buffer per frame (768 per ms) "
                 "would need a low watermark of 768 and cpu_buffers above it."
                 % (low, low, math.ceil(4 * 192 / low)))
        L.append("")
    bad = [c for c in run.checks if c.startswith("not ok")]
    L.append("## Guest checks")
    L.append("")
    L.append("%d ok, %d not ok%s. Guest exit status: %s."
             % (len(run.checks) - len(bad), len(bad),
                "" if not bad else ": " + "; ".join(b[len("not ok - "):] for b in bad),
                run.end_rc))
    L.append("")
    L.append("Raw data: `%s` (one row per method, order and context; ratios to the floor "
             "and to atomic_alloc of the same order and context)." % os.path.basename(csv_path))
    L.append("")
    with open(md_path, "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(a.out, base + ".json"), "w") as f:
        json.dump({"stamp": st,
                   "targets": [{"target": n, "met": m, "numbers": d,
                                "kernel": a.kernel, "qemu": a.qemu}
                               for n, m, d in targets.items],
                   "instructions": insn_json(insn),
                   "checks": run.checks, "guest_rc": run.end_rc,
                   "files": {"md": os.path.basename(md_path),
                             "insn": insn_file if insn and "pairs" in insn else None,
                             "csv": os.path.basename(csv_path),
                             "png": png if have_png else None,
                             "stream_png": spng if have_spng else None}},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    if insn and "pairs" in insn:
        with open(os.path.join(a.out, insn_file), "w") as f:
            f.write(insn_listing_md(insn, "Instruction paths: %s" % where))
            f.write("\n")
    shutil.copyfile(md_path, os.path.join(a.out, "latest.md"))
    # latest.md sits next to the images, so the links work from either.
    print("bench-report: wrote %s, %s%s%s and latest.md" % (
        md_path, csv_path, ", " + png if have_png else "",
        ", " + spng if have_spng else ""))
    for n, m, d in targets.items:
        print("  %s: %s (%s) [%s]" % ("met   " if m else "MISSED", n, d, where))
    return 0


if __name__ == "__main__":
    sys.exit(main())

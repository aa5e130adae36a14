#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""demo-report.py: the table, the verdict and the picture of a demo run.

Reads the console log of a scripts/demo.sh guest run (the DEMO* lines of
scripts/guest/demo.sh), prints the side-by-side table of the naive streams
(alloc_pages(GFP_ATOMIC) in the period interrupt) and the pool, and a
one-line verdict, and writes OUT/demo-<kernel>_qemu-<version>.md, .json and
.png, each stamped with the commit, the kernel and the QEMU version.

Usage: demo-report.py --log LOG --kernel RELEASE --qemu VERSION --out DIR
                      [--accel ARGS] [--commit REV] [--host TEXT]
                      [--seconds N]

It then prints what went through the sound card (the DEMOALSA lines: the
bytes aplay played on hw:AtomicAlloc,0 and arecord captured on
hw:AtomicAlloc,1, whether they matched after the leading silence, ALSA's
xrun count, the playback substream's in-IRQ allocation histogram), and
puts the same into the .md and .json.

Percentiles come from the histograms the modules print ("lo-hi: count",
any resolution) as the upper bound of the bucket that holds them, so they
never understate; the report gives each histogram's resolution.
"""

import argparse
import json
import os
import re
import sys
import tempfile

from aa_report import (NS_TICS, fmt_ns, gnuplot, hist_pct, hist_resolution,
                       hist_total, kv, md_table, merge_hist, parse_hist, stamp,
                       stamp_md)
from aa_report import num as aa_num


def num(v, default=0):
    """As aa_report.num(), with 0 for what is not a number."""
    return aa_num(v, default)


class Demo:
    def __init__(self, path):
        self.cfg = {}
        self.stats = {}       # (who, stream) -> {key: value}
        self.hist = {}        # (who, stream) -> [(lo, hi, count)]
        self.timeline = {}    # stream -> [(t_s, periods, failed)]
        self.progress = []    # [dict]
        self.pool = {}
        self.buddy = []       # (when, zone, [counts])
        self.lab = []         # dict per DEMOLAB line
        self.labstat = {}
        self.mem = {}
        self.alsa = {}        # alsa_* keys of the card's loop
        self.alsa_hist = []   # [(lo, hi, count)], playback alloc_ns
        self.checks = []
        self.end_rc = None
        self.parse(path)

    def parse(self, path):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for raw in text.splitlines():
            line = raw.replace("\r", "")
            m = re.search(r"AA-END rc=(\d+)", line)
            if m:
                self.end_rc = int(m.group(1))
            if line.startswith("ok - demo:") or line.startswith("not ok - demo:"):
                self.checks.append(line)
                continue
            if not line.startswith("DEMO"):
                continue
            word, _, rest = line.partition(" ")
            if word == "DEMOCFG":
                self.cfg.update(kv(rest))
            elif word in ("DEMOSTAT", "DEMOHIST", "DEMOTL"):
                m = re.match(r"who=(\S+) stream=(\d+) (.*)$", rest)
                if not m:
                    continue
                key = (m.group(1), int(m.group(2)))
                body = m.group(3)
                if word == "DEMOSTAT":
                    k, _, v = body.partition(": ")
                    self.stats.setdefault(key, {})[k.strip()] = v.strip()
                elif word == "DEMOHIST":
                    b = parse_hist(body)
                    if b:
                        self.hist.setdefault(key, []).append(b)
                else:
                    d = kv(body)
                    self.timeline.setdefault(key[1], []).append(
                        (num(d.get("t")) / 1000.0, num(d.get("periods")),
                         num(d.get("failed"))))
            elif word == "DEMOPROG":
                self.progress.append(kv(rest))
            elif word in ("DEMOPOOL", "DEMOLABSTAT"):
                k, _, v = rest.partition(": ")
                (self.pool if word == "DEMOPOOL" else self.labstat)[k.strip()] = v.strip()
            elif word == "DEMOBUDDY":
                m = re.match(r"when=(\S+) Node (\d+), zone\s+(\S+)\s+(.*)$", rest)
                if m:
                    self.buddy.append((m.group(1), m.group(3),
                                       [int(x) for x in m.group(4).split()]))
            elif word == "DEMOLAB":
                self.lab.append(kv(rest))
            elif word == "DEMOMEM":
                self.mem.update(kv(rest))
            elif word == "DEMOALSA":
                if rest.startswith("alloc_ns "):
                    b = parse_hist(rest[len("alloc_ns "):])
                    if b:
                        self.alsa_hist.append(b)
                elif rest.startswith("alsa_loop: "):
                    # A second run (after timing trouble) replaces the first.
                    self.alsa = {"alsa_loop": rest[len("alsa_loop: "):].strip()}
                    self.alsa_hist = []
                else:
                    k, _, v = rest.partition(": ")
                    if k.startswith("alsa_") and k != "alsa_tool":
                        self.alsa[k.strip()] = v.strip()

    def streams(self, who):
        return sorted(s for w, s in self.stats if w == who)


# ------------------------------------------------------------------ rows --

def rows_of(d):
    """One row per naive stream, then the pool (all its streams)."""
    rows = []
    rt = d.cfg.get("rt") == "1"
    for s in d.streams("naive"):
        st = d.stats[("naive", s)]
        h = d.hist.get(("naive", s), [])
        allocs = num(st.get("allocs"))
        failed = num(st.get("failed"))
        ctx = st.get("context", "?")
        rows.append({
            "who": "naive",
            "stream": s,
            "name": "naive alloc_pages(GFP_ATOMIC), order %s" % st.get("order"),
            "order": num(st.get("order")),
            "context": "hard IRQ" if ctx == "hardirq" else
                       "softirq thread (PREEMPT_RT)" if ctx == "softirq-thread" else ctx,
            "streams": 1,
            "periods": num(st.get("periods")),
            "allocations": allocs,
            "failed": failed,
            "lost_pct": 100.0 * failed / allocs if allocs else None,
            "page_allocator_calls": allocs,
            "p50_ns": hist_pct(h, 0.50),
            "p99_ns": hist_pct(h, 0.99),
            "max_ns": num(st.get("alloc_max_ns"), None),
            "hist_samples": hist_total(h),
            "resolution": hist_resolution(h),
        })
    ps = d.streams("pool")
    if ps:
        h = merge_hist(*[d.hist.get(("pool", s), []) for s in ps])
        periods = sum(num(d.stats[("pool", s)].get("periods")) for s in ps)
        lost = sum(num(d.stats[("pool", s)].get("xrun_alloc")) for s in ps)
        attempts = hist_total(h)
        order = d.pool.get("order", d.cfg.get("order", "?"))
        rows.append({
            "who": "pool",
            "stream": None,
            "name": "atomic_alloc_page(), order %s, %d streams" % (order, len(ps)),
            "order": num(order),
            "context": "hard IRQ",
            "streams": len(ps),
            "periods": periods,
            "allocations": attempts,
            "failed": lost,
            "lost_pct": 100.0 * lost / attempts if attempts else None,
            "page_allocator_calls": num(d.pool.get("alloc_direct"), None),
            "p50_ns": hist_pct(h, 0.50),
            "p99_ns": hist_pct(h, 0.99),
            "max_ns": h[-1][1] if h else None,
            "hist_samples": attempts,
            "resolution": hist_resolution(h),
        })
    if rt:
        for r in rows:
            if r["who"] == "pool":
                r["context"] = "hard IRQ (PREEMPT_RT)"
    return rows


def fmt_pct(v):
    return "n/a" if v is None else "%.1f%%" % v


def fmt_le(v):
    return "n/a" if v is None else "<= " + fmt_ns(v)


def table_rows(rows):
    return [[r["name"], r["context"], r["periods"], r["allocations"], r["failed"],
             fmt_pct(r["lost_pct"]), fmt_le(r["p50_ns"]), fmt_le(r["p99_ns"])]
            for r in rows]


HEADER = ["stream", "context", "periods", "allocations", "failed",
          "lost blocks", "in-IRQ alloc p50", "p99"]


def text_table(rows):
    cells = [HEADER] + [[str(c) for c in r] for r in table_rows(rows)]
    w = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    out = []
    for n, c in enumerate(cells):
        out.append("  ".join(c[i].ljust(w[i]) if i < 2 else c[i].rjust(w[i])
                             for i in range(len(c))))
        if n == 0:
            out.append("  ".join("-" * x for x in w))
    return "\n".join(out)


def verdict(d, rows):
    naive = [r for r in rows if r["who"] == "naive"]
    pool = [r for r in rows if r["who"] == "pool"]
    if not naive or not pool:
        return False, "no verdict: the run did not produce both the naive and the pool rows"
    p = pool[0]
    worst = max(naive, key=lambda r: r["lost_pct"] or 0)
    ok = (p["failed"] == 0 and p["allocations"] > 0 and
          p["page_allocator_calls"] == 0 and
          any(r["order"] == 2 and r["lost_pct"] is not None and r["lost_pct"] >= 50
              for r in naive) and d.end_rc == 0 and
          not any(c.startswith("not ok") for c in d.checks))
    others = "".join("; order %d lost %s, p99 %s" % (r["order"], fmt_pct(r["lost_pct"]),
                                                     fmt_ns(r["p99_ns"]))
                     for r in naive if r is not worst)
    same = " with the same buffer size" if p["order"] == worst["order"] else ""
    direct = p["page_allocator_calls"]
    reached = ("never called the page allocator" if direct == 0 else
               "called the page allocator %s times" % direct)
    text = ("on the labyrinth (no free block of order >= 1), alloc_pages(GFP_ATOMIC, %d) "
            "in the period interrupt lost %s of its blocks, p99 %s per allocation%s; "
            "atomic_alloc%s lost %d of %d and %s (alloc_direct %s), p99 %s"
            % (worst["order"], fmt_pct(worst["lost_pct"]), fmt_ns(worst["p99_ns"]),
               others, same, p["failed"], p["allocations"], reached, direct,
               fmt_ns(p["p99_ns"])))
    return ok, ("Verdict: " if ok else "Verdict (NOT shown, checks failed): ") + text + "."


# ----------------------------------------------------------------- plot --

COLORS = {"pool": "#d62728", 2: "#1f77b4", 0: "#2ca02c"}


def plot(d, rows, tmp, png, title):
    s = []
    s.append("set terminal pngcairo noenhanced size 1400,520 font 'sans,10'")
    s.append("set output '%s'" % png)
    s.append("set multiplot layout 1,2 title \"%s\"" % title)
    # 1. allocation time in the interrupt
    s.append("set logscale x 10; set logscale y 10")
    s.append("set xtics (%s)" % NS_TICS)
    s.append("set xrange [10:3e7]; set yrange [1e-5:1.5]")
    s.append("set format y '%g'")
    s.append("set xlabel 'time of one allocation in the period interrupt (bucket centre)'")
    s.append("set ylabel 'fraction of allocations'")
    s.append("set grid; set key top right")
    s.append("set title 'allocation time in the interrupt'")
    parts = []
    for r in rows:
        h = d.hist.get((r["who"], r["stream"])) if r["who"] == "naive" else \
            merge_hist(*[d.hist.get(("pool", x), []) for x in d.streams("pool")])
        tot = hist_total(h or [])
        if not tot:
            continue
        fn = os.path.join(tmp, "h_%s_%s.dat" % (r["who"], r["stream"]))
        with open(fn, "w") as f:
            for lo, hi, c in sorted(h):
                if c:
                    f.write("%g %g\n" % (((max(lo, 1) * (hi + 1)) ** 0.5), c / float(tot)))
        color = COLORS["pool"] if r["who"] == "pool" else COLORS.get(r["order"], "#9467bd")
        label = ("atomic_alloc (pool), order %d" % r["order"] if r["who"] == "pool"
                 else "naive alloc_pages, order %d" % r["order"])
        parts.append("'%s' using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc rgb '%s' title '%s'"
                     % (fn, color, label))
    if parts:
        s.append("plot " + ", \\\n     ".join(parts))
    # 2. failures over time, cumulative
    s.append("unset logscale; set logscale y 10; set xtics autofreq; set xrange [0:*]")
    s.append("set yrange [0.8:*]; set format y '%g'")
    s.append("set xlabel 'seconds since the streams started'")
    s.append("set ylabel 'failed allocations so far (lost blocks)'")
    s.append("set title 'failures over time (0 is drawn at the bottom edge)'")
    s.append("set key right center")
    parts = []
    for r in rows:
        if r["who"] == "naive":
            tl = sorted(d.timeline.get(r["stream"], []))
            # slots start at t; a slot's failures are counted at its end
            slot = tl[1][0] - tl[0][0] if len(tl) > 1 else 0.5
            pts, tot = [(0.0, 0)], 0
            for t, _, f in tl:
                tot += f
                pts.append((t + slot, tot))
            label = "naive alloc_pages, order %d (%d)" % (r["order"], r["failed"])
            color = COLORS.get(r["order"], "#9467bd")
        else:
            pts = [(0.0, 0)] + [(num(p.get("t")), num(p.get("pool_lost")))
                                for p in d.progress]
            label = "atomic_alloc (pool), order %d (%d)" % (r["order"], r["failed"])
            color = COLORS["pool"]
        fn = os.path.join(tmp, "t_%s_%s.dat" % (r["who"], r["stream"]))
        with open(fn, "w") as f:
            for t, c in pts:
                f.write("%g %g\n" % (t, c if c > 0 else 0.8))
        parts.append("'%s' using 1:2 with steps lw 2 lc rgb '%s' title '%s'"
                     % (fn, color, label))
    if parts:
        s.append("plot " + ", \\\n     ".join(parts))
    s.append("unset multiplot")
    return gnuplot("\n".join(s) + "\n", png, "demo-report")


# --------------------------------------------------------------- report --

def buddy_md(d):
    rows = []
    for when, zone, counts in d.buddy:
        rows.append([when, zone] + counts + [sum(counts[1:])])
    if not rows:
        return ""
    n = max(len(r) for r in rows) - 3
    return md_table(["when", "zone"] + ["o%d" % i for i in range(n)] + ["blocks >= o1"],
                    rows)


def alsa_lines(d):
    """What went through the card, for a person: a list of lines (empty
    when the run has no DEMOALSA lines)."""
    a = d.alsa
    if not a:
        return []
    L = []
    L.append("Through the sound card: aplay %s.wav on hw:AtomicAlloc,0, arecord on "
             "hw:AtomicAlloc,1 (%s, %s Hz, %s channels, %s-frame periods)"
             % (a.get("alsa_loop", "?"), a.get("alsa_format", "?"),
                a.get("alsa_rate", "?"), a.get("alsa_channels", "?"),
                a.get("alsa_period_frames", "?")))
    runs = a.get("alsa_runs", "1")
    L.append("  bytes played %s, captured %s; after %s bytes of leading silence they "
             "%s%s"
             % (a.get("alsa_bytes_played", "?"), a.get("alsa_bytes_captured", "?"),
                a.get("alsa_leading_silence_bytes", "?"),
                "matched, bit for bit" if a.get("alsa_match") == "yes"
                else "did NOT match",
                "" if runs == "1" else " (second run, after timing trouble in the first)"))
    L.append("  ALSA xruns: %s; periods without a pool buffer (xrun_alloc): %s; pool "
             "allocations from the page allocator: %s"
             % (a.get("alsa_xruns", "?"), a.get("alsa_xrun_alloc", "?"),
                a.get("alsa_pool_alloc_direct", "?")))
    per_page = num(a.get("alsa_pool_buffers_per_page"))
    L.append("  playback pool: buffers of %s bytes, %s to a page (%s), %s bytes per CPU"
             % (a.get("alsa_pool_buffer_bytes", "?"),
                a.get("alsa_pool_buffers_per_page", "?"),
                "smaller than a page" if per_page > 1 else "whole pages",
                a.get("alsa_pool_bytes_per_cpu", "?")))
    h = sorted(d.alsa_hist)
    tot = hist_total(h)
    L.append("  in-IRQ allocation, atomic_alloc_buf() in the playback period interrupt: "
             "%d allocations, p50 %s, p99 %s, max %s"
             % (tot, fmt_ns(hist_pct(h, 0.5)), fmt_ns(hist_pct(h, 0.99)),
                fmt_ns(h[-1][1]) if h else "n/a"))
    top = max((c for _, _, c in h), default=0)
    for lo, hi, c in h:
        bar = "#" * max(1, round(40 * c / top)) if top else ""
        L.append("    %19s ns %8d %s" % ("%d-%d" % (lo, hi), c, bar))
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--accel", default="")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--host", default="")
    ap.add_argument("--seconds", type=int, default=0)
    a = ap.parse_args()

    d = Demo(a.log)
    rows = rows_of(d)
    if not rows:
        print("demo-report: no DEMOSTAT lines in %s" % a.log, file=sys.stderr)
        return 1
    ok, vline = verdict(d, rows)
    tcg = "tcg" in a.accel
    st = stamp(a.commit, a.kernel, a.qemu, "TCG" if tcg else a.accel, a.host,
               {"demo_seconds": num(d.cfg.get("seconds")), "wall_seconds": a.seconds},
               log=a.log)

    print()
    print(text_table(rows))
    print()
    print(vline)
    al = alsa_lines(d)
    if al:
        print()
        print("\n".join(al))

    os.makedirs(a.out, exist_ok=True)
    base = "demo-%s_qemu-%s" % (a.kernel, a.qemu)
    png = base + ".png"
    with tempfile.TemporaryDirectory() as tmp:
        have_png = plot(d, rows, tmp, os.path.join(a.out, png),
                        "atomic_alloc against alloc_pages(GFP_ATOMIC) in the period "
                        "interrupt, labyrinth heap: %s, QEMU %s%s, commit %s"
                        % (a.kernel, a.qemu, " TCG" if tcg else "", a.commit))

    res = max((r["resolution"] for r in rows if r["who"] == "naive"), default=0)
    pres = max((r["resolution"] for r in rows if r["who"] == "pool"), default=0)
    L = []
    L.append("# Demo: atomic_alloc against alloc_pages(GFP_ATOMIC) on the labyrinth heap")
    L.append("")
    L.append(stamp_md(st))
    L.append("")
    L.append("**Every figure below comes from this one guest run under emulation%s. "
             "Compare the streams by their ratios within the run; absolute times are "
             "emulated and hold for this run only.**"
             % (" (TCG)" if tcg else ""))
    L.append("")
    L.append("- Device: %s streams at 192 kHz, s24_le, %s channels, one order-%s buffer "
             "per period, allocated with atomic_alloc_page() in the hard-IRQ period "
             "interrupt; the pool was filled at load, on a quiet heap."
             % (d.cfg.get("streams", "?"), d.cfg.get("channels", "?"),
                d.cfg.get("order", "?")))
    L.append("- Naive streams (atomic_alloc_naive.ko): alloc_pages(GFP_ATOMIC | "
             "__GFP_NOWARN, order) for every block in the same kind of period "
             "interrupt, at the same period, orders %s; a block is freed one period "
             "later from a timer on the next CPU." % d.cfg.get("naive_orders", "?"))
    if d.cfg.get("rt") == "1":
        L.append("- PREEMPT_RT: alloc_pages() takes spinlock_t, which sleeps there, "
                 "so it is not legal in hard IRQ. The naive streams ran from a soft "
                 "hrtimer (the timer softirq thread) instead; the pool stayed in hard IRQ.")
    L.append("- Heap: the labyrinth (atomic_alloc_labyrinth.ko): no free block of "
             "order >= 1, free memory held between the min and low watermarks.")
    L.append("- Streaming: %s s of guest time; %s CPUs, %d MiB."
             % (d.cfg.get("seconds", "?"), d.cfg.get("cpus", "?"),
                num(d.cfg.get("mem_kb")) // 1024))
    L.append("")
    L.append(md_table(HEADER, table_rows(rows)))
    L.append("")
    L.append(vline)
    L.append("")
    L.append("*lost blocks*: failed allocations out of allocation attempts, one per "
             "block; the device plays silence for a lost block. Percentiles are the "
             "upper bounds of their histogram buckets (naive: buckets of %.0f%% of "
             "their value, pool: %.0f%%), failed attempts included."
             % (100 * res, 100 * pres))
    if have_png:
        L.append("")
        L.append("![allocation time in the interrupt and failures over time](%s)" % png)
    if al:
        L.append("")
        L.append("```")
        L.extend(al)
        L.append("```")
    bm = buddy_md(d)
    if bm:
        L.append("")
        L.append("/proc/buddyinfo (free blocks per order) before the labyrinth, on it, "
                 "and after its release:")
        L.append("")
        L.append(bm)
    bad = [c for c in d.checks if c.startswith("not ok")]
    L.append("")
    L.append("Guest checks: %d ok, %d not ok%s; exit status %s."
             % (len(d.checks) - len(bad), len(bad),
                "" if not bad else " (" + "; ".join(b[len("not ok - "):] for b in bad) + ")",
                d.end_rc))
    L.append("")
    md = os.path.join(a.out, base + ".md")
    with open(md, "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(a.out, base + ".json"), "w") as f:
        json.dump({"stamp": st, "config": d.cfg, "rows": rows, "verdict": vline,
                   "verdict_ok": ok, "pool_stats": d.pool, "labyrinth": d.labstat,
                   "memory": d.mem, "alsa": d.alsa,
                   "alsa_alloc_ns": d.alsa_hist, "checks": d.checks, "png": png if have_png else None},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    print()
    print("demo-report: wrote %s, .json%s" % (md, " and " + os.path.join(a.out, png)
                                              if have_png else " (no picture)"))
    return 0 if have_png else 1


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: GPL-2.0
"""aa_report: what scripts/bench-report.py and scripts/demo-report.py share.

Parsing of key=value lines and numbers, formatting of times, markdown
tables, gnuplot, histograms in the "lo-hi: count" form of the debugfs files
(ns, both ends inclusive, "inf" for an open last bucket; any resolution),
and the stamp that every results file carries (commit, kernel, QEMU) so
that a published figure can be traced back to the run that wrote it.
"""

import os
import re
import shutil
import subprocess
import sys
import time

NS_TICS = ", ".join('"%s" %g' % (t, v) for t, v in (
    ("10 ns", 10), ("100 ns", 100), ("1 µs", 1e3), ("10 µs", 1e4),
    ("100 µs", 1e5), ("1 ms", 1e6), ("10 ms", 1e7), ("100 ms", 1e8)))

HIST_RE = re.compile(r"^(\d+)-(\d+|inf):\s*(\d+)\s*$")


def kv(line):
    """key=value tokens of a line (values without spaces)."""
    return dict(t.split("=", 1) for t in line.split() if "=" in t)


def num(v, default=None):
    """v as an int, else as a float, else default."""
    try:
        return int(v)
    except (TypeError, ValueError):
        try:
            return float(v)
        except (TypeError, ValueError):
            return default


def fmt_ns(v):
    if v is None:
        return "n/a"
    v = float(v)
    if v >= 1e6:
        return "%.2f ms" % (v / 1e6)
    if v >= 1e4:
        return "%.1f us" % (v / 1e3)
    if v >= 1e3:
        return "%.2f us" % (v / 1e3)
    return "%d ns" % v


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out)


def gnuplot(script, out_png, who="report"):
    """Run a gnuplot script that writes out_png; False (and why) on failure."""
    if not shutil.which("gnuplot"):
        print("%s: gnuplot not found; no plot" % who, file=sys.stderr)
        return False
    r = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True)
    if r.returncode != 0 or not os.path.exists(out_png):
        print("%s: gnuplot failed:\n%s" % (who, r.stderr), file=sys.stderr)
        return False
    return True


def parse_hist(text):
    """One "lo-hi: count" line as (lo, hi, count), hi inclusive; an open
    bucket ("lo-inf") is taken as [lo, 2 lo - 1].  None if not such a line."""
    m = HIST_RE.match(text.strip())
    if not m:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) != "inf" else max(2 * lo - 1, lo)
    return (lo, hi, int(m.group(3)))


def merge_hist(*hists):
    """Sum histograms bucket by bucket (same buckets add up)."""
    agg = {}
    for h in hists:
        for lo, hi, c in h:
            agg[(lo, hi)] = agg.get((lo, hi), 0) + c
    return sorted((lo, hi, c) for (lo, hi), c in agg.items())


def hist_total(buckets):
    return sum(c for _, _, c in buckets)


def hist_pct(buckets, q):
    """The upper bound (inclusive, ns) of the bucket that holds quantile q,
    so never below the true value; None for an empty histogram."""
    tot = hist_total(buckets)
    if not tot:
        return None
    want = q * tot
    seen = 0
    for lo, hi, c in sorted(buckets):
        seen += c
        if seen >= want:
            return hi
    return sorted(buckets)[-1][1]


def hist_resolution(buckets):
    """The widest bucket, relative to its lower bound (0.09 = 9 %)."""
    r = 0.0
    for lo, hi, c in buckets:
        if c and lo:
            r = max(r, (hi + 1 - lo) / float(lo))
    return r


def stamp(commit, kernel, qemu, accel, host="", extra=None, log=None):
    """What every results file says about the run that wrote it; the date
    is the run's (when its console log was last written), so that a report
    made again from the same log says the same."""
    when = os.path.getmtime(log) if log else time.time()
    s = {
        "commit": commit,
        "kernel": kernel,
        "qemu": qemu,
        "accel": accel,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
        "host": host,
    }
    s.update(extra or {})
    return s


def stamp_md(s):
    return ("Run of commit `%s` on Debian's %s under QEMU %s (%s), %s; "
            "host: %s."
            % (s["commit"], s["kernel"], s["qemu"], s["accel"] or "?",
               s["date_utc"], s["host"] or "?"))

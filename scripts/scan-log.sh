#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-log.sh LOG
#
# Fail (exit 1) and print the offending lines when a kernel log holds a
# splat: a WARNING, BUG, Oops, panic, lockdep or RCU report, a sleep in
# atomic context, a KASAN/UBSAN/kmemleak/ODEBUG/DMA-API report, a refcount
# or list corruption, or atomic_alloc's own "pages never returned".
#
# A test that triggers a WARN on purpose first prints a line containing
# "atomic_alloc-test: expect-warning"; each such line allows exactly one
# later WARN() of atomic_alloc's own code ("WARNING: CPU: n PID: n at
# .../atomic_alloc....c:line"), and only until the test case's KTAP result
# line: a marker still unused there (the warning never came) is a failure
# too.  Lockdep, RCU and every other report are never allowed.
#
# Exit: 0 clean, 1 splats found, 2 bad usage or unreadable log.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 1 ]; then
	echo "usage: scan-log.sh LOG" >&2
	exit 2
fi
log=$1
if [ ! -r "$log" ]; then
	echo "atomic_alloc: error: scan-log: cannot read log '$log'" >&2
	exit 2
fi

# Lines that carry a keyword but report nothing wrong: boot banners of the
# debug facilities themselves.
benign='DMA-API: preallocated [0-9]+ debug entries|DMA-API: debugging enabled by kernel config|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread started'

# kmemleak is matched with its log prefix so that a call trace through
# kmemleak_alloc() in an allowed WARNING does not count as a report.
re=${AA_SPLAT_RE/kmemleak/kmemleak:}

set +e
# tr: serial consoles end lines with CR LF and a BIOS may print escapes.
tr -d '\r' <"$log" | awk -v re="$re" -v benign="$benign" -v path="$log" '
	function unused() {
		if (allow > 0) {
			bad++
			printf "%s:%d: %d expected warning(s) never came (%s)\n", path, NR, allow, marker
		}
		allow = 0
	}
	/atomic_alloc-test: expect-warning/ { allow++; marker = $0; next }
	/^[ \t]*(not )?ok [0-9]+ / { unused(); next }
	$0 ~ re {
		if ($0 ~ benign)
			next
		if ($0 ~ /WARNING: CPU: [0-9]+ PID: [0-9]+ at [^ ]*atomic_alloc[^ ]*\.[ch]:[0-9]+ / && allow > 0) {
			allow--
			allowed++
			next
		}
		bad++
		printf "%s:%d: %s\n", path, NR, $0
	}
	END {
		unused()
		if (allowed)
			printf "scan-log: %d expected warning(s) allowed\n", allowed > "/dev/stderr"
		exit bad ? 1 : 0
	}'
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	echo "atomic_alloc: error: kernel splat(s) in $log (lines above)" >&2
	exit 1
fi
exit 0

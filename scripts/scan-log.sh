#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-log.sh [--ours SYMBOLS] LOG
#
# Fail (exit 1) and print the offending lines when a kernel log holds a
# splat: a WARNING, BUG, Oops, panic, lockdep or RCU report, a sleep in
# atomic context, a KASAN/UBSAN/kmemleak/ODEBUG/DMA-API report, a refcount
# or list corruption, atomic_alloc's own "pages never returned", or a
# module parameter the module does not have ("unknown parameter 'x'
# ignored": the kernel loads the module anyway, so a script that passes a
# stale name would test the default instead, silently).
#
# A test that triggers a WARN on purpose first prints a line containing
# "atomic_alloc-test: expect-warning"; each such line allows exactly one
# later WARN() of atomic_alloc's own code ("WARNING: CPU: n PID: n at
# .../atomic_alloc....c:line"), and only until the test case's KTAP result
# line: a marker still unused there (the warning never came) is a failure
# too.  Lockdep, RCU and every other report are never allowed.
#
# KCSAN data races ("BUG: KCSAN: data-race in A / B", "assert: race", and
# "race at unknown origin" with one known access) are judged by their
# accesses.  The function KCSAN names for an access is the top frame of its
# stack, the first line under "read/write ... by task N|interrupt on cpu M:"
# (an inline helper such as READ_ONCE(), list_add() or llist_add() shows as
# its caller).  An access is ours when that function is one of the names in
# SYMBOLS, one per line: kunit.sh lists every function defined in
# atomic_alloc's objects (the pool, the audio device, the ring, the test
# files), suffixes such as .constprop.0 included.  A report with an access of
# ours is a failure and printed whole; one whose known accesses are all
# elsewhere (the kernel's own races) is listed on stderr and counted, not
# failed.  A race inside an out-of-line kernel function called by our code
# counts as the kernel's: the report says so, and it is listed.  Without
# --ours, or when no access can be read from a report, every KCSAN report
# is a failure.
#
# Exit: 0 clean, 1 splats found, 2 bad usage or unreadable log.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ours=/dev/null have_ours=0
if [ $# -eq 3 ] && [ "$1" = --ours ]; then
	ours=$2 have_ours=1
	shift 2
fi
if [ $# -ne 1 ]; then
	echo "usage: scan-log.sh [--ours SYMBOLS] LOG" >&2
	exit 2
fi
log=$1
for f in "$log" "$ours"; do
	if [ ! -r "$f" ]; then
		echo "atomic_alloc: error: scan-log: cannot read '$f'" >&2
		exit 2
	fi
done

# Lines that carry a keyword but report nothing wrong: boot banners of the
# debug facilities themselves.
benign='DMA-API: preallocated [0-9]+ debug entries|DMA-API: debugging enabled by kernel config|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread started'

# kmemleak is matched with its log prefix so that a call trace through
# kmemleak_alloc() in an allowed WARNING does not count as a report.
re=${AA_SPLAT_RE/kmemleak/kmemleak:}

set +e
# tr: serial consoles end lines with CR LF and a BIOS may print escapes.
tr -d '\r' <"$log" | awk -v re="$re" -v benign="$benign" -v path="$log" \
	-v ours="$ours" -v have_ours="$have_ours" '
	BEGIN {
		while ((getline sym < ours) > 0)
			mine[sym] = 1
		close(ours)
	}
	function unused() {
		if (allow > 0) {
			bad++
			printf "%s:%d: %d expected warning(s) never came (%s)\n", path, NR, allow, marker
		}
		allow = 0
	}
	# A KCSAN report from its title to its closing rule of "=".
	function kcsan_end(   i, verdict) {
		if (!have_ours || naccess == 0)
			verdict = "ours"
		else
			verdict = nmine ? "ours" : "kernel"
		if (verdict == "ours") {
			bad++
			kcsan_ours++
			if (!have_ours || naccess == 0)
				printf "%s:%d: KCSAN report, not classified (%s):\n", path, kstart,
					have_ours ? "no access read from it" : "no --ours list"
			else
				printf "%s:%d: KCSAN report with an access in our code [%s]:\n", path, kstart, kwho
			for (i = 1; i <= nk; i++)
				printf "  %s\n", kbuf[i]
		} else {
			kcsan_kernel++
			printf "scan-log: KCSAN report outside our code (%s:%d, not a failure): %s [%s]\n",
				path, kstart, ktitle, kwho > "/dev/stderr"
		}
		inkcsan = 0
	}
	/BUG: KCSAN: / {
		if (inkcsan)
			kcsan_end()
		inkcsan = 1
		kstart = NR
		ktitle = $0
		sub(/.*BUG: KCSAN: /, "", ktitle)
		nk = 1
		kbuf[1] = $0
		naccess = nmine = want_frame = 0
		kwho = ""
		next
	}
	inkcsan && /^=+$/ { kcsan_end(); next }
	# Inside a report: keep the line and read the accesses from it, then
	# judge it like any other line (a report interleaved from another CPU).
	inkcsan {
		kbuf[++nk] = $0
		if ($0 ~ /^(race at unknown origin, with )?[a-z (),-]+ to 0x[0-9a-f]+ of [0-9]+ bytes by (task [0-9]+|interrupt) on cpu [0-9]+:$/) {
			want_frame = 1
		} else if (want_frame && $0 ~ /^ +[^ ]+\+0x[0-9a-f]+\/0x[0-9a-f]+/) {
			fn = $1
			sub(/\+0x.*/, "", fn)
			naccess++
			if (fn in mine)
				nmine++
			kwho = kwho (kwho == "" ? "" : " / ") fn ((fn in mine) ? " (ours)" : "")
			want_frame = 0
		}
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
		if (inkcsan)
			kcsan_end()
		unused()
		if (allowed)
			printf "scan-log: %d expected warning(s) allowed\n", allowed > "/dev/stderr"
		if (kcsan_ours + kcsan_kernel)
			printf "scan-log: KCSAN reports: %d with an access in our code, %d between two accesses elsewhere\n",
				kcsan_ours, kcsan_kernel > "/dev/stderr"
		exit bad ? 1 : 0
	}'
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	echo "atomic_alloc: error: kernel splat(s) in $log (lines above)" >&2
	exit 1
fi
exit 0

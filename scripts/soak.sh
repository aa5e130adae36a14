#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# soak.sh [SECONDS]       (make soak; default 600 s of guest time)
#
# One long stream on Debian's stock 6.12-rt kernel under QEMU: four streams
# at 192 kHz / 24-bit / 2 ch for SECONDS of guest time, the counters
# printed every 30 s (guest scenario scripts/guest/soak.sh), then stop,
# rmmod and the page count.  Not part of check.sh.  The result table goes to
# bench/results/soak-RELEASE_qemu-VERSION.md.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

secs=${1:-600}
case $secs in '' | *[!0-9]*) aa_die "soak: SECONDS must be a number, not '$secs'" ;; esac
[ "$secs" -ge 30 ] || aa_die "soak: at least 30 seconds"
here=$(dirname "$0")
"$here/deps.sh" >/dev/null
release=$(aa_release 6.12-rt)
qemu=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
out=$AA_REPO/bench/results/soak-${release}_qemu-$qemu.md
log=$AA_LOGS/soak-6.12-rt.log

set +e
AA_KERNEL_ARGS="aa.soak=$secs" AA_STOCK_TIMEOUT=$((secs * 3 + 300)) \
	"$here/stock.sh" 6.12-rt soak
rc=$?
set -e

mkdir -p "$(dirname "$out")"
{
	echo "# Soak: $secs s of guest time, 4 streams, 192 kHz / 24-bit / 2 ch"
	echo
	echo "Kernel $release (Debian stock), QEMU $qemu (TCG, -smp 4), $(date -u +%Y-%m-%d)."
	echo "Verdict: $([ "$rc" -eq 0 ] && echo PASS || echo FAIL) (log: $log)."
	echo
	echo "Counters are read from running streams, file after file: a snapshot"
	echo "need not add up exactly.  'elapsed' is guest time since the streams"
	echo "started.  Re-record with scripts/record.sh soak, which stamps this file."
	echo
	echo "| elapsed | periods | submitted | completed | xrun_alloc | xrun_ring_full | timer_overruns | verify_errors | refilled | refill_failed | available |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	tr -d '\r' <"$log" | sed -n 's/^AA-SOAK //p' | sed 's/[a-z_]*=//g' |
		awk '{ printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; printf "\n" }'
	echo
	echo "Guest checks:"
	echo
	tr -d '\r' <"$log" | grep -a -E '^(not )?ok - ' | sed 's/^/    /'
} >"$out"
echo "atomic_alloc: soak results in $out"
exit "$rc"

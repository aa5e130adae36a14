#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [--kernel 6.12|6.12-rt|6.1] [--seconds N] [--record] [--quick]
#
# The main job (`make demo`): why atomic_alloc exists, side by side, on a
# fragmented heap.  Builds the modules and the test-support modules of
# bench/ for Debian's stock kernel (6.12 unless --kernel says otherwise),
# boots it under QEMU and runs scripts/guest/demo.sh there:
#
#   - the labyrinth (atomic_alloc_labyrinth.ko): no free block of order
#     >= 1, free memory held between the min and low watermarks; its
#     /proc/buddyinfo before and after;
#   - the simulated 192 kHz / 24-bit device streaming through the pool,
#     one buffer allocated in every hard-IRQ period interrupt;
#   - at the same time and the same period, the naive streams of
#     atomic_alloc_naive.ko: alloc_pages(GFP_ATOMIC, order) in the period
#     interrupt, order 2 and order 0, as a driver without the pool would;
#   - a progress line every few seconds;
#   - then, the labyrinth released, the sound card: aplay plays a 192 kHz
#     / 24-bit WAV (sox, 10 s; 3 s with --quick) on hw:AtomicAlloc,0 while
#     arecord captures hw:AtomicAlloc,1.
#
# Then scripts/demo-report.py prints the table (periods, allocations
# failed, lost blocks, in-IRQ allocation p50 and p99, for naive and pool)
# and a one-line verdict, then what went through the card (bytes played
# and captured and whether they matched after the leading silence, ALSA's
# xruns, the in-IRQ allocation histogram of the playback substream), and writes demo-<kernel>_qemu-<version>.md, .json
# and .png (the allocation-time histograms and the failures over time),
# stamped with the commit, the kernel and the QEMU version: into
# $AA_RUN/demo/, or with --record into bench/results/ of the repo.
#
# --seconds N   streaming time in the guest (default 30; the whole demo
#               takes about a minute more, warm)
# --quick       the demo-quick check stage: 10 s of streaming, results
#               outside the repo, "ok - ..." lines and
#               "AA-RESULT demo-quick-<kernel> passed=P failed=F log=..."
#
# Exit 0 only when the guest's checks passed (the pool lost no block and
# never reached the page allocator, the naive order-2 stream lost at least
# half its blocks, the card gave back every byte it played with no xrun,
# every page came back), the kernel log has no splat and
# the report was written.  AA_VERBOSE=1 shows the whole console.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$AA_REPO/scripts
flavour=6.12
seconds=30
quick=no
record=no

usage() {
	aa_usage "$0" 4
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) flavour=${2:?}; shift 2 ;;
	--kernel=*) flavour=${1#*=}; shift ;;
	--seconds) seconds=${2:?}; shift 2 ;;
	--seconds=*) seconds=${1#*=}; shift ;;
	--record) record=yes; shift ;;
	--quick) quick=yes; shift ;;
	-h | --help) usage ;;
	*) echo "demo.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
aa_stock_kernel demo "$flavour"
case $seconds in
'' | *[!0-9]*) aa_die "demo: --seconds must be a number of seconds, not '$seconds'" ;;
esac
if [ "$seconds" -lt 5 ] || [ "$seconds" -gt 600 ]; then
	aa_die "demo: --seconds must be 5-600, not $seconds"
fi
if [ "$quick" = yes ]; then
	[ "$record" = no ] || aa_die "demo: --quick never records results into the repo"
	seconds=10
	# A few seconds of audio through the card: the match, cheaply.
	AA_KERNEL_ARGS="aa_demo_wav=s24_3le_192k_2ch_3s ${AA_KERNEL_ARGS:-}"
fi

stage=demo-$flavour
[ "$quick" = yes ] && stage=demo-quick-$flavour
t_start=$SECONDS

AA_EXTRA_PACKAGES="gnuplot-nox ${AA_EXTRA_PACKAGES:-}" "$here/deps.sh"
aa_need_cmd gnuplot python3
release=$(aa_release "$flavour")
kernel=/boot/vmlinuz-$release
[ -r "$kernel" ] || aa_die "demo: $kernel missing; run scripts/deps.sh"
log=$AA_LOGS/$stage.log
initrd=$AA_INITRAMFS/$stage.cpio.gz
kodir=$AA_RUN/ko/$stage
out=$AA_RUN/demo
[ "$quick" = yes ] && out=$AA_RUN/demo-quick
[ "$record" = yes ] && out=$AA_REPO/bench/results
mkdir -p "$AA_LOGS"

# build_failed WHAT LOG: a failed build is a failed check, then stop.
build_failed() {
	aa_fail "$1 (log: $2)"
	aa_result "$stage" "$passed" "$failed" "$2"
	exit 1
}

t_build=$SECONDS
if ! "$here/build-bench.sh" "$release" "$kodir" atomic_alloc \
	atomic_alloc_audio atomic_alloc_labyrinth atomic_alloc_naive >/dev/null; then
	build_failed "the modules and bench/ build W=1 clean against $release" \
		"$AA_LOGS/build-bench-$release.log"
fi
t_build=$((SECONDS - t_build))
aa_pass "the modules and bench/ build W=1 clean against $release (${t_build}s)"
"$here/mkinitramfs.sh" "$initrd" "$kodir" demo

# The guest's "AA: " lines as they come: progress a person can watch.
export AA_KERNEL_ARGS="aa_demo_seconds=$seconds ${AA_KERNEL_ARGS:-}"
tmo=${AA_DEMO_TIMEOUT:-$((seconds + 240))}
echo
echo "--- guest ($release under QEMU, $seconds s of streaming) ---"
rm -f "$log"
t_run=$SECONDS
"$here/qemu-run.sh" "$kernel" "$initrd" "$log" "$tmo" &
qpid=$!
if [ "${AA_VERBOSE:-0}" != 1 ]; then
	tail -n +1 -F --pid="$qpid" "$log" 2>/dev/null |
		sed -u -n -e 's/\r//g' -e 's/^AA: \{0,1\}/  /p' -e '/^not ok - /p' &
	tpid=$!
fi
set +e
wait "$qpid"
qrc=$?
[ -n "${tpid:-}" ] && wait "$tpid"
set -e
t_run=$((SECONDS - t_run))
echo "---"

if [ "$qrc" -eq 0 ]; then
	aa_pass "guest finished (AA-END rc=0) in ${t_run}s"
else
	aa_fail "guest finished (AA-END rc=0): qemu-run exit $qrc; see $log"
fi
if [ -f "$log" ]; then
	aa_count_guest "$log"
	[ "$gp" -gt 0 ] || aa_fail "the guest ran no check"
fi
if [ -f "$log" ] && "$here/scan-log.sh" "$log" >&2; then
	aa_pass "kernel log clean (no kernel report)"
else
	aa_fail "kernel log clean (no kernel report; see above and $log)"
fi

# --- the table, the verdict, the picture ------------------------------------
commit=unknown
if rev=$(git -C "$AA_REPO" rev-parse --short=12 HEAD 2>/dev/null); then
	commit=$rev
	if [ -n "$(git -C "$AA_REPO" status --porcelain -- Kbuild ':(glob)*.[ch]' \
		bench/Kbuild ':(glob)bench/*.[ch]' scripts/guest/demo.sh \
		scripts/guest/alsa.sh 2>/dev/null)" ]; then
		commit="$rev+uncommitted"
	fi
fi
qver=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
if [ -f "$log" ] && python3 "$here/demo-report.py" --log "$log" \
	--kernel "$release" --qemu "${qver:-unknown}" \
	--accel "$(aa_accel_args "$kernel")" --commit "$commit" \
	--host "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" \
	--seconds "$((SECONDS - t_start))" --out "$out"; then
	aa_pass "report written to $out"
else
	aa_fail "report written to $out"
fi

total=$((SECONDS - t_start))
echo "$stage: $passed passed, $failed failed; build ${t_build}s, guest ${t_run}s, total ${total}s"
if [ "$quick" = yes ]; then
	aa_finish
fi
if [ "$failed" -eq 0 ]; then
	echo "demo: PASS (log: $log)"
	exit 0
fi
echo "demo: FAIL: $failed check(s) failed (see the 'not ok' lines above; log: $log)"
exit 1

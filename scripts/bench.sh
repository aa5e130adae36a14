#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [--kernel 6.12|6.12-rt|6.1] [--quick] [--samples N]
#          [--stream-irqs N] [--scenarios LIST] [--no-results]
#
# `make bench`: build atomic_alloc.ko, atomic_alloc_audio.ko, the
# benchmark module (bench/bench_*.c, against atomic_alloc's Module.symvers)
# and the labyrinth it drives (bench/atomic_alloc_labyrinth.c) with
# scripts/build-bench.sh, boot Debian's stock kernel under QEMU (-smp 4, TCG unless
# KVM really works) and measure, in that one guest run:
#
#   quiet      every allocator's alloc+free pair on a quiet heap
#   refill     how fast a pool drains and refills, work-item wake-up latency,
#              sustained draw from a hard IRQ with frees on another CPU
#   labyrinth  the same table on fragmented memory (no free block of order
#              >= 1, free memory held near the min watermark)
#   stream     atomic_alloc_audio, 4 streams at 192 kHz / 24 bit, one buffer
#              allocated per interrupt, 10^6 interrupts, on the labyrinth
#
# Then scripts/bench-report.py writes bench/results/<kernel>_qemu-<ver>.md,
# .csv and .png (and latest.md).  Every figure is from one run under
# emulation: compare ratios within a run, not absolute times.
#
# The stream runs at 8 channels, not 2: a buffer is one 4 KiB page (order 0,
# the smallest) and the device allocates one buffer per interrupt, so the
# interrupt rate is 192000 / (4096 / (channels * 4)) per stream.  At 2
# channels that is 375/s per stream and 10^6 interrupts take 11 minutes of
# guest time; at 8 channels 1500/s and under 3 minutes.
#
# --quick: boot, load the benchmark with quick=1 (every method and context,
# a few pairs each), print its self-check as ok/not ok lines, build a
# labyrinth (atomic_alloc_labyrinth.ko), unload and check every page came
# back; prints
# "AA-RESULT bench-quick-<kernel> passed=P failed=F log=..." for check.sh.  Writes no
# results.
#
# Environment: AA_BENCH_TIMEOUT (QEMU time limit, s), AA_VERBOSE=1 (show the
# console), AA_ACCEL (tcg|kvm, see lib.sh).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$AA_REPO/scripts
flavour=6.12
quick=no
samples=200000
stream_irqs=1000000
scenarios=quiet,refill,labyrinth,stream
write_results=yes

usage() {
	aa_usage "$0" 3,5
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) flavour=${2:?}; shift 2 ;;
	--kernel=*) flavour=${1#*=}; shift ;;
	--quick) quick=yes; shift ;;
	--samples) samples=${2:?}; shift 2 ;;
	--stream-irqs) stream_irqs=${2:?}; shift 2 ;;
	--scenarios) scenarios=${2:?}; shift 2 ;;
	--no-results) write_results=no; shift ;;
	-h | --help) usage ;;
	*) echo "bench.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
aa_stock_kernel bench "$flavour"
for n in "$samples" "$stream_irqs"; do
	case $n in '' | *[!0-9]*) aa_die "bench: '$n' is not a number" ;; esac
done

stage=bench-quick-$flavour
[ "$quick" = yes ] || stage=bench-$flavour
t_start=$SECONDS

# --- dependencies -----------------------------------------------------------
if [ "$quick" = yes ]; then
	"$here/deps.sh"
else
	AA_EXTRA_PACKAGES="gnuplot-nox ${AA_EXTRA_PACKAGES:-}" "$here/deps.sh"
	aa_need_cmd gnuplot python3
fi
release=$(aa_release "$flavour")
kernel=/boot/vmlinuz-$release
[ -r "$kernel" ] || aa_die "bench: $kernel missing; run scripts/deps.sh"

# --- build ------------------------------------------------------------------
# build_failed WHAT LOG: report a failed build as a failed check, so that
# check.sh counts it, and stop.
build_failed() {
	echo "not ok - $stage: $1 (log: $2)"
	aa_result "$stage" 0 1 "$2"
	aa_die "bench: $1 (log: $2)"
}

# Which sources are measured: the commit, and the module sources that
# differ from it, taken when build-module.sh copies them.
src="an unknown revision (not a git checkout)"
commit=unknown
if rev=$(git -C "$AA_REPO" rev-parse --short=12 HEAD 2>/dev/null); then
	commit=$rev
	changed=$(git -C "$AA_REPO" diff --name-only HEAD -- Kbuild ':(glob)*.[ch]' \
		bench/Kbuild ':(glob)bench/*.[ch]' 2>/dev/null | tr '\n' ' ')
	if [ -z "$changed" ]; then
		src="the module sources as committed in $rev"
	else
		src="commit $rev with uncommitted changes to ${changed% }"
		commit="$rev+uncommitted"
	fi
fi

t_build=$SECONDS
# The project, then bench/ (the benchmark and the labyrinth it drives)
# against the project's Module.symvers.
blog=$AA_LOGS/build-bench-$release.log
# Per run (AA_RUN), so that two checkouts do not mix their modules.
kodir=$AA_RUN/ko/bench-$release
if ! "$here/build-bench.sh" "$release" "$kodir" atomic_alloc \
	atomic_alloc_audio atomic_alloc_labyrinth atomic_alloc_bench >/dev/null; then
	build_failed "atomic_alloc_bench builds W=1 clean against $release" "$blog"
fi
t_build=$((SECONDS - t_build))
aa_info "bench: modules built against $release in ${t_build}s"

# --- run ---------------------------------------------------------------------
initrd=$AA_INITRAMFS/$stage.cpio.gz
log=$AA_LOGS/$stage.log
"$here/mkinitramfs.sh" "$initrd" "$kodir" bench
if [ "$quick" = yes ]; then
	export AA_KERNEL_ARGS="aa_bench=quick ${AA_KERNEL_ARGS:-}"
	tmo=${AA_BENCH_TIMEOUT:-420}
else
	export AA_KERNEL_ARGS="aa_bench=full aa_bench_samples=$samples aa_bench_stream=$stream_irqs aa_bench_scenarios=$scenarios ${AA_KERNEL_ARGS:-}"
	tmo=${AA_BENCH_TIMEOUT:-1020}
fi
t_run=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
"$here/qemu-run.sh" "$kernel" "$initrd" "$log" "$tmo"
qrc=$?
set -e
t_run=$((SECONDS - t_run))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

aa_pass "atomic_alloc_bench builds W=1 clean against $release"
if [ "$qrc" -eq 0 ]; then
	aa_pass "guest finished (AA-END rc=0) in ${t_run}s"
else
	aa_fail "guest finished (AA-END rc=0): qemu-run exit $qrc; see $log"
fi
if [ -f "$log" ]; then
	aa_count_guest "$log"
fi
if [ -f "$log" ] && "$here/scan-log.sh" "$log" >&2; then
	aa_pass "kernel log clean"
else
	aa_fail "kernel log clean (see above; $log)"
fi

# --- report ------------------------------------------------------------------
if [ "$quick" = no ] && [ -f "$log" ]; then
	qver=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
	out=$AA_RUN/bench/results
	[ "$write_results" = yes ] && out=$AA_REPO/bench/results
	if python3 "$here/bench-report.py" --log "$log" --kernel "$release" \
		--qemu "${qver:-unknown}" --accel "$(aa_accel_args "$kernel")" \
		--host "$(nproc) CPUs, load average (1/5/15 min) $load_before before the guest, $load_after after" \
		--source "$src" --commit "$commit" \
		--out "$out" --ko-dir "$kodir" --build-seconds "$t_build" \
		--run-seconds "$t_run" --total-seconds "$((SECONDS - t_start))"; then
		aa_pass "report written to $out"
	else
		aa_fail "report written to $out"
	fi
fi

total=$((SECONDS - t_start))
if [ "$quick" = no ] && [ "$total" -gt 1200 ]; then
	echo "atomic_alloc: warning: the benchmark took ${total}s, over its 20-minute budget (busy host?)" >&2
fi
echo "$stage: $passed passed, $failed failed; build ${t_build}s, guest ${t_run}s, total ${total}s"
aa_result "$stage" "$passed" "$failed" "$log"
[ "$failed" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh CONFIG         (CONFIG: smp or rt)
#
# Run the project's KUnit suites in a 6.12 kernel under QEMU:
#   smp  tests/.kunitconfig + tests/configs/smp.config (DMA-API debug)
#   rt   tests/.kunitconfig + tests/configs/rt.config (PREEMPT_RT, lockdep...)
#
# kunit.py cannot build an M= directory, so the project's in-tree files
# (Kbuild, Kconfig, *.c, *.h, tests/) are mirrored into
# $AA_CACHE/linux-source-6.12/drivers/misc/atomic_alloc/ and hooked into
# drivers/misc/{Kconfig,Makefile}; the kernel is built in
# $AA_CACHE/kunit/CONFIG/ (incremental on reruns).
#
# Counts: every KUnit case (crashed and errors count as failed, skipped are
# reported apart), plus four harness checks: "the run completed" (kernel
# built and booted, summary parsed), "no compiler warning in atomic_alloc's
# files", "every expected suite ran" and "kernel log clean" (scan-log.sh on
# the raw kernel log, <build_dir>/test.log).
#
# Prints "AA-RESULT kunit-CONFIG passed=P failed=F skipped=S log=LOG" and
# exits non-zero when F > 0.
#
# Environment: AA_KUNIT_SUITES (suites that must run), AA_KUNIT_RUN_TIMEOUT
# (kunit.py --timeout, 1200 s), AA_KUNIT_TIMEOUT (bound on the whole stage,
# build included, 2700 s), AA_KUNIT_ARGS (more kunit.py run arguments).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 1 ]; then
	echo "usage: kunit.sh smp|rt" >&2
	exit 2
fi
config=$1
kunitconfigs=("--kunitconfig=$AA_REPO/tests/.kunitconfig")
case $config in
smp) kunitconfigs+=("--kunitconfig=$AA_REPO/tests/configs/smp.config") ;;
rt) kunitconfigs+=("--kunitconfig=$AA_REPO/tests/configs/rt.config") ;;
*) aa_die "unknown KUnit config '$config' (expected smp or rt)" ;;
esac
for k in "${kunitconfigs[@]}"; do
	[ -f "${k#--kunitconfig=}" ] || aa_die "${k#--kunitconfig=} is missing"
done
aa_need_cmd python3 make gcc rsync timeout qemu-system-x86_64 flex bison bc

stage=kunit-$config
bdir=$AA_CACHE/kunit/$config
log=$AA_LOGS/$stage.log
klog=$bdir/test.log
suites=${AA_KUNIT_SUITES:-atomic_alloc atomic_alloc_dma_ring atomic_alloc_audio_irq atomic_alloc_audio_pcm}
mkdir -p "$AA_LOGS" "$bdir"
rm -f "$log"

# One run at a time owns the shared source tree.
aa_lock kunit
aa_ensure_source

# --- link the project into the tree ---------------------------------------
aa_link_project

# --- run ------------------------------------------------------------------
accel_line=$(aa_accel_args "")
read -r -a extra <<<"${AA_KUNIT_ARGS:-}"
# -m 6144 (after kunit.py's own -m 1024, so it wins): memory above 4 GiB,
# so that the tests that a 32-bit DMA device gets ZONE_DMA32 pages, and a
# pool without a device does not, can tell the difference.
args=(run --arch=x86_64 "--build_dir=$bdir" "${kunitconfigs[@]}"
	"--qemu_args=-smp 4 -m 6144 $accel_line" "--jobs=$(nproc)"
	"--timeout=${AA_KUNIT_RUN_TIMEOUT:-1200}" "${extra[@]}")
aa_info "$stage: kunit.py ${args[*]}"
aa_info "$stage: building the KUnit kernel (first time: several minutes), log $log"
aa_timer_start
rm -f "$klog"
# Our objects are always rebuilt, so that their compiler warnings show in
# every run's log (an incremental build that skips them would hide them).
find "$bdir/drivers/misc/atomic_alloc" -name '*.o' -delete 2>/dev/null || true
set +e
(cd "$AA_SRC" && timeout -k 30 "${AA_KUNIT_TIMEOUT:-2700}" \
	python3 tools/testing/kunit/kunit.py "${args[@]}") </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
aa_info "$stage: kunit.py exit $rc after $(aa_elapsed)"

passed=0 failed=0 skipped=0

# "[12:34:56] Testing complete. Ran 12 tests: passed: 10, failed: 1, skipped: 1"
summary=$(sed -e 's/\x1b\[[0-9;]*m//g' "$log" |
	grep -a -o 'Testing complete\. Ran [0-9]* tests:.*' | tail -n 1 || true)
count() {
	local n
	n=$(grep -o "$1: [0-9]*" <<<"$summary" | grep -o '[0-9]*$' || true)
	echo "${n:-0}"
}
if [ -n "$summary" ]; then
	total=${summary#Testing complete. Ran }
	total=${total%% tests*}
	kp=$(count passed)
	kf=$(( $(count failed) + $(count crashed) + $(count errors) ))
	ks=$(count skipped)
	passed=$((passed + kp))
	failed=$((failed + kf))
	skipped=$ks
	if [ "$total" -gt 0 ]; then
		aa_pass "KUnit run completed ($summary)"
	else
		aa_fail "KUnit run completed but ran no test ($summary)"
	fi
	if [ "$rc" -ne 0 ] && [ "$kf" -eq 0 ]; then
		aa_fail "kunit.py exited $rc although no case failed (see $log)"
	fi
	aa_check_build_warnings "$log"
else
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after ${AA_KUNIT_TIMEOUT:-2700}s"
	elif grep -a -q 'Not all Kconfig options selected' "$log"; then
		why="the kunitconfig does not survive olddefconfig ($(grep -a -o 'Missing: .*' "$log" | sed -n 1p))"
	elif ! grep -a -q 'Starting KUnit Kernel' "$log"; then
		why="the KUnit kernel failed to configure or build"
	else
		why="the KUnit kernel ran but printed no test summary (crash or hang?)"
	fi
	aa_fail "KUnit run completed: $why; log: $log"
	echo "atomic_alloc: error: $stage: $why; log: $log" >&2
fi

# Every expected suite must have run (a suite that Kbuild or Kconfig drops
# silently would otherwise just be missing from the counts).
missing=""
for s in $suites; do
	grep -a -q -E "=+ $s \([0-9]+ subtests?\) =+|ok [0-9]+ $s\$|# Subtest: $s\$" "$log" ||
		missing="$missing $s"
done
if [ -z "$missing" ]; then
	aa_pass "every expected suite ran ($suites)"
else
	aa_fail "suite(s) did not run:$missing"
fi

if [ -f "$klog" ] && "$(dirname "$0")/scan-log.sh" "$klog" >&2; then
	aa_pass "kernel log clean ($klog)"
elif [ -f "$klog" ]; then
	aa_fail "kernel log has splats (see above; $klog)"
else
	aa_fail "kernel log clean: no kernel log ($klog); the kernel never ran"
fi

echo "$stage: $passed passed, $failed failed, $skipped skipped (KUnit cases + 4 harness checks)"
[ "$failed" -eq 0 ] || echo "atomic_alloc: $stage failed; log: $log (kernel log: $klog)" >&2
aa_result "$stage" "$passed" "$failed" "$log" "$skipped"
if [ "$failed" -gt 0 ]; then
	exit 1
fi
exit 0

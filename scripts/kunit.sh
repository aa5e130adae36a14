#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh CONFIG
#
# Run the project's KUnit suites in a 6.12 kernel under QEMU, in one of these
# configurations (tests/.kunitconfig + tests/configs/CONFIG.config; arm64
# ones also get tests/configs/arm64.config, x86_64 ones
# tests/configs/x86_64.config: what the kernels of an arch share):
#   smp         x86_64, lockdep with the PREEMPT_RT nesting rules
#   rt          x86_64, PREEMPT_RT, lockdep, object debugging
#   kcsan       x86_64, KCSAN with the interrupt watcher (data races),
#               DMA-API debug
#   arm64-4k    arm64, 4 KiB pages
#   arm64-16k   arm64, 16 KiB pages
#   arm64-64k   arm64, 64 KiB pages
#   arm64-debug arm64, 64 KiB pages, PREEMPT_RT, lockdep, KASAN, kmemleak
# Every guest has 4 CPUs and 6 GiB, part of it above 4 GiB (x86_64: from
# 4 GiB up; arm64 "virt": RAM starts at 1 GiB), so that the tests that a
# 32-bit DMA device gets pages below 4 GiB, and a pool without a device need
# not, can tell the difference.  arm64 kernels are cross-built with
# aarch64-linux-gnu- and run under qemu-system-aarch64 -machine virt -cpu max
# (kunit.py's qemu_configs/arm64.py, always TCG).
#
# A fragment that states CONFIG_ATOMIC_ALLOC_DEBUG (=y or "is not set")
# decides it: tests/.kunitconfig's own line for it is left out of that run
# (kunit.py refuses two values for one option, in either order).  No other
# option may be stated twice.
#
# kunit.py cannot build an M= directory, so the project's in-tree files
# (Kbuild, Kconfig, *.c, *.h, tests/) are mirrored into
# $AA_CACHE/linux-source-6.12/drivers/misc/atomic_alloc/ and hooked into
# drivers/misc/{Kconfig,Makefile}; the kernel is built in
# $AA_CACHE/kunit/CONFIG-HASH/ (incremental on reruns; see aa_kunit_dir).
#
# Counts: every KUnit case (crashed and errors count as failed, skipped are
# reported apart and listed), plus five harness checks: "the run completed"
# (kernel built and booted, summary parsed), "no compiler warning in
# atomic_alloc's files", "every expected suite ran", "the guest is the one
# configured" (memory above 4 GiB; for kcsan, KCSAN enabled and its selftest
# passed) and "kernel log clean" (scan-log.sh on the raw kernel log,
# <build_dir>/test.log; a KCSAN data race is a failure when one of its two
# accesses is in atomic_alloc's own functions, listed from its objects, and
# only listed otherwise).
#
# Prints "AA-RESULT kunit-CONFIG passed=P failed=F skipped=S log=LOG" and
# exits non-zero when F > 0.
#
# When the kernel log has the "memory-ratio:" lines of atomic_alloc_buf's
# memory-ratio case, scripts/memory-report.py turns them into
# $AA_RUN/results/memory-CONFIG.md, stamped with the tree as it was when this
# run began (`scripts/record.sh memory` copies it to bench/results/).
#
# Environment: AA_KUNIT_SUITES (suites that must run), AA_KUNIT_RUN_TIMEOUT
# (kunit.py --timeout, 1200 s), AA_KUNIT_TIMEOUT (bound on the whole stage,
# build included, 2700 s), AA_KUNIT_ARGS (more kunit.py exec arguments).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

configs="smp rt kcsan arm64-4k arm64-16k arm64-64k arm64-debug"
if [ $# -ne 1 ]; then
	echo "usage: kunit.sh CONFIG (one of: $configs)" >&2
	exit 2
fi
config=$1
case " $configs " in
*" $config "*) ;;
*) aa_die "unknown KUnit config '$config' (expected one of: $configs)" ;;
esac
base=$AA_REPO/tests/.kunitconfig
frag=$AA_REPO/tests/configs/$config.config
frags=("$frag")
case $config in
arm64-*)
	arch=arm64 cross=aarch64-linux-gnu- qemu=qemu-system-aarch64
	frags=("$AA_REPO/tests/configs/arm64.config" "$frag")
	;;
*)
	arch=x86_64 cross="" qemu=qemu-system-x86_64
	frags=("$AA_REPO/tests/configs/x86_64.config" "$frag")
	;;
esac
for k in "$base" "${frags[@]}"; do
	[ -f "$k" ] || aa_die "$k is missing"
done
aa_need_cmd python3 make gcc rsync timeout "$qemu" flex bison bc "${cross}gcc" "${cross}nm"

stage=kunit-$config
bdir=$(aa_kunit_dir "$config" "$base" "${frags[@]}")
log=$AA_LOGS/$stage.log
klog=$bdir/test.log
suites=${AA_KUNIT_SUITES:-atomic_alloc atomic_alloc_buf atomic_alloc_nmi atomic_alloc_dma_ring atomic_alloc_audio_irq atomic_alloc_audio_pcm}
mkdir -p "$AA_LOGS" "$bdir" "$AA_RUN/results"
build_only=${AA_KUNIT_BUILD_ONLY:-0}
if [ "$build_only" != 1 ]; then
	rm -f "$log" "$AA_RUN/results/memory-$config.md"
	begin=$AA_RUN/results/$stage.begin
	python3 "$AA_REPO/scripts/results.py" stamp --begin >"$begin"
fi

# This run's build dir is its own until it ends (a second run of the same
# configuration waits); the shared source tree only while it builds: then
# check.sh's prebuild compiles the next kernel while this one runs under
# QEMU.  Build dir first, then tree, in every run.
aa_lock_fd 7 "$bdir.lock"
aa_lock kunit
aa_ensure_source
aa_seed_kunit_dir "$config" "$bdir"

# --- link the project into the tree ---------------------------------------
aa_link_project

# --- run ------------------------------------------------------------------
# The fragment's CONFIG_ATOMIC_ALLOC_DEBUG wins over .kunitconfig's.
debug_re='^(# )?CONFIG_ATOMIC_ALLOC_DEBUG[= ]'
if grep -q -E "$debug_re" "${frags[@]}"; then
	grep -v -E "$debug_re" "$base" >"$bdir/.aa-base.kunitconfig"
	base=$bdir/.aa-base.kunitconfig
fi
# AA_KUNIT_BUILD_ONLY=1 (check.sh's prebuild, scripts/prebuild.sh): build
# the kernel the run would build, print nothing, exit.  The run that follows
# finds it built and only relinks what changed.
# What kunit.py build and kunit.py exec share.
common=("--arch=$arch" "--build_dir=$bdir" "--kunitconfig=$base")
for k in "${frags[@]}"; do
	common+=("--kunitconfig=$k")
done
[ -z "$cross" ] || common+=("--cross_compile=$cross")
bargs=(build "${common[@]}" "--jobs=$(nproc)")
if [ "$build_only" = 1 ]; then
	cd "$AA_SRC"
	exec timeout -k 30 "${AA_KUNIT_TIMEOUT:-2700}" \
		python3 tools/testing/kunit/kunit.py "${bargs[@]}" </dev/null
fi
read -r -a extra <<<"${AA_KUNIT_ARGS:-}"
# -m 6144 comes after kunit.py's own -m 1024, so it wins.
if [ "$arch" = x86_64 ]; then
	accel_line=$(aa_accel_args "")
else
	# arm64.py already passes -machine virt -cpu max,pauth-impdef=on (the
	# cheap pointer-authentication algorithm: TCG emulates QARMA slowly).
	accel_line="-accel tcg"
fi
args=(exec "${common[@]}"
	"--qemu_args=-smp 4 -m 6144 $accel_line"
	"--timeout=${AA_KUNIT_RUN_TIMEOUT:-1200}")
# kmemleak names each leak it finds (its call stack) instead of a count.
if grep -q -x 'CONFIG_DEBUG_KMEMLEAK=y' "${frags[@]}"; then
	args+=("--kernel_args=kmemleak.verbose=1")
fi
args+=("${extra[@]}")
aa_info "$stage: kunit.py ${bargs[*]}, then kunit.py ${args[*]}"
aa_info "$stage: building the KUnit kernel (first time: several minutes), log $log"
aa_timer_start
rm -f "$klog"
# Our objects are always rebuilt, so that their compiler warnings show in
# every run's log (an incremental build that skips them would hide them).
find "$bdir/drivers/misc/atomic_alloc" -name '*.o' -delete 2>/dev/null || true
set +e
(cd "$AA_SRC" && timeout -k 30 "${AA_KUNIT_TIMEOUT:-2700}" \
	python3 tools/testing/kunit/kunit.py "${bargs[@]}") </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Built: the tree is free (see the locks above).
exec 9>&-
left=$((${AA_KUNIT_TIMEOUT:-2700} - SECONDS))
if [ "$rc" -eq 0 ] && [ "$left" -gt 0 ]; then
	(cd "$AA_SRC" && timeout -k 30 "$left" \
		python3 tools/testing/kunit/kunit.py "${args[@]}") </dev/null 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
elif [ "$rc" -eq 0 ]; then
	rc=124
fi
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
	elif grep -a -q 'Multiple values specified' "$log"; then
		why="two kunitconfig fragments set one option differently ($(grep -a -A3 'Multiple values specified' "$log" | grep -a -E '^(# )?CONFIG_' | tr '\n' ' '))"
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
# Skipped cases by name, with the reason the test gave (KTAP "# SKIP").
if [ -f "$klog" ]; then
	tr -d '\r' <"$klog" | grep -a -E '^ *ok [0-9]+ .* # SKIP' |
		sed -E "s/^ *ok [0-9]+ /  $stage skipped: /" >&2 || true
fi

# The guest is the one this stage claims to test: memory above 4 GiB
# ("Normal" zone from 0x100000000 up, x86_64 and arm64 alike) and, for
# kcsan, KCSAN enabled with its boot selftest passed.
if [ -f "$klog" ]; then
	why="" what="memory above 4 GiB"
	grep -a -q -E '^ +Normal +\[mem 0x0*[1-9a-f][0-9a-f]{8}-' "$klog" ||
		why="no memory above 4 GiB in the boot log's zone ranges"
	if [ "$config" = kcsan ]; then
		what="$what, KCSAN on"
		grep -a -q 'kcsan: enabled early' "$klog" ||
			why="$why${why:+; }KCSAN not enabled (no 'kcsan: enabled early')"
		grep -a -q -E 'kcsan: selftest: ([0-9]+)/\1 tests passed' "$klog" ||
			why="$why${why:+; }KCSAN's boot selftest did not pass"
	fi
	if [ -z "$why" ]; then
		aa_pass "the guest is the one configured ($what)"
	else
		aa_fail "the guest is the one configured: $why ($klog)"
	fi
else
	aa_fail "the guest is the one configured: no kernel log ($klog)"
fi

# The functions of our own objects, for scan-log.sh to tell a KCSAN report
# in our code from one between two accesses elsewhere in the kernel.
ours=$bdir/.aa-ours.syms
find "$bdir/drivers/misc/atomic_alloc" -name '*.o' ! -name '*.mod.o' -print0 2>/dev/null |
	xargs -0 -r "${cross}nm" --defined-only 2>/dev/null |
	awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u >"$ours" || true
# A list without our own entry points is no list: judge every KCSAN report
# as ours then.
scan=(--ours "$ours")
grep -q -x atomic_alloc_create "$ours" || scan=()

if [ -f "$klog" ] && "$(dirname "$0")/scan-log.sh" "${scan[@]}" "$klog" >&2; then
	aa_pass "kernel log clean ($klog)"
elif [ -f "$klog" ]; then
	aa_fail "kernel log has splats (see above; $klog)"
else
	aa_fail "kernel log clean: no kernel log ($klog); the kernel never ran"
fi

# The memory-ratio case's figures, as a results file (not a check: the
# case itself asserts the ratio).
if [ -f "$klog" ]; then
	mrc=0
	python3 "$AA_REPO/scripts/memory-report.py" --klog "$klog" \
		--config "$config" --begin "$begin" \
		--out "$AA_RUN/results/memory-$config.md" \
		--qemu "$("$qemu" --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')" \
		--by "scripts/kunit.sh $config${AA_KUNIT_ARGS:+ with AA_KUNIT_ARGS=$AA_KUNIT_ARGS}" || mrc=$?
	[ "$mrc" -le 1 ] ||
		echo "atomic_alloc: warning: $stage: memory-report.py failed (exit $mrc)" >&2
fi

echo "$stage: $passed passed, $failed failed, $skipped skipped (KUnit cases + 5 harness checks)"
[ "$failed" -eq 0 ] || echo "atomic_alloc: $stage failed; log: $log (kernel log: $klog)" >&2
aa_result "$stage" "$passed" "$failed" "$log" "$skipped"
if [ "$failed" -gt 0 ]; then
	exit 1
fi
exit 0

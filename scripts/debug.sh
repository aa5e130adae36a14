#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug.sh: the third test configuration, "debug".
#
# Builds a 6.12 kernel from tests/configs/debug.config (PREEMPT_RT, lockdep,
# DEBUG_ATOMIC_SLEEP, DEBUG_PREEMPT, KASAN, kmemleak, object debugging,
# DMA-API debugging, fail_page_alloc, NUMA, modules) with kunit.py in
# $AA_CACHE/kunit/debug-HASH (incremental on reruns), with atomic_alloc built as
# modules.  Boots it under QEMU with two NUMA nodes and the guest scenario
# "debug" (scripts/guest/debug.sh): the KUnit suites run by insmod of their
# modules, fault injection while streaming, CPU hotplug while streaming,
# unload under load, 100 load/unload cycles, hostile debugfs writes, and a
# kmemleak scan and a page_owner count after rmmod.
#
# Counts: every KUnit case (from the KTAP the test modules print), every
# guest check, plus "kernel built", "guest finished" and "log clean" (any
# report from lockdep, KASAN, kmemleak, DMA-API debug, ODEBUG... fails).
# Prints the reliability table and "AA-RESULT kunit-debug passed=P
# failed=F skipped=S log=LOG"; exits non-zero when F > 0.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$(dirname "$0")
stage=kunit-debug
bdir=$(aa_kunit_dir debug "$AA_REPO/tests/configs/debug.config")
log=$AA_LOGS/$stage.log
blog=$AA_LOGS/$stage-build.log
# AA_DEBUG_BUILD_ONLY=1 (check.sh's prebuild): build the kernel, exit.
build_only=${AA_DEBUG_BUILD_ONLY:-0}
[ "$build_only" != 1 ] || blog=$AA_LOGS/$stage-prebuild.log
initrd=$AA_INITRAMFS/$stage.cpio.gz
kodir=$AA_INITRAMFS/$stage-modules
mkdir -p "$AA_LOGS" "$bdir" "$kodir"
[ "$build_only" = 1 ] || rm -f "$log"
aa_need_cmd python3 make gcc rsync timeout qemu-system-x86_64 flex bison bc

# --- build ---------------------------------------------------------------
(
	aa_lock kunit
	aa_ensure_source || exit 1
	aa_seed_kunit_dir debug "$bdir" || exit 1
	aa_link_project || exit 1
	# Rebuilt every time, so that their warnings are in every build log.
	find "$bdir/drivers/misc/atomic_alloc" -name '*.o' -delete 2>/dev/null || true
	cd "$AA_SRC" || exit 1
	# set -e does not apply inside a subshell whose status is tested by ||:
	# every step that can fail says so itself.
	timeout "${AA_DEBUG_BUILD_TIMEOUT:-2700}" python3 tools/testing/kunit/kunit.py build \
		--arch=x86_64 "--build_dir=$bdir" \
		"--kunitconfig=$AA_REPO/tests/configs/debug.config" "--jobs=$(nproc)" ||
		exit 1
	[ "$build_only" != 1 ] || exit 0
	# Still under the lock: another checkout's run may rebuild the tree
	# from its own sources as soon as it is released.
	rm -f "$kodir"/*.ko "$kodir/bzImage"
	find "$bdir/drivers/misc/atomic_alloc" -name '*.ko' -exec cp {} "$kodir/" \; ||
		exit 1
	cp "$bdir/arch/x86/boot/bzImage" "$kodir/bzImage" || exit 1
) >"$blog" 2>&1 || {
	tail -n 20 "$blog" >&2
	aa_fail "debug kernel built (log: $blog)"
	log=$blog
	aa_finish
}
[ "$build_only" != 1 ] || exit 0
aa_pass "debug kernel built"
aa_check_build_warnings "$blog"

if ! ls "$kodir"/*.ko >/dev/null 2>&1; then
	aa_fail "debug kernel has atomic_alloc modules (none under $bdir/drivers/misc/atomic_alloc)"
	aa_finish
fi
# The sound core our audio module needs comes from this kernel's build.
AA_MODTREE=$bdir "$here/mkinitramfs.sh" "$initrd" "$kodir" debug

# --- boot with two NUMA nodes ----------------------------------------------
# One socket per node: a node boundary inside one socket's shared cache is
# a topology the scheduler warns about (topology_sane()).
AA_KERNEL_ARGS="page_owner=on ${AA_KERNEL_ARGS:-}" \
aa_boot_and_check "$kodir/bzImage" "$initrd" \
	"${AA_DEBUG_TIMEOUT:-1800}" -m 2048 -smp 4,sockets=2,cores=2,threads=1 \
	-object memory-backend-ram,id=m0,size=1024M \
	-object memory-backend-ram,id=m1,size=1024M \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 \
	-numa node,nodeid=1,cpus=2-3,memdev=m1
[ -f "$log" ] || aa_finish

# KUnit cases: every indented result line, except the line that closes a
# parameterised case (its parameters were counted); "# SKIP" is skipped.
read -r kp kf ks < <(awk '
	/^ +# [a-z_0-9]+: pass:[0-9]+ fail:/ { param = 1; next }
	/^ +(ok|not ok) [0-9]+ / {
		if (param) { param = 0; next }
		if ($0 ~ /# SKIP/) s++
		else if ($1 == "ok") p++
		else f++
		next
	}
	{ param = 0 }
	END { printf "%d %d %d\n", p, f, s }' < <(tr -d '\r' <"$log"))
echo "$stage: KUnit at insmod: $kp passed, $kf failed, $ks skipped"
suites=$(tr -d '\r' <"$log" | grep -a -c -E '^    # Subtest: atomic_alloc' || true)
if [ "$suites" -ge 6 ] && [ "$kp" -gt 0 ]; then
	aa_pass "all six KUnit suites ran at module load"
else
	aa_fail "all six KUnit suites ran at module load (found $suites)"
fi
passed=$((passed + kp))
failed=$((failed + kf))
skipped=$((skipped + ks))

aa_finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-run.sh VMLINUZ INITRD LOG TIMEOUT_SECONDS [extra qemu args...]
#
# Boot VMLINUZ with INITRD under QEMU (4 CPUs, 1 GiB, serial console only)
# and write the console to LOG (and to stdout too when AA_VERBOSE=1).
# KVM is used when it really works here, else TCG (see aa_accel_args in
# lib.sh; AA_ACCEL=tcg|kvm forces one).  Extra kernel arguments can be given
# in AA_KERNEL_ARGS.
#
# tsc=reliable: under TCG the emulated TSC drifts from the emulated HPET
# when a vCPU is kept busy (the NMI storm does that), the clocksource
# watchdog then marks the TSC unstable and flips sched_clock's static key
# while the storm runs, and QEMU 7.2 has been seen to lose the guest in that
# code patching: it vanishes without a kernel message.  The TSC is the
# clocksource anyway; only the watchdog's runtime switch goes.  (That
# death may also have been the cmpxchg16b flags bug that aa_accel_args
# now avoids with -cx16: PREEMPT_RT need not print an Oops before it dies.)
#
# QEMU logs CPU resets to LOG.qemu (-d cpu_reset), so that a guest that
# vanished can be told from one that panicked: "Triple fault" is there.
#
# Exit 0 when the guest printed "AA-END rc=0"; otherwise a one-line reason
# with the log path on stderr and exit 1 (guest failed or never finished) or
# 3 (timed out).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 4 ]; then
	echo "usage: qemu-run.sh VMLINUZ INITRD LOG TIMEOUT_SECONDS [qemu args...]" >&2
	exit 2
fi
kernel=$1 initrd=$2 log=$3 tmo=$4
shift 4
[ -r "$kernel" ] || aa_die "kernel image '$kernel' missing or unreadable"
[ -r "$initrd" ] || aa_die "initramfs '$initrd' missing or unreadable"
case $tmo in '' | *[!0-9]*) aa_die "timeout must be a number of seconds, not '$tmo'" ;; esac
aa_need_cmd qemu-system-x86_64 timeout

accel_line=$(aa_accel_args "$kernel")
read -r -a accel <<<"$accel_line"
mkdir -p "$(dirname "$log")"

cmd=(qemu-system-x86_64 "${accel[@]}" -smp 4 -m 1024 -nographic -no-reboot
	-nic none -kernel "$kernel" -initrd "$initrd"
	-d cpu_reset -D "$log.qemu"
	-append "console=ttyS0 panic=-1 loglevel=8 printk.devkmsg=on tsc=reliable ${AA_KERNEL_ARGS:-}"
	"$@")
aa_info "booting $(basename "$kernel") (${accel[1]}), timeout ${tmo}s, log $log"
# run_guest: one boot, output to $log; sets rc.
run_guest() {
	set +e
	if [ "${AA_VERBOSE:-0}" = 1 ]; then
		timeout -k 10 "$tmo" "${cmd[@]}" </dev/null 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	else
		timeout -k 10 "$tmo" "${cmd[@]}" </dev/null >"$log" 2>&1
		rc=$?
	fi
	set -e
}

aa_timer_start
run_guest
# A kernel that dies while booting, before /init printed AA-BEGIN, died
# before any module of ours was loaded: TCG occasionally trips over the
# stock kernel's own boot-time code patching (seen: "Oops: int3" in
# sched_clock_cpu()).  Boot once more, and keep the first log.  QEMU's exit
# status does not tell: with panic=-1 and -no-reboot a panic exits 0.
if ! grep -a -q 'AA-BEGIN' "$log"; then
	mv "$log" "$log.boot1"
	mv "$log.qemu" "$log.qemu.boot1" 2>/dev/null || true
	echo "atomic_alloc: note: the guest died during boot, before the scenario started (qemu exit $rc); booting once more; first log: $log.boot1" >&2
	run_guest
fi

if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "atomic_alloc: error: guest did not finish within ${tmo}s (hung?); log: $log" >&2
	exit 3
fi
end=$(tr -d '\r' <"$log" | sed -n 's/^.*AA-END rc=\([0-9]*\).*$/\1/p' | tail -n 1)
if [ -z "$end" ]; then
	reason="the guest never printed AA-END"
	grep -a -q 'Kernel panic' "$log" && reason="the guest kernel panicked"
	grep -a -q 'Triple fault' "$log.qemu" 2>/dev/null &&
		reason="the guest reset itself (triple fault, see $log.qemu)"
	echo "atomic_alloc: error: $reason (qemu exit $rc after $(aa_elapsed)); log: $log; its last lines:" >&2
	tr -d '\r' <"$log" | tail -n 12 | sed 's/^/  | /' >&2
	exit 1
fi
if [ "$end" != 0 ]; then
	echo "atomic_alloc: error: guest scenario failed (AA-END rc=$end) after $(aa_elapsed); log: $log" >&2
	exit 1
fi
aa_info "guest finished (AA-END rc=0) in $(aa_elapsed)"
exit 0

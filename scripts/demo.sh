#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: build the modules for Debian's 6.12 kernel, boot that kernel under
# QEMU, stream four simulated 192 kHz / 24-bit streams for a few seconds from
# a hard-IRQ timer that takes its DMA buffers from atomic_alloc, and show
# what happened (the guest scenario is scripts/guest/demo.sh).
#
# Exit 0 only when the guest finished cleanly, the kernel log has no splat
# and every page went back to the page allocator.  AA_VERBOSE=1 shows the
# whole console while the guest runs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$(dirname "$0")
"$here/deps.sh"
release=$(aa_release 6.12)
kernel=/boot/vmlinuz-$release
log=$AA_LOGS/demo.log
initrd=$AA_INITRAMFS/demo.cpio.gz

dir=$("$here/build-module.sh" "$release") ||
	aa_die "demo: the modules do not build against $release (log: $AA_LOGS/build-$release.log)"
"$here/mkinitramfs.sh" "$initrd" "$dir" demo

set +e
"$here/qemu-run.sh" "$kernel" "$initrd" "$log" "${AA_DEMO_TIMEOUT:-300}"
qrc=$?
set -e

echo
echo "--- guest ($release under QEMU) ---"
# The scenario marks its lines with "AA: "; everything else is kernel noise.
tr -d '\r' <"$log" 2>/dev/null | sed -n -e 's/^AA: \{0,1\}/  /p' -e '/^not ok - /p' || true
echo "---"

reasons=()
[ "$qrc" -eq 0 ] || reasons+=("the guest did not finish cleanly (qemu-run exit $qrc)")
if ! "$here/scan-log.sh" "$log" >&2; then
	reasons+=("the kernel log has splats")
fi
if ! tr -d '\r' <"$log" 2>/dev/null | grep -a '^AA: every page returned: yes$' >/dev/null; then
	reasons+=("not every page was returned to the page allocator")
fi

if [ "${#reasons[@]}" -eq 0 ]; then
	echo "demo: PASS: streams ran without lost or corrupted buffers, no kernel splat, every page returned (log: $log)"
	exit 0
fi
msg=$(printf '%s; ' "${reasons[@]}")
echo "demo: FAIL: ${msg%; } (log: $log)"
exit 1

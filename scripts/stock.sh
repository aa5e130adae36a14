#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stock.sh FLAVOUR [SCENARIO [QEMU ARGS...]]
#                         (FLAVOUR: 6.1, 6.1-rt, 6.12 or 6.12-rt; SCENARIO: a file
#                         scripts/guest/SCENARIO.sh, default "check")
#
# Build the modules against Debian's headers of FLAVOUR, boot Debian's own
# kernel of exactly that release under QEMU with the guest scenario (extra
# QEMU arguments, e.g. "-m 256", come last and win), and count:
#   - one check per guest line "ok - ..." (pass) / "not ok - ..." (fail);
#   - "build clean" (build-module.sh: no error, no warning);
#   - "guest finished" (the guest printed AA-END rc=0 in time);
#   - "log clean" (scan-log.sh found no kernel splat).
# A check that could not run (nothing to boot after a failed build) fails.
#
# Prints "AA-RESULT STAGE passed=P failed=F log=LOG" (STAGE: stock-FLAVOUR
# for "check", else SCENARIO-FLAVOUR) and exits non-zero when F > 0.
# Guest lines "AA-REL a|b|c|d" (reliability rows) are printed as a table.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 1 ]; then
	echo "usage: stock.sh 6.1|6.1-rt|6.12|6.12-rt [SCENARIO [QEMU ARGS...]]" >&2
	exit 2
fi
flavour=$1
scenario=${2:-check}
shift $(($# >= 2 ? 2 : 1))
case $flavour in
6.1 | 6.1-rt | 6.12 | 6.12-rt) ;;
*) aa_die "unknown flavour '$flavour' for stock.sh (expected 6.1, 6.1-rt, 6.12 or 6.12-rt)" ;;
esac
release=$(aa_release "$flavour")
kernel=/boot/vmlinuz-$release
stage=stock-$flavour
[ "$scenario" = check ] || stage=$scenario-$flavour
log=$AA_LOGS/$stage.log
initrd=$AA_INITRAMFS/$stage.cpio.gz
here=$(dirname "$0")
mkdir -p "$AA_LOGS"
rm -f "$log"

if ! dir=$("$here/build-module.sh" "$release"); then
	aa_fail "build clean against $release (log: $AA_LOGS/build-$release.log)"
	aa_fail "guest finished (not booted: no modules)"
	aa_fail "log clean (not booted)"
	log=$AA_LOGS/build-$release.log
	aa_finish
fi
aa_pass "build clean against $release"

if [ ! -r "$kernel" ]; then
	aa_fail "guest finished: $kernel missing; run scripts/deps.sh (linux-image-$release)"
	aa_fail "log clean (not booted)"
	aa_finish
fi
"$here/mkinitramfs.sh" "$initrd" "$dir" "$scenario"

aa_boot_and_check "$kernel" "$initrd" "${AA_STOCK_TIMEOUT:-300}" "$@"
aa_finish

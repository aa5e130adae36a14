#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# example.sh [FLAVOUR]        (FLAVOUR: 6.1, 6.12 or 6.12-rt; default 6.12)
#
# Build atomic_alloc.ko (build-module.sh) and the consumer example
# samples/atomic_alloc_example.ko against Debian's headers of FLAVOUR, the
# example as a separate module that links against atomic_alloc's
# Module.symvers, then boot Debian's kernel of that release under QEMU with
# the guest scenario scripts/guest/example.sh, and count:
#   - "example build clean" (W=1: no error, no warning);
#   - one check per guest line "ok - ..." / "not ok - ...";
#   - "guest finished" (AA-END rc=0) and "log clean" (scan-log.sh).
#
# Everything it makes is under $AA_RUN/example/RELEASE/.  Prints
# "AA-RESULT example-FLAVOUR passed=P failed=F log=LOG" and exits non-zero
# when F > 0.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

flavour=${1:-6.12}
case $flavour in
6.1 | 6.12 | 6.12-rt) ;;
*) aa_die "unknown flavour '$flavour' for example.sh (expected 6.1, 6.12 or 6.12-rt)" ;;
esac
release=$(aa_release "$flavour")
hdr=/usr/src/linux-headers-$release
kernel=/boot/vmlinuz-$release
stage=example-$flavour
here=$(dirname "$0")
work=$AA_RUN/example/$release
log=$AA_LOGS/$stage.log
blog=$AA_LOGS/build-example-$release.log
initrd=$AA_INITRAMFS/$stage.cpio.gz
mkdir -p "$AA_LOGS" "$work"
rm -f "$log"

if ! dir=$("$here/build-module.sh" "$release"); then
	aa_fail "atomic_alloc build clean against $release (log: $AA_LOGS/build-$release.log)"
	aa_fail "guest finished (not booted: no modules)"
	log=$AA_LOGS/build-$release.log
	aa_finish
fi

# The example's own tree: the public header one level above samples/, as
# in the repo, and nothing else of the project.
aa_lock "example-$release" "$AA_RUN"
mkdir -p "$work/src/samples" "$work/ko"
rsync -a --delete "${AA_RSYNC_EXCLUDE_PRODUCTS[@]}" \
	--include='/Kbuild' --include='/*.c' --exclude='*' \
	"$AA_REPO/samples/" "$work/src/samples/" ||
	aa_die "could not copy $AA_REPO/samples to $work/src/samples"
cp -p "$AA_REPO/atomic_alloc.h" "$work/src/atomic_alloc.h"
set +e
timeout -k 10 "${AA_BUILD_TIMEOUT:-900}" \
	make -C "$hdr" M="$work/src/samples" W=1 \
	KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers" modules >"$blog" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ] || grep -E -i -q 'warning:|error' "$blog"; then
	grep -m 20 -E -i 'error|warning:' "$blog" >&2 || tail -n 20 "$blog" >&2
	aa_fail "example build clean against $release (make exit $rc; log: $blog)"
	aa_fail "guest finished (not booted: no example module)"
	aa_finish
fi
aa_pass "example build clean against $release"

rm -f "$work"/ko/*.ko
cp "$dir/atomic_alloc.ko" "$work/src/samples/atomic_alloc_example.ko" "$work/ko/"

if [ ! -r "$kernel" ]; then
	aa_fail "guest finished: $kernel missing; run scripts/deps.sh (linux-image-$release)"
	aa_finish
fi
"$here/mkinitramfs.sh" "$initrd" "$work/ko" example

aa_boot_and_check "$kernel" "$initrd" "${AA_EXAMPLE_TIMEOUT:-300}"
aa_finish

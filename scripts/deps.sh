#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install what the harness needs from Debian's archive, idempotently.
#
# Tools, the 6.12 source (KUnit kernels are built from it), the arm64 cross
# compiler and QEMU (the kunit-arm64-* stages), the headers of the
# four kernels the module is built against (6.1, 6.1-rt, 6.12, 6.12-rt) and
# the kernel images of exactly those header releases that are booted under
# QEMU (all four; their linux-image packages also carry the sound modules
# the guests load), and the ALSA tools the guests drive the card with
# (alsa-utils) with sox to make their test signals.  `apt-get update` runs only when something is
# missing.  Quiet when everything is there.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive

packages=(
	build-essential bc bison flex libelf-dev libssl-dev python3 cpio
	busybox-static qemu-system-x86 xz-utils kmod sparse rsync
	linux-source-6.12 gzip coreutils util-linux
	linux-headers-6.12-amd64 linux-headers-6.12-rt-amd64
	linux-headers-amd64 linux-headers-rt-amd64
	gcc-aarch64-linux-gnu qemu-system-arm
	alsa-utils sox libasound2-data
	dwarves
)
# More packages, space-separated, for a stage that needs them.
read -r -a extra <<<"${AA_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
# Flavours whose stock kernel is booted (stock.sh, demo.sh).
boot_flavours=(6.1 6.1-rt 6.12 6.12-rt)

updated=no

# missing PKG...: print the packages that are not installed.
missing() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		case $st in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}

apt_install() {
	local log=$AA_LOGS/apt.log
	mkdir -p "$AA_LOGS"
	if [ "$(id -u)" -ne 0 ]; then
		aa_die "missing packages ($*) and not root: run 'sudo apt-get install $*'"
	fi
	if [ "$updated" = no ]; then
		aa_info "apt-get update"
		if ! timeout 600 apt-get update >"$log" 2>&1; then
			tail -n 5 "$log" >&2
			aa_die "apt-get update failed (log: $log)"
		fi
		updated=yes
	fi
	aa_info "installing: $*"
	aa_timer_start
	if ! timeout 1800 apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1; then
		tail -n 5 "$log" >&2
		aa_die "apt-get install failed for: $* (log: $log)"
	fi
	aa_info "installed in $(aa_elapsed)"
}

mapfile -t need < <(missing "${packages[@]}")
if [ "${#need[@]}" -gt 0 ]; then
	apt_install "${need[@]}"
	mapfile -t still < <(missing "${packages[@]}")
	[ "${#still[@]}" -eq 0 ] || aa_die "still not installed after apt-get: ${still[*]}"
fi

# The stock kernels: the image of exactly the header release we build for.
images=()
for f in 6.1 6.1-rt 6.12 6.12-rt; do
	rel=$(aa_release "$f")
	[ -f "/usr/src/linux-headers-$rel/include/config/auto.conf" ] ||
		aa_die "/usr/src/linux-headers-$rel is not a configured kernel build tree; reinstall linux-headers-$rel"
done
for f in "${boot_flavours[@]}"; do
	rel=$(aa_release "$f")
	[ -r "/boot/vmlinuz-$rel" ] || images+=("linux-image-$rel")
done
if [ "${#images[@]}" -gt 0 ]; then
	apt_install "${images[@]}"
fi
for f in "${boot_flavours[@]}"; do
	rel=$(aa_release "$f")
	[ -r "/boot/vmlinuz-$rel" ] ||
		aa_die "/boot/vmlinuz-$rel missing (or unreadable) after installing linux-image-$rel"
done

# Tools the scripts call.
aa_need_cmd make gcc rsync cpio gzip xz flock timeout python3 \
	qemu-system-x86_64 busybox modinfo aplay arecord speaker-test sox \
	aarch64-linux-gnu-gcc qemu-system-aarch64
if ! /bin/busybox --list 2>/dev/null | grep -x insmod >/dev/null; then
	aa_die "/bin/busybox is missing or has no insmod; apt-get install busybox-static"
fi
if ldd /bin/busybox >/dev/null 2>&1; then
	aa_die "/bin/busybox is dynamically linked; apt-get install busybox-static"
fi
exit 0

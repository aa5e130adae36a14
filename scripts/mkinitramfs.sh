#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT.cpio.gz KO_DIR SCENARIO
#
# Make a test initramfs (newc cpio, gzip): /bin/busybox (static), /init
# (scripts/guest/init), /lib.sh (scripts/guest/lib.sh), /scenario.sh
# (scripts/guest/SCENARIO.sh) and the modules of KO_DIR in /modules/ (those
# its modules.order lists, else every *.ko in it).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 3 ]; then
	echo "usage: mkinitramfs.sh OUT.cpio.gz KO_DIR SCENARIO" >&2
	exit 2
fi
out=$1 kodir=$2 scenario=$3
guest=$AA_REPO/scripts/guest
[ -f "$guest/$scenario.sh" ] ||
	aa_die "unknown guest scenario '$scenario' (no $guest/$scenario.sh)"
[ -d "$kodir" ] || aa_die "module directory '$kodir' does not exist"
[ -x /bin/busybox ] || aa_die "/bin/busybox missing; run scripts/deps.sh (busybox-static)"
aa_need_cmd cpio gzip

mods=()
if [ -f "$kodir/modules.order" ]; then
	while read -r m; do
		[ -n "$m" ] || continue
		m=${m%.o}
		m=${m%.ko}.ko
		case $m in /*) ;; *) m=$kodir/$m ;; esac
		[ -f "$m" ] || aa_die "$m (listed in $kodir/modules.order) is missing; rebuild"
		mods+=("$m")
	done <"$kodir/modules.order"
else
	for m in "$kodir"/*.ko; do
		[ -f "$m" ] && mods+=("$m")
	done
fi
[ "${#mods[@]}" -gt 0 ] || aa_die "no .ko files in $kodir"

stage=$(mktemp -d "${TMPDIR:-/tmp}/aa-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,modules}
cp /bin/busybox "$stage/bin/busybox"
install -m 0755 "$guest/init" "$stage/init"
install -m 0644 "$guest/lib.sh" "$stage/lib.sh"
install -m 0755 "$guest/$scenario.sh" "$stage/scenario.sh"
echo "$scenario" >"$stage/scenario.name"
cp "${mods[@]}" "$stage/modules/"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
aa_info "initramfs $out: scenario '$scenario', modules: $(cd "$stage/modules" && echo *)"

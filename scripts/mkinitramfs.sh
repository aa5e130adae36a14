#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT.cpio.gz KO_DIR SCENARIO
#
# Make a test initramfs (newc cpio, gzip): /bin/busybox (static), /init
# (scripts/guest/init), /lib.sh (scripts/guest/lib.sh), /scenario.sh
# (scripts/guest/SCENARIO.sh) and the modules of KO_DIR in /modules/ (those
# its modules.order lists, else every *.ko in it).
#
# The kernel modules those depend on and that KO_DIR does not have (the
# sound core the audio module links against: soundcore, snd, snd-timer,
# snd-pcm) go into /modules/deps/, decompressed for busybox insmod, with
# their load order in /modules/deps/order; /init loads them before the
# scenario.  They are looked up in $AA_MODTREE if set (a kernel build tree,
# e.g. the debug kernel's), else in /lib/modules/<the modules' vermagic>/
# (Debian's linux-image package of a stock kernel).
#
# A scenario with the line "# aa-initramfs: alsa" also gets the ALSA tools
# and test signals (scripts/alsa-files.sh, see scripts/guest/alsa.sh).
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
aa_need_cmd cpio gzip modinfo xz

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

# --- dependencies outside KO_DIR --------------------------------------------
# modname FILE: the module name a .ko file defines ("-" and "_" are one).
modname() {
	local b
	b=$(basename "$1")
	b=${b%%.ko*}
	echo "${b//-/_}"
}
declare -A have=()
for m in "${mods[@]}"; do
	have[$(modname "$m")]=1
done
rel=$(modinfo -F vermagic "${mods[0]}" | cut -d' ' -f1)
tree=${AA_MODTREE:-/lib/modules/$rel/kernel}
dep_order=()
# add_dep NAME: NAME and what it depends on, dependencies first.
add_dep() {
	local name=${1//-/_} f d
	[ -n "${have[$name]:-}" ] && return 0
	have[$name]=1
	[ -d "$tree" ] ||
		aa_die "module $1 is needed but $tree does not exist (install linux-image-$rel, or set AA_MODTREE)"
	f=$(find "$tree" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) \
		-print -quit)
	[ -n "$f" ] || aa_die "module $1 (a dependency) not found under $tree"
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		add_dep "$d"
	done
	mkdir -p "$stage/modules/deps"
	case $f in
	*.ko.xz) xz -dc "$f" >"$stage/modules/deps/$name.ko" ;;
	*.ko.zst) zstd -q -dc "$f" >"$stage/modules/deps/$name.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$stage/modules/deps/$name.ko" ;;
	*.ko) cp "$f" "$stage/modules/deps/$name.ko" ;;
	*) aa_die "$f: not a module file" ;;
	esac
	dep_order+=("$name.ko")
}
for m in "${mods[@]}"; do
	for d in $(modinfo -F depends "$m" | tr ',' ' '); do
		add_dep "$d"
	done
done
if [ "${#dep_order[@]}" -gt 0 ]; then
	printf '%s\n' "${dep_order[@]}" >"$stage/modules/deps/order"
fi

# --- what the scenario asks for ----------------------------------------------
if grep -q -E '^# aa-initramfs:.*\<alsa\>' "$guest/$scenario.sh"; then
	"$AA_REPO/scripts/alsa-files.sh" "$stage"
fi

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
deps=""
[ "${#dep_order[@]}" -eq 0 ] || deps=", dependencies: ${dep_order[*]}"
aa_info "initramfs $out: scenario '$scenario', modules: $(cd "$stage/modules" && echo *.ko)$deps"

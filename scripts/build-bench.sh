#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-bench.sh RELEASE|FLAVOUR [KO_DIR MODULE...]
#
# Build bench/ out of tree against the Debian headers of RELEASE (a flavour
# 6.1, 6.1-rt, 6.12 or 6.12-rt picks the newest installed release of it):
# the benchmark atomic_alloc_bench.ko and the test-support modules
# atomic_alloc_labyrinth.ko and atomic_alloc_naive.ko.  scripts/bench.sh and
# scripts/demo.sh use it; nothing else builds bench/.
#
# First builds the project (scripts/build-module.sh), whose Module.symvers
# the benchmark links against.  The sources of bench/ and the public header
# atomic_alloc.h (which they include as ../atomic_alloc.h) are copied to
# $AA_RUN/bench/RELEASE/ (content-synced, so rebuilds are incremental),
# and built with W=1 and sparse (C=1: every file that is compiled).
#
# Fails on a make error and on any warning (compiler, sparse or modpost).
# On success prints two lines on stdout: the project's build directory and
# then bench/'s (with the three .ko files).  Log: $AA_LOGS/build-bench-RELEASE.log.
#
# With KO_DIR and MODULE names (atomic_alloc, atomic_alloc_audio,
# atomic_alloc_bench, atomic_alloc_labyrinth, atomic_alloc_naive), empties
# KO_DIR of .ko files and copies those modules into it while the build lock
# is held, so that a concurrent build of another checkout cannot slip in.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 1 ] || [ $# -eq 2 ]; then
	echo "usage: build-bench.sh RELEASE|FLAVOUR [KO_DIR MODULE...]" >&2
	exit 2
fi
release=$(aa_release "$1")
kodir=${2:-}
shift $(($# >= 2 ? 2 : 1))
hdr=/usr/src/linux-headers-$release
[ -f "$hdr/Makefile" ] ||
	aa_die "no kernel headers for $release in $hdr; install linux-headers-$release (scripts/deps.sh)"
aa_need_cmd make gcc rsync sparse timeout

dir=$("$AA_REPO/scripts/build-module.sh" "$release") ||
	aa_die "the modules do not build against $release (log: $AA_LOGS/build-$release.log)"

bdir=$AA_RUN/bench/$release
log=$AA_LOGS/build-bench-$release.log
mkdir -p "$bdir/bench" "$AA_LOGS"
aa_lock "bench-$release" "$AA_RUN"
# Only sources are copied; the build products in the copy are excluded from
# the transfer and so survive --delete.  --checksum, no --times: a file gets
# a new mtime only when its content changed (see aa_sync_tree in lib.sh).
mode=--checksum
[ -f "$bdir/.aa-sync" ] || mode=--ignore-times
rsync -rl "$mode" --delete "${AA_RSYNC_EXCLUDE_PRODUCTS[@]}" \
	--include='/Kbuild' --include='/*.c' --include='/*.h' --exclude='*' \
	"$AA_REPO/bench/" "$bdir/bench/" ||
	aa_die "could not copy bench/ to $bdir/bench"
rsync -l "$mode" "$AA_REPO/atomic_alloc.h" "$bdir/atomic_alloc.h"
echo "content-synced by scripts/build-bench.sh" >"$bdir/.aa-sync"

aa_info "building bench/ against $release ($bdir/bench)"
aa_timer_start
set +e
timeout -k 10 "${AA_BUILD_TIMEOUT:-900}" \
	make -C "$hdr" M="$bdir/bench" W=1 C=1 -j"$(nproc)" \
	KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers" modules >"$log" 2>&1
rc=$?
set -e
# A warning is printed only when its file is compiled: after a failed
# build, make the next one recompile everything.
if [ "$rc" -ne 0 ] || grep -E -i -q 'warning:' "$log"; then
	rm -f "$bdir/.aa-sync"
	if grep -E -i -q 'error|warning:' "$log"; then
		awk 'tolower($0) ~ /error|warning:/ && n++ < 30' "$log" >&2
	else
		tail -n 30 "$log" >&2
	fi
	aa_die "bench/ does not build W=1 C=1 clean against $release (make exit $rc; log: $log)"
fi
for ko in atomic_alloc_bench atomic_alloc_labyrinth atomic_alloc_naive; do
	[ -f "$bdir/bench/$ko.ko" ] || aa_die "the build made no $ko.ko (log: $log)"
done
aa_info "built bench/ against $release in $(aa_elapsed)"
if [ -n "$kodir" ]; then
	mkdir -p "$kodir"
	rm -f "$kodir"/*.ko
	for m in "$@"; do
		case $m in
		atomic_alloc | atomic_alloc_audio) src=$dir/$m.ko ;;
		*) src=$bdir/bench/$m.ko ;;
		esac
		[ -f "$src" ] || aa_die "no module $m ($src)"
		cp "$src" "$kodir/"
	done
fi
echo "$dir"
echo "$bdir/bench"

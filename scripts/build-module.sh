#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh RELEASE|FLAVOUR [extra make args...]
#
# Build the modules out of tree, with W=1, against the Debian headers of
# kernel RELEASE (e.g. 6.12.117+deb12-amd64; a flavour 6.1, 6.1-rt, 6.12 or
# 6.12-rt picks the newest installed release of it).  The sources are copied
# to $AA_RUN/build/RELEASE/ first (mtimes kept, so rebuilds are
# incremental); nothing is ever built inside the repo.
#
# Fails when make fails or when the build printed any warning (compiler or
# modpost).  On success prints the build directory, the only line on stdout.
# The build log is $AA_LOGS/build-RELEASE.log.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 1 ]; then
	echo "usage: build-module.sh RELEASE|FLAVOUR [make args...]" >&2
	exit 2
fi
release=$(aa_release "$1")
shift
hdr=/usr/src/linux-headers-$release
[ -f "$hdr/Makefile" ] ||
	aa_die "no kernel headers for $release in $hdr; install linux-headers-$release (scripts/deps.sh)"
aa_need_cmd make gcc rsync timeout

# Under $AA_RUN: two checkouts that build at the same time must not mirror
# their sources into one directory (each sync deletes the other's files).
dir=$AA_RUN/build/$release
log=$AA_LOGS/build-$release.log
mkdir -p "$AA_LOGS" "$dir"
aa_lock "build-$release-$(echo "$AA_RUN" | cksum | cut -d" " -f1)"

# Makefile and scripts/kdir.sh come along so the copy is a working tree, but
# kbuild reads Kbuild and never the Makefile here.
aa_sync_tree "$dir" --include='/Makefile' --include='/scripts/' \
	--include='/scripts/kdir.sh'

aa_info "building against $release ($dir)"
aa_timer_start
set +e
timeout -k 10 "${AA_BUILD_TIMEOUT:-900}" \
	make -C "$hdr" M="$dir" W=1 -j"$(nproc)" "$@" modules >"$log" 2>&1
rc=$?
set -e
# A warning is printed only when its file is compiled: after a failed build
# (error or warning), drop the sync marker so that the next run rewrites
# every source and recompiles everything, and the warning cannot go quiet.
if [ "$rc" -ne 0 ] || grep -E -i -q 'warning:' "$log"; then
	rm -f "$dir/.aa-sync"
fi
if [ "$rc" -eq 124 ]; then
	aa_die "build against $release timed out after ${AA_BUILD_TIMEOUT:-900}s (log: $log)"
fi
if [ "$rc" -ne 0 ]; then
	# The first 30 error/warning lines, else the end of the log.
	if grep -E -i -q 'error|warning:' "$log"; then
		awk 'tolower($0) ~ /error|warning:/ && n++ < 30' "$log" >&2
	else
		tail -n 30 "$log" >&2
	fi
	aa_die "build against $release failed (make exit $rc; log: $log)"
fi
if grep -E -i -q 'warning:' "$log"; then
	awk 'tolower($0) ~ /warning:/ && n++ < 30' "$log" >&2
	aa_die "build against $release printed warnings; W=1 builds must be clean (log: $log)"
fi
ko=$(find "$dir" -maxdepth 1 -name '*.ko' | wc -l)
[ "$ko" -gt 0 ] || aa_die "build against $release made no .ko file (log: $log)"
aa_info "built $ko module(s) against $release in $(aa_elapsed)"
echo "$dir"

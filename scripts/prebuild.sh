#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prebuild.sh CONFIG...: build the KUnit kernels of CONFIG (kunit.sh's
# configurations, or "debug" for debug.sh's kernel) one after the other,
# at the lowest CPU priority, without running them.
#
# check.sh starts this in the background after its deps stage, so that
# the kernels are compiled while the guest stages before the KUnit stages
# run: those wait mostly on emulated time and leave the CPUs idle.  Each
# build takes the same "kunit" lock as the stage that later runs it, which
# then finds its kernel built and only rebuilds our objects and relinks.
# A failed prebuild is not a failure: the stage builds again and reports.
# Output: $AA_LOGS/prebuild.log.
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$(dirname "$0")
mkdir -p "$AA_LOGS"
exec >>"$AA_LOGS/prebuild.log" 2>&1
for c in "$@"; do
	t0=$SECONDS
	echo "=== prebuild $c ($(date -u +%H:%M:%S)) ==="
	if [ "$c" = debug ]; then
		AA_DEBUG_BUILD_ONLY=1 nice -n 19 "$here/debug.sh"
	else
		AA_KUNIT_BUILD_ONLY=1 nice -n 19 "$here/kunit.sh" "$c"
	fi
	echo "=== prebuild $c: exit $? after $((SECONDS - t0))s ==="
done

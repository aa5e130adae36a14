#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# snippets.sh [RELEASE|FLAVOUR]     (default: 6.12)
#
# Build every C snippet of README.md and Documentation/*.rst as a module of
# its own (scripts/snippets.py extracts them, with the context their
# markers give) against Debian's headers, W=1, linked against
# atomic_alloc's Module.symvers, so that a snippet can never drift from the
# API.  Checks:
#   - every C block has a snippet marker (snippets.py refuses one without);
#   - per snippet: it builds, with no compiler or modpost warning that
#     points into it;
#   - per snippet: checkpatch.pl --strict is clean on the snippet as the
#     reader sees it (without its context; no SPDX line expected);
#   - the build log has no warning that points nowhere in particular.
#
# Work directory: $AA_RUN/snippets/RELEASE.  Prints "AA-RESULT snippets
# passed=P failed=F log=LOG"; non-zero on failure.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

release=$(aa_release "${1:-6.12}")
hdr=/usr/src/linux-headers-$release
stage=snippets
work=$AA_RUN/snippets/$release
log=$AA_LOGS/snippets-$release.log
mkdir -p "$AA_LOGS" "$work"
: >"$log"
aa_need_cmd python3 make gcc

rm -rf "$work/src"
mkdir -p "$work/src/include"
if ! python3 "$AA_REPO/scripts/snippets.py" extract "$work/src" >"$work/list" 2>>"$log"; then
	cat "$log" >&2
	aa_fail "every C block of the documents has a snippet marker (log: $log)"
	aa_finish
fi
aa_pass "every C block of the documents has a snippet marker ($(wc -l <"$work/list") snippets)"
cp "$AA_REPO/atomic_alloc.h" "$work/src/include/"

if ! dir=$("$AA_REPO/scripts/build-module.sh" "$release"); then
	aa_fail "atomic_alloc builds against $release, for its Module.symvers (log: $AA_LOGS/build-$release.log)"
	aa_finish
fi

# One make per snippet: a broken one cannot hide the others.
rc=0
while read -r name where count; do
	mod=snippet_${name//-/_}
	echo "=== snippet $name ($where)" >>"$log"
	set +e
	timeout -k 10 "${AA_BUILD_TIMEOUT:-900}" \
		make -C "$hdr" M="$work/src/$mod" W=1 \
		KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers" modules >>"$log" 2>&1
	r=$?
	set -e
	[ "$r" -eq 0 ] || rc=$r
done <"$work/list"

# Messages of the compiler (FILE:LINE:COL: warning|error) and of modpost.
grep -a -E '(warning|error):|^ERROR:|^WARNING:' "$log" >"$work/messages" || true
claimed=$work/claimed
: >"$claimed"
while read -r name where count; do
	doc=${where%:*} first=${where##*:}
	last=$((first + count - 1))
	mod=snippet_${name//-/_}
	hits=$(awk -v doc="$doc" -v a="$first" -v b="$last" -v mod="$mod" '
		{
			if (index($0, mod ".c") || index($0, mod ".ko") || index($0, mod ".o")) { print; next }
			n = split($0, f, ":")
			if (n >= 3 && f[1] ~ (doc "$") && f[2] + 0 >= a && f[2] + 0 <= b) print
		}' "$work/messages")
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" >>"$claimed"
		printf '%s\n' "$hits" | sed -n 1,10p >&2
		aa_fail "snippet $name ($where) builds W=1 without a warning (log: $log)"
	elif [ ! -f "$work/src/$mod/$mod.ko" ]; then
		aa_fail "snippet $name ($where) builds W=1 without a warning: no $mod.ko (log: $log)"
	else
		aa_pass "snippet $name ($where) builds W=1 without a warning against $release"
	fi
done <"$work/list"

aa_ensure_source
while read -r name where count; do
	mod=snippet_${name//-/_}
	cprc=0
	out=$(cd "$AA_SRC" && perl scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types --ignore SPDX_LICENSE_TAG -f "$work/src/$mod/shown.c" 2>&1) || cprc=$?
	if [ -z "$out" ] && [ "$cprc" -eq 0 ]; then
		aa_pass "snippet $name ($where): checkpatch --strict clean"
	else
		# Its line numbers are the snippet's; the document's are $where on.
		printf '%s\n' "$out" | sed "s|$work/src/$mod/shown.c|$name|" | tee -a "$log" >&2
		aa_fail "snippet $name ($where): checkpatch --strict clean (exit $cprc; lines count from $where)"
	fi
done <"$work/list"

rest=$(grep -v -x -F -f "$claimed" "$work/messages" || true)
[ -s "$claimed" ] || rest=$(cat "$work/messages")
if [ -z "$rest" ] && [ "$rc" -eq 0 ]; then
	aa_pass "snippet build log clean (make exit 0)"
else
	printf '%s\n' "$rest" | sed -n 1,10p >&2
	aa_fail "snippet build log clean (make exit $rc; log: $log)"
fi
aa_finish

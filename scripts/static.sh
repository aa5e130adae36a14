#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# static.sh: the static analysis the project holds itself to, one check per
# file and tool:
#   - scripts/checkpatch.pl --strict --no-tree -f     (every .c and .h: the
#                                                      top level, tests/,
#                                                      samples/, bench/)
#   - scripts/kernel-doc -Wall -none                  (the same files)
#   - sparse, make C=2, no warning                    (6.1, 6.1-rt, 6.12, 6.12-rt)
# W=1 builds are the build-* stages of check.sh.  checkpatch and kernel-doc
# come from the 6.12 source tree the KUnit stages use.
#
# Prints "AA-RESULT static passed=P failed=F log=LOG"; non-zero on failure.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$(dirname "$0")
stage=static
log=$AA_LOGS/$stage.log
mkdir -p "$AA_LOGS"
: >"$log"
aa_need_cmd perl sparse make gcc
aa_ensure_source

cd "$AA_REPO"
# nullglob: a pattern that matches nothing (samples/*.h) is left out, not
# passed on as a name.
shopt -s nullglob
files=()
for f in *.c *.h tests/*.c tests/*.h samples/*.c samples/*.h bench/*.c bench/*.h; do
	case $f in *.mod.c) continue ;; esac
	files+=("$f")
done
shopt -u nullglob
[ "${#files[@]}" -gt 0 ] || aa_die "no source files found in $AA_REPO"

for f in "${files[@]}"; do
	# Clean is exit 0 and nothing printed (--terse prints one line per
	# report and no summary); a crash or an unreadable file is not clean.
	cprc=0
	out=$(cd "$AA_SRC" && perl scripts/checkpatch.pl --strict --no-tree \
		--terse --show-types -f "$AA_REPO/$f" 2>&1) || cprc=$?
	if [ -z "$out" ] && [ "$cprc" -eq 0 ]; then
		aa_pass "checkpatch --strict $f"
	else
		echo "$out" | tee -a "$log" >&2
		aa_fail "checkpatch --strict $f (exit $cprc)"
	fi
	out=$(perl "$AA_SRC/scripts/kernel-doc" -Wall -none "$f" 2>&1 || true)
	if [ -z "$out" ]; then
		aa_pass "kernel-doc $f"
	else
		echo "$out" | tee -a "$log" >&2
		aa_fail "kernel-doc $f"
	fi
done

for flavour in 6.1 6.1-rt 6.12 6.12-rt; do
	rel=$(aa_release "$flavour")
	if "$here/build-module.sh" "$rel" C=2 >>"$log" 2>&1; then
		aa_pass "sparse (make C=2) against $rel"
	else
		grep -a -E 'warning:|error:' "$AA_LOGS/build-$rel.log" | head -n 20 >&2 || true
		aa_fail "sparse (make C=2) against $rel (log: $AA_LOGS/build-$rel.log)"
	fi
done

aa_finish

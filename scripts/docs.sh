#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs.sh: check the documentation and build Documentation/atomic_alloc.rst
# into Documentation/output/html/ (gitignored), the kernel's way.  One check
# each:
#
#  - the kernel-doc comments of the sources the document includes
#    (kernel-doc -Wall);
#  - the results regions of README.md and Documentation/*.rst match the
#    results files they quote (scripts/results.py check);
#  - what the documents say about the tree holds (scripts/docs-claims.py:
#    the stage table, make targets, script paths, ATOMIC_ALLOC_* names,
#    header paths);
#  - sphinx-build with warnings as errors, kernel-doc warnings made errors
#    too (KDOC_WERROR=1).
#
#  Installs python3-sphinx with apt-get if it is missing (root only).  Uses
#  the kernel tree $AA_CACHE/linux-source-6.12 for its kernel-doc Sphinx
#  extension (Documentation/sphinx/kerneldoc.py), scripts/kernel-doc and its
#  Alabaster settings.  The tree is unpacked once from
#  /usr/src/linux-source-6.12.tar.xz (package linux-source-6.12, installed if
#  missing) and shared with the KUnit runs; a stamp says it is complete.
#
# Prints the path of the HTML entry page and
# "AA-RESULT docs passed=P failed=F log=LOG"; exits non-zero on a failure.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive
docs=$AA_REPO/Documentation
out_dir=$docs/output
log=$AA_LOGS/docs.log
mkdir -p "$AA_LOGS"

apt_install() {
	[ "$(id -u)" -eq 0 ] ||
		aa_die "missing packages ($*) and not root: run 'sudo apt-get install $*'"
	aa_info "installing: $*"
	if ! timeout 1800 apt-get -o DPkg::Lock::Timeout=600 install -y \
		--no-install-recommends "$@" >>"$AA_LOGS/apt.log" 2>&1; then
		timeout 600 apt-get -o DPkg::Lock::Timeout=600 update \
			>>"$AA_LOGS/apt.log" 2>&1 || true
		timeout 1800 apt-get -o DPkg::Lock::Timeout=600 install -y \
			--no-install-recommends "$@" >>"$AA_LOGS/apt.log" 2>&1 ||
			aa_die "apt-get install $* failed (log: $AA_LOGS/apt.log)"
	fi
}

# --- tools ---------------------------------------------------------------------
# SPHINXBUILD, as in the kernel's Makefile, picks another sphinx-build.
sphinx=${SPHINXBUILD:-sphinx-build}
need=()
"$sphinx" --version >/dev/null 2>&1 || need+=(python3-sphinx)
command -v perl >/dev/null || need+=(perl)
[ -f "$AA_SRC_TARBALL" ] || [ -f "$AA_SRC.stamp" ] || need+=(linux-source-6.12)
[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"

# --- the kernel tree -------------------------------------------------------------
# Only read here.  Unpacking replaces the tree, so it takes the lock the
# KUnit runs hold while they use it; an unpacked tree needs no lock.
stamp_ok() {
	[ -f "$AA_SRC.stamp" ] && [ -f "$AA_SRC/scripts/kernel-doc" ] &&
		[ -f "$AA_SRC/Documentation/sphinx/kerneldoc.py" ] &&
		{ [ ! -f "$AA_SRC_TARBALL" ] ||
			[ "$(cat "$AA_SRC.stamp")" = "$(stat -c '%s %Y' "$AA_SRC_TARBALL") $AA_SRC_TARBALL" ]; }
}
if ! stamp_ok; then
	aa_lock kunit
	aa_ensure_source
fi
kdoc=$AA_SRC/scripts/kernel-doc

stage=docs

# --- kernel-doc comments -------------------------------------------------------
srcs=("$AA_REPO/atomic_alloc.c" "$AA_REPO/atomic_alloc.h")
if out_kdoc=$(cd "$AA_REPO" && perl "$kdoc" -none -Wall "${srcs[@]#"$AA_REPO"/}" 2>&1) &&
	[ -z "$out_kdoc" ]; then
	aa_pass "kernel-doc -Wall: the API comments the document includes"
else
	echo "$out_kdoc" >&2
	aa_fail "kernel-doc -Wall: the API comments the document includes (above)"
fi

# --- results regions and claims --------------------------------------------------
# Their own "ok - " / "not ok - " lines, one check each.
count_lines() {
	local out=$1 rc=$2 what=$3
	printf '%s\n' "$out"
	passed=$((passed + $(grep -c '^ok - ' <<<"$out" || true)))
	failed=$((failed + $(grep -c '^not ok - ' <<<"$out" || true)))
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' <<<"$out"; then
		aa_fail "$what (exit $rc)"
	fi
}
rc=0
out=$(python3 "$AA_REPO/scripts/results.py" check) || rc=$?
count_lines "$out" "$rc" "results regions match their results files"
rc=0
out=$(python3 "$AA_REPO/scripts/docs-claims.py") || rc=$?
count_lines "$out" "$rc" "the documents' claims about the tree"

# --- sphinx ----------------------------------------------------------------------
"$sphinx" --version >/dev/null 2>&1 || aa_die "$sphinx does not run; apt-get install python3-sphinx"
aa_info "$("$sphinx" --version 2>/dev/null), kernel-doc from $AA_SRC, log $log"
rm -rf "$out_dir/html" "$out_dir/doctrees"
set +e
AA_KSRC=$AA_SRC KDOC_WERROR=1 PYTHONDONTWRITEBYTECODE=1 \
	timeout 600 "$sphinx" -W --keep-going -q -b html \
	-d "$out_dir/doctrees" "$docs" "$out_dir/html" >"$log" 2>&1
rc=$?
set -e
# kernel-doc writes to stderr, not through Sphinx: any line is a problem.
if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
	cat "$log" >&2
	aa_fail "sphinx-build, warnings as errors (exit $rc; log: $log)"
elif [ ! -f "$out_dir/html/atomic_alloc.html" ]; then
	aa_fail "sphinx-build made $out_dir/html/atomic_alloc.html"
else
	aa_pass "sphinx-build, warnings as errors: $out_dir/html/atomic_alloc.html"
fi
aa_finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs.sh: build Documentation/atomic_alloc.rst into
# Documentation/output/html/ (gitignored), the kernel's way.
#
#  - Installs python3-sphinx with apt-get if it is missing (root only).
#  - Uses the kernel tree $AA_CACHE/linux-source-6.12 for its kernel-doc
#    Sphinx extension (Documentation/sphinx/kerneldoc.py), scripts/kernel-doc
#    and its Alabaster settings.  The tree is unpacked once from
#    /usr/src/linux-source-6.12.tar.xz (package linux-source-6.12, installed
#    if missing) and shared with the KUnit runs; a stamp says it is complete.
#  - Checks the kernel-doc comments of the sources the document includes
#    (kernel-doc -Wall), then runs sphinx-build with warnings as errors, with
#    kernel-doc warnings made errors too (KDOC_WERROR=1).
#
# Prints the path of the HTML entry page on success.  Exits non-zero on any
# warning.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive
docs=$AA_REPO/Documentation
out=$docs/output
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

# --- kernel-doc comments -------------------------------------------------------
srcs=("$AA_REPO/atomic_alloc.c" "$AA_REPO/atomic_alloc.h")
if ! out_kdoc=$(cd "$AA_REPO" && perl "$kdoc" -none -Wall "${srcs[@]#"$AA_REPO"/}" 2>&1) ||
	[ -n "$out_kdoc" ]; then
	echo "$out_kdoc" >&2
	aa_die "kernel-doc found problems in the API comments (above)"
fi

# --- sphinx ----------------------------------------------------------------------
"$sphinx" --version >/dev/null 2>&1 || aa_die "$sphinx does not run; apt-get install python3-sphinx"
aa_info "$("$sphinx" --version 2>/dev/null), kernel-doc from $AA_SRC, log $log"
rm -rf "$out/html" "$out/doctrees"
set +e
AA_KSRC=$AA_SRC KDOC_WERROR=1 PYTHONDONTWRITEBYTECODE=1 \
	timeout 600 "$sphinx" -W --keep-going -q -b html \
	-d "$out/doctrees" "$docs" "$out/html" >"$log" 2>&1
rc=$?
set -e
# kernel-doc writes to stderr, not through Sphinx: any line is a problem.
if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
	cat "$log" >&2
	aa_die "sphinx-build failed or warned (exit $rc; log: $log)"
fi
[ -f "$out/html/atomic_alloc.html" ] || aa_die "no $out/html/atomic_alloc.html after the build"
echo "$out/html/atomic_alloc.html"

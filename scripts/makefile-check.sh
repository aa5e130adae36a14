#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# makefile-check.sh: the build's user interface, one check each:
#   - `make help` exits 0 and names every target of the Makefile;
#   - with no build tree for the running kernel, kdir.sh falls back to the
#     newest generic headers and `make` says which kernel it builds for;
#     with one, it takes it and says nothing;
#   - a bad KDIR (a 6.1 rt release that is not installed) stops `make`
#     before kbuild with: what is wrong, every installed build tree, and an
#     apt-get line for 6.1 rt headers (not for 6.12 or generic ones);
#   - Kbuild's ATOMIC_ALLOC_DEBUG: 1 and y turn the checks on, 0, n and
#     nothing leave them off, anything else stops the build naming it;
#   - samples/Kbuild's API detection against the 6.1 and 6.12 headers, and
#     against a tree that declares hrtimer_setup();
#   - `make samples` in a copy of the tree builds the modules and then the
#     example against their fresh Module.symvers: no undefined symbol, the
#     example depends on atomic_alloc.
#
# Prints "AA-RESULT makefile passed=P failed=F log=LOG"; non-zero on failure.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

stage=makefile
log=$AA_LOGS/makefile.log
mkdir -p "$AA_LOGS"
: >"$log"
aa_need_cmd make grep modinfo

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aa-makefile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rel612=$(aa_release 6.12)
rel61=$(aa_release 6.1)
hdr612=/usr/src/linux-headers-$rel612

# run NAME CMD...: CMD's stdout and stderr in $tmp/NAME.out, its status in $rc.
run() {
	local name=$1
	shift
	echo "+ $*" >>"$log"
	set +e
	"$@" >"$tmp/$name.out" 2>&1
	rc=$?
	set -e
	cat "$tmp/$name.out" >>"$log"
}

# expect DESC FILE PATTERN...: every PATTERN (grep -E) is in FILE.
expect() {
	local desc=$1 file=$2 p miss=""
	shift 2
	for p in "$@"; do
		grep -q -E -e "$p" "$file" || miss+=" '$p'"
	done
	if [ -z "$miss" ]; then
		aa_pass "$desc"
	else
		aa_fail "$desc (missing:$miss; log: $log)"
	fi
}

# --- make help ---------------------------------------------------------------------
run help make -s -C "$AA_REPO" help
targets=$(sed -n '/^\.PHONY:/,/[^\\]$/p' "$AA_REPO/Makefile" |
	sed 's/^\.PHONY://; s/\\//' | tr ' \t' '\n\n' | grep . |
	grep -v -x -E 'all|help|kdir-check')
miss=""
for t in $targets; do
	grep -q -E "^  $t( |$)" "$tmp/help.out" || miss+=" $t"
done
if [ "$rc" -eq 0 ] && [ -z "$miss" ]; then
	aa_pass "make help names every target ($(echo "$targets" | wc -w))"
else
	aa_fail "make help names every target (exit $rc; missing:${miss:- -})"
fi

# --- the default KDIR ----------------------------------------------------------------
kdir=$AA_REPO/scripts/kdir.sh
d=$(AA_KDIR_RUNNING=0.0.0-none-amd64 "$kdir")
newest=$(ls -d /usr/src/linux-headers-*-amd64 | grep -v -- '-rt-amd64$' | sort -V | tail -n 1)
if [ "$d" = "$newest" ]; then
	aa_pass "no tree for the running kernel: the default is the newest generic headers ($d)"
else
	aa_fail "no tree for the running kernel: the default is the newest generic headers ($newest; got '$d')"
fi
run fallback env AA_KDIR_RUNNING=0.0.0-none-amd64 "$kdir" --check "$d" --default
[ "$rc" -eq 0 ] || aa_fail "kdir.sh --check of the fallback tree succeeds (exit $rc)"
expect "the fallback build says which kernel it builds for" "$tmp/fallback.out" \
	"running kernel 0\.0\.0-none-amd64 has no" "building for $(basename "$d" | sed 's/^linux-headers-//; s/[.+]/\\&/g')"
run running env AA_KDIR_RUNNING="$rel612" "$kdir"
run running-check env AA_KDIR_RUNNING="$rel612" "$kdir" --check "/lib/modules/$rel612/build" --default
if [ "$(cat "$tmp/running.out")" = "/lib/modules/$rel612/build" ] && [ "$rc" -eq 0 ] &&
	[ ! -s "$tmp/running-check.out" ]; then
	aa_pass "with a tree for the running kernel, the default is it, silently"
else
	aa_fail "with a tree for the running kernel, the default is it, silently (got '$(cat "$tmp/running.out")', said '$(cat "$tmp/running-check.out")')"
fi

# --- a bad KDIR ----------------------------------------------------------------------
bad=/usr/src/linux-headers-6.1.0-0-rt-amd64
run badkdir make -C "$AA_REPO" KDIR="$bad" modules
if [ "$rc" -ne 0 ] && ! grep -q 'Entering directory.*linux-headers' "$tmp/badkdir.out"; then
	aa_pass "make KDIR=<missing tree> stops before kbuild"
else
	aa_fail "make KDIR=<missing tree> stops before kbuild (exit $rc)"
fi
pats=("KDIR=$bad does not exist" "apt-get install linux-headers-[^ ]*rt-amd64")
for t in /usr/src/linux-headers-*; do
	[ -f "$t/include/config/auto.conf" ] && pats+=("^ +$(sed 's/[.+]/\\&/g' <<<"$t") ")
done
expect "a bad KDIR lists every installed tree and an apt-get line for 6.1 rt" \
	"$tmp/badkdir.out" "${pats[@]}"
if grep -q -E 'apt-get install.*(linux-headers-6\.12|linux-headers-amd64)' "$tmp/badkdir.out"; then
	aa_fail "a bad 6.1 rt KDIR is not told to install 6.12 or generic headers"
else
	aa_pass "a bad 6.1 rt KDIR is not told to install 6.12 or generic headers"
fi

# --- ATOMIC_ALLOC_DEBUG ----------------------------------------------------------------
eval_kbuild() {
	make -s -f - KBUILD_EXTMOD=x src=. ATOMIC_ALLOC_DEBUG="$1" -C "$AA_REPO" <<'EOF' 2>&1
include Kbuild
all: ; @echo "ccflags=[$(ccflags-y)] config=[$(CONFIG_ATOMIC_ALLOC_DEBUG)]"
EOF
}
dbg_bad=""
for v in "" 0 n 1 y; do
	got=$(eval_kbuild "$v")
	case $v in 1 | y) want="ccflags=[-DCONFIG_ATOMIC_ALLOC_DEBUG=1] config=[y]" ;;
	*) want="ccflags=[] config=[]" ;; esac
	[ "$got" = "$want" ] || dbg_bad+=" '$v': $got;"
done
got=$(eval_kbuild foo) && dbg_bad+=" 'foo' accepted;"
grep -q 'ATOMIC_ALLOC_DEBUG=foo' <<<"$got" || dbg_bad+=" 'foo' not named: $got;"
if [ -z "$dbg_bad" ]; then
	aa_pass "ATOMIC_ALLOC_DEBUG: 1/y on, 0/n/unset off, anything else refused by name"
else
	aa_fail "ATOMIC_ALLOC_DEBUG: 1/y on, 0/n/unset off, anything else refused by name:$dbg_bad"
fi

# --- samples/Kbuild's API detection -----------------------------------------------------
detect() {
	make -s -f - srctree="$1" src=samples -C "$AA_REPO" <<'EOF' 2>&1
include samples/Kbuild
all: ; @echo "$(filter -DEXAMPLE_%,$(ccflags-y))"
EOF
}
srctree_of() {
	sed -n 's/^include \(.*\)\/Makefile$/\1/p' "/usr/src/linux-headers-$1/Makefile"
}
mkdir -p "$tmp/newk/include/linux"
printf 'void hrtimer_setup(struct hrtimer *timer, enum hrtimer_restart (*function)(struct hrtimer *), clockid_t clock_id, enum hrtimer_mode mode);\n' \
	>"$tmp/newk/include/linux/hrtimer.h"
printf 'struct platform_driver {\n\tvoid (*remove)(struct platform_device *);\n};\n' \
	>"$tmp/newk/include/linux/platform_device.h"
d612=$(detect "$(srctree_of "$rel612")")
d61=$(detect "$(srctree_of "$rel61")")
dnew=$(detect "$tmp/newk")
if [ "$d612" = "-DEXAMPLE_HAVE_VOID_REMOVE" ] && [ -z "$d61" ] &&
	[ "$dnew" = "-DEXAMPLE_HAVE_HRTIMER_SETUP -DEXAMPLE_HAVE_VOID_REMOVE" ]; then
	aa_pass "samples/Kbuild detects hrtimer_setup() and void .remove() from the headers"
else
	aa_fail "samples/Kbuild detects hrtimer_setup() and void .remove() from the headers (6.12: '$d612', 6.1: '$d61', with both: '$dnew')"
fi

# --- make samples ------------------------------------------------------------------------
copy=$tmp/tree
aa_sync_tree "$copy" --include='/Makefile' --include='/scripts/' \
	--include='/scripts/kdir.sh' --include='/samples/' --include='/samples/**'
run samples timeout -k 10 "${AA_BUILD_TIMEOUT:-900}" make -C "$copy" KDIR="$hdr612" -j"$(nproc)" samples
ko=$copy/samples/atomic_alloc_example.ko
if [ "$rc" -eq 0 ] && [ -f "$ko" ] && [ -f "$copy/atomic_alloc.ko" ] &&
	! grep -q -E 'undefined!|WARNING: modpost' "$tmp/samples.out"; then
	aa_pass "make samples builds the modules, then the example against their Module.symvers"
else
	grep -E 'error|warning|undefined' "$tmp/samples.out" | head -n 10 >&2 || true
	aa_fail "make samples builds the modules, then the example against their Module.symvers (exit $rc; log: $log)"
fi
dep=$(modinfo -F depends "$ko" 2>/dev/null || true)
if [ "$dep" = atomic_alloc ]; then
	aa_pass "the example depends on atomic_alloc"
else
	aa_fail "the example depends on atomic_alloc (depends: '$dep')"
fi

aa_finish

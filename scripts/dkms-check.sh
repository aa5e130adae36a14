#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh [RELEASE|FLAVOUR]    (default: 6.12, the newest installed
#                                     Debian 6.12 generic headers)
#
# Prove that dkms.conf works with Debian's dkms: copy the project's sources
# to /usr/src/atomic_alloc-VERSION, then dkms add, build and install for
# that kernel, check that both modules landed in
# /lib/modules/RELEASE/updates/dkms/ with the right version and vermagic,
# that the build kept Module.symvers and atomic_alloc.h for outside drivers
# (dkms.conf's POST_BUILD, in /var/lib/dkms/NAME/VERSION/RELEASE/ARCH/), and
# that the example builds against them as an outside driver would (its own
# tree, no other file of the project), and remove everything again (dkms remove --all, the /usr/src copy, and the
# signing key dkms generates on its first build if there was none), so the
# check can run again.  Installing only copies files and runs depmod for
# RELEASE; nothing is loaded.  Needs root; installs dkms with apt-get if it
# is missing.
#
# Prints "ok - ..." / "not ok - ..." per check and
# "AA-RESULT dkms passed=P failed=F log=LOG"; exits non-zero when F > 0.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive

release=$(aa_release "${1:-6.12}")
stage=dkms
log=$AA_LOGS/dkms.log
name=atomic_alloc
modules=(atomic_alloc atomic_alloc_audio)
mkdir -p "$AA_LOGS"
: >"$log"

[ "$(id -u)" -eq 0 ] || aa_die "dkms-check.sh must run as root (dkms writes /usr/src, /var/lib/dkms and /lib/modules)"
[ -f "/usr/src/linux-headers-$release/Makefile" ] ||
	aa_die "no headers for $release; run scripts/deps.sh"
[ -e "/lib/modules/$release/build" ] ||
	aa_die "/lib/modules/$release/build is missing; reinstall linux-headers-$release"

# run DESC CMD...: run CMD with its output in the log; ok when it succeeds.
run() {
	local desc=$1
	shift
	echo "+ $*" >>"$log"
	if timeout -k 10 900 "$@" >>"$log" 2>&1; then
		aa_pass "$desc"
	else
		aa_fail "$desc (exit $?; log: $log)"
		return 1
	fi
}

# --- the version: dkms.conf and MODULE_VERSION must agree -------------------
conf_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$AA_REPO/dkms.conf")
mod_version=$(sed -n 's/^MODULE_VERSION("\(.*\)");$/\1/p' "$AA_REPO/atomic_alloc.c")
[ -n "$conf_version" ] || aa_die "no PACKAGE_VERSION in $AA_REPO/dkms.conf"
if [ "$conf_version" = "$mod_version" ]; then
	aa_pass "dkms.conf PACKAGE_VERSION $conf_version matches MODULE_VERSION in atomic_alloc.c"
else
	aa_fail "dkms.conf PACKAGE_VERSION $conf_version matches MODULE_VERSION in atomic_alloc.c ('$mod_version')"
fi
version=$conf_version
src=/usr/src/$name-$version

# --- dkms itself ---------------------------------------------------------------
if ! command -v dkms >/dev/null 2>&1; then
	aa_info "installing dkms"
	if ! timeout 900 apt-get -o DPkg::Lock::Timeout=600 install -y \
		--no-install-recommends dkms >>"$log" 2>&1; then
		timeout 600 apt-get -o DPkg::Lock::Timeout=600 update >>"$log" 2>&1 ||
			true
		timeout 900 apt-get -o DPkg::Lock::Timeout=600 install -y \
			--no-install-recommends dkms >>"$log" 2>&1 ||
			aa_die "apt-get install dkms failed (log: $log)"
	fi
fi
aa_need_cmd dkms modinfo rsync
aa_info "$(dkms --version 2>/dev/null | sed -n 1p), kernel $release, log $log"

aa_lock dkms
marker=.atomic_alloc-dkms-check
dkms_tree=/var/lib/dkms
key=$dkms_tree/mok.key
cert=$dkms_tree/mok.pub

known() {
	[ -n "$(dkms status -m "$name" -v "$version" 2>/dev/null)" ]
}

# A copy or registration left by an interrupted run of this script is
# removed; anything else of that name and version is not ours to touch.
if known || [ -e "$src" ]; then
	if [ -f "$src/$marker" ]; then
		aa_info "removing what an earlier run left behind"
		dkms remove "$name/$version" --all >>"$log" 2>&1 || true
		rm -rf "$src"
	else
		aa_die "$name/$version is already in dkms or $src exists, and not from this script; remove it first (dkms remove $name/$version --all; rm -rf $src)"
	fi
fi

key_was_there=no
if [ -e "$key" ] || [ -e "$cert" ]; then
	key_was_there=yes
fi

cleanup() {
	local rc=$?
	trap - EXIT
	if known; then
		dkms remove "$name/$version" --all >>"$log" 2>&1 || true
	fi
	rm -rf "$src"
	if [ "$key_was_there" = no ]; then
		rm -f "$key" "$cert"
	fi
	exit "$rc"
}
trap cleanup EXIT

# --- copy, add, build, install ---------------------------------------------
# The sources the modules need, the Makefile, kdir.sh, dkms.conf and its
# POST_BUILD script.
aa_sync_tree "$src" --include='/Makefile' --include='/dkms.conf' \
	--include='/scripts/' --include='/scripts/kdir.sh' \
	--include='/scripts/dkms-post-build.sh'
touch "$src/$marker"

ok=yes
run "dkms add $src" dkms add "$src" || ok=no
if [ "$ok" = yes ]; then
	run "dkms build $name/$version -k $release" \
		dkms build "$name/$version" -k "$release" || ok=no
	if [ "$ok" = no ]; then
		mlog=$dkms_tree/$name/$version/build/make.log
		if [ -f "$mlog" ]; then
			echo "--- $mlog" >>"$log"
			cat "$mlog" >>"$log"
			grep -E -i 'error|warning:' "$mlog" | head -n 20 >&2 || true
		fi
	fi
fi
if [ "$ok" = yes ]; then
	run "dkms install $name/$version -k $release" \
		dkms install "$name/$version" -k "$release" || ok=no
fi

# --- what landed ---------------------------------------------------------------
dest=/lib/modules/$release/updates/dkms
if [ "$ok" = yes ]; then
	st=$(dkms status -m "$name" -v "$version" -k "$release" 2>/dev/null || true)
	echo "+ dkms status: $st" >>"$log"
	case $st in
	*installed*) aa_pass "dkms status says installed for $release ($st)" ;;
	*) aa_fail "dkms status says installed for $release (got '$st')" ;;
	esac
	for m in "${modules[@]}"; do
		f=$(find "$dest" -maxdepth 1 -name "$m.ko*" -print -quit 2>/dev/null)
		if [ -z "$f" ]; then
			aa_fail "$m.ko installed in $dest"
			continue
		fi
		aa_pass "$m installed as $f"
		vm=$(modinfo -F vermagic "$f" 2>/dev/null | cut -d' ' -f1)
		if [ "$vm" = "$release" ]; then
			aa_pass "$m vermagic is $release"
		else
			aa_fail "$m vermagic is $release (got '$vm')"
		fi
		v=$(modinfo -F version "$f" 2>/dev/null || true)
		if [ -z "$v" ]; then
			aa_info "note: $m has no MODULE_VERSION"
		elif [ "$v" = "$version" ]; then
			aa_pass "$m version is $version"
		else
			aa_fail "$m version is $version (got '$v')"
		fi
	done

	# What an outside driver builds against, and one that does.
	kept=$dkms_tree/$name/$version/$release/$(uname -m)
	if grep -q -w 'atomic_alloc_create' "$kept/Module.symvers" 2>/dev/null; then
		aa_pass "the build kept $kept/Module.symvers (atomic_alloc's exports)"
	else
		aa_fail "the build kept $kept/Module.symvers (atomic_alloc's exports)"
	fi
	if cmp -s "$kept/include/atomic_alloc.h" "$AA_REPO/atomic_alloc.h"; then
		aa_pass "the build kept $kept/include/atomic_alloc.h"
	else
		aa_fail "the build kept $kept/include/atomic_alloc.h (missing or not the repo's)"
	fi
	outside=$(mktemp -d "${TMPDIR:-/tmp}/aa-outside.XXXXXX")
	cp "$AA_REPO"/samples/Kbuild "$AA_REPO"/samples/*.c "$outside/"
	echo "+ outside driver: make -C /lib/modules/$release/build M=$outside" >>"$log"
	if timeout -k 10 900 make -C "/lib/modules/$release/build" M="$outside" W=1 \
		KBUILD_EXTRA_SYMBOLS="$kept/Module.symvers" \
		ATOMIC_ALLOC_INCLUDE="$kept/include" modules >"$outside.log" 2>&1 &&
		! grep -q -E -i 'warning|error' "$outside.log" &&
		[ "$(modinfo -F depends "$outside/atomic_alloc_example.ko" 2>/dev/null)" = atomic_alloc ]; then
		aa_pass "the example builds W=1 as an outside driver against the kept files, depending on atomic_alloc"
	else
		grep -E -i 'warning|error' "$outside.log" | head -n 10 >&2 || true
		aa_fail "the example builds W=1 as an outside driver against the kept files (log: $log)"
	fi
	cat "$outside.log" >>"$log"
	rm -rf "$outside" "$outside.log"

	if [ ! -r /proc/modules ]; then
		aa_pass "nothing loaded on the host (it has no loadable modules)"
	elif grep -q -E "^(atomic_alloc|atomic_alloc_audio) " /proc/modules; then
		aa_fail "nothing loaded on the host"
	else
		aa_pass "nothing loaded on the host"
	fi
fi

# --- remove everything again ---------------------------------------------------
run "dkms remove $name/$version --all" dkms remove "$name/$version" --all || true
rm -rf "$src"
if [ "$key_was_there" = no ]; then
	rm -f "$key" "$cert"
fi
left=""
known && left="$left dkms still lists $name/$version;"
[ -e "$src" ] && left="$left $src exists;"
for m in "${modules[@]}"; do
	if [ -n "$(find "$dest" -maxdepth 1 -name "$m.ko*" -print -quit 2>/dev/null)" ]; then
		left="$left $dest/$m.ko* still there;"
	fi
done
[ -e "$dkms_tree/$name" ] && left="$left $dkms_tree/$name exists;"
if [ -z "$left" ]; then
	aa_pass "everything removed again"
else
	aa_fail "everything removed again:$left"
fi

aa_finish

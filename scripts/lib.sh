# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Common code of the host-side test harness.  Sourced, never run:
#
#   . "$(dirname "$0")/lib.sh"
#
# Everything the harness makes lives under $AA_CACHE, outside the repo:
#
#   $AA_CACHE/linux-source-6.12/     unpacked Debian linux-source (KUnit)
#   $AA_CACHE/linux-source-6.12.stamp  says that unpack finished
#   $AA_CACHE/kunit/<config>-<hash>/ KUnit kernel build directories, one per
#                                    kconfig content (aa_kunit_dir)
#   $AA_RUN/logs/                    one log per stage of the last run
#   $AA_RUN/initramfs/               the guests' initramfs images
#   $AA_RUN/build/<release>/         out-of-tree module builds (M=)
#   $AA_RUN/bench/, $AA_RUN/example/ the benchmark's and the sample's builds
#   $AA_CACHE/accel                  cached answer of the KVM probe
#
# Result protocol: every stage script prints one line on stdout
#
#   AA-RESULT <stage> passed=<P> failed=<F> [skipped=<S>] log=<path>
#
# which check.sh collects into its summary.

AA_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AA_CACHE=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/atomic_alloc
# Per-run output: logs, initramfs images and the out-of-tree module builds
# made from this checkout's sources.  Defaults to the cache; two checkouts
# that test at the same time give each its own AA_RUN (a build dir shared
# between them would have one's objects copied into the other's guest), and
# still share the kernel trees and KUnit builds above (those take locks for
# the whole run).
AA_RUN=${AA_RUN:-$AA_CACHE}
AA_LOGS=$AA_RUN/logs
AA_INITRAMFS=$AA_RUN/initramfs
AA_SRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
AA_SRC=$AA_CACHE/linux-source-6.12
export AA_REPO AA_CACHE AA_RUN AA_LOGS AA_INITRAMFS

# Files of the project that a build needs, as rsync filter rules, relative to
# the repo root.  Build products are excluded first (a developer may have run
# an in-tree `make`), then the sources are included, then everything else is
# excluded.  Add a line here when the project grows a new kind of source.
AA_RSYNC_EXCLUDE_PRODUCTS=(
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c'
	--exclude='.*.cmd' --exclude='.*.d' --exclude='*.order'
	--exclude='*.symvers' --exclude='*.a' --exclude='*.dwo'
	--exclude='.tmp*' --exclude='*.orig' --exclude='*.rej' --exclude='*~'
	--exclude='__pycache__/'
)
AA_RSYNC_SOURCES=(
	--include='/Kbuild' --include='/Kconfig'
	--include='/*.c' --include='/*.h'
	--include='/tests/' --include='/tests/**'
)

aa_die() {
	echo "atomic_alloc: error: $*" >&2
	exit 1
}

aa_info() {
	echo "atomic_alloc: $*" >&2
}

# aa_usage SCRIPT RANGE: print lines RANGE (a sed range, e.g. 3,5) of
# SCRIPT's header comment, without the "# ", and exit 2.
aa_usage() {
	sed -n "$2p" "$1" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# aa_stock_kernel WHO FLAVOUR: FLAVOUR as WHO's --kernel, one of the stock
# kernels deps.sh installs that WHO runs on; dies otherwise.
aa_stock_kernel() {
	case $2 in
	6.1 | 6.12 | 6.12-rt) ;;
	*) aa_die "$1: --kernel must be 6.12, 6.12-rt or 6.1 (the stock kernels deps.sh installs), not '$2'" ;;
	esac
}

# Under set -e a failed command ends a script without a word of its own, and
# a stage that dies so shows nothing in check.sh's "what failed" block: name
# the command.  Only while -e is on: a failure in a set +e stretch, or in a
# command substitution (which does not inherit -e), is the script's to handle.
aa_errexit_report() {
	case $- in *e*) ;; *) return 0 ;; esac
	echo "atomic_alloc: error: ${3##*/} line $4: '$2' exited $1 (set -e ends the script)" >&2
}
case $- in
*e*)
	set -E
	trap 'aa_errexit_report "$?" "$BASH_COMMAND" "${BASH_SOURCE[0]}" "$LINENO"' ERR
	;;
esac

aa_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			aa_die "'$c' not found; run scripts/deps.sh (or apt-get install the package that provides it)"
	done
}

# aa_timer_start / aa_elapsed: seconds since aa_timer_start, for messages.
aa_timer_start() { AA_T0=$SECONDS; }
aa_elapsed() { echo "$((SECONDS - ${AA_T0:-0}))s"; }

# aa_result STAGE PASSED FAILED LOG [SKIPPED]: the machine-readable line.
aa_result() {
	local skipped=""
	[ -n "${5:-}" ] && skipped=" skipped=$5"
	echo "AA-RESULT $1 passed=$2 failed=$3${skipped} log=$4"
}

# Counting the checks of a stage script: it sets $stage and $log, counts
# with aa_pass and aa_fail, adds a guest's own lines with aa_count_guest and
# ends with aa_finish (the AA-RESULT line and the exit status).
passed=0 failed=0 skipped=0
aa_pass() {
	passed=$((passed + 1))
	echo "ok - $stage: $*"
}
aa_fail() {
	failed=$((failed + 1))
	echo "not ok - $stage: $*"
}

# aa_count_guest LOG: add the guest's "ok - " and "not ok - " lines (read
# from a serial console: CR LF) to the counts, show the failed ones on
# stderr, and leave their numbers in $gp and $gf.
aa_count_guest() {
	gp=$(tr -d '\r' <"$1" | grep -a -c -E '^ok - ' || true)
	gf=$(tr -d '\r' <"$1" | grep -a -c -E '^not ok - ' || true)
	tr -d '\r' <"$1" | grep -a -E '^not ok - ' | sed "s/^/  $stage guest: /" >&2 || true
	passed=$((passed + gp))
	failed=$((failed + gf))
}

# aa_boot_and_check KERNEL INITRD TIMEOUT [QEMU ARGS...]: boot the guest
# into $log and count "guest finished", the guest's own checks (a finished
# guest that ran none fails) and "log clean"; print the guest's reliability
# rows (AA-REL) and notification latencies (AA-NOTIFY) for check.sh.
aa_boot_and_check() {
	local kernel=$1 initrd=$2 tmo=$3 qrc
	shift 3
	set +e
	"$AA_REPO/scripts/qemu-run.sh" "$kernel" "$initrd" "$log" "$tmo" "$@"
	qrc=$?
	set -e
	if [ "$qrc" -eq 0 ]; then
		aa_pass "guest finished (AA-END rc=0)"
	else
		aa_fail "guest finished (AA-END rc=0): see $log"
	fi
	[ -f "$log" ] || return 0
	aa_count_guest "$log"
	echo "$stage: guest checks: $gp passed, $gf failed"
	if [ "$qrc" -eq 0 ] && [ "$gp" -eq 0 ]; then
		aa_fail "the guest ran no check"
	fi
	tr -d '\r' <"$log" | grep -a -E '^AA-(REL|NOTIFY) ' || true
	if "$AA_REPO/scripts/scan-log.sh" "$log" >&2; then
		aa_pass "log clean (no kernel splat)"
	else
		aa_fail "log clean (kernel splat; see above and $log)"
	fi
}

aa_finish() {
	[ "$failed" -eq 0 ] || echo "atomic_alloc: $stage failed; log: $log" >&2
	aa_result "$stage" "$passed" "$failed" "$log" "${skipped#0}"
	if [ "$failed" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

# aa_release FLAVOUR: print the kernel release of the newest installed
# Debian header package of that flavour (6.1, 6.1-rt, 6.12, 6.12-rt).
# A full release name (e.g. 6.12.117+deb12-amd64) is passed through.
aa_release() {
	local flavour=$1 glob rt
	case $flavour in
	6.1) glob='6.1.*-amd64' rt=no ;;
	6.1-rt) glob='6.1.*-rt-amd64' rt=yes ;;
	6.12) glob='6.12.*-amd64' rt=no ;;
	6.12-rt) glob='6.12.*-rt-amd64' rt=yes ;;
	*-amd64)
		echo "$flavour"
		return 0
		;;
	*)
		aa_die "unknown kernel flavour '$flavour' (expected one of: 6.1 6.1-rt 6.12 6.12-rt)"
		;;
	esac
	local d rel best=""
	for d in /usr/src/linux-headers-$glob; do
		[ -f "$d/Makefile" ] || continue
		rel=${d#/usr/src/linux-headers-}
		case $rel in
		*-rt-amd64) [ "$rt" = yes ] || continue ;;
		*) [ "$rt" = no ] || continue ;;
		esac
		best+="$rel"$'\n'
	done
	best=$(printf '%s' "$best" | sort -V | tail -n 1)
	[ -n "$best" ] ||
		aa_die "no linux-headers for flavour '$flavour' under /usr/src; run scripts/deps.sh"
	echo "$best"
}

# aa_lock_fd FD FILE [SECONDS]: open FILE on descriptor FD and hold an
# exclusive lock on it (waiting up to SECONDS, default an hour) until the
# calling script exits or closes FD (exec FD>&-).  The descriptors in use:
# 9 aa_lock, 8 aa_ensure_source, 7 kunit.sh's build directory.
aa_lock_fd() {
	local fd=$1 file=$2 secs=${3:-3600}
	mkdir -p "$(dirname "$file")"
	eval "exec $fd>\"\$file\""
	flock -w "$secs" "$fd" ||
		aa_die "could not lock $file within $secs s (another run holds it)"
}

# aa_lock NAME [DIR]: hold an exclusive lock (fd 9) on DIR/.NAME.lock (DIR:
# $AA_CACHE) until the calling script exits, so that two runs do not share a
# tree.
aa_lock() {
	aa_lock_fd 9 "${2:-$AA_CACHE}/.$1.lock"
}

# aa_ensure_source: unpack /usr/src/linux-source-6.12.tar.xz into $AA_SRC
# unless a stamp says the same tarball was fully unpacked there before.  The
# unpack goes to a temporary directory that is renamed into place, so an
# interrupted run leaves no half tree behind (its leftovers are removed by
# the next run).
aa_ensure_source() {
	[ -f "$AA_SRC_TARBALL" ] ||
		aa_die "$AA_SRC_TARBALL is missing; run scripts/deps.sh (package linux-source-6.12)"
	local stamp=$AA_SRC.stamp want
	want="$(stat -c '%s %Y' "$AA_SRC_TARBALL") $AA_SRC_TARBALL"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
		[ -f "$AA_SRC/Makefile" ]; then
		return 0
	fi
	# One unpack at a time (check.sh's prebuild and a stage may both get
	# here): each would remove the other's half-done .unpack dir.  Its own
	# descriptor, 8: aa_lock's 9 may hold the kunit lock.
	aa_lock_fd 8 "$AA_CACHE/.source.lock" 1800
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
		[ -f "$AA_SRC/Makefile" ]; then
		exec 8>&-
		return 0
	fi
	rm -rf "$AA_CACHE"/.unpack.*
	local tmp=$AA_CACHE/.unpack.$$
	aa_info "unpacking $AA_SRC_TARBALL into $AA_SRC (once; about a minute)"
	aa_timer_start
	mkdir -p "$tmp"
	if ! timeout 1200 tar -xJf "$AA_SRC_TARBALL" -C "$tmp"; then
		rm -rf "$tmp"
		aa_die "could not unpack $AA_SRC_TARBALL into $tmp (disk full? took over 20 min?)"
	fi
	[ -f "$tmp/linux-source-6.12/Makefile" ] || {
		rm -rf "$tmp"
		aa_die "$AA_SRC_TARBALL did not contain linux-source-6.12/"
	}
	rm -f "$stamp"
	rm -rf "$AA_SRC"
	mv "$tmp/linux-source-6.12" "$AA_SRC"
	rmdir "$tmp"
	echo "$want" >"$stamp"
	exec 8>&-
	aa_info "unpacked in $(aa_elapsed)"
}

# aa_sync_tree DEST [extra rsync filter args...]: mirror the project's
# sources into DEST and delete sources that are gone from the repo (build
# products in DEST match the exclude rules and so are kept; pass
# --delete-excluded to drop them).
#
# Incremental builds without stale objects: a file is rewritten, and so gets
# a new mtime, only when its content differs (--checksum, no --times);
# unchanged files keep their old mtime and kbuild skips them.  Keeping the
# repo's mtimes instead would be wrong whenever DEST was last filled from
# other content with newer objects (another checkout, a stash, a scratch
# tree): make would take the old objects for up to date.  The first sync into
# a DEST without the marker .aa-sync rewrites every file once.
aa_sync_tree() {
	local dest=$1 mode=--checksum
	shift
	mkdir -p "$dest"
	# Without the marker, rewrite every file (new mtimes) once.
	[ -f "$dest/.aa-sync" ] || mode=--ignore-times
	rsync -rl "$mode" --delete --prune-empty-dirs \
		--filter='P /.aa-sync' \
		"${AA_RSYNC_EXCLUDE_PRODUCTS[@]}" "$@" "${AA_RSYNC_SOURCES[@]}" \
		--exclude='*' "$AA_REPO/" "$dest/" ||
		aa_die "could not copy the sources from $AA_REPO to $dest"
	echo "content-synced by scripts/lib.sh aa_sync_tree" >"$dest/.aa-sync"
}

# aa_kunit_dir NAME KCONFIG...: the build directory of KUnit kernel NAME
# built from the kconfig fragments given.  The name carries a hash of their
# content, so that two checkouts (or two commits) with different fragments
# never rebuild one tree back and forth; the same fragments share a tree.
aa_kunit_dir() {
	local name=$1 h
	shift
	h=$(cat "$@" | sha1sum | cut -c1-10)
	echo "$AA_CACHE/kunit/$name-$h"
}

# aa_seed_kunit_dir NAME DIR: a build dir DIR of configuration NAME that has
# never been configured starts as a copy of the newest configured one of
# the same name (NAME-* or the older plain NAME), so that a change to the
# kconfig fragments rebuilds only what it touches.  A real copy, not hard
# links: the compiler rewrites objects in place.  Call with the kunit lock
# held, so that no build writes into the tree being copied.
aa_seed_kunit_dir() {
	local name=$1 dir=$2 seed
	[ -f "$dir/.config" ] && return 0
	# No seed is not an error: ls fails on a NAME that was never built, and
	# the loop's last test fails on a dir never configured; under set -e and
	# pipefail either would end the caller without a word.
	seed=$(ls -dt "$AA_CACHE/kunit/$name" "$AA_CACHE/kunit/$name"-* 2>/dev/null |
		grep -v -x -F "$dir" |
		while read -r d; do
			if [ -f "$d/.config" ]; then echo "$d"; fi
		done | head -n 1) || true
	[ -n "$seed" ] || return 0
	aa_info "new kconfig for $name: seeding $dir from $seed"
	rm -rf "$dir"
	cp -a "$seed" "$dir"
}

# aa_link_project: mirror the project's in-tree files into
# $AA_SRC/drivers/misc/atomic_alloc/ and hook that directory into
# drivers/misc/{Kconfig,Makefile} (the two lines of an in-tree drop).
# kunit.py cannot build an M= directory; this is how it builds ours.
# Call with the "kunit" lock held.
aa_link_project() {
	local dest=$AA_SRC/drivers/misc/atomic_alloc
	local kconfig=$AA_SRC/drivers/misc/Kconfig
	local kmake=$AA_SRC/drivers/misc/Makefile
	local src_line='source "drivers/misc/atomic_alloc/Kconfig"'
	# shellcheck disable=SC2016 # a make variable, not a shell one
	local obj_line='obj-$(CONFIG_ATOMIC_ALLOC)	+= atomic_alloc/'
	local last

	aa_sync_tree "$dest" --delete-excluded
	if ! grep -qxF "$src_line" "$kconfig"; then
		last=$(grep -n '^endmenu' "$kconfig" | tail -n 1 | cut -d: -f1)
		[ -n "$last" ] || aa_die "no 'endmenu' in $kconfig; is $AA_SRC a 6.12 tree?"
		sed -i "${last}i $src_line" "$kconfig"
	fi
	if ! grep -qxF "$obj_line" "$kmake"; then
		printf '%s\n' "$obj_line" >>"$kmake"
	fi
}

# aa_accel_args [VMLINUZ]: print the QEMU accelerator arguments on one line
# (use: a=$(aa_accel_args); read -r -a args <<<"$a").  KVM is used only when a real boot under it works: the first call
# boots a kernel without a root file system under KVM (bounded to 60 s) and
# expects it to reach its "VFS: Unable to mount root fs" panic.  The answer
# is cached in $AA_CACHE/accel together with what it depends on.
# AA_ACCEL=tcg or AA_ACCEL=kvm overrides the probe.
aa_accel_args() {
	local accel=${AA_ACCEL:-} cache=$AA_CACHE/accel key kernel=${1:-}
	if [ -z "$accel" ]; then
		key="$(uname -r) $(qemu-system-x86_64 --version 2>/dev/null | sed -n 1p)"
		if [ -f "$cache" ] && [ "$(sed -n 2p "$cache")" = "$key" ]; then
			accel=$(sed -n 1p "$cache")
		else
			accel=$(aa_probe_kvm "$kernel")
			mkdir -p "$AA_CACHE"
			printf '%s\n%s\n' "$accel" "$key" >"$cache"
		fi
	fi
	case $accel in
	kvm) echo "-accel kvm -cpu host" ;;
	# No cmpxchg16b under TCG: QEMU 7.2 computes the flags after it from a
	# stale cc_op, so an interrupt or NMI taken right after one saves and
	# restores garbage EFLAGS (TF set: a #DB in the NMI entry, then an
	# Oops).  SLUB's kmalloc() fast path uses it, and the NMI storm hits
	# it on the CPU it aims at.  Without CX16 the kernel takes its own
	# fallback.  See Documentation/atomic_alloc.rst, "Why not the
	# alternatives".
	tcg) echo "-accel tcg -cpu max,-cx16" ;;
	*) aa_die "AA_ACCEL must be kvm or tcg, not '$accel'" ;;
	esac
}

aa_probe_kvm() {
	local kernel=${1:-} out
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo tcg
		return 0
	fi
	if [ -z "$kernel" ]; then
		kernel=$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)
	fi
	if [ -z "$kernel" ] || [ ! -r "$kernel" ]; then
		echo tcg
		return 0
	fi
	out=$(timeout -k 5 60 qemu-system-x86_64 -accel kvm -cpu host -m 256 \
		-nographic -no-reboot -kernel "$kernel" \
		-append "console=ttyS0 panic=-1" </dev/null 2>&1) || true
	if grep -q 'Kernel panic - not syncing: VFS' <<<"$out" &&
		! grep -qi 'internal error' <<<"$out"; then
		aa_info "KVM works here; guests run with -accel kvm"
		echo kvm
	else
		aa_info "KVM does not work here; guests run under TCG (answer cached in $AA_CACHE/accel)"
		echo tcg
	fi
}

# The extended regular expression of kernel splats (used by scan-log.sh).
# shellcheck disable=SC2034
AA_SPLAT_RE='WARNING:|BUG:|Oops|Kernel panic|general protection fault|possible circular locking|inconsistent lock state|Invalid wait context|possible recursive locking|suspicious RCU usage|lock held when returning|sleeping function called from invalid context|scheduling while atomic|KASAN|UBSAN|kmemleak|pages never returned|refcount_t|list_add corruption|ODEBUG|DMA-API|unknown parameter'

# aa_check_build_warnings LOG: one check, "no compiler warning in
# atomic_alloc's files", over a kernel build log (kunit.py's or make's).
aa_check_build_warnings() {
	local w
	w=$(grep -a -E 'drivers/misc/atomic_alloc/[^ :]*\.[ch]:[0-9]+:[0-9]+: (warning|error):' "$1" | sort -u || true)
	if [ -z "$w" ]; then
		aa_pass "no compiler warning in atomic_alloc's files"
	else
		printf '%s\n' "$w" | sed -n 1,20p >&2
		aa_fail "no compiler warning in atomic_alloc's files ($(printf '%s\n' "$w" | wc -l) found, log: $1)"
	fi
}

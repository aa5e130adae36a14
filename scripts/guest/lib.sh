# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Helpers for the guest scenarios (busybox sh), installed as /lib.sh.
#
# Every check prints one line, "ok - <desc>" or "not ok - <desc>", which the
# host counts; aa_done prints the totals and returns non-zero when a check
# failed, so the scenario's exit status (AA-END rc=...) tells it too.

AA_PASS=0
AA_FAIL=0
# Used by the scenarios that source this file.
# shellcheck disable=SC2034
MODDIR=/modules
DBG=/sys/kernel/debug/atomic_alloc

ok() {
	AA_PASS=$((AA_PASS + 1))
	echo "ok - $*"
}

not_ok() {
	AA_FAIL=$((AA_FAIL + 1))
	echo "not ok - $*"
}

# check DESC CMD...: ok when CMD succeeds.
check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

# is_num VALUE: a non-negative decimal integer.
is_num() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	*) return 0 ;;
	esac
}

# dbg_get FILE KEY: print the value of the "KEY: value" line of FILE.
# Returns 1 (and prints nothing) when the file or the key is missing.
dbg_get() {
	[ -r "$1" ] || return 1
	_v=$(sed -n "s/^$2:[[:space:]]*//p" "$1" | head -n 1)
	[ -n "$_v" ] || return 1
	echo "$_v"
}

# expect_OP DESC ACTUAL EXPECTED: compare two integers, print ok/not ok.
_expect() {
	_op=$1 _desc=$2 _a=$3 _b=$4
	if ! is_num "$_a" || ! is_num "$_b"; then
		not_ok "$_desc (not a number: '$_a' $_op '$_b')"
		return 1
	fi
	case $_op in
	eq) [ "$_a" -eq "$_b" ] && _r=0 || _r=1; _sym='==' ;;
	ne) [ "$_a" -ne "$_b" ] && _r=0 || _r=1; _sym='!=' ;;
	le) [ "$_a" -le "$_b" ] && _r=0 || _r=1; _sym='<=' ;;
	lt) [ "$_a" -lt "$_b" ] && _r=0 || _r=1; _sym='<' ;;
	ge) [ "$_a" -ge "$_b" ] && _r=0 || _r=1; _sym='>=' ;;
	gt) [ "$_a" -gt "$_b" ] && _r=0 || _r=1; _sym='>' ;;
	*) not_ok "$_desc (bad operator $_op)"; return 1 ;;
	esac
	if [ "$_r" -eq 0 ]; then
		ok "$_desc ($_a)"
		return 0
	fi
	not_ok "$_desc (got $_a, expected $_sym $_b)"
	return 1
}
expect_eq() { _expect eq "$@"; }
expect_ne() { _expect ne "$@"; }
expect_le() { _expect le "$@"; }
expect_lt() { _expect lt "$@"; }
expect_ge() { _expect ge "$@"; }
expect_gt() { _expect gt "$@"; }

# expect_str DESC ACTUAL EXPECTED: string equality.
expect_str() {
	if [ "$2" = "$3" ]; then
		ok "$1 ($2)"
	else
		not_ok "$1 (got '$2', expected '$3')"
		return 1
	fi
}

# module_loaded NAME
module_loaded() {
	grep -q "^$1 " /proc/modules
}

# dmesg_mark: forget the kernel log so far; dmesg_new then prints what came
# after.  (The host still has every line: the console printed it.)
dmesg_mark() {
	dmesg -c >/dev/null
}
dmesg_new() {
	dmesg
}

# pages_held: pages all pools hold from the page allocator right now.
pages_held() {
	tr -d ' \n' 2>/dev/null <"$DBG/pages_held"
}

# meminfo KEY: the value in kB of KEY in /proc/meminfo.
meminfo() {
	sed -n "s/^$1: *\([0-9]*\) kB/\1/p" /proc/meminfo
}

# used_kb: memory in use, in kB: MemTotal - MemFree, less the pages that
# sit free on the per-CPU page lists (the "count:" lines of /proc/zoneinfo).
# MemFree leaves those out, and since 6.7 the lists grow and shrink by tens
# of MB with the load, which would hide a leak or fake one.
used_kb() {
	_pcp=$(awk '$1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo)
	echo $(($(meminfo MemTotal) - $(meminfo MemFree) - _pcp))
}

# settled_used_kb: used_kb with the reclaimable caches dropped, once what
# rmmod left to deferred work is done (RCU callbacks and workqueues free
# module memory, kernfs nodes and the pools' last pages some time after
# rmmod returns): the lowest of up to six readings a second apart,
# stopping at one no lower than the last.
settled_used_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	_best=$(used_kb) _i=0
	while [ $_i -lt 5 ]; do
		sleep 1
		_u=$(used_kb)
		[ "$_u" -lt "$_best" ] || break
		_best=$_u _i=$((_i + 1))
	done
	echo "$_best"
}

# meminfo_growth BEFORE AFTER: the /proc/meminfo lines (two saved copies)
# that grew by more than 256 kB, to tell where used memory went.
meminfo_growth() {
	awk 'NR == FNR { a[$1] = $2; next }
	     ($1 in a) && $2 - a[$1] > 256 {
		printf "  %s %d -> %d kB\n", $1, a[$1], $2 }' "$1" "$2"
}

# The simulated audio device's own debugfs directory; "pool" in it is a
# symlink to its test-signal pool's directory under $DBG.
AUDIO=/sys/kernel/debug/atomic_alloc_audio

# sum_streams KEY: KEY summed over every stream<N>/stats of the device.
# With no stream, or a stream without KEY, it prints "#none": not a number
# for the expect_* checks, and an error that ends the scenario if used in
# $((...)), so that a missing device never reads as a count of 0.
sum_streams() {
	_t=0 _n=0
	for _f in "$AUDIO"/stream*/stats; do
		_v=$(dbg_get "$_f" "$1") || { echo "#none"; return 1; }
		_t=$((_t + _v)) _n=$((_n + 1))
	done
	[ "$_n" -gt 0 ] || { echo "#none"; return 1; }
	echo "$_t"
}

# pool KEY: KEY of the audio device's test-signal pool's stats.
pool() {
	dbg_get "$AUDIO/pool/stats" "$1"
}

# aa_done: print the totals; exit status 0 when every check passed.
aa_done() {
	echo "AA-CHECKS pass=$AA_PASS fail=$AA_FAIL"
	[ "$AA_FAIL" -eq 0 ] && [ "$AA_PASS" -gt 0 ]
}

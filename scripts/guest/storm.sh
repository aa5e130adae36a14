#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest scenario "storm" (scripts/stock.sh FLAVOUR storm): the NMI storm of
# the KUnit suite atomic_alloc_nmi on a stock kernel, which has no KUnit.
# atomic_alloc_storm.ko aims 100,000 NMIs at a CPU that loops allocations
# and frees with interrupts on, while its NMI handler allocates in one NMI
# and frees in the next; it prints one "result:" line.  Then every page must
# be back.
#
# shellcheck source=scripts/guest/lib.sh
. /lib.sh

NMIS=100000

check "insmod atomic_alloc" insmod "$MODDIR/atomic_alloc.ko"
dmesg_mark
if insmod "$MODDIR/atomic_alloc_storm.ko" nmis=$NMIS; then
	ok "insmod atomic_alloc_storm nmis=$NMIS (the storm ran)"
else
	not_ok "insmod atomic_alloc_storm nmis=$NMIS"
fi
line=$(dmesg_new | sed -n 's/.*atomic_alloc_storm: result: //p' | tail -n 1)
echo "storm: $line"
# get KEY: the value of KEY=value in the result line ("#none" if missing).
get() {
	_v=$(echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p")
	echo "${_v:-#none}"
}
expect_ge "NMIs taken by the looping CPU" "$(get nmis)" $NMIS
expect_eq "the storm finished before its timeout" "$(get timed_out)" 0
expect_eq "handler ran in NMI context every time (nmi_not_in_nmi)" "$(get nmi_not_in_nmi)" 0
expect_gt "buffers taken in NMI" "$(get nmi_allocs)" $((NMIS / 4))
expect_gt "loop iterations with interrupts on" "$(get loop_iters)" 0
expect_eq "no buffer handed out twice (tag_errors)" "$(get tag_errors)" 0
expect_eq "every NMI got a buffer (nmi_nulls)" "$(get nmi_nulls)" 0
an=$(get alloc_nested) fn=$(get free_nested)
if is_num "$an" && is_num "$fn"; then
	expect_gt "NMIs inside the loop's own array operation met it (alloc_nested + free_nested)" $((an + fn)) 0
else
	not_ok "NMIs inside the loop's own array operation met it (alloc_nested + free_nested) (no result line)"
fi
a=$(get nmi_allocs) n=$(get nmi_nulls)
if is_num "$a" && is_num "$n"; then
	expect_eq "pool counted every NMI allocation (alloc_nmi)" "$(get alloc_nmi)" $((a + n))
else
	not_ok "pool counted every NMI allocation (no result line)"
fi
expect_eq "no allocation reached the page allocator (alloc_direct)" "$(get alloc_direct)" 0
expect_eq "nothing outstanding after the storm" "$(get outstanding)" 0
check "rmmod atomic_alloc_storm" rmmod atomic_alloc_storm
expect_eq "pages_held == 0 after the storm's pool is destroyed" "$(pages_held)" 0
echo "AA-REL NMI storm|$NMIS NMIs at a looping CPU|nmis $(get nmis), nmi_allocs $(get nmi_allocs), nested $(get alloc_nested)+$(get free_nested), tag_errors $(get tag_errors)|$(pages_held) pages"
dmesg_mark
check "rmmod atomic_alloc" rmmod atomic_alloc
if dmesg_new | grep -q "atomic_alloc: unloaded, all pages returned"; then
	ok "dmesg: atomic_alloc: unloaded, all pages returned"
else
	not_ok "dmesg: atomic_alloc: unloaded, all pages returned"
fi
aa_done

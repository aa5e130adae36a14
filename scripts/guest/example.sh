# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest scenario fragment "example" (busybox sh): the consumer example,
# samples/atomic_alloc_example.ko, a separate module that allocates a
# buffer from its own pool in a hard-IRQ hrtimer every 2.667 ms.
#
# Two ways to use it:
#
#  - sourced by a scenario, after /lib.sh and after atomic_alloc.ko is
#    loaded ("ok"/"not_ok" count into that scenario's totals; the scenario
#    calls aa_done).  Source it while no other pool is in use (before the
#    audio module is loaded or after it is unloaded): it compares
#    pages_held before and after;
#  - as a scenario of its own (scripts/mkinitramfs.sh OUT KO_DIR example):
#    then it sources /lib.sh, loads and unloads atomic_alloc.ko itself and
#    ends with aa_done, whose status becomes the scenario's exit status.
#
# Needs $MODDIR/atomic_alloc_example.ko next to atomic_alloc.ko.  Checks:
# bad values of the ticks parameter are refused with EINVAL and a message
# naming it; a full run of EX_TICKS ticks gets a buffer on every tick, in
# hard IRQ, with no corruption; the pool is in debugfs while loaded; unload
# returns every buffer and every page; unloading in the middle of a run is
# clean too.  Names it defines start with ex_ or EX_.

# shellcheck source=scripts/guest/lib.sh
[ -n "${MODDIR:-}" ] || . /lib.sh

EX_NAME=atomic_alloc_example
EX_KO=$MODDIR/$EX_NAME.ko
EX_TICKS=375		# one second at one tick every 2.667 ms
EX_WAIT=30		# seconds to wait for the run to end (TCG is slow)
EX_OWN_POOL_MODULE=""

# ex_wait_dmesg PATTERN SECONDS: wait until dmesg (since dmesg_mark) has a
# line matching PATTERN; print that line.
ex_wait_dmesg() {
	_ex_i=0
	while [ "$_ex_i" -lt "$2" ]; do
		_ex_line=$(dmesg_new | grep -- "$1" | tail -n 1)
		if [ -n "$_ex_line" ]; then
			echo "$_ex_line"
			return 0
		fi
		sleep 1
		_ex_i=$((_ex_i + 1))
	done
	return 1
}

# ex_field LINE WORDS: the number in LINE just before WORDS.
ex_field() {
	echo "$1" | sed -n "s/.* \([0-9][0-9]*\) $2.*/\1/p"
}

ex_unload() {
	module_loaded $EX_NAME && rmmod $EX_NAME
}

if ! module_loaded atomic_alloc; then
	if insmod "$MODDIR/atomic_alloc.ko"; then
		EX_OWN_POOL_MODULE=yes
		ok "example: insmod atomic_alloc"
	else
		not_ok "example: insmod atomic_alloc"
	fi
fi

if [ ! -f "$EX_KO" ]; then
	not_ok "example: $EX_KO is in the initramfs"
elif ! module_loaded atomic_alloc; then
	not_ok "example: atomic_alloc is loaded (needed by $EX_NAME)"
else
	# --- bad parameters ------------------------------------------------
	for ex_bad in ticks=0 ticks=1000001 ticks=abc ticks=-1; do
		dmesg_mark
		ex_out=$(insmod "$EX_KO" "$ex_bad" 2>&1)
		ex_rc=$?
		ex_why=""
		[ "$ex_rc" -ne 0 ] || ex_why="$ex_why insmod succeeded;"
		case $ex_out in
		*"Invalid argument"*) ;;
		*) ex_why="$ex_why not EINVAL ($ex_out);" ;;
		esac
		if module_loaded $EX_NAME; then
			ex_why="$ex_why module left loaded;"
			ex_unload
		fi
		dmesg_new | grep -q "$EX_NAME: invalid ticks=" ||
			ex_why="$ex_why dmesg does not name 'ticks';"
		if [ -z "$ex_why" ]; then
			ok "example: insmod $EX_NAME $ex_bad is refused"
		else
			not_ok "example: insmod $EX_NAME $ex_bad is refused:$ex_why"
		fi
	done

	# --- a full run ----------------------------------------------------
	ex_held=$(pages_held)
	dmesg_mark
	if insmod "$EX_KO" ticks=$EX_TICKS; then
		ok "example: insmod $EX_NAME ticks=$EX_TICKS"
		if ex_line=$(ex_wait_dmesg "$EX_NAME: done:" $EX_WAIT); then
			echo "example: $ex_line"
			# One buffer a tick, as the pool itself counted them.
			ex_served=$(( $(ex_field "$ex_line" "local,") + $(ex_field "$ex_line" "shared,") ))
			expect_ge "example: pool served a buffer for every tick (local + shared)" \
				"$ex_served" $EX_TICKS
			expect_eq "example: allocation failures in hard IRQ" \
				"$(ex_field "$ex_line" "allocation failures")" 0
			expect_eq "example: corrupt buffers" \
				"$(ex_field "$ex_line" "corrupt buffers")" 0
			expect_eq "example: ticks outside hard IRQ" \
				"$(ex_field "$ex_line" "outside hard IRQ")" 0
		else
			not_ok "example: the run ended within ${EX_WAIT}s (no '$EX_NAME: done:' in dmesg)"
		fi
		ex_stats=$DBG/$EX_NAME/stats
		if [ -r "$ex_stats" ]; then
			cat "$ex_stats" >/tmp/ex_stats
			expect_eq "example: pool has the last buffer out" \
				"$(dbg_get /tmp/ex_stats outstanding)" 1
			expect_eq "example: pool alloc_failed" \
				"$(dbg_get /tmp/ex_stats alloc_failed)" 0
		else
			not_ok "example: $ex_stats exists while loaded"
		fi
		dmesg_mark
		check "example: rmmod $EX_NAME" rmmod $EX_NAME
		ex_line=$(dmesg_new | grep "$EX_NAME: unloaded after" | tail -n 1)
		expect_str "example: unload returns every buffer" \
			"$(echo "$ex_line" | sed -n 's/.*: \([0-9]*\) buffers outstanding.*/\1/p')" 0
		check "example: pool gone from debugfs" [ ! -e "$DBG/$EX_NAME" ]
		expect_eq "example: pages_held back to $ex_held" "$(pages_held)" "$ex_held"
	else
		not_ok "example: insmod $EX_NAME ticks=$EX_TICKS"
	fi
	ex_unload

	# --- unload in the middle of a run ----------------------------------
	dmesg_mark
	if insmod "$EX_KO" ticks=1000000; then
		sleep 1
		check "example: rmmod $EX_NAME while the timer runs" rmmod $EX_NAME
		ex_line=$(dmesg_new | grep "$EX_NAME: unloaded after" | tail -n 1)
		echo "example: $ex_line"
		expect_str "example: early unload returns every buffer" \
			"$(echo "$ex_line" | sed -n 's/.*: \([0-9]*\) buffers outstanding.*/\1/p')" 0
		expect_eq "example: pages_held back to $ex_held after early unload" \
			"$(pages_held)" "$ex_held"
	else
		not_ok "example: insmod $EX_NAME ticks=1000000"
	fi
	ex_unload
fi

if [ -n "$EX_OWN_POOL_MODULE" ]; then
	check "example: rmmod atomic_alloc" rmmod atomic_alloc
	aa_done
fi

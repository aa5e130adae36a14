# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest scenario fragment "example" (busybox sh): the consumer example,
# samples/atomic_alloc_example.ko, a separate module: a platform driver
# whose devices each take a buffer from a pool of their own in a hard-IRQ
# hrtimer every 2.667 ms and free it from another one on another CPU.
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
# bad values of the ticks and devices parameters are refused with EINVAL
# and a message naming them, and ticks=010 is ten (decimal, not octal); a
# full run of EX_TICKS ticks gets a buffer on every tick, in hard IRQ, and
# every buffer comes back, freed on another CPU, uncorrupted; each device
# has a pool named after it (dev_name()), so two devices load side by
# side; unload returns every buffer and every page; unloading in the
# middle of a run is clean too.  Names it defines start with ex_ or EX_.

# shellcheck source=scripts/guest/lib.sh
[ -n "${MODDIR:-}" ] || . /lib.sh

EX_NAME=atomic_alloc_example
EX_KO=$MODDIR/$EX_NAME.ko
EX_TICKS=375		# one second at one tick every 2.667 ms
EX_WAIT=30		# seconds to wait for the run to end (TCG is slow)
EX_OWN_POOL_MODULE=""

# ex_wait_dmesg PATTERN COUNT SECONDS: wait until dmesg (since dmesg_mark)
# has COUNT lines matching PATTERN; print them.
ex_wait_dmesg() {
	_ex_i=0
	while [ "$_ex_i" -lt "$3" ]; do
		_ex_lines=$(dmesg_new | grep -- "$1")
		if [ "$(echo "$_ex_lines" | grep -c .)" -ge "$2" ]; then
			echo "$_ex_lines"
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

# ex_pool_dir NAME: the debugfs directory of the pool NAME, wherever the
# library puts its pools under $DBG.
ex_pool_dir() {
	find "$DBG" -maxdepth 2 -type d -name "$1" 2>/dev/null | head -n 1
}

ex_unload() {
	module_loaded $EX_NAME && rmmod $EX_NAME
}

# ex_check_done DEV LINE TICKS: the checks of one device's "done:" line.
# A period is played (completed) or, when the "device" fell behind and the
# ring was full, dropped (ring full): under TCG a vCPU can be starved by
# the host for longer than the ring lasts, so drops are allowed, up to
# half, but every period must be one or the other.  The pool itself must
# never run dry.
ex_check_done() {
	_d=$1 _l=$2 _t=$3
	echo "example: $_l"
	expect_eq "example: $_d ran $_t ticks" "$(ex_field "$_l" "ticks,")" "$_t"
	expect_eq "example: $_d allocation failures in hard IRQ" \
		"$(ex_field "$_l" "allocation failures")" 0
	_done=$(ex_field "$_l" "completed")
	_full=$(ex_field "$_l" "ring full")
	expect_eq "example: $_d every period completed or dropped on a full ring" \
		"$((${_done:-0} + ${_full:-0}))" "$_t"
	expect_ge "example: $_d completed at least half the periods" \
		"$((2 * ${_done:-0}))" "$_t"
	# One buffer a played period, as the pool itself counted them.
	_served=$(( $(ex_field "$_l" "local,") + $(ex_field "$_l" "shared,") ))
	expect_ge "example: $_d pool served a buffer for every played period (local + shared)" \
		"$_served" "${_done:-0}"
	expect_eq "example: $_d every buffer freed on another CPU" \
		"$(ex_field "$_l" "remote frees")" "${_done:-0}"
	expect_eq "example: $_d corrupt buffers" \
		"$(ex_field "$_l" "corrupt buffers")" 0
	expect_eq "example: $_d ticks outside hard IRQ" \
		"$(ex_field "$_l" "outside hard IRQ")" 0
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
elif [ "$(grep -c '^processor' /proc/cpuinfo)" -lt 2 ]; then
	not_ok "example: the guest has 2 or more CPUs (remote frees need two)"
else
	# --- bad parameters ------------------------------------------------
	for ex_bad in ticks=0 ticks=1000001 ticks=abc ticks=-1 ticks=0x10 \
		devices=0 devices=5; do
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
		dmesg_new | grep -q "$EX_NAME: invalid ${ex_bad%%=*}=" ||
			ex_why="$ex_why dmesg does not name '${ex_bad%%=*}';"
		if [ -z "$ex_why" ]; then
			ok "example: insmod $EX_NAME $ex_bad is refused"
		else
			not_ok "example: insmod $EX_NAME $ex_bad is refused:$ex_why"
		fi
	done

	# --- decimal, not octal ----------------------------------------------
	dmesg_mark
	if insmod "$EX_KO" ticks=010; then
		if ex_line=$(ex_wait_dmesg "$EX_NAME.0: done:" 1 $EX_WAIT); then
			expect_eq "example: ticks=010 is ten ticks" \
				"$(ex_field "$ex_line" "ticks,")" 10
		else
			not_ok "example: ticks=010 ran to its end within ${EX_WAIT}s"
		fi
		check "example: rmmod $EX_NAME after ticks=010" rmmod $EX_NAME
	else
		not_ok "example: insmod $EX_NAME ticks=010"
	fi

	# --- a full run ----------------------------------------------------
	ex_held=$(pages_held)
	dmesg_mark
	if insmod "$EX_KO" ticks=$EX_TICKS; then
		ok "example: insmod $EX_NAME ticks=$EX_TICKS"
		ex_dir=$(ex_pool_dir "$EX_NAME.0")
		check "example: pool named after the device ($EX_NAME.0) in debugfs" \
			[ -n "$ex_dir" ]
		if ex_line=$(ex_wait_dmesg "$EX_NAME.0: done:" 1 $EX_WAIT); then
			ex_check_done "$EX_NAME.0" "$ex_line" $EX_TICKS
		else
			not_ok "example: the run ended within ${EX_WAIT}s (no '$EX_NAME.0: done:' in dmesg)"
		fi
		if [ -n "$ex_dir" ] && [ -r "$ex_dir/stats" ]; then
			cat "$ex_dir/stats" >/tmp/ex_stats
			expect_eq "example: pool has every buffer back after the run" \
				"$(dbg_get /tmp/ex_stats outstanding)" 0
			expect_eq "example: pool alloc_failed" \
				"$(dbg_get /tmp/ex_stats alloc_failed)" 0
			expect_eq "example: pool dma_mapped (created with the device)" \
				"$(dbg_get /tmp/ex_stats dma_mapped)" 1
		else
			not_ok "example: $EX_NAME.0's pool stats exist while loaded"
		fi
		dmesg_mark
		check "example: rmmod $EX_NAME" rmmod $EX_NAME
		ex_line=$(dmesg_new | grep "$EX_NAME.0: removed after" | tail -n 1)
		expect_str "example: remove returns every buffer" \
			"$(echo "$ex_line" | sed -n 's/.*: \([0-9]*\) buffers outstanding.*/\1/p')" 0
		check "example: pool gone from debugfs" [ -z "$(ex_pool_dir "$EX_NAME.0")" ]
		expect_eq "example: pages_held back to $ex_held" "$(pages_held)" "$ex_held"
	else
		not_ok "example: insmod $EX_NAME ticks=$EX_TICKS"
	fi
	ex_unload

	# --- two devices, two pools ------------------------------------------
	dmesg_mark
	if insmod "$EX_KO" ticks=$EX_TICKS devices=2; then
		ok "example: insmod $EX_NAME devices=2"
		for ex_dev in "$EX_NAME.0" "$EX_NAME.1"; do
			check "example: $ex_dev has a pool of its own" \
				[ -n "$(ex_pool_dir "$ex_dev")" ]
			if ex_line=$(ex_wait_dmesg "$ex_dev: done:" 1 $EX_WAIT); then
				ex_check_done "$ex_dev" "$ex_line" $EX_TICKS
			else
				not_ok "example: $ex_dev ran to its end within ${EX_WAIT}s"
			fi
		done
		dmesg_mark
		check "example: rmmod $EX_NAME (two devices)" rmmod $EX_NAME
		expect_eq "example: both devices removed with every buffer back" \
			"$(dmesg_new | grep -c "removed after.*: 0 buffers outstanding")" 2
		expect_eq "example: pages_held back to $ex_held after two devices" \
			"$(pages_held)" "$ex_held"
	else
		not_ok "example: insmod $EX_NAME devices=2"
	fi
	ex_unload

	# --- unload in the middle of a run ----------------------------------
	dmesg_mark
	if insmod "$EX_KO" ticks=1000000; then
		sleep 1
		check "example: rmmod $EX_NAME while the timers run" rmmod $EX_NAME
		ex_line=$(dmesg_new | grep "$EX_NAME.0: removed after" | tail -n 1)
		echo "example: $ex_line"
		expect_str "example: early remove returns every buffer" \
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

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest scenario "soak" (scripts/soak.sh): one long stream, 192 kHz / 24-bit
# / 2 ch, four streams, with the pool and stream counters printed every 30 s
# of guest time.  The duration in seconds comes from the kernel command line
# (aa.soak=SECONDS, default 600).
. /lib.sh

A=$AUDIO
secs=$(sed -n 's/.*aa\.soak=\([0-9]*\).*/\1/p' /proc/cmdline)
secs=${secs:-600}

snapshot() {
	# Completed before submitted: the streams keep running while the
	# files are read, and a buffer completes only after it was submitted.
	_done=$(sum_streams buffers_completed)
	echo "AA-SOAK t=$1s periods=$(sum_streams periods)" \
		"submitted=$(sum_streams buffers_submitted)" \
		"completed=$_done" \
		"xrun_alloc=$(sum_streams xrun_alloc)" \
		"xrun_ring_full=$(sum_streams xrun_ring_full)" \
		"timer_overruns=$(sum_streams timer_overruns)" \
		"verify_errors=$(sum_streams verify_errors)" \
		"refilled=$(pool refilled)" \
		"refill_failed=$(pool refill_failed)" \
		"available=$(pool available)"
}

check "insmod atomic_alloc" insmod $MODDIR/atomic_alloc.ko
check "insmod atomic_alloc_audio autostart=1 streams=4" \
	insmod $MODDIR/atomic_alloc_audio.ko autostart=1 streams=4
# t is the guest time elapsed since the streams started (not the sum of the
# sleeps: reading the counters takes time too).
uptime_s() {
	cut -d. -f1 /proc/uptime
}
t0=$(uptime_s)
t=0
while [ $t -lt "$secs" ]; do
	sleep 30
	t=$(($(uptime_s) - t0))
	snapshot $t
done
expect_eq "soak: xrun_alloc" "$(sum_streams xrun_alloc)" 0
expect_eq "soak: verify_errors" "$(sum_streams verify_errors)" 0
expect_gt "soak: periods" "$(sum_streams periods)" 0
expect_gt "soak: buffers completed (more than 4 rings' worth)" \
	"$(sum_streams buffers_completed)" $((4 * $(cat /sys/module/atomic_alloc_audio/parameters/ring_entries)))
check "echo stop > control" sh -c "echo stop >$A/control"
expect_eq "soak: every submitted buffer completed or drained at stop" \
	"$(sum_streams buffers_submitted)" \
	$(($(sum_streams buffers_completed) + $(sum_streams buffers_drained)))
check "rmmod atomic_alloc_audio" rmmod atomic_alloc_audio
expect_eq "soak: pages held after unload" "$(pages_held)" 0
check "rmmod atomic_alloc" rmmod atomic_alloc
aa_done

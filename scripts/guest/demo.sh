#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest scenario "demo" (busybox sh, run by /init as /scenario.sh): stream
# four simulated 192 kHz / 24-bit stereo streams for a few seconds and print
# what happened.  Every line meant for a person starts with "AA: "; the host
# (scripts/demo.sh) shows those lines.  Exits non-zero when a stream lost or
# corrupted a buffer or a page was not given back.

# shellcheck source=scripts/guest/lib.sh
. /lib.sh

AUDIO=$DBG/audio
STREAMS=4
SECONDS_=8

say() { echo "AA: $*"; }
fail=0
bad() {
	say "PROBLEM: $*"
	fail=1
}

# kv FILE KEY...: "key=value key=value" for the keys present in FILE.
kv() {
	_f=$1
	shift
	_out=""
	for _k in "$@"; do
		_v=$(dbg_get "$_f" "$_k") || _v="?"
		_out="$_out $_k=$_v"
	done
	echo "${_out# }"
}

say "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
insmod "$MODDIR/atomic_alloc.ko" || {
	bad "insmod atomic_alloc failed"
	exit 1
}
if ! insmod "$MODDIR/atomic_alloc_audio.ko" streams=$STREAMS autostart=1; then
	bad "insmod atomic_alloc_audio failed"
	rmmod atomic_alloc
	exit 1
fi
p=/sys/module/atomic_alloc_audio/parameters
say "streaming: $STREAMS streams, $(cat $p/rate 2>/dev/null || echo 192000) Hz," \
	"$(cat $p/channels 2>/dev/null || echo 2) channels," \
	"$(cat $p/format 2>/dev/null || echo s24_le), ring of" \
	"$(cat $p/ring_entries 2>/dev/null || echo 64) buffers," \
	"hard-IRQ hrtimer per stream, for $SECONDS_ s"
sleep $SECONDS_

cat "$AUDIO/stats" >/tmp/pool 2>/dev/null || bad "no $AUDIO/stats"
say ""
say "pool 'audio' (order $(dbg_get /tmp/pool order || echo ?)," \
	"$(dbg_get /tmp/pool cpu_buffers || echo ?) buffers per CPU," \
	"low watermark $(dbg_get /tmp/pool low_watermark || echo ?)," \
	"shared reserve $(dbg_get /tmp/pool shared_buffers || echo ?))"
levels=$(sed -n 's/^\(cpu[0-9]*\)_level:[[:space:]]*/\1=/p' /tmp/pool | tr '\n' ' ')
say "  ready buffers per CPU: ${levels:-?}shared=$(dbg_get /tmp/pool shared_level || echo ?)"
say "  allocations by tier:   $(kv /tmp/pool alloc_local alloc_remote alloc_direct alloc_failed)"
say "  refills:               $(kv /tmp/pool refilled refill_failed released)"
say "  buffers:               $(kv /tmp/pool freed available outstanding)"
say ""
for i in $(seq 0 $((STREAMS - 1))); do
	f=$AUDIO/stream$i/stats
	if ! cat "$f" >/tmp/stream 2>/dev/null; then
		bad "no $f"
		continue
	fi
	say "stream$i on cpu $(dbg_get /tmp/stream cpu || echo ?):" \
		"$(kv /tmp/stream periods buffers_submitted buffers_completed bytes_played)"
	say "         $(kv /tmp/stream xrun_alloc xrun_ring_full timer_overruns verify_errors)"
	for k in xrun_alloc verify_errors; do
		v=$(dbg_get /tmp/stream $k)
		[ "$v" = 0 ] || bad "stream$i: $k=$v"
	done
	v=$(dbg_get /tmp/stream periods)
	if ! is_num "$v" || [ "$v" -eq 0 ]; then
		bad "stream$i: no period ran (periods=$v)"
	fi
done
say ""
say "time to allocate a buffer in the interrupt (stream0/alloc_ns):"
if [ -r "$AUDIO/stream0/alloc_ns" ]; then
	sed 's/^/AA:   /' "$AUDIO/stream0/alloc_ns"
else
	bad "no $AUDIO/stream0/alloc_ns"
fi
say ""

echo stop >"$AUDIO/control" 2>/dev/null
rmmod atomic_alloc_audio || bad "rmmod atomic_alloc_audio failed"
held=$(pages_held)
say "pages held by atomic_alloc after the device is gone: ${held:-?}"
dmesg -c >/dev/null
rmmod atomic_alloc || bad "rmmod atomic_alloc failed"
returned=no
if [ "$held" = 0 ] && dmesg | grep -q "atomic_alloc: unloaded, all pages returned"; then
	returned=yes
else
	fail=1
fi
say "every page returned: $returned"
exit $fail

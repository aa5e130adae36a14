#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# aa-initramfs: alsa
#
# Guest scenario "demo" (busybox sh, run by /init as /scenario.sh; made by
# scripts/demo.sh): the main job, on a fragmented heap.
#
#   1. load atomic_alloc and the simulated 192 kHz / 24-bit audio device
#      (its pool fills on a quiet heap, as at probe);
#   2. build the labyrinth (atomic_alloc_labyrinth.ko): no free block of
#      order >= 1, free memory held between the min and low watermarks;
#      print /proc/buddyinfo before and after;
#   3. stream the device through the pool (hard-IRQ period interrupt) and,
#      at the same time and at the same period, the naive streams of
#      atomic_alloc_naive.ko, which call alloc_pages(GFP_ATOMIC, order) in
#      their period interrupt (order 2 and 0); a progress line every few
#      seconds;
#   4. stop, print every counter and histogram as machine-readable lines
#      (DEMO*) and release the labyrinth;
#   5. play a generated 192 kHz / 24-bit WAV through the sound card,
#      hw:AtomicAlloc,0, with aplay while arecord captures hw:AtomicAlloc,1
#      (aa_alsa_loop of scripts/guest/alsa.sh, 256-frame periods: pool
#      buffers smaller than a page) and check that every byte came back
#      with no xrun (DEMOALSA lines: bytes, match, xruns, the in-IRQ
#      allocation histogram); it runs once the naive streams are done and
#      the labyrinth is gone, because aplay and arecord fork and allocate;
#   6. give everything back and check that every page came back.
#
# Lines for a person start with "AA: "; scripts/demo.sh shows them as they
# come and turns the DEMO* lines into the table, the verdict and the
# picture (scripts/demo-report.py).  Checks are "ok - demo: ..." lines.
#
# Kernel command line knobs: aa_demo_seconds=N (streaming time, default 30),
# aa_demo_progress=N (seconds between progress lines, default 3),
# aa_demo_channels=N and aa_demo_order=N (the device: 8 channels at order 2
# by default, 512 frames of 32 bytes per 16 KiB buffer and period, so that
# the pool streams the same buffer size as the naive order-2 stream),
# aa_demo_naive=2,0 (the naive streams' orders), aa_demo_wav=NAME (the
# WAV the card plays, one of /alsa/*.wav; default s24_3le_192k_2ch, 10 s)
# and aa_demo_alsa_period=N (its period in frames, default 256).
#
# While streaming, nothing here forks: on the labyrinth a fork takes a
# 64 KiB block from the reclaim reserve (an order-1 pgd), whose remainders
# would be free blocks of order >= 1 that the naive stream could take.  So
# the loop uses shell builtins only (read, echo, arithmetic).

# shellcheck source=scripts/guest/lib.sh
. /lib.sh
# shellcheck source=scripts/guest/alsa.sh
. /alsa.sh

NAIVE=/sys/kernel/debug/atomic_alloc_naive
LAB=/sys/kernel/debug/atomic_alloc_labyrinth

cmdline=" $(cat /proc/cmdline) "
# arg NAME DEFAULT: the value of NAME=... on the kernel command line.
arg() {
	_v=$(echo "$cmdline" | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}

SECS=$(arg aa_demo_seconds 30)
PROGRESS=$(arg aa_demo_progress 3)
CHANNELS=$(arg aa_demo_channels 8)
ORDER=$(arg aa_demo_order 2)
NAIVE_ORDERS=$(arg aa_demo_naive 2,0)
ALSA_WAV=$(arg aa_demo_wav s24_3le_192k_2ch)
ALSA_PERIOD=$(arg aa_demo_alsa_period 256)
STREAMS=4
# The device's buffer is one period: 2^ORDER pages of S24_LE frames (4 bytes
# a sample), so the pool streams buffers of the naive order-ORDER stream's size.
PAGE_KB=$(sed -n '/^KernelPageSize:/{s/[^0-9]//g;p;q;}' /proc/self/smaps)
FRAMES=$(( (${PAGE_KB:-4} * 1024 << ORDER) / (CHANNELS * 4) ))
AUDIO_ARGS="streams=$STREAMS rate=192000 channels=$CHANNELS format=s24_le period_frames=$FRAMES"

say() { echo "AA: $*"; }

# getkv FILE KEY: REPLY = the value of the "KEY: value" line of FILE, no
# fork.  Returns 1 (REPLY empty) when the file or the key is missing.
getkv() {
	REPLY=
	[ -r "$1" ] || return 1
	while IFS= read -r _l; do
		case $_l in
		"$2: "*)
			REPLY=${_l#"$2: "}
			return 0
			;;
		esac
	done <"$1"
	return 1
}

# sumkv KEY FILE...: REPLY = KEY summed over the files, no fork; "#none"
# (not a number, so every check on it fails) when a file lacks it.
sumkv() {
	_key=$1 _sum=0
	shift
	for _f in "$@"; do
		getkv "$_f" "$_key" || {
			REPLY="#none"
			return 1
		}
		_sum=$((_sum + REPLY))
	done
	REPLY=$_sum
}

# now_cs: NOW = uptime in centiseconds, no fork.
now_cs() {
	read -r _up _rest </proc/uptime
	NOW=$((${_up%.*} * 100 + 1${_up#*.} - 100))
}

# The audio device's stream directories and its pool's stats.  Today both
# are in atomic_alloc/audio/ (the pool's directory); the ALSA card moves
# the device's own files to a directory of its own, so look for both.
find_audio() {
	AUDIO_DEV=
	for _d in "$AUDIO" /sys/kernel/debug/atomic_alloc_audio*; do
		if [ -d "$_d/stream0" ]; then
			AUDIO_DEV=$_d
			break
		fi
	done
	POOL_STATS=
	if [ -n "$AUDIO_DEV" ] && [ -r "$AUDIO_DEV/stats" ] &&
		getkv "$AUDIO_DEV/stats" alloc_direct; then
		POOL_STATS=$AUDIO_DEV/stats
	else
		# The only pool there is: atomic_alloc serves the device alone.
		for _f in "$DBG"/*/stats; do
			getkv "$_f" alloc_direct && POOL_STATS=$_f
		done
	fi
}

audio_stats() {
	set -- "$AUDIO_DEV"/stream*/stats
	AUDIO_FILES="$*"
}

naive_files() {
	set -- "$NAIVE"/stream*/stats
	NAIVE_FILES="$*"
}

# buddyinfo WHEN: /proc/buddyinfo, for a person and for the report.
buddyinfo() {
	while IFS= read -r _l; do
		say "  $_l"
		echo "DEMOBUDDY when=$1 $_l"
	done </proc/buddyinfo
}

# lab_zones WHEN: the labyrinth module's own view of every zone.
lab_zones() {
	while IFS= read -r _l; do
		echo "DEMOLAB when=$1 $_l"
	done <"$LAB/zones"
}

# must DESC CMD...: a check that ends the scenario when it fails.
must() {
	_desc=$1
	shift
	if "$@"; then
		ok "$_desc"
	else
		not_ok "$_desc"
		cleanup_fail
	fi
}

cleanup_fail() {
	echo stop >"$NAIVE/control" 2>/dev/null
	[ -n "$AUDIO_DEV" ] && echo stop >"$AUDIO_DEV/control" 2>/dev/null
	echo release >"$LAB/control" 2>/dev/null
	aa_done
	exit 1
}

# ------------------------------------------------------------------ load ---
preempt=$(uname -v | grep -o 'PREEMPT_RT' | head -n 1)
rt=0
[ "$preempt" = PREEMPT_RT ] && rt=1
# Both readings settled (caches dropped, deferred frees done, the lowest of
# a few).  Still a coarse check: used_kb subtracts the per-CPU free lists,
# read apart from MemFree, and after boot and after the order-2 streams
# those lists hold megabytes that move between the two reads (three quick
# demos: 876, 2720 and 3188 kB of growth, each with pages_held 0 and every
# page returned).  The exact checks are pages_held, the unload message and
# the labyrinth's release; this one catches a leak of megabytes.
used_before=$(settled_used_kb)
say "kernel $(uname -r)${preempt:+ ($preempt)}, $(grep -c ^processor /proc/cpuinfo) CPUs, $(($(meminfo MemTotal) / 1024)) MiB"
echo "DEMOCFG kernel=$(uname -r) rt=$rt cpus=$(grep -c ^processor /proc/cpuinfo) mem_kb=$(meminfo MemTotal) seconds=$SECS streams=$STREAMS channels=$CHANNELS order=$ORDER naive_orders=$NAIVE_ORDERS"

must "demo: insmod atomic_alloc" insmod "$MODDIR/atomic_alloc.ko"
# shellcheck disable=SC2086 # one word per parameter
must "demo: insmod atomic_alloc_audio $AUDIO_ARGS" \
	insmod "$MODDIR/atomic_alloc_audio.ko" $AUDIO_ARGS autostart=0
find_audio
audio_stats
if [ -z "$AUDIO_DEV" ] || [ -z "$POOL_STATS" ]; then
	not_ok "demo: the audio device's debugfs files (stream0/, the pool's stats)"
	cleanup_fail
fi
getkv "$AUDIO_DEV/stream0/stats" period_ns
period_ns=$REPLY
getkv "$AUDIO_DEV/stream0/stats" pool_buffer_bytes
buffer_bytes=$REPLY
expect_eq "demo: the pool's buffer is the naive order-$ORDER block's size" \
	"$buffer_bytes" $((${PAGE_KB:-4} * 1024 << ORDER))
getkv "$AUDIO_DEV/stream0/stats" period_frames
frames=$REPLY
say "audio device: $STREAMS streams, 192000 Hz, $CHANNELS channels, s24_le; one" \
	"$buffer_bytes-byte buffer ($frames frames, order $ORDER) per period of" \
	"$((period_ns / 1000)) us, allocated in the hard-IRQ period interrupt;" \
	"the pool filled at load, on a quiet heap"

must "demo: insmod atomic_alloc_labyrinth" insmod "$MODDIR/atomic_alloc_labyrinth.ko"
must "demo: insmod atomic_alloc_naive orders=$NAIVE_ORDERS period_ns=$period_ns" \
	insmod "$MODDIR/atomic_alloc_naive.ko" orders="$NAIVE_ORDERS" \
	period_ns="$period_ns"
naive_files
getkv "$NAIVE/stream0/stats" context
naive_ctx=$REPLY
if [ "$rt" = 1 ]; then
	say "PREEMPT_RT: alloc_pages() takes spinlock_t, which sleeps here, so it is not" \
		"legal in hard IRQ; the naive streams run from a soft hrtimer instead" \
		"(the timer softirq thread), at the same period. The pool's stream stays" \
		"in hard IRQ."
fi
say "naive streams: alloc_pages(GFP_ATOMIC, order) for every block, orders" \
	"$NAIVE_ORDERS, in the period interrupt ($naive_ctx) at the same period," \
	"freed one period later on the next CPU"

# ------------------------------------------------------------- labyrinth ---
say ""
say "/proc/buddyinfo before the labyrinth (free blocks of order 0, 1, 2, ...):"
buddyinfo before
lab_zones before
# Watermark boosting off: the labyrinth pins memory no reclaim can free, so
# a boosted min watermark would only wake the OOM killer.
echo 0 >/proc/sys/vm/watermark_boost_factor
now_cs
t_lab=$NOW
if echo build >"$LAB/control"; then
	# Read before anything forks (see the top).
	getkv "$LAB/status" order1plus_blocks
	lab_blocks=$REPLY
	now_cs
	ok "demo: labyrinth built in $(((NOW - t_lab) / 100)).$(((NOW - t_lab) % 100)) s"
else
	not_ok "demo: labyrinth built"
	cleanup_fail
fi
expect_eq "demo: no free block of order >= 1 right after the build (the module's count)" \
	"$lab_blocks" 0
lab_zones built
say "/proc/buddyinfo on the labyrinth:"
buddyinfo built
getkv "$LAB/status" pinned
say "labyrinth: $REPLY pages pinned; free memory held between the min and low" \
	"watermarks:"
while IFS= read -r _l; do
	say "  $_l"
done <"$LAB/zones"

# ------------------------------------------------------------- streaming ---
say ""
say "streaming for $SECS s: the pool's $STREAMS streams and the naive streams side by side"
mkfifo /tmp/tick
exec 3<>/tmp/tick
echo start >"$AUDIO_DEV/control"
echo start >"$NAIVE/control"
now_cs
t0=$NOW
el=0
while [ "$el" -lt "$SECS" ]; do
	# busybox ash: read -t is a sleep without a fork.
	# shellcheck disable=SC3045
	read -r -t "$PROGRESS" -u 3 _ 2>/dev/null
	now_cs
	el=$(((NOW - t0) / 100))
	# shellcheck disable=SC2086 # one word per file
	sumkv periods $AUDIO_FILES
	pp=$REPLY
	# shellcheck disable=SC2086
	sumkv xrun_alloc $AUDIO_FILES
	pl=$REPLY
	line="[$el s] pool: $pp periods, $pl lost"
	prog="DEMOPROG t=$(((NOW - t0) / 100)).$(((NOW - t0) % 100)) pool_periods=$pp pool_lost=$pl"
	i=0
	for f in $NAIVE_FILES; do
		getkv "$f" order
		o=$REPLY
		getkv "$f" periods
		np=$REPLY
		getkv "$f" failed
		nf=$REPLY
		line="$line | naive order $o: $np periods, $nf failed"
		prog="$prog naive${i}_order=$o naive${i}_periods=$np naive${i}_failed=$nf"
		i=$((i + 1))
	done
	getkv "$LAB/status" hold_swept
	ls=$REPLY
	getkv "$LAB/status" reserve_pages
	line="$line | labyrinth: $ls blocks taken, reserve $((REPLY / 256)) MiB"
	prog="$prog lab_hold_swept=$ls lab_reserve_pages=$REPLY"
	say "$line"
	echo "$prog"
done
echo stop >"$NAIVE/control"
echo stop >"$AUDIO_DEV/control"
exec 3>&-
say "stopped after $el s"

# --------------------------------------------------------------- results ---
i=0
for f in $AUDIO_FILES; do
	d=${f%/stats}
	sed "s/^/DEMOSTAT who=pool stream=$i /" "$f"
	sed "s/^/DEMOHIST who=pool stream=$i /" "$d/alloc_ns"
	i=$((i + 1))
done
sed "s/^/DEMOPOOL /" "$POOL_STATS"
i=0
for f in $NAIVE_FILES; do
	d=${f%/stats}
	sed "s/^/DEMOSTAT who=naive stream=$i /" "$f"
	sed "s/^/DEMOHIST who=naive stream=$i /" "$d/alloc_ns"
	sed "s/^/DEMOTL who=naive stream=$i /" "$d/timeline"
	i=$((i + 1))
done
lab_zones after
sed "s/^/DEMOLABSTAT /" "$LAB/status"

# ---------------------------------------------------------------- checks ---
# The pool: no lost block, never the page allocator, every sample right.
# shellcheck disable=SC2086
sumkv periods $AUDIO_FILES
expect_gt "demo: the pool's streams ran (periods)" "$REPLY" 0
# shellcheck disable=SC2086
sumkv xrun_alloc $AUDIO_FILES
expect_eq "demo: the pool lost no block (xrun_alloc)" "$REPLY" 0
# shellcheck disable=SC2086
sumkv verify_errors $AUDIO_FILES
expect_eq "demo: every sample the pool's streams played was right (verify_errors)" "$REPLY" 0
getkv "$POOL_STATS" alloc_failed
expect_eq "demo: the pool never returned NULL (alloc_failed)" "$REPLY" 0
getkv "$POOL_STATS" alloc_direct
expect_eq "demo: the pool never reached the page allocator (alloc_direct)" "$REPLY" 0

# The naive streams: order 2 loses at least half its blocks; each ran in
# the context it claims, and nothing stays in flight.
seen2=no
for f in $NAIVE_FILES; do
	getkv "$f" order
	o=$REPLY
	getkv "$f" allocs
	na=$REPLY
	getkv "$f" failed
	nf=$REPLY
	getkv "$f" periods
	np=$REPLY
	expect_gt "demo: naive order $o stream allocated" "$na" 0
	if [ "$o" = 2 ]; then
		seen2=yes
		expect_ge "demo: naive order 2 lost at least half its blocks (2 x $nf failed of $na)" \
			"$((2 * nf))" "$na"
	fi
	getkv "$f" hardirq
	nh=$REPLY
	if [ "$rt" = 1 ]; then
		expect_eq "demo: naive order $o never called the page allocator in hard IRQ (PREEMPT_RT)" \
			"$nh" 0
	else
		expect_eq "demo: naive order $o ran in hard IRQ (every period interrupt)" \
			"$nh" "$np"
	fi
	getkv "$f" in_flight
	expect_eq "demo: naive order $o gave every block back" "$REPLY" 0
done
[ "$seen2" = yes ] || not_ok "demo: a naive order-2 stream ran (orders $NAIVE_ORDERS)"

# ------------------------------------------------------ labyrinth released ---
check "demo: rmmod atomic_alloc_naive" rmmod atomic_alloc_naive
echo release >"$LAB/control"
expect_eq "demo: the labyrinth holds no page after its release (pages_held)" \
	"$(dbg_get "$LAB/status" pages_held)" 0
say ""
say "/proc/buddyinfo after the release:"
buddyinfo released

# ------------------------------------------------------- through the card ---
# aplay plays the WAV on hw:AtomicAlloc,0 while arecord captures
# hw:AtomicAlloc,1; each period's buffer comes from the substream's pool in
# the hard-IRQ period interrupt.  A ring of two seconds and wake-ups every
# 20 ms of audio, as the stock-kernel checks do under emulation; a run that
# failed with timing trouble (a host that stalled the guest) runs once more.
alsa_buf=393216
say ""
say "through the sound card: aplay $ALSA_WAV.wav on hw:$AA_ALSA_CARD,0, arecord on" \
	"hw:$AA_ALSA_CARD,1, $ALSA_PERIOD-frame periods"
aa_alsa_loop "$ALSA_WAV" "$ALSA_PERIOD" "$alsa_buf" 0 20000 >/tmp/alsa_demo
alsa_rc=$?
alsa_runs=1
if [ "$alsa_rc" -ne 0 ] && aa_alsa_late /tmp/alsa_demo; then
	say "  timing trouble under emulation; once more"
	aa_alsa_loop "$ALSA_WAV" "$ALSA_PERIOD" "$alsa_buf" 0 20000 >/tmp/alsa_demo
	alsa_rc=$?
	alsa_runs=2
fi
sed "s/^/DEMOALSA /" /tmp/alsa_demo
echo "DEMOALSA alsa_runs: $alsa_runs"
for _k in pool_buffer_bytes pool_buffers_per_page pool_bytes_per_cpu; do
	echo "DEMOALSA alsa_$_k: $(aa_alsa_stat pcm0p 0 "$_k")"
done
say "  played $(dbg_get /tmp/alsa_demo alsa_bytes_played) bytes, captured" \
	"$(dbg_get /tmp/alsa_demo alsa_bytes_captured) (after" \
	"$(dbg_get /tmp/alsa_demo alsa_leading_silence_bytes) bytes of leading" \
	"silence), match: $(dbg_get /tmp/alsa_demo alsa_match), ALSA xruns:" \
	"$(dbg_get /tmp/alsa_demo alsa_xruns)"
# The capture is in RAM (the initramfs): give it back before the memory
# check at the end.
rm -f /tmp/aa_alsa_capture.raw /tmp/aa_alsa_aplay.err /tmp/aa_alsa_arecord.err
if [ "$alsa_rc" -eq 0 ]; then
	ok "demo: the card played $ALSA_WAV back bit for bit, no xrun, no allocation from the page allocator"
else
	not_ok "demo: the card played $ALSA_WAV back bit for bit: $(grep -E '^alsa_(match|xruns|xrun_alloc|pool_alloc_direct|error):' /tmp/alsa_demo | tr '\n' ' ')"
fi

# ----------------------------------------------------------------- unload ---
check "demo: rmmod atomic_alloc_audio" rmmod atomic_alloc_audio
expect_eq "demo: atomic_alloc holds no page once the device is gone (pages_held)" \
	"$(pages_held)" 0
check "demo: rmmod atomic_alloc_labyrinth" rmmod atomic_alloc_labyrinth
dmesg_mark
check "demo: rmmod atomic_alloc" rmmod atomic_alloc
if dmesg_new | grep -q "atomic_alloc: unloaded, all pages returned"; then
	ok "demo: atomic_alloc returned every page at unload"
else
	not_ok "demo: atomic_alloc returned every page at unload"
fi
used_after=$(settled_used_kb)
echo "DEMOMEM used_before_kb=$used_before used_after_kb=$used_after"
grew=$((used_after - used_before))
[ "$grew" -ge 0 ] || grew=0
expect_le "demo: used memory back to within 4 MiB of before the demo ($used_before -> $used_after kB)" \
	"$grew" 4096
aa_done

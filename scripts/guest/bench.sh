#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest scenario "bench" (busybox sh, run by /init as /scenario.sh; made by
# scripts/bench.sh).  Two modes, chosen by the first argument or by
# aa_bench=quick|full on the kernel command line (default full):
#
#   quick  load atomic_alloc_bench.ko with quick=1 (every method, every
#          context, 1024 pairs each; refill and wake-up tests), print its
#          self-check, build and check a labyrinth, unload, check that every
#          page went back.  "ok - bench: ..." / "not ok - ..." lines.
#   full   the benchmark of scripts/bench.sh: quiet heap, refill capacity,
#          labyrinth, stream on the labyrinth, refill on the labyrinth.
#          Machine-readable lines start with "B" (BENCH, BHIST, BLAB, ...);
#          scripts/bench-report.py turns them into tables and plots.
#
# Command-line knobs (full mode): aa_bench_samples=N (pairs per method and
# context), aa_bench_stream=N (period interrupts over all streams),
# aa_bench_stream_timeout=S, aa_bench_scenarios=quiet,refill,labyrinth,stream
# (which to run; labyrinth is built when any of the last two runs).

# shellcheck source=scripts/guest/lib.sh
. /lib.sh

BENCH=/sys/kernel/debug/atomic_alloc_bench
LAB=/sys/kernel/debug/atomic_alloc_labyrinth
# The audio device's files (control, stream<N>/) and its pool's stats:
# both in atomic_alloc/audio/ today; find_audio also finds the device's own
# directory once it has one (the ALSA card).
AUDIO_DEV=$DBG/audio
AUDIO_POOL=$DBG/audio/stats
find_audio() {
	for _d in "$DBG/audio" /sys/kernel/debug/atomic_alloc_audio*; do
		if [ -d "$_d/stream0" ]; then
			AUDIO_DEV=$_d
			break
		fi
	done
	[ -r "$AUDIO_DEV/stats" ] && dbg_get "$AUDIO_DEV/stats" alloc_direct >/dev/null &&
		AUDIO_POOL=$AUDIO_DEV/stats && return 0
	for _f in "$DBG"/*/stats; do
		dbg_get "$_f" alloc_direct >/dev/null && AUDIO_POOL=$_f
	done
	return 0
}
STREAMS=4
# 192 kHz, 24 bit; see scripts/bench.sh for why 8 channels and order 0.
AUDIO_ARGS="rate=192000 channels=8 format=s24_le period_frames=0 streams=$STREAMS"

cmdline=" $(cat /proc/cmdline) "
# arg NAME DEFAULT: the value of NAME=... on the kernel command line.
arg() {
	_v=$(echo "$cmdline" | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}

MODE=${1:-$(arg aa_bench full)}
SAMPLES=$(arg aa_bench_samples 200000)
STREAM_IRQS=$(arg aa_bench_stream 1000000)
STREAM_TIMEOUT=$(arg aa_bench_stream_timeout 540)
SCENARIOS=",$(arg aa_bench_scenarios quiet,refill,labyrinth,stream),"

uptime_s() { cut -d' ' -f1 /proc/uptime; }
T0=$(uptime_s)
# step NAME: print the time since the previous step.
TPREV=$T0
step() {
	_now=$(uptime_s)
	echo "BTIME step=$1 t=$_now since_prev=$(echo "$_now $TPREV" | awk '{printf "%.1f", $1 - $2}')"
	TPREV=$_now
}

has() {
	case $SCENARIOS in *",$1,"*) return 0 ;; esac
	return 1
}

ctl() {
	echo "$*" >"$BENCH/control"
}

# flush: print what the module has to say and forget it.
flush() {
	cat "$BENCH/output"
	ctl clear
}

buddy() {
	sed "s/^/BBUDDY when=$1 /" /proc/buddyinfo
}

# code: the code bytes of the fast paths (BCODEFN, BCODE lines), one
# single-stepped pair of each pool method (BTRACE, BTRACEIP) and the
# kallsyms lines that name the call targets (BKSYM), for scripts/aa_insn.py
# on the host.
code() {
	ctl code
	flush
	grep -E ' (__x86_return_thunk|__fentry__|irq_work_queue|_?_?page_pool_[a-z_]*|__SCT__(preempt_schedule|preempt_schedule_notrace|might_resched)|preempt_schedule[a-z_]*|__x86_indirect_thunk_[a-z0-9]*|__folio_put|__put_devmap_managed_folio_refs)$|\[atomic_alloc(_bench)?\]$' \
		/proc/kallsyms | sed 's/^/BKSYM /'
}

# high_order_free: blocks of order >= 1 in /proc/buddyinfo, all zones.
high_order_free() {
	awk '{ for (i = 6; i <= NF; i++) n += $i } END { print n + 0 }' /proc/buddyinfo
}

# build_labyrinth: fragment memory (atomic_alloc_labyrinth.ko, driven through
# the benchmark so that its BLAB lines land in the output).  Watermark
# boosting is turned off first: the labyrinth pins memory that no reclaim
# can free, so a boosted min watermark would only wake the OOM killer.
build_labyrinth() {
	echo "BLABNOTE watermark_boost_factor=$(cat /proc/sys/vm/watermark_boost_factor) -> 0, min_free_kbytes=$(cat /proc/sys/vm/min_free_kbytes)"
	echo 0 >/proc/sys/vm/watermark_boost_factor
	ctl labyrinth build
}

load_core() {
	if insmod "$MODDIR/atomic_alloc.ko"; then
		ok "insmod atomic_alloc"
	else
		not_ok "insmod atomic_alloc"
		aa_done
		exit 1
	fi
	# hold_sweep=0: the hold keeps only the free-memory band, as the
	# benchmark's labyrinth always did; the tables sweep on their own CPU
	# before every round, and the other scenarios are the pool's alone.
	if insmod "$MODDIR/atomic_alloc_labyrinth.ko" hold_sweep=0; then
		ok "bench: insmod atomic_alloc_labyrinth hold_sweep=0"
	else
		not_ok "bench: insmod atomic_alloc_labyrinth hold_sweep=0"
		rmmod atomic_alloc
		aa_done
		exit 1
	fi
}

unload_all() {
	module_loaded atomic_alloc_bench && rmmod atomic_alloc_bench
	if module_loaded atomic_alloc_audio; then
		echo stop >"$AUDIO_DEV/control" 2>/dev/null
		rmmod atomic_alloc_audio
	fi
	expect_eq "bench: pages_held == 0 with every pool gone" "$(pages_held)" 0
	if module_loaded atomic_alloc_labyrinth; then
		echo release >"$LAB/control"
		expect_eq "bench: the labyrinth holds no page after its release" \
			"$(dbg_get "$LAB/status" pages_held)" 0
		check "bench: rmmod atomic_alloc_labyrinth" rmmod atomic_alloc_labyrinth
	fi
	dmesg_mark
	check "bench: rmmod atomic_alloc" rmmod atomic_alloc
	if dmesg_new | grep -q "atomic_alloc: unloaded, all pages returned"; then
		ok "bench: every page returned to the page allocator"
	else
		not_ok "bench: every page returned to the page allocator"
	fi
}

# ---------------------------------------------------------------- quick ----
if [ "$MODE" = quick ]; then
	load_core
	if ! insmod "$MODDIR/atomic_alloc_bench.ko" quick=1; then
		not_ok "bench: insmod atomic_alloc_bench quick=1"
		unload_all
		aa_done
		exit 1
	fi
	ok "bench: insmod atomic_alloc_bench quick=1"
	# The module's own checks: count them like ours.
	cat "$BENCH/selftest" >/tmp/selftest
	grep -v '^ok - \|^not ok - ' /tmp/selftest
	while read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		esac
	done </tmp/selftest
	expect_gt "bench: self-check printed its checks" \
		"$(grep -c '^ok - \|^not ok - ' /tmp/selftest)" 0
	code >/tmp/code
	expect_gt "bench: code of the fast paths printed (atomic_alloc's 2, page_pool's 2 or 3)" \
		"$(grep -c '^BCODEFN ' /tmp/code)" 3
	expect_eq "bench: no fast-path function skipped by the code dump" \
		"$(grep -c '^BCODESKIP ' /tmp/code)" 0
	expect_gt "bench: one pair of each pool method single-stepped (BTRACE)" \
		"$(grep -c '^BTRACE ' /tmp/code)" 5
	expect_eq "bench: every traced pair succeeded, within the trace buffer" \
		"$(grep '^BTRACE ' /tmp/code | grep -c -v ' ok=1 n=[1-9][0-9]* overflow=0$')" 0
	grep '^BTRACE ' /tmp/code
	expect_gt "bench: kallsyms names the call targets (atomic_alloc's, the return thunk)" \
		"$(grep -c '^BKSYM ' /tmp/code)" 10

	echo 1024 >/sys/module/atomic_alloc_bench/parameters/samples
	if build_labyrinth; then
		ok "bench: labyrinth built"
		flush >/tmp/lab
		grep '^BLAB' /tmp/lab
		bad=$(awk '/^BLAB when=built/ { for (i = 1; i <= NF; i++)
			if ($i ~ /^order1plus_blocks=/) { split($i, a, "="); n += a[2]; seen++ } }
			END { print seen ? n : "none" }' /tmp/lab)
		expect_eq "bench: labyrinth leaves no free block of order >= 1 (module's count)" "$bad" 0
		buddy quick
		ctl labyrinth report
		flush | grep '^BLAB'
		buddy quick2
		if ctl run quicklab; then
			ok "bench: table ran on the labyrinth"
		else
			not_ok "bench: table ran on the labyrinth"
		fi
		flush >/tmp/lab
		aafail=$(awk '/^BENCH/ && / method=atomic_alloc / { for (i = 1; i <= NF; i++)
			if ($i ~ /^fail=/) { split($i, a, "="); n += a[2]; seen++ } }
			END { print seen ? n : "none" }' /tmp/lab)
		expect_eq "bench: atomic_alloc never failed on the labyrinth" "$aafail" 0
		check "bench: labyrinth released" ctl labyrinth release
	else
		not_ok "bench: labyrinth built"
	fi
	unload_all
	aa_done
	exit $?
fi

# ----------------------------------------------------------------- full ----
echo "BGUEST kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) mem_kb=$(meminfo MemTotal) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) preempt=$(uname -v | grep -o 'PREEMPT[_A-Z]*' | head -n 1) samples=$SAMPLES stream_irqs=$STREAM_IRQS"
load_core
have_audio=no
if has stream; then
	# shellcheck disable=SC2086 # one word per parameter
	if [ -f "$MODDIR/atomic_alloc_audio.ko" ] &&
		insmod "$MODDIR/atomic_alloc_audio.ko" $AUDIO_ARGS autostart=0; then
		# Loaded before the labyrinth: its pool fills on a quiet heap,
		# as a driver's would at probe.
		have_audio=yes
		ok "bench: insmod atomic_alloc_audio $AUDIO_ARGS"
		find_audio
		sed 's/^/BAUDIOPOOL /' "$AUDIO_POOL" 2>/dev/null
	else
		not_ok "bench: insmod atomic_alloc_audio $AUDIO_ARGS"
		echo "BSTREAMSKIP why=atomic_alloc_audio.ko missing or refused to load"
	fi
fi
if ! insmod "$MODDIR/atomic_alloc_bench.ko" samples="$SAMPLES"; then
	not_ok "bench: insmod atomic_alloc_bench"
	unload_all
	aa_done
	exit 1
fi
ok "bench: insmod atomic_alloc_bench samples=$SAMPLES"
flush
code
step load

if has quiet; then
	buddy quiet
	if ctl run quiet; then ok "bench: quiet heap table"; else not_ok "bench: quiet heap table"; fi
	ctl pools quiet
	flush
	step quiet
fi

if has refill; then
	if ctl refill quiet; then ok "bench: refill capacity (quiet heap)"; else not_ok "bench: refill capacity (quiet heap)"; fi
	flush
	step refill-quiet
fi

if has labyrinth || has stream; then
	buddy before-labyrinth
	if build_labyrinth; then
		ok "bench: labyrinth built"
	else
		not_ok "bench: labyrinth built"
	fi
	flush
	buddy labyrinth
	echo "BLABCHECK when=built high_order_free=$(high_order_free)"
	step labyrinth-build
fi

if has labyrinth; then
	if ctl run labyrinth; then ok "bench: labyrinth table"; else not_ok "bench: labyrinth table"; fi
	ctl pools labyrinth
	ctl labyrinth report
	flush
	buddy after-labyrinth-table
	echo "BLABCHECK when=after-table high_order_free=$(high_order_free)"
	step labyrinth
fi

if has stream && [ "$have_audio" = yes ]; then
	echo start >"$AUDIO_DEV/control"
	tstart=$(uptime_s)
	total=0
	while :; do
		sleep 5
		total=0
		i=0
		while [ $i -lt $STREAMS ]; do
			p=$(dbg_get "$AUDIO_DEV/stream$i/stats" periods)
			total=$((total + ${p:-0}))
			i=$((i + 1))
		done
		now=$(uptime_s)
		el=$(echo "$now $tstart" | awk '{printf "%d", $1 - $2}')
		echo "BSTREAMPROGRESS t=$el periods=$total"
		[ "$total" -ge "$STREAM_IRQS" ] && break
		[ "$el" -ge "$STREAM_TIMEOUT" ] && break
	done
	echo stop >"$AUDIO_DEV/control"
	tend=$(uptime_s)
	echo "BSTREAM key=elapsed_s value=$(echo "$tend $tstart" | awk '{printf "%.1f", $1 - $2}')"
	echo "BSTREAM key=target_periods value=$STREAM_IRQS"
	i=0
	while [ $i -lt $STREAMS ]; do
		sed "s/^\([a-z_]*\): */BSTREAM stream=$i key=\1 value=/" "$AUDIO_DEV/stream$i/stats"
		sed "s/^/BSHIST stream=$i kind=handler /" "$AUDIO_DEV/stream$i/handler_ns"
		sed "s/^/BSHIST stream=$i kind=alloc /" "$AUDIO_DEV/stream$i/alloc_ns"
		i=$((i + 1))
	done
	sed 's/^/BAUDIOPOOL /' "$AUDIO_POOL" 2>/dev/null
	ctl labyrinth report
	flush
	buddy after-stream
	echo "BLABCHECK when=after-stream high_order_free=$(high_order_free)"
	if [ "$total" -ge "$STREAM_IRQS" ]; then
		ok "bench: stream reached $STREAM_IRQS period interrupts ($total)"
	else
		not_ok "bench: stream reached $STREAM_IRQS period interrupts (only $total in ${STREAM_TIMEOUT}s)"
	fi
	step stream
fi

if has refill && { has labyrinth || has stream; }; then
	if ctl refill labyrinth; then ok "bench: refill capacity (labyrinth)"; else not_ok "bench: refill capacity (labyrinth)"; fi
	ctl labyrinth report
	flush
	step refill-labyrinth
fi

ctl labyrinth release
flush
buddy released
unload_all
step unload
echo "BTIME step=total t=$(uptime_s) since_prev=$(echo "$(uptime_s) $T0" | awk '{printf "%.1f", $1 - $2}')"
aa_done

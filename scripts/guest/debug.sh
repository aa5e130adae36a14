# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest scenario "debug" (scripts/debug.sh): runs in the project's own debug
# kernel (PREEMPT_RT, lockdep, KASAN, kmemleak, DMA-API debug, object
# debugging, fail_page_alloc, two NUMA nodes) where atomic_alloc is built as
# modules.  Every kernel report those checkers print fails the run on the
# host (scan-log.sh); this script adds the checks it can make itself.
#
#   1. the KUnit suites, run by loading their modules (KTAP on the console);
#   2. page-allocator failures (fail_page_alloc, limited to atomic_alloc's
#      own call stacks) at 10%, 50% and 100% while four streams run and
#      CPUs 1-3 come back online with empty arrays, then recovery once
#      injection stops;
#   3. CPUs 1-3 taken offline and back while streaming;
#   4. unload under load: atomic_alloc refuses to go while a user holds it,
#      the audio module unloads mid-stream, 100 load/unload cycles;
#   5. hostile writes to the debugfs control file;
#   6. page_owner against atomic_alloc's own count while streaming, and a
#      kmemleak scan and a page_owner count after everything is unloaded.
# Each step prints a line "AA-REL <scenario>|<injected>|<counted>|<lost>"
# that the host turns into the reliability table.
. /lib.sh

A=$AUDIO
FPA=/sys/kernel/debug/fail_page_alloc

# Reliability rows are printed at the end, when the pages lost are known:
# a row whose last field is "@LOST@" gets the pages atomic_alloc still held
# after every module was unloaded.
REL=/tmp/rel
: >$REL
rel() {
	echo "$1|$2|$3|$4" >>$REL
}

# owner_pages loaded|unloaded: base pages still allocated, as page_owner
# counts them per allocation call stack (page_owner=on), through stacks
# with a frame of atomic_alloc.ko ("loaded": it prints "[atomic_alloc]")
# or a frame in the module area that no longer resolves ("unloaded": code
# of a module that is gone; only this project's modules are ever unloaded
# here).  Left out: slab and percpu backing pages, which outlive the
# objects whose allocation caused them (objects are kmemleak's job), and
# the stack depot's pools, which KASAN, kmemleak and page_owner fill with
# the stacks of whatever code allocates (kernel metadata, never freed),
# and kernel page tables: the PTE pages vmalloc() creates for its area
# (the ALSA suite's snd_pcm_lib_malloc_pages() does) stay when the area is
# vfree()d, on every kernel, whoever caused them.
PO=/sys/kernel/debug/page_owner_stacks/show_stacks
owner_pages() {
	awk -v want="$1" -v show="${2:-}" '
		/^nr_base_pages:/ {
			if (hit && !skip) {
				n += $2
				if (show)
					printf "%s%s\n", blk, $0
			}
			hit = skip = 0
			blk = ""
			next
		}
		{ blk = blk $0 "\n" }
		/allocate_slab|new_slab|pcpu_|stack_depot_save|__pte_alloc_kernel|__pmd_alloc|__pud_alloc|__p4d_alloc/ { skip = 1 }
		want == "loaded" && / \[atomic_alloc( [0-9a-f]+)?\]$/ { hit = 1 }
		want == "unloaded" && /^ *0xffffffff[c-f][0-9a-f]+$/ { hit = 1 }
		END { if (!show) print n + 0 }' $PO
}

check "two NUMA nodes" [ -d /sys/devices/system/node/node1 ]
# Forget what kmemleak suspected during boot: section 6 judges what is new.
echo clear >/sys/kernel/debug/kmemleak
check "insmod atomic_alloc" insmod $MODDIR/atomic_alloc.ko
check "insmod atomic_alloc_audio (no stream)" insmod $MODDIR/atomic_alloc_audio.ko

# --- 1. KUnit at module load -------------------------------------------------
for t in atomic_alloc_kunit atomic_alloc_buf_kunit atomic_alloc_nmi_kunit \
	atomic_alloc_dma_ring_kunit atomic_alloc_audio_irq_kunit atomic_alloc_audio_pcm_kunit; do
	check "insmod $t (runs its suite)" insmod $MODDIR/$t.ko
	rmmod $t
done
rmmod atomic_alloc_audio
expect_eq "pages held after the KUnit suites" "$(pages_held)" 0

# --- 2. page-allocator failures while streaming ------------------------------
check "insmod atomic_alloc_audio autostart=1 streams=4" \
	insmod $MODDIR/atomic_alloc_audio.ko autostart=1 streams=4
sleep 3
expect_eq "clean start: xrun_alloc" "$(sum_streams xrun_alloc)" 0

# Only allocations whose call stack passes through atomic_alloc.ko fail.
set -- $(grep '^atomic_alloc ' /proc/modules)
base=$6 size=$2
echo "fail_page_alloc limited to atomic_alloc at $base + $size"
echo N >$FPA/ignore-gfp-wait
echo N >$FPA/ignore-gfp-highmem
echo 0 >$FPA/min-order
echo 0 >$FPA/verbose
echo 1 >$FPA/interval
echo -1 >$FPA/times
echo "$base" >$FPA/require-start
printf '0x%x\n' $((base + size)) >$FPA/require-end
cpus_online() {
	for _c in 1 2 3; do
		echo "$1" >/sys/devices/system/cpu/cpu$_c/online ||
			not_ok "echo $1 > cpu$_c/online"
	done
}

# CPUs 1-3 at their target (no stream allocates there after they came
# back: the streams' timers moved when the CPUs went away).
cpus_full() {
	_want=$(pool cpu_buffers)
	for _c in 1 2 3; do
		[ "$(pool "cpu${_c}_level")" = "$_want" ] || return 1
	done
}

wait_cpus_full() {
	_i=0
	while [ $_i -lt 100 ]; do
		cpus_full && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

for p in 10 50 100; do
	# Demand for new pages while the streams run: CPUs 1-3 go away (their
	# buffers go to the reserve, the shrinker returns that surplus) and
	# come back under injection, so their arrays must be filled from the
	# page allocator, at bring-up and then by the refill worker.
	cpus_online 0
	echo 2 >/proc/sys/vm/drop_caches
	f0=$(pool refill_failed) x0=$(sum_streams xrun_alloc) p0=$(sum_streams periods)
	echo "$p" >$FPA/probability
	cpus_online 1
	sleep 3
	f1=$(pool refill_failed) x1=$(sum_streams xrun_alloc) p1=$(sum_streams periods)
	expect_gt "fail_page_alloc ${p}%: refill failures counted" $((f1 - f0)) 0
	expect_gt "fail_page_alloc ${p}%: streams kept playing" $((p1 - p0)) 0
	expect_eq "fail_page_alloc ${p}%: no corrupt sample" "$(sum_streams verify_errors)" 0
	rel "page allocator fails" "fail_page_alloc ${p}%, cpu1-3 back online" \
		"refill_failed +$((f1 - f0)), xrun_alloc +$((x1 - x0)), verify_errors $(sum_streams verify_errors)" \
		"@LOST@"
done
# Recovery.  The worker refills a CPU from the surplus that remote frees
# pile up before it asks the page allocator, which could hide whether the
# page allocator works again.  So, while it still fails: the streams stop
# (no more frees), cpu1-3 go away and come back (their buffers go to the
# reserve) and the shrinker takes every buffer above the reserve's target;
# cpu1-3 come back empty.  What they lack must then come from new pages.
echo stop >"$A/control"
sleep 1
cpus_online 0
echo 2 >/proc/sys/vm/drop_caches
cpus_online 1
sleep 1
want=$(pool cpu_buffers)
short=0
for c in 1 2 3; do
	short=$((short + want - $(pool "cpu${c}_level")))
done
expect_gt "under injection cpu1-3 lack buffers the worker could not get" "$short" 0
r0=$(pool refilled)
echo 0 >$FPA/probability
check "injection stopped: the worker refills cpu1-3 to target" wait_cpus_full
r1=$(pool refilled)
expect_ge "injection stopped: what cpu1-3 lacked came from new pages (refilled)" \
	$((r1 - r0)) "$short"
echo start >"$A/control"
f0=$(pool refill_failed) x0=$(sum_streams xrun_alloc)
sleep 3
f1=$(pool refill_failed) x1=$(sum_streams xrun_alloc)
expect_eq "injection stopped: no new refill failure" $((f1 - f0)) 0
expect_eq "injection stopped: stream clean again (new xrun_alloc)" $((x1 - x0)) 0
rel "recovery" "injection stopped" \
	"cpu1-3 short by $short, refilled +$((r1 - r0)); then xrun_alloc +$((x1 - x0)) in 3 s" "@LOST@"

# --- 3. CPU hotplug while streaming -----------------------------------------
p0=$(sum_streams periods)
cycles=0
for round in 1 2 3; do
	for c in 1 2 3; do
		echo 0 >/sys/devices/system/cpu/cpu$c/online || not_ok "offline cpu$c"
		sleep 0.3
		echo 1 >/sys/devices/system/cpu/cpu$c/online || not_ok "online cpu$c"
		cycles=$((cycles + 1))
	done
done
sleep 1
p1=$(sum_streams periods)
expect_gt "streams kept running through $cycles CPU offline/online cycles" $((p1 - p0)) 0
expect_eq "hotplug: no corrupt sample" "$(sum_streams verify_errors)" 0
rel "CPU hotplug while streaming" "$cycles offline/online of cpu1-3" \
	"periods +$((p1 - p0)), verify_errors $(sum_streams verify_errors)" \
	"@LOST@"

# --- 5. hostile debugfs writes -----------------------------------------------
for junk in "startx" "stop now" "$(printf '\001\002')" "9999999999999999999"; do
	if printf '%s' "$junk" >"$A/control" 2>/dev/null; then
		not_ok "control rejects '$junk'"
	else
		ok "control rejects '$junk'"
	fi
done
check "control still reads running" grep -qx running "$A/control"

# --- 6a. page_owner agrees with pages_held ----------------------------------
# Two independent counts of the same pages: the kernel's page_owner (every
# page allocated through atomic_alloc.ko's code and not yet freed) and the
# pool's own pages_held.  Streams stopped so that neither moves; a refill
# finishing between the reads makes the pair unequal, so it is read again.
echo stop >"$A/control"
sleep 1
for try in 1 2 3; do
	h0=$(pages_held)
	po=$(owner_pages loaded)
	[ "$(pages_held)" = "$h0" ] && break
done
expect_gt "pages held by the stopped streams' pool" "$h0" 0
expect_eq "page_owner: pages allocated through atomic_alloc.ko = its pages_held" "$po" "$h0"
echo start >"$A/control"
rel "independent page count" "page_owner=on, streams stopped" \
	"page_owner $po pages = pages_held $h0" "-"

# --- 4. unload under load ---------------------------------------------------
if rmmod atomic_alloc 2>/dev/null; then
	not_ok "rmmod atomic_alloc refused while atomic_alloc_audio uses it"
else
	ok "rmmod atomic_alloc refused while atomic_alloc_audio uses it"
fi
check "rmmod atomic_alloc_audio mid-stream" rmmod atomic_alloc_audio
expect_eq "pages held after unloading mid-stream" "$(pages_held)" 0
rel "unload under load" "rmmod while streaming / while in use" \
	"rmmod atomic_alloc refused; audio unloaded" "$(pages_held) pages"

i=0 fails=0
while [ $i -lt 100 ]; do
	insmod $MODDIR/atomic_alloc_audio.ko autostart=1 streams=2 || fails=$((fails + 1))
	rmmod atomic_alloc_audio || fails=$((fails + 1))
	i=$((i + 1))
	[ $i -eq 10 ] && m10=$(used_kb)
done
m100=$(used_kb)
expect_eq "100 load/unload cycles without error" "$fails" 0
expect_eq "pages held after 100 cycles" "$(pages_held)" 0
# Used memory is reported, not judged, on this kernel: it grows by a few MB
# over 100 cycles whatever the module does (every load puts the module at
# new addresses, so KASAN and page_owner save new stacks in the stack
# depot, and the quarantine holds freed objects).  The stock kernels judge
# it (guest/check.sh); here leaks are judged exactly: pages_held above,
# page_owner and kmemleak after the last rmmod below.
echo "used memory after 10 cycles: $m10 kB, after 100: $m100 kB"
rel "load/unload cycles" "100 x insmod autostart + rmmod" \
	"used memory $m10 -> $m100 kB (not judged here)" "$(pages_held) pages"

held=$(pages_held)
check "rmmod atomic_alloc" rmmod atomic_alloc
sed "s/@LOST@/$held pages/; s/^/AA-REL /" $REL

# --- 6. page_owner and kmemleak after everything is unloaded ----------------
gone=$(owner_pages unloaded)
[ "$gone" = 0 ] || owner_pages unloaded show | head -60
expect_eq "page_owner: no page allocated by an unloaded module's code" "$gone" 0
echo "AA-REL page owner after rmmod|page_owner=on|$gone pages from unloaded modules' code|$gone pages"
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	# Objects leaked by a module that is gone: a backtrace frame that
	# names atomic_alloc or, unloaded, no longer resolves ("0xffff...").
	# Anything kmemleak suspected before the first insmod was cleared.
	kml() {
		awk -v show="${1:-}" '
			function end() { if (hit) { n++; if (show) printf "%s", blk } hit = 0; blk = "" }
			/^unreferenced object/ { end() }
			{ blk = blk $0 "\n" }
			/atomic_alloc|\] 0xffffffff[c-f][0-9a-f]+$/ { hit = 1 }
			END { end(); if (!show) print n + 0 }' /sys/kernel/debug/kmemleak
	}
	leaks=$(kml)
	[ "$leaks" = 0 ] || kml show | head -60
	expect_eq "leak detector scan: no object of an unloaded module after unload" "$leaks" 0
	echo "AA-REL leak detector after rmmod|kmemleak cleared at boot, two scans|$leaks objects from our modules' code|-"
else
	not_ok "leak detector not available (/sys/kernel/debug/kmemleak)"
fi

aa_done

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest scenario "pressure" (scripts/pressure.sh): a guest with little RAM.
# Streams leave surplus buffers in the shared reserve when they stop; the
# shrinker (driven here by drop_caches, which calls every shrinker) must
# return that surplus and never go below the guaranteed reserve.  Then a
# user-space hog pins most of the remaining memory (tmpfs, no swap) and the
# stream must keep running without an allocation xrun.
. /lib.sh

A=$AUDIO

echo "MemTotal: $(meminfo MemTotal) kB"
check "insmod atomic_alloc" insmod $MODDIR/atomic_alloc.ko
check "insmod atomic_alloc_audio autostart=1 streams=2" \
	insmod $MODDIR/atomic_alloc_audio.ko autostart=1 streams=2
sleep 3
check "stop the streams (their buffers come back)" sh -c "echo stop >$A/control"
sleep 1

target=$(pool shared_buffers)
before=$(pool shared_level)
released0=$(pool released)
cat "$A/pool/stats"
expect_gt "stopped streams left a surplus above the reserve for the shrinker" "$before" "$target"
echo 2 >/proc/sys/vm/drop_caches
after=$(pool shared_level)
released1=$(pool released)
expect_eq "shrinker returned the surplus (shared_level down to shared_buffers)" "$after" "$target"
expect_eq "shrinker released exactly the surplus" $((released1 - released0)) $((before - target))
echo 2 >/proc/sys/vm/drop_caches
expect_eq "shrinker never goes below the reserve" "$(pool shared_level)" "$target"
row1="memory pressure|drop_caches (all shrinkers)|shared $before -> $after (target $target), released +$((released1 - released0))"

# A hog: most of what is left, pinned in tmpfs (there is no swap).
free_kb=$(meminfo MemAvailable)
hog_mb=$((free_kb * 8 / 10 / 1024))
mkdir -p /hog
mount -t tmpfs -o size=$((hog_mb + 8))m tmpfs /hog
dd if=/dev/zero of=/hog/fill bs=1M count=$hog_mb 2>/dev/null
echo "hog: $hog_mb MiB pinned, MemAvailable now $(meminfo MemAvailable) kB"
x0=$(sum_streams xrun_alloc) p0=$(sum_streams periods)
check "restart the streams under the hog" sh -c "echo start >$A/control"
sleep 5
x1=$(sum_streams xrun_alloc) p1=$(sum_streams periods)
expect_eq "stream under memory pressure: no allocation xrun" $((x1 - x0)) 0
expect_eq "stream under memory pressure: no corrupt sample" "$(sum_streams verify_errors)" 0
expect_gt "stream under memory pressure: periods played" $((p1 - p0)) 0
# Stopped again, every buffer is back; the shrinker, now with the hog
# pinning memory, still trims to the guaranteed reserve and no further.
check "stop the streams under the hog" sh -c "echo stop >$A/control"
sleep 1
echo 2 >/proc/sys/vm/drop_caches
expect_eq "under the hog the shrinker keeps exactly the guaranteed reserve" \
	"$(pool shared_level)" "$target"
row2="memory pressure|${hog_mb} MiB hog in a $(( $(meminfo MemTotal) / 1024 )) MiB guest|periods +$((p1 - p0)), xrun_alloc +$((x1 - x0)), verify_errors $(sum_streams verify_errors), shared $(pool shared_level) (target $target)"
rm -f /hog/fill
umount /hog

check "rmmod atomic_alloc_audio" rmmod atomic_alloc_audio
held=$(pages_held)
expect_eq "pages held after unload" "$held" 0
echo "AA-REL $row1|$held pages"
echo "AA-REL $row2|$held pages"
check "rmmod atomic_alloc" rmmod atomic_alloc
aa_done

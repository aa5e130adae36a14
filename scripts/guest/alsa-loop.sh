#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# aa-initramfs: alsa
#
# Guest scenario "alsa-loop" (busybox sh): load the pool and the card and
# run aa_alsa_loop (scripts/guest/alsa.sh) for each loop named on the
# kernel command line, aa.loop=NAME:PERIOD:BUFFER[:AVAIL_US][,...]
# (default: 10 s of 192 kHz S24_3LE stereo in 1024-frame periods).  The
# quick way to try the card on one stock kernel:
#
#   AA_KERNEL_ARGS=aa.loop=s24_3le_192k_2ch:32:393216 \
#	scripts/stock.sh 6.12 alsa-loop
#
# It is also the smallest example of a scenario that uses /alsa.sh: the
# "# aa-initramfs: alsa" line above makes scripts/mkinitramfs.sh add the
# ALSA tools, /alsa.sh and the test signals.

# shellcheck source=scripts/guest/lib.sh
. /lib.sh
# shellcheck source=scripts/guest/alsa.sh
. /alsa.sh

loops=$(sed -n 's/.*aa\.loop=\([^ ]*\).*/\1/p' /proc/cmdline)
loops=${loops:-s24_3le_192k_2ch:1024:393216}

check "insmod atomic_alloc" insmod "$MODDIR/atomic_alloc.ko"
check "insmod atomic_alloc_audio" insmod "$MODDIR/atomic_alloc_audio.ko"
for l in $(echo "$loops" | tr ',' ' '); do
	name=${l%%:*}
	rest=${l#*:}
	per=${rest%%:*}
	rest=${rest#*:}
	buf=${rest%%:*}
	avail=""
	[ "$rest" != "$buf" ] && avail=${rest#*:}
	aa_alsa_loop "$name" "$per" "$buf" 0 $avail >/tmp/loop
	rc=$?
	sed "s/^/$name\/$per: /" /tmp/loop
	if [ "$rc" -eq 0 ]; then
		ok "loop $name, $per-frame periods, $buf-frame ring"
	else
		not_ok "loop $name, $per-frame periods, $buf-frame ring"
	fi
done
check "rmmod atomic_alloc_audio" rmmod atomic_alloc_audio
expect_eq "pages_held after rmmod" "$(pages_held)" 0
check "rmmod atomic_alloc" rmmod atomic_alloc
aa_done

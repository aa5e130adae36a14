# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest functions for the AtomicAlloc sound card (busybox sh), installed as
# /alsa.sh.  Source /lib.sh first, then this file.
#
# Host side: a scenario that uses them carries the line
#
#   # aa-initramfs: alsa
#
# and scripts/mkinitramfs.sh then adds to its initramfs: aplay, arecord,
# speaker-test with their libraries and /usr/share/alsa, this file, and the
# test signals /alsa/NAME.wav with /alsa/NAME.info (scripts/alsa-files.sh:
# s24_3le_192k_2ch, s24_le_192k_2ch, s24_3le_48k_8ch, 10 s of white noise
# each, and s24_3le_192k_2ch_3s, 3 s).  The sound core the card needs (soundcore, snd, snd-timer,
# snd-pcm) is loaded by /init for every scenario.
#
# The main function:
#
#   aa_alsa_loop NAME [PERIOD_FRAMES [BUFFER_FRAMES [SUBDEVICE [AVAIL_US]]]]
#
# captures hw:AtomicAlloc,1,SUBDEVICE with arecord while aplay plays
# /alsa/NAME.wav on hw:AtomicAlloc,0,SUBDEVICE (periods of PERIOD_FRAMES,
# default 1024, in a ring of BUFFER_FRAMES, default 96 periods; with
# AVAIL_US both tools are woken only when that many microseconds of audio
# can be moved, aplay/arecord -A), compares
# what came back with the file, and prints "key: value" lines:
#
#   alsa_loop: NAME
#   alsa_format: S24_3LE              alsa_rate: 192000   alsa_channels: 2
#   alsa_period_frames: 1024          alsa_buffer_frames: 8192
#   alsa_bytes_played: 11520000       the WAV's sample bytes
#   alsa_bytes_captured: 12672000     what arecord wrote
#   alsa_leading_silence_bytes: N     zeros before the first played frame
#   alsa_match: yes                   every played byte came back, in order
#   alsa_xruns: 0                     ALSA xruns during the run (both ends:
#                                     the card's xrun_app counters, and
#                                     aplay/arecord's under/overrun reports)
#   alsa_xrun_alloc: 0                periods without a pool buffer (both)
#   alsa_gaps: 0                      times the capture end ran short of
#                                     the loop while the playback ran
#   alsa_timer_overruns: 0            periods the card's timers dropped
#   alsa_dma_late: N                  polls the simulated DMA engine (an
#                                     hrtimer on another CPU) missed, both
#                                     ends; under TCG, tens with 1024-frame
#                                     periods and thousands with 32-frame
#                                     ones are normal
#   alsa_dry_dma_late: no             yes when an end's pool ran dry while
#                                     its DMA engine missed at least as
#                                     many polls as the pool has buffers
#                                     per CPU (each poll is at least one
#                                     period): the engine held them
#   alsa_pool_alloc_direct: 0         pool allocations from the page
#                                     allocator (both pools; must stay 0)
#   alsa_notify_ns_p50: N             period interrupt to
#   alsa_notify_ns_p99: N               snd_pcm_period_elapsed(), playback
#   alloc_ns LO-HI: COUNT             one line per non-empty bucket of the
#                                     playback's in-IRQ allocation time (ns)
#
# It returns 0 when the bytes matched, there was no xrun of either kind,
# no allocation came from the page allocator and both tools exited 0.
# aa_alsa_late (below) tells a failure that came with timing trouble (an
# xrun, a gap, a dropped period: under emulation, a host that stalled the
# guest) from one that did not.
#
# The tools run SCHED_FIFO (chrt -f 20, when the initramfs has chrt), as
# audio applications do.

AA_ALSA_CARD=${AA_ALSA_CARD:-AtomicAlloc}
AA_ALSA_DBG=/sys/kernel/debug/atomic_alloc_audio
AA_ALSA_RT=""
command -v chrt >/dev/null 2>&1 && AA_ALSA_RT="chrt -f 20"

# aa_alsa_info NAME KEY: a key of /alsa/NAME.info.
aa_alsa_info() {
	sed -n "s/^$2: //p" "/alsa/$1.info"
}

# aa_alsa_stat DIR SUB KEY: a key of the card's debugfs DIR/subSUB/stats
# (DIR: pcm0p for playback, pcm1c for capture); "#none" when missing.
aa_alsa_stat() {
	dbg_get "$AA_ALSA_DBG/$1/sub$2/stats" "$3" || echo "#none"
}

# aa_alsa_sum SUB KEY: KEY of playback SUB plus KEY of capture SUB.
aa_alsa_sum() {
	_a=$(aa_alsa_stat pcm0p "$1" "$2")
	_b=$(aa_alsa_stat pcm1c "$1" "$2")
	if is_num "$_a" && is_num "$_b"; then
		echo $((_a + _b))
	else
		echo "#none"
	fi
}

# aa_alsa_card_number: the card's index (/proc/asound/<id> is a symlink to
# cardN), empty when the card is missing.
aa_alsa_card_number() {
	_l=$(readlink "/proc/asound/$AA_ALSA_CARD" 2>/dev/null) || return 1
	echo "${_l#card}"
}

# aa_alsa_wait_running DEV SUB: wait up to 10 s until the substream runs.
aa_alsa_wait_running() {
	_c=$(aa_alsa_card_number) || return 1
	_s=/proc/asound/card$_c/pcm$1/sub$2/status
	_i=0
	while [ $_i -lt 100 ]; do
		grep -q 'state: RUNNING' "$_s" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

aa_alsa_loop() {
	_n=$1
	_per=${2:-1024}
	_buf=${3:-$((_per * 96))}
	_sub=${4:-0}
	_avail=""
	[ -n "${5:-}" ] && _avail="-A $5"
	_w=/alsa/$_n.wav
	if [ ! -r "$_w" ] || [ ! -r "/alsa/$_n.info" ]; then
		echo "alsa_loop: $_n"
		echo "alsa_error: no $_w (is '# aa-initramfs: alsa' in the scenario?)"
		return 1
	fi
	_fmt=$(aa_alsa_info "$_n" format)
	_rate=$(aa_alsa_info "$_n" rate)
	_ch=$(aa_alsa_info "$_n" channels)
	_fb=$(aa_alsa_info "$_n" frame_bytes)
	_off=$(aa_alsa_info "$_n" data_offset)
	_len=$(aa_alsa_info "$_n" data_bytes)
	_secs=$(aa_alsa_info "$_n" seconds)
	_cap=/tmp/aa_alsa_capture.raw
	rm -f "$_cap"

	_xa0=$(aa_alsa_sum "$_sub" xrun_app)
	_xl0=$(aa_alsa_sum "$_sub" xrun_alloc)
	_to0=$(aa_alsa_sum "$_sub" timer_overruns)
	_lu0=$(aa_alsa_stat pcm1c "$_sub" loop_underruns)
	_dlp0=$(aa_alsa_stat pcm0p "$_sub" dma_overruns)
	_dlc0=$(aa_alsa_stat pcm1c "$_sub" dma_overruns)
	_xlp0=$(aa_alsa_stat pcm0p "$_sub" xrun_alloc)
	_xlc0=$(aa_alsa_stat pcm1c "$_sub" xrun_alloc)
	_pd0=$(aa_alsa_sum "$_sub" pool_alloc_direct)
	is_num "$_pd0" || _pd0=0	# no pool before the first hw_params

	# Capture first, for the whole file plus time to start and drain.
	# shellcheck disable=SC2086 # $_avail is empty or two words
	$AA_ALSA_RT arecord -q -D "hw:$AA_ALSA_CARD,1,$_sub" $_avail -t raw -f "$_fmt" \
		-r "$_rate" -c "$_ch" --period-size="$_per" \
		--buffer-size="$_buf" -s $((_rate * (_secs + 8))) "$_cap" \
		2>/tmp/aa_alsa_arecord.err &
	_rpid=$!
	aa_alsa_wait_running 1c "$_sub" ||
		echo "alsa_note: capture did not start within 10 s"
	# shellcheck disable=SC2086
	$AA_ALSA_RT aplay -q -D "hw:$AA_ALSA_CARD,0,$_sub" $_avail --period-size="$_per" \
		--buffer-size="$_buf" "$_w" 2>/tmp/aa_alsa_aplay.err
	_prc=$?
	# What aplay wrote last is still on its way through the DMA ring and
	# the loop's delay (1 s): give it 3 s, then end the capture (SIGINT:
	# arecord finishes its file cleanly).  -s above bounds it anyway.
	sleep 3
	_killed=no
	kill -INT "$_rpid" 2>/dev/null && _killed=yes
	wait "$_rpid"
	_rrc=$?
	# Ended by our SIGINT (arecord then exits 1) is a normal end, as long
	# as it had nothing to complain about.
	[ "$_killed" = yes ] && [ ! -s /tmp/aa_alsa_arecord.err ] && _rrc=0

	_got=$(wc -c <"$_cap" 2>/dev/null || echo 0)
	_first=$(cmp "$_cap" /dev/zero 2>&1 |
		sed -n 's/.* differ: char \([0-9]*\),.*/\1/p')
	_match=no
	_lead=0
	_diff=""
	if is_num "$_first"; then
		_lead=$(((_first - 1) / _fb * _fb))
		if cmp -s -n "$_len" "$_w" "$_cap" "$_off" "$_lead"; then
			_match=yes
		else
			# busybox cmp goes on after the first difference.
			_diff=$(cmp -n "$_len" "$_w" "$_cap" "$_off" "$_lead" \
				2>&1 | head -n 1)
		fi
	fi
	_tools=$(cat /tmp/aa_alsa_aplay.err /tmp/aa_alsa_arecord.err)
	_reported=$(echo "$_tools" | grep -c -E 'underrun|overrun' || true)
	_xa1=$(aa_alsa_sum "$_sub" xrun_app)
	_xl1=$(aa_alsa_sum "$_sub" xrun_alloc)
	_pd1=$(aa_alsa_sum "$_sub" pool_alloc_direct)
	if is_num "$_xa1" && is_num "$_xa0"; then
		_xruns=$((_xa1 - _xa0 + _reported))
	else
		_xruns="#none"
	fi
	is_num "$_xl1" && is_num "$_xl0" && _xlloc=$((_xl1 - _xl0)) || _xlloc="#none"
	is_num "$_pd1" && _pdir=$((_pd1 - _pd0)) || _pdir="#none"
	_to1=$(aa_alsa_sum "$_sub" timer_overruns)
	is_num "$_to1" && is_num "$_to0" && _tover=$((_to1 - _to0)) || _tover="#none"
	_dlate="#none"
	_drylate=no
	_dp=$(aa_alsa_dry_late pcm0p "$_sub" "$_dlp0" "$_xlp0")
	_dc=$(aa_alsa_dry_late pcm1c "$_sub" "$_dlc0" "$_xlc0")
	is_num "${_dp% *}" && is_num "${_dc% *}" &&
		_dlate=$((${_dp% *} + ${_dc% *}))
	[ "${_dp#* }" = yes ] || [ "${_dc#* }" = yes ] && _drylate=yes
	_lu1=$(aa_alsa_stat pcm1c "$_sub" loop_underruns)
	_gaps="#none"
	# The end of the playback is not a gap: the card does not count the
	# short read once the playback end has stopped and played everything.
	is_num "$_lu1" && is_num "$_lu0" && _gaps=$((_lu1 - _lu0))

	echo "alsa_loop: $_n"
	echo "alsa_format: $_fmt"
	echo "alsa_rate: $_rate"
	echo "alsa_channels: $_ch"
	echo "alsa_period_frames: $_per"
	echo "alsa_buffer_frames: $_buf"
	echo "alsa_bytes_played: $_len"
	echo "alsa_bytes_captured: $_got"
	echo "alsa_leading_silence_bytes: $_lead"
	echo "alsa_match: $_match"
	echo "alsa_xruns: $_xruns"
	echo "alsa_xrun_alloc: $_xlloc"
	echo "alsa_gaps: $_gaps"
	echo "alsa_timer_overruns: $_tover"
	echo "alsa_dma_late: $_dlate"
	echo "alsa_dry_dma_late: $_drylate"
	echo "alsa_pool_alloc_direct: $_pdir"
	echo "alsa_notify_ns_p50: $(aa_alsa_stat pcm0p "$_sub" notify_ns_p50)"
	echo "alsa_notify_ns_p99: $(aa_alsa_stat pcm0p "$_sub" notify_ns_p99)"
	sed 's/^/alloc_ns /' "$AA_ALSA_DBG/pcm0p/sub$_sub/alloc_ns" 2>/dev/null
	[ -n "$_tools" ] && echo "$_tools" | sed 's/^/alsa_tool: /'
	if [ "$_match" != yes ]; then
		echo "alsa_first_difference: ${_diff:-no played byte came back}"
		sed 's/^/alsa_playback: /' "$AA_ALSA_DBG/pcm0p/sub$_sub/stats"
		sed 's/^/alsa_capture: /' "$AA_ALSA_DBG/pcm1c/sub$_sub/stats"
	fi
	[ "$_prc" -eq 0 ] || echo "alsa_error: aplay exited $_prc"
	[ "$_rrc" -eq 0 ] || echo "alsa_error: arecord exited $_rrc"

	[ "$_match" = yes ] && [ "$_xruns" = 0 ] && [ "$_xlloc" = 0 ] &&
		[ "$_pdir" = 0 ] && [ "$_prc" -eq 0 ] && [ "$_rrc" -eq 0 ]
}

# aa_alsa_dry_late DIR SUB DMA_OVERRUNS0 XRUN_ALLOC0: for one end (pcm0p,
# pcm1c) since those readings, "LATE yes" when its pool ran dry while its
# DMA engine missed at least cpu_buffers polls, "LATE no" otherwise.
# Buffers the engine has not completed are still out, so an engine that a
# stalled vCPU holds back for longer than the pool's depth drains the
# pool; hardware completing on time would not.
aa_alsa_dry_late() {
	_l1=$(aa_alsa_stat "$1" "$2" dma_overruns)
	_x1=$(aa_alsa_stat "$1" "$2" xrun_alloc)
	_cb=$(aa_alsa_stat "$1" "$2" pool_cpu_buffers)
	if ! is_num "$_l1" || ! is_num "$3"; then
		echo "#none no"
		return
	fi
	_l=$((_l1 - $3))
	if is_num "$_x1" && is_num "$4" && is_num "$_cb" &&
		[ $((_x1 - $4)) -gt 0 ] && [ "$_l" -ge "$_cb" ]; then
		echo "$_l yes"
	else
		echo "$_l no"
	fi
}

# aa_alsa_late FILE: did the aa_alsa_loop output in FILE come with timing
# trouble (an xrun, a gap in the loop, a period the timers dropped, a pool
# drained by a late DMA engine)?
aa_alsa_late() {
	[ "$(dbg_get "$1" alsa_dry_dma_late)" = yes ] && return 0
	for _k in alsa_xruns alsa_gaps alsa_timer_overruns; do
		_v=$(dbg_get "$1" "$_k")
		is_num "$_v" || return 0
		[ "$_v" -eq 0 ] || return 0
	done
	return 1
}

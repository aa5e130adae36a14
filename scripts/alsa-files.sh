#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# alsa-files.sh STAGE_DIR
#
# Put what a guest needs to drive the AtomicAlloc card with the real ALSA
# tools into an initramfs staging tree (scripts/mkinitramfs.sh calls this
# for a scenario that says "# aa-initramfs: alsa"):
#
#   /usr/bin/aplay, /usr/bin/arecord, /usr/bin/speaker-test (alsa-utils),
#   /usr/bin/chrt (util-linux: the tools run SCHED_FIFO, as audio
#   applications do), their shared libraries (ldd) and libgcc_s.so.1
#   (glibc dlopen()s it for
#   threads), /usr/share/alsa (alsa-lib's configuration, without the UCM
#   and topology files nobody needs here);
#   /alsa.sh (scripts/guest/alsa.sh: the guest functions, e.g. aa_alsa_loop);
#   /alsa/NAME.wav and /alsa/NAME.info, the test signals below.
#
# The WAVs are white noise from sox (-R: the same every time), 10 s each
# unless the name says otherwise:
#
#   s24_3le_192k_2ch   192 kHz, stereo, 24 bits in 3 bytes (sox's own WAV)
#   s24_le_192k_2ch    the same samples in 4-byte containers (S24_LE: a WAV
#                      with 24 bits per sample and 4 bytes per sample, which
#                      aplay plays as S24_LE)
#   s24_3le_48k_8ch    48 kHz, 8 channels, 24 bits in 3 bytes
#   s24_3le_192k_2ch_3s  as the first, 3 s (the demo-quick check stage)
#
# The first frame is made non-zero, so that a capture that starts with
# silence can be lined up with the file by its first non-zero byte.  Each
# NAME.info holds "key: value" lines: format, rate, channels, frame_bytes,
# data_offset (bytes of WAV header before the samples), data_bytes, seconds.
# They are made once into $AA_CACHE/alsa-wav/ (remade when this script
# changes) and copied from there.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: alsa-files.sh STAGE_DIR" >&2
	exit 2
fi
stage=$1
aa_need_cmd aplay arecord speaker-test chrt sox python3 ldd

# --- the tools, their libraries, their configuration ----------------------
libs=()
for b in aplay arecord speaker-test chrt; do
	p=$(command -v "$b")
	install -D -m 0755 "$p" "$stage/usr/bin/$b"
	while read -r lib; do
		libs+=("$lib")
	done < <(ldd "$p" | grep -o '/[^ ]*' | sort -u)
done
# awk reads to the end: with pipefail, an awk that exits at the first match
# can kill ldconfig with SIGPIPE, and set -e would end this script silently.
gcc_s=$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ && !n++ { print $NF }')
[ -n "$gcc_s" ] || gcc_s=$(ls /lib/x86_64-linux-gnu/libgcc_s.so.1 2>/dev/null || true)
[ -n "$gcc_s" ] || aa_die "libgcc_s.so.1 not found (package libgcc-s1)"
libs+=("$gcc_s")
for lib in $(printf '%s\n' "${libs[@]}" | sort -u); do
	# Keep the path the dynamic linker looks for, and the file behind it.
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
mkdir -p "$stage/usr/share/alsa"
(cd /usr/share/alsa && tar -cf - --exclude=./ucm --exclude=./ucm2 \
	--exclude=./topology .) | tar -xf - -C "$stage/usr/share/alsa"
[ -f "$stage/usr/share/alsa/alsa.conf" ] ||
	aa_die "/usr/share/alsa/alsa.conf missing (package libasound2-data)"
install -m 0644 "$AA_REPO/scripts/guest/alsa.sh" "$stage/alsa.sh"

# --- the test signals ---------------------------------------------------------
key=$(cksum <"$0" | cut -d' ' -f1)
wavs=$AA_CACHE/alsa-wav/$key
aa_lock alsa-wav
if [ ! -f "$wavs/.done" ]; then
	rm -rf "$wavs.tmp"
	mkdir -p "$wavs.tmp"
	aa_info "making the ALSA test signals in $wavs (once)"
	# make NAME RATE CHANNELS CONTAINER_BYTES [SECONDS]
	make_wav() {
		local name=$1 rate=$2 ch=$3 cont=$4 secs=${5:-10}
		sox -R -n -t raw -r "$rate" -c "$ch" -b 24 -e signed-integer \
			"$wavs.tmp/$name.s24" synth "$secs" whitenoise gain -3 2>/dev/null
		python3 - "$wavs.tmp/$name.s24" "$wavs.tmp/$name" "$rate" "$ch" "$cont" <<'EOF'
import struct, sys
src, dst, rate, ch, cont = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
raw = bytearray(open(src, 'rb').read())
if not any(raw[0:3 * ch]):
    raw[0:3] = b'\x00\x00\x10'           # a first frame that is not silence
if cont == 4:                           # S24_LE: sign-extend into 4 bytes
    n = len(raw) // 3
    out = bytearray(4 * n)
    for i in range(3):
        out[i::4] = raw[i::3]
    sign = bytes(0xff if b & 0x80 else 0 for b in range(256))
    out[3::4] = bytes(raw[2::3]).translate(sign)
    data = bytes(out)
else:
    data = bytes(raw)
blk = cont * ch
fmt = struct.pack('<HHIIHH', 1, ch, rate, rate * blk, blk, 24)
body = b'WAVE' + b'fmt ' + struct.pack('<I', len(fmt)) + fmt + \
       b'data' + struct.pack('<I', len(data)) + data
with open(dst + '.wav', 'wb') as f:
    f.write(b'RIFF' + struct.pack('<I', len(body)) + body)
with open(dst + '.info', 'w') as f:
    f.write('format: %s\nrate: %d\nchannels: %d\nframe_bytes: %d\n'
            'data_offset: %d\ndata_bytes: %d\nseconds: %d\n'
            % ('S24_LE' if cont == 4 else 'S24_3LE', rate, ch, blk,
               12 + 8 + len(fmt) + 8, len(data), len(data) // (blk * rate)))
EOF
		rm -f "$wavs.tmp/$name.s24"
	}
	make_wav s24_3le_192k_2ch 192000 2 3
	make_wav s24_le_192k_2ch 192000 2 4
	make_wav s24_3le_48k_8ch 48000 8 3
	make_wav s24_3le_192k_2ch_3s 192000 2 3 3
	# aplay must read each as the format its .info names.
	for w in "$wavs.tmp"/*.wav; do
		want=$(sed -n 's/^format: //p' "${w%.wav}.info")
		got=$(aplay -D null "$w" -d 1 2>&1 | sed -n 1p)
		case $want:$got in
		S24_LE:*"Signed 24 bit Little Endian, Rate"*) ;;
		S24_3LE:*"Signed 24 bit Little Endian in 3bytes"*) ;;
		*) aa_die "aplay reads $w as '$got', not $want" ;;
		esac
	done
	mv "$wavs.tmp" "$wavs"
	touch "$wavs/.done"
fi
mkdir -p "$stage/alsa"
cp "$wavs"/*.wav "$wavs"/*.info "$stage/alsa/"

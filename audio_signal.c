// SPDX-License-Identifier: GPL-2.0
/*
 * audio_signal - the test signal of the simulated device's own streams
 *
 * Every sample encodes its frame and channel, so that the DMA-completion
 * interrupt can verify each one after the simulated engine has played it:
 * a stale, shifted, swapped or torn sample reads back wrong.
 *
 * Concurrency: pure functions, no state; any context, hard IRQ included.
 * audio_sim_fill() and audio_sim_verify() are O(frames * channels).
 */

#include <linux/bitops.h>
#include <linux/export.h>
#include <kunit/visibility.h>

#include "audio_signal.h"

static const char * const audio_sim_format_names[] = {
	[AUDIO_SIM_S24_LE] = "S24_LE",
	[AUDIO_SIM_S24_3LE] = "S24_3LE",
};

/**
 * audio_sim_sample_bytes() - bytes per sample in memory
 * @format: the sample format
 *
 * Context: Any context.
 * Return: 4 for %AUDIO_SIM_S24_LE, 3 for %AUDIO_SIM_S24_3LE.
 */
unsigned int audio_sim_sample_bytes(enum audio_sim_format format)
{
	return format == AUDIO_SIM_S24_3LE ? 3 : 4;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_sample_bytes);

/**
 * audio_sim_format_name() - ALSA's spelling of a format
 * @format: the sample format
 *
 * Context: Any context.
 * Return: "S24_LE" or "S24_3LE", "?" for anything else.
 */
const char *audio_sim_format_name(enum audio_sim_format format)
{
	if ((unsigned int)format >= AUDIO_SIM_NR_FORMATS)
		return "?";
	return audio_sim_format_names[format];
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_format_name);

/**
 * audio_sim_sample() - the value of one sample of the test signal
 * @frame: stream frame index
 * @channel: channel, 0 to 7
 *
 * Where (@frame + @channel) % 256 is 0, 1, 2 or 3 the sample is one of the
 * edge values %AUDIO_SIM_S24_MAX, %AUDIO_SIM_S24_MIN, 0 and -1.  Elsewhere
 * its 24 bits are the low 21 bits of @frame times an odd constant, then
 * the 3 bits of @channel: a bijection of (frame mod 2^21, channel), so a
 * stale, shifted or swapped sample reads back wrong, and about half the
 * values are negative.
 *
 * Context: Any context.
 * Return: a value from %AUDIO_SIM_S24_MIN to %AUDIO_SIM_S24_MAX.
 */
s32 audio_sim_sample(u64 frame, unsigned int channel)
{
	u32 code;

	switch ((frame + channel) & 0xff) {
	case 0:
		return AUDIO_SIM_S24_MAX;
	case 1:
		return AUDIO_SIM_S24_MIN;
	case 2:
		return 0;
	case 3:
		return -1;
	}
	code = ((u32)frame * 0x9e3779b1u) << 3 | (channel & 7);
	return sign_extend32(code, 23);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_sample);

/**
 * audio_sim_pack_sample() - store one sample
 * @dst: where; audio_sim_sample_bytes() bytes, any alignment
 * @format: the sample format
 * @value: the sample; only its low 24 bits are used
 *
 * Three bytes, least significant first; for %AUDIO_SIM_S24_LE a fourth,
 * most significant byte repeats bit 23 (sign extension into the 32-bit
 * container).
 *
 * Context: Any context.
 */
void audio_sim_pack_sample(u8 *dst, enum audio_sim_format format, s32 value)
{
	u32 v = value;

	dst[0] = v;
	dst[1] = v >> 8;
	dst[2] = v >> 16;
	if (format == AUDIO_SIM_S24_LE)
		dst[3] = v & BIT(23) ? 0xff : 0x00;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_pack_sample);

/**
 * audio_sim_unpack_sample() - load one sample
 * @src: audio_sim_sample_bytes() bytes, any alignment
 * @format: the sample format
 *
 * For %AUDIO_SIM_S24_3LE the 24 bits are sign-extended.  For
 * %AUDIO_SIM_S24_LE the whole 32-bit container is returned as it is, so a
 * container whose top byte does not repeat bit 23 reads back as a value
 * outside the 24-bit range and fails a comparison with the expected sample.
 *
 * Context: Any context.
 * Return: the sample.
 */
s32 audio_sim_unpack_sample(const u8 *src, enum audio_sim_format format)
{
	u32 v = src[0] | (u32)src[1] << 8 | (u32)src[2] << 16;

	if (format == AUDIO_SIM_S24_LE)
		return (s32)(v | (u32)src[3] << 24);
	return sign_extend32(v, 23);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_unpack_sample);

/**
 * audio_sim_fill() - write frames of the test signal
 * @buf: where the first frame goes
 * @first_frame: stream frame index of that frame
 * @frames: number of frames
 * @channels: samples per frame
 * @format: the sample format
 *
 * Context: Any context.  O(@frames * @channels).
 */
void audio_sim_fill(void *buf, u64 first_frame, unsigned int frames,
		    unsigned int channels, enum audio_sim_format format)
{
	unsigned int step = audio_sim_sample_bytes(format);
	unsigned int f, ch;
	u8 *p = buf;

	for (f = 0; f < frames; f++) {
		for (ch = 0; ch < channels; ch++, p += step)
			audio_sim_pack_sample(p, format,
					      audio_sim_sample(first_frame + f,
							       ch));
	}
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_fill);

/**
 * audio_sim_verify() - check frames written by audio_sim_fill()
 * @buf: the first frame
 * @first_frame: the stream frame index it should carry
 * @frames: number of frames
 * @channels: samples per frame
 * @format: the sample format
 *
 * Context: Any context.  O(@frames * @channels).
 * Return: the number of samples that differ from the signal, 0 if none.
 */
unsigned int audio_sim_verify(const void *buf, u64 first_frame,
			      unsigned int frames, unsigned int channels,
			      enum audio_sim_format format)
{
	unsigned int step = audio_sim_sample_bytes(format);
	unsigned int f, ch, bad = 0;
	const u8 *p = buf;

	for (f = 0; f < frames; f++) {
		for (ch = 0; ch < channels; ch++, p += step)
			if (audio_sim_unpack_sample(p, format) !=
			    audio_sim_sample(first_frame + f, ch))
				bad++;
	}
	return bad;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_verify);

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_signal - the test signal of the simulated device's own streams
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.  Pure functions
 * of their arguments: no state, no lock, any context.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_SIGNAL_H
#define _ATOMIC_ALLOC_AUDIO_SIGNAL_H

#include <linux/types.h>

/* Sample formats of the test signal: 24 significant bits, little endian. */
enum audio_sim_format {
	AUDIO_SIM_S24_LE,	/* in a 32-bit container, sign-extended */
	AUDIO_SIM_S24_3LE,	/* packed, 3 bytes per sample */
	AUDIO_SIM_NR_FORMATS,
};

#define AUDIO_SIM_S24_MAX	0x7fffff
#define AUDIO_SIM_S24_MIN	(-0x800000)

unsigned int audio_sim_sample_bytes(enum audio_sim_format format);
const char *audio_sim_format_name(enum audio_sim_format format);
s32 audio_sim_sample(u64 frame, unsigned int channel);
void audio_sim_pack_sample(u8 *dst, enum audio_sim_format format, s32 value);
s32 audio_sim_unpack_sample(const u8 *src, enum audio_sim_format format);
void audio_sim_fill(void *buf, u64 first_frame, unsigned int frames,
		    unsigned int channels, enum audio_sim_format format);
unsigned int audio_sim_verify(const void *buf, u64 first_frame,
			      unsigned int frames, unsigned int channels,
			      enum audio_sim_format format);

#endif /* _ATOMIC_ALLOC_AUDIO_SIGNAL_H */

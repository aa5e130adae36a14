/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audio_params - the module parameters of atomic_alloc_audio
 *
 * Private to atomic_alloc_audio.ko and its KUnit suites.  Each parameter
 * is parsed and checked on its own when it is set (insmod, the kernel
 * command line); audio_params_get() hands the whole set to probe, which
 * checks the combinations.
 *
 * Concurrency: every parameter is read-only after load (0444), so the
 * values only change before module_init() runs.  The parsers are pure.
 */
#ifndef _ATOMIC_ALLOC_AUDIO_PARAMS_H
#define _ATOMIC_ALLOC_AUDIO_PARAMS_H

#include <linux/types.h>

#include "audio_sim.h"

/**
 * struct audio_params - everything the parameters say
 * @cfg:	the test-signal streams (and the card's subdevices: streams).
 * @autostart:	start the test-signal streams at load.
 * @enable:	create the device at all.
 * @index:	ALSA card index, -1 for the first free one.
 * @id:		ALSA card id.
 */
struct audio_params {
	struct audio_sim_config cfg;
	bool autostart;
	bool enable;
	int index;
	const char *id;
};

void audio_params_get(struct audio_params *p);
int audio_params_check(const struct audio_params *p);

int audio_sim_parse_rate(const char *val, unsigned int *out);
int audio_sim_parse_channels(const char *val, unsigned int *out);
int audio_sim_parse_format(const char *val, unsigned int *out);
int audio_sim_parse_period_frames(const char *val, unsigned int *out);
int audio_sim_parse_ring_entries(const char *val, unsigned int *out);
int audio_sim_parse_streams(const char *val, unsigned int *out);
int audio_sim_parse_bool(const char *val, unsigned int *out);

#endif /* _ATOMIC_ALLOC_AUDIO_PARAMS_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * audio_params - the module parameters of atomic_alloc_audio
 *
 * Every checked parameter goes through module_param_cb() with a parser
 * that refuses, with a message that names the parameter, anything outside
 * what it documents; insmod then fails with -EINVAL and nothing is
 * created.  modinfo shows each one's type (__MODULE_PARM_TYPE, which
 * module_param_cb() alone leaves out) and its range.
 *
 * Concurrency: the parameters are 0444, so they are only written while
 * the module loads, before module_init(); the parsers are pure functions.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "audio_dev.h"
#include "audio_params.h"
#include "audio_pcm.h"

/* The longest period in frames any configuration allows: mono S24_3LE. */
#define AUDIO_SIM_MAX_PERIOD_FRAMES	(AUDIO_PERIOD_BYTES_MAX / 3)

static int audio_sim_parse_range(const char *val, unsigned int min,
				 unsigned int max, unsigned int *out)
{
	unsigned int v;

	if (!val || kstrtouint(val, 10, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * audio_sim_parse_rate() - parse and check the rate parameter
 * @val: decimal text, may end in a newline
 * @out: the rate in Hz, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is one of the standard rates.
 */
int audio_sim_parse_rate(const char *val, unsigned int *out)
{
	unsigned int v;

	if (!val || kstrtouint(val, 10, &v) || !audio_sim_rate_ok(v))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_rate);

/**
 * audio_sim_parse_channels() - parse and check the channels parameter
 * @val: decimal text, may end in a newline
 * @out: channels, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 1 to %AUDIO_SIM_MAX_CHANNELS.
 */
int audio_sim_parse_channels(const char *val, unsigned int *out)
{
	return audio_sim_parse_range(val, 1, AUDIO_SIM_MAX_CHANNELS, out);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_channels);

/**
 * audio_sim_parse_format() - parse and check the format parameter
 * @val: ALSA's name of the format, in any case ("S24_LE", "s24_3le"),
 *	may end in a newline
 * @out: the &enum audio_sim_format, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL for anything but S24_LE and S24_3LE.
 */
int audio_sim_parse_format(const char *val, unsigned int *out)
{
	unsigned int i;
	size_t len;

	if (!val)
		return -EINVAL;
	len = strlen(val);
	if (len && val[len - 1] == '\n')
		len--;
	for (i = 0; i < AUDIO_SIM_NR_FORMATS; i++) {
		const char *name = audio_sim_format_name(i);

		if (len == strlen(name) && !strncasecmp(val, name, len)) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_format);

/**
 * audio_sim_parse_period_frames() - parse and check period_frames
 * @val: decimal text, may end in a newline
 * @out: frames per period (0: the default), set on success only
 *
 * Only what no configuration allows is refused here; probe checks the
 * period's bytes against the chosen channels and format.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 0 or %AUDIO_PERIOD_FRAMES_MIN to
 * the frames of mono S24_3LE that fit %AUDIO_PERIOD_BYTES_MAX.
 */
int audio_sim_parse_period_frames(const char *val, unsigned int *out)
{
	unsigned int v;

	if (audio_sim_parse_range(val, 0, AUDIO_SIM_MAX_PERIOD_FRAMES, &v) ||
	    (v && v < AUDIO_PERIOD_FRAMES_MIN))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_period_frames);

/**
 * audio_sim_parse_ring_entries() - parse and check ring_entries
 * @val: decimal text, may end in a newline
 * @out: the ring capacity, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is a power of two from
 * %DMA_RING_MIN_ENTRIES to %DMA_RING_MAX_ENTRIES.
 */
int audio_sim_parse_ring_entries(const char *val, unsigned int *out)
{
	unsigned int v;

	if (audio_sim_parse_range(val, DMA_RING_MIN_ENTRIES,
				  DMA_RING_MAX_ENTRIES, &v) ||
	    !is_power_of_2(v))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_ring_entries);

/**
 * audio_sim_parse_streams() - parse and check the streams parameter
 * @val: decimal text, may end in a newline
 * @out: number of streams, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL unless @val is 1 to %AUDIO_SIM_MAX_STREAMS.
 */
int audio_sim_parse_streams(const char *val, unsigned int *out)
{
	return audio_sim_parse_range(val, 1, AUDIO_SIM_MAX_STREAMS, out);
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_streams);

/**
 * audio_sim_parse_bool() - parse a boolean parameter (enable, autostart)
 * @val: what kstrtobool() accepts; NULL (a bare "name") means true
 * @out: 0 or 1, set on success only
 *
 * Context: Any context.
 * Return: 0, or -EINVAL when kstrtobool() rejects @val.
 */
int audio_sim_parse_bool(const char *val, unsigned int *out)
{
	bool v = true;

	if (val && kstrtobool(val, &v))
		return -EINVAL;
	*out = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(audio_sim_parse_bool);

/* ---- the parameters --------------------------------------------------------- */

static unsigned int param_rate = 192000;
static unsigned int param_channels = 2;
static unsigned int param_format = AUDIO_SIM_S24_LE;
static unsigned int param_period_frames;
static unsigned int param_ring_entries = 64;
static unsigned int param_streams = 1;
static unsigned int param_autostart;
static unsigned int param_enable = 1;
static int param_index = -1;
static char *param_id = AUDIO_PCM_ID;

static const char * const audio_bool_names[] = { "N", "Y" };
static const char * const audio_format_names[] = {
	[AUDIO_SIM_S24_LE] = "S24_LE",
	[AUDIO_SIM_S24_3LE] = "S24_3LE",
};

/**
 * struct audio_param - how to parse, check and print one parameter
 * @value:	where the value lives.
 * @parse:	parser and checker, one of the audio_sim_parse_*().
 * @allowed:	what the error message says is allowed.
 * @names:	print names[value] instead of the number, or NULL.
 */
struct audio_param {
	unsigned int *value;
	int (*parse)(const char *val, unsigned int *out);
	const char *allowed;
	const char * const *names;
};

static int audio_param_set(const char *val, const struct kernel_param *kp)
{
	const struct audio_param *p = kp->arg;
	unsigned int v;

	if (p->parse(val, &v)) {
		pr_err("invalid %s=%s: must be %s\n", kp->name, val ?: "",
		       p->allowed);
		return -EINVAL;
	}
	*p->value = v;
	return 0;
}

static int audio_param_get(char *buffer, const struct kernel_param *kp)
{
	const struct audio_param *p = kp->arg;

	if (p->names)
		return scnprintf(buffer, PAGE_SIZE, "%s\n",
				 p->names[*p->value]);
	return scnprintf(buffer, PAGE_SIZE, "%u\n", *p->value);
}

static const struct kernel_param_ops audio_param_ops = {
	.set = audio_param_set,
	.get = audio_param_get,
};

/*
 * A read-only parameter with a checking parser; __MODULE_PARM_TYPE() after
 * each gives modinfo its type, which module_param_cb() leaves out.
 */
#define AUDIO_PARAM(_name, _parse, _allowed, _names)		\
	static struct audio_param audio_param_##_name = {		\
		.value = &param_##_name,				\
		.parse = _parse,					\
		.allowed = _allowed,					\
		.names = _names,					\
	};								\
	module_param_cb(_name, &audio_param_ops, &audio_param_##_name,	\
			0444)

__MODULE_PARM_TYPE(rate, "uint");
AUDIO_PARAM(rate, audio_sim_parse_rate,
	    "one of 8000 11025 16000 22050 32000 44100 48000 64000 88200 96000 176400 192000 352800 384000",
	    NULL);
MODULE_PARM_DESC(rate,
		 "Test-signal streams: sample rate in Hz, 8000 11025 16000 22050 32000 44100 48000 64000 88200 96000 176400 192000 352800 or 384000 (default 192000)");

__MODULE_PARM_TYPE(channels, "uint");
AUDIO_PARAM(channels, audio_sim_parse_channels, "1..8", NULL);
MODULE_PARM_DESC(channels,
		 "Test-signal streams: samples per frame, 1..8 (default 2)");

__MODULE_PARM_TYPE(format, "string");
AUDIO_PARAM(format, audio_sim_parse_format,
	    "S24_LE or S24_3LE (any case)", audio_format_names);
MODULE_PARM_DESC(format,
		 "Test-signal streams: sample format, S24_LE (24 bits in 4 bytes) or S24_3LE (24 bits in 3 bytes), ALSA's names in any case (default S24_LE)");

__MODULE_PARM_TYPE(period_frames, "uint");
AUDIO_PARAM(period_frames, audio_sim_parse_period_frames,
	    "0 (the default) or 32..43690 frames, and at most 131072 bytes",
	    NULL);
MODULE_PARM_DESC(period_frames,
		 "Test-signal streams: frames per period interrupt, one pool buffer each; 32 (the floor) up to 131072 bytes' worth; 0 = the whole frames in 4096 bytes (default 0)");

__MODULE_PARM_TYPE(ring_entries, "uint");
AUDIO_PARAM(ring_entries, audio_sim_parse_ring_entries,
	    "a power of two, 2..4096", NULL);
MODULE_PARM_DESC(ring_entries,
		 "Test-signal streams: DMA ring depth in periods, a power of two 2..4096 (default 64)");

__MODULE_PARM_TYPE(streams, "uint");
AUDIO_PARAM(streams, audio_sim_parse_streams, "1..64", NULL);
MODULE_PARM_DESC(streams,
		 "Test-signal streams (stream i on the (i % CPUs)-th online CPU), and the card's subdevices per PCM device, 1..64 (default 1)");

__MODULE_PARM_TYPE(autostart, "bool");
AUDIO_PARAM(autostart, audio_sim_parse_bool, "a boolean (y/n/1/0)",
	    audio_bool_names);
MODULE_PARM_DESC(autostart,
		 "Start the test-signal streams at load, else write start to atomic_alloc_audio/control in debugfs; needs enable=1 (default N)");

__MODULE_PARM_TYPE(enable, "bool");
AUDIO_PARAM(enable, audio_sim_parse_bool, "a boolean (y/n/1/0)",
	    audio_bool_names);
MODULE_PARM_DESC(enable, "Create the device (card and streams) at load (default Y)");

module_param_named(index, param_index, int, 0444);
MODULE_PARM_DESC(index, "Index value for the AtomicAlloc soundcard (default -1: the first free one)");
module_param_named(id, param_id, charp, 0444);
MODULE_PARM_DESC(id, "ID string for the AtomicAlloc soundcard (default AtomicAlloc)");

/**
 * audio_params_get() - the parameters as the module was loaded with them
 * @p: filled in
 *
 * Context: Any context.
 */
void audio_params_get(struct audio_params *p)
{
	/* The numbers in the period_frames messages above. */
	BUILD_BUG_ON(AUDIO_PERIOD_BYTES_MAX != 131072 ||
		     AUDIO_SIM_MAX_PERIOD_FRAMES != 43690 ||
		     AUDIO_PERIOD_FRAMES_MIN != 32 ||
		     AUDIO_PERIOD_BYTES_DEFAULT != 4096);
	p->cfg.rate = param_rate;
	p->cfg.channels = param_channels;
	p->cfg.format = param_format;
	p->cfg.period_frames = param_period_frames;
	p->cfg.ring_entries = param_ring_entries;
	p->cfg.streams = param_streams;
	p->autostart = param_autostart;
	p->enable = param_enable;
	p->index = param_index;
	p->id = param_id;
}

/**
 * audio_params_check() - check the combinations of the parameters
 * @p: the parameters
 *
 * Each parameter was checked on its own when it was set; here what only
 * the combination decides: autostart needs a device (enable=1), and the
 * streams' configuration as a whole (audio_sim_check_config()).  Says
 * what is wrong with pr_err(), naming the parameters.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL.
 */
int audio_params_check(const struct audio_params *p)
{
	if (p->autostart && !p->enable) {
		pr_err("autostart=1 with enable=0: there is no device to start\n");
		return -EINVAL;
	}
	return audio_sim_check_config(&p->cfg);
}
EXPORT_SYMBOL_IF_KUNIT(audio_params_check);

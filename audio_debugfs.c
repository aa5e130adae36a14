// SPDX-License-Identifier: GPL-2.0
/*
 * audio_debugfs - the atomic_alloc_audio device's own debugfs directory
 *
 * /sys/kernel/debug/<device name>/ (atomic_alloc_audio/ for the device the
 * module creates), not an ABI:
 *
 *   control              "start" / "stop" the test-signal streams; reads
 *                        "running" or "stopped"
 *   pool                 symlink to the test-signal pool's directory,
 *                        ../atomic_alloc/<pool>/ (its stats file)
 *   stream<N>/stats      a test-signal stream's counters, "key: value"
 *   stream<N>/alloc_ns   atomic_alloc_buf() in its period interrupt
 *   stream<N>/handler_ns its period interrupt's run time
 *   stream<N>/fail_alloc make that many of its next allocations fail
 *   pcm0p/sub<N>/...     playback subdevice N of the card: stats,
 *                        alloc_ns, handler_ns, notify_ns (period interrupt
 *                        to snd_pcm_period_elapsed()), fail_alloc
 *   pcm1c/sub<N>/...     capture subdevice N, the same files
 *
 * The histograms are "lo-hi: count" lines, see audio_hist.c.
 *
 * Concurrency: created after the streams and the card exist, removed
 * (debugfs_remove_recursive(), which waits for file operations in
 * progress) before either goes.  The show functions read counters with
 * READ_ONCE(); "control" serialises through audio_sim's mutex.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "audio_dev.h"
#include "audio_pcm.h"
#include "audio_sim.h"

/* ---- histograms ----------------------------------------------------------- */

/* Copies a histogram before printing it: the writer may be running. */
static int audio_debugfs_hist(struct seq_file *m, struct audio_stream *s,
			      enum audio_stream_hist which)
{
	struct audio_hist *h = kmalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	audio_stream_get_hist(s, which, h);
	audio_hist_show(m, h);
	kfree(h);
	return 0;
}

static int audio_alloc_ns_show(struct seq_file *m, void *v)
{
	return audio_debugfs_hist(m, m->private, AUDIO_HIST_ALLOC);
}
DEFINE_SHOW_ATTRIBUTE(audio_alloc_ns);

static int audio_handler_ns_show(struct seq_file *m, void *v)
{
	return audio_debugfs_hist(m, m->private, AUDIO_HIST_HANDLER);
}
DEFINE_SHOW_ATTRIBUTE(audio_handler_ns);

static int audio_notify_ns_show(struct seq_file *m, void *v)
{
	struct audio_hist *h = kmalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	audio_pcm_sub_notify_hist(m->private, h);
	audio_hist_show(m, h);
	kfree(h);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(audio_notify_ns);

static int audio_fail_alloc_get(void *data, u64 *val)
{
	struct audio_stream *s = data;

	*val = atomic_read(&s->fail_alloc);
	return 0;
}

static int audio_fail_alloc_set(void *data, u64 val)
{
	audio_stream_inject_alloc_failures(data, min_t(u64, val, INT_MAX));
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(audio_fail_alloc_fops, audio_fail_alloc_get,
			 audio_fail_alloc_set, "%llu\n");

/* ---- the test-signal streams ------------------------------------------------ */

/* The stream's dentry's parent's parent holds the sim: see below. */
struct audio_sim_file {
	struct audio_sim *sim;
	unsigned int index;
};

static int audio_sim_stats_show(struct seq_file *m, void *v)
{
	const struct audio_sim_file *f = m->private;
	const struct audio_sim_config *cfg = audio_sim_config(f->sim);
	struct audio_stream *s = audio_sim_stream(f->sim, f->index);
	struct audio_stream_stats st;
	unsigned int bytes;

	audio_stream_get_stats(s, &st);
	seq_printf(m, "periods: %llu\n", st.periods);
	seq_printf(m, "buffers_submitted: %llu\n", st.buffers_submitted);
	seq_printf(m, "buffers_completed: %llu\n", st.buffers_completed);
	seq_printf(m, "bytes_played: %llu\n", st.bytes_played);
	seq_printf(m, "xrun_alloc: %llu\n", st.xrun_alloc);
	seq_printf(m, "alloc_injected: %llu\n", st.alloc_injected);
	seq_printf(m, "xrun_ring_full: %llu\n", st.xrun_ring_full);
	seq_printf(m, "timer_overruns: %llu\n", st.timer_overruns);
	seq_printf(m, "verify_errors: %llu\n", st.verify_errors);
	seq_printf(m, "silence_submitted: %llu\n", st.silence_submitted);
	seq_printf(m, "silence_played: %llu\n", st.silence_played);
	seq_printf(m, "buffers_drained: %llu\n", st.buffers_drained);
	seq_printf(m, "dma_overruns: %llu\n", st.dma_overruns);
	seq_printf(m, "not_hardirq: %llu\n", st.not_hardirq);
	seq_printf(m, "ring_used: %u\n", st.ring_used);
	seq_printf(m, "cpu: %u\n", st.cpu);
	seq_printf(m, "dma_cpu: %u\n", st.dma_cpu);
	seq_printf(m, "rate: %u\n", cfg->rate);
	seq_printf(m, "channels: %u\n", cfg->channels);
	seq_printf(m, "format: %s\n", audio_sim_format_name(cfg->format));
	seq_printf(m, "period_frames: %u\n", s->period_frames);
	seq_printf(m, "period_bytes: %u\n", s->period_bytes);
	seq_printf(m, "period_ns: %lld\n", ktime_to_ns(s->period));
	seq_printf(m, "ring_entries: %u\n", cfg->ring_entries);
	bytes = atomic_alloc_buf_bytes(audio_sim_pool(f->sim));
	seq_printf(m, "pool_buffer_bytes: %u\n", bytes);
	seq_printf(m, "pool_buffers_per_page: %u\n",
		   audio_pool_buffers_per_page(bytes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(audio_sim_stats);

static ssize_t audio_control_read(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct audio_sim *sim = file->private_data;
	const char *state = audio_sim_running(sim) ? "running\n" :
						      "stopped\n";

	return simple_read_from_buffer(ubuf, count, ppos, state,
				       strlen(state));
}

static ssize_t audio_control_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct audio_sim *sim = file->private_data;
	char buf[8];
	int err = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	if (sysfs_streq(buf, "start"))
		err = audio_sim_start(sim);
	else if (sysfs_streq(buf, "stop"))
		audio_sim_stop(sim);
	else
		err = -EINVAL;
	return err ? err : count;
}

static const struct file_operations audio_control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = audio_control_read,
	.write = audio_control_write,
	.llseek = default_llseek,
};

static void audio_debugfs_sim(struct dentry *root, struct audio_sim *sim,
			      const char *pool, struct audio_sim_file *files)
{
	struct dentry *dir;
	unsigned int i;
	char name[48];

	debugfs_create_file("control", 0644, root, sim, &audio_control_fops);
	snprintf(name, sizeof(name), "../atomic_alloc/%s", pool);
	debugfs_create_symlink("pool", root, name);

	for (i = 0; i < audio_sim_streams(sim); i++) {
		struct audio_stream *s = audio_sim_stream(sim, i);

		files[i].sim = sim;
		files[i].index = i;
		snprintf(name, sizeof(name), "stream%u", i);
		dir = debugfs_create_dir(name, root);
		debugfs_create_file("stats", 0444, dir, &files[i],
				    &audio_sim_stats_fops);
		debugfs_create_file("alloc_ns", 0444, dir, s,
				    &audio_alloc_ns_fops);
		debugfs_create_file("handler_ns", 0444, dir, s,
				    &audio_handler_ns_fops);
		debugfs_create_file_unsafe("fail_alloc", 0644, dir, s,
					   &audio_fail_alloc_fops);
	}
}

/* ---- the card --------------------------------------------------------------- */

static int audio_pcm_stats_show(struct seq_file *m, void *v)
{
	audio_pcm_sub_show(m, m->private);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(audio_pcm_stats);

static void audio_debugfs_pcm(struct dentry *root, struct audio_pcm *pcm)
{
	unsigned int dir, i;
	struct dentry *d, *sd;
	char name[16];

	for (dir = 0; dir < 2; dir++) {
		d = debugfs_create_dir(dir ? "pcm1c" : "pcm0p", root);
		for (i = 0; i < audio_pcm_subdevices(pcm); i++) {
			struct audio_pcm_sub *sub = audio_pcm_sub(pcm, dir, i);
			struct audio_stream *s = audio_pcm_sub_stream(sub);

			snprintf(name, sizeof(name), "sub%u", i);
			sd = debugfs_create_dir(name, d);
			debugfs_create_file("stats", 0444, sd, sub,
					    &audio_pcm_stats_fops);
			debugfs_create_file("alloc_ns", 0444, sd, s,
					    &audio_alloc_ns_fops);
			debugfs_create_file("handler_ns", 0444, sd, s,
					    &audio_handler_ns_fops);
			debugfs_create_file("notify_ns", 0444, sd, sub,
					    &audio_notify_ns_fops);
			debugfs_create_file_unsafe("fail_alloc", 0644, sd, s,
						   &audio_fail_alloc_fops);
		}
	}
}

/**
 * audio_debugfs_create() - create the device's debugfs directory
 * @ad: the device, its streams and card created
 *
 * Failures are not errors (debugfs may be absent); the directory is then
 * simply missing.
 *
 * Context: Process context.
 */
void audio_debugfs_create(struct audio_dev *ad)
{
	struct audio_sim_file *files = NULL;

	ad->debugfs = debugfs_create_dir(dev_name(ad->dev), NULL);
	if (IS_ERR(ad->debugfs))
		return;
	if (ad->sim) {
		files = devm_kcalloc(ad->dev, audio_sim_streams(ad->sim),
				     sizeof(*files), GFP_KERNEL);
		if (files)
			audio_debugfs_sim(ad->debugfs, ad->sim, ad->sim_pool_name,
					  files);
	}
	if (ad->pcm)
		audio_debugfs_pcm(ad->debugfs, ad->pcm);
}

/**
 * audio_debugfs_remove() - remove the device's debugfs directory
 * @ad: the device
 *
 * Waits for file operations in progress.
 *
 * Context: Process context.
 */
void audio_debugfs_remove(struct audio_dev *ad)
{
	debugfs_remove_recursive(ad->debugfs);
	ad->debugfs = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_alloc_bench - what one alloc+free pair costs: atomic_alloc against
 * a bare per-CPU array, alloc_pages(GFP_ATOMIC), a page mempool and a
 * page_pool, measured in the same boot, by the same loop
 *
 * This file: the module parameters, load and unload, and the debugfs files
 * (atomic_alloc_bench/control, output, selftest).  bench.h lists the other
 * files, one concern each, and the concurrency rules; bench/README.md says
 * how to run it.
 *
 * Commands written to "control", one at a time under bench_lock:
 *
 *   run TAG        the table (bench_table.c) on the bench CPU
 *   refill TAG     the refill-capacity tests (bench_refill.c)
 *   pools TAG      the bench pools' counters
 *   labyrinth build|sweep|release|report
 *                  drive atomic_alloc_labyrinth.ko and print its state
 *   env            clock and parameters
 *   code           the code bytes of the fast paths and a single-stepped
 *                  trace of one pair of each pool method (bench_code.c)
 *   selftest       the self-check (bench_selftest.c)
 *   clear          forget the output so far
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "../atomic_alloc.h"
#include "atomic_alloc_labyrinth.h"
#include "bench.h"

/* ---- Parameters ---- */

unsigned int bench_samples = 200000;
module_param_named(samples, bench_samples, uint, 0644);
MODULE_PARM_DESC(samples, "alloc+free pairs measured per method and context (default 200000)");

unsigned int bench_batch_size = 128;
module_param_named(batch, bench_batch_size, uint, 0644);
MODULE_PARM_DESC(batch, "pairs per IRQs-off section, hrtimer callback or BH section (default 128)");

unsigned int bench_cpu = 1;
module_param(bench_cpu, uint, 0444);
MODULE_PARM_DESC(bench_cpu, "CPU the table is measured on (default 1; the first online CPU if offline)");

unsigned int bench_order_hi = 2;
module_param_named(order_hi, bench_order_hi, uint, 0444);
MODULE_PARM_DESC(order_hi, "the higher buffer order measured besides order 0 (default 2)");

unsigned int bench_pool_buffers = 64;
module_param_named(pool_buffers, bench_pool_buffers, uint, 0444);
MODULE_PARM_DESC(pool_buffers, "cpu_buffers of the atomic_alloc pools and min_nr of the mempools (default 64)");

bool bench_use_ktime;
module_param_named(use_ktime, bench_use_ktime, bool, 0444);
MODULE_PARM_DESC(use_ktime, "time with ktime_get_ns() instead of the cycle counter");

static bool quick;
module_param(quick, bool, 0444);
MODULE_PARM_DESC(quick, "at load, run every method briefly and write a self-check to debugfs selftest");

/* ---- Commands ---- */

static bool bench_valid_tag(const char *tag)
{
	size_t i, len = strlen(tag);

	if (!len || len >= BENCH_TAG_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(tag[i]) && tag[i] != '_' && tag[i] != '-')
			return false;
	return true;
}

/* Before a measurement: break up blocks that merged since the build. */
static void bench_lab_resweep(void)
{
	struct aa_labyrinth_stats st;

	aa_labyrinth_get_stats(&st);
	if (!st.active)
		return;
	aa_labyrinth_sweep();
	bench_print_lab("swept");
}

static int bench_lab_command(const char *arg)
{
	struct aa_labyrinth_stats st;
	int err;

	if (!strcmp(arg, "build")) {
		bench_print_lab("before");
		err = aa_labyrinth_build();
		if (!err)
			bench_print_lab("built");
		return err;
	}
	if (!strcmp(arg, "sweep")) {
		bench_lab_resweep();
		return 0;
	}
	if (!strcmp(arg, "release")) {
		aa_labyrinth_get_stats(&st);
		if (st.active)
			bench_print_lab("release");
		aa_labyrinth_release();
		return 0;
	}
	if (!strcmp(arg, "report")) {
		bench_print_lab("report");
		return 0;
	}
	pr_err("control: labyrinth wants build, sweep, release or report, not '%s'\n",
	       arg);
	return -EINVAL;
}

static int bench_command(char *cmd)
{
	struct bench_table *tb;
	char *verb, *arg;
	int err = 0;

	cmd = strim(cmd);
	verb = strsep(&cmd, " ");
	arg = cmd ? strim(cmd) : "";

	if (!strcmp(verb, "clear")) {
		bench_output_clear();
	} else if (!strcmp(verb, "env")) {
		bench_print_env();
	} else if (!strcmp(verb, "code")) {
		err = bench_print_code();
	} else if (!strcmp(verb, "selftest")) {
		bench_selftest_run();
	} else if (!strcmp(verb, "labyrinth")) {
		err = bench_lab_command(arg);
	} else if (strcmp(verb, "run") && strcmp(verb, "refill") &&
		   strcmp(verb, "pools")) {
		pr_err("control: unknown command '%s' (run, refill, pools, labyrinth, env, code, selftest, clear)\n",
		       verb);
		err = -EINVAL;
	} else if (!bench_valid_tag(arg)) {
		pr_err("control: %s wants a tag of 1-%d letters, digits, '_' or '-', not '%s'\n",
		       verb, BENCH_TAG_MAX - 1, arg);
		err = -EINVAL;
	} else if (!strcmp(verb, "run")) {
		bench_lab_resweep();
		tb = bench_table_run(arg, bench_samples);
		if (IS_ERR(tb))
			return PTR_ERR(tb);
		err = tb->err;
		bench_table_free(tb);
	} else if (!strcmp(verb, "refill")) {
		bench_lab_resweep();
		err = bench_refill_run(arg, false);
	} else {
		bench_print_pools(arg);
	}
	return err;
}

/* ---- debugfs ---- */

static struct dentry *bench_dir;

static ssize_t bench_control_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[64];
	int err;

	if (count >= sizeof(buf)) {
		pr_err("control: command longer than %zu bytes\n",
		       sizeof(buf) - 1);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	mutex_lock(&bench_lock);
	err = bench_command(buf);
	mutex_unlock(&bench_lock);
	return err ? err : count;
}

static const struct file_operations bench_control_fops = {
	.owner = THIS_MODULE,
	.write = bench_control_write,
	.llseek = noop_llseek,
};

static ssize_t bench_output_fread(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	return bench_output_read(ubuf, count, ppos);
}

static const struct file_operations bench_output_fops = {
	.owner = THIS_MODULE,
	.read = bench_output_fread,
	.llseek = default_llseek,
};

static ssize_t bench_selftest_fread(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	return bench_selftest_read(ubuf, count, ppos);
}

static const struct file_operations bench_selftest_fops = {
	.owner = THIS_MODULE,
	.read = bench_selftest_fread,
	.llseek = default_llseek,
};

/* ---- Module ---- */

static int __init atomic_alloc_bench_init(void)
{
	int err;

	if (bench_order_hi > ATOMIC_ALLOC_MAX_ORDER) {
		pr_err("order_hi must be 0..%d, not %u\n",
		       ATOMIC_ALLOC_MAX_ORDER, bench_order_hi);
		return -EINVAL;
	}
	if (!bench_pool_buffers ||
	    bench_pool_buffers > ATOMIC_ALLOC_MAX_CPU_BUFFERS) {
		pr_err("pool_buffers must be 1..%d, not %u\n",
		       ATOMIC_ALLOC_MAX_CPU_BUFFERS, bench_pool_buffers);
		return -EINVAL;
	}
	bench_clock_init();

	err = bench_output_init();
	if (err)
		goto err_out;
	err = bench_refill_init();
	if (err)
		goto err_output;
	err = bench_methods_create();
	if (err)
		goto err_methods;

	bench_dir = debugfs_create_dir("atomic_alloc_bench", NULL);
	debugfs_create_file("control", 0200, bench_dir, NULL,
			    &bench_control_fops);
	debugfs_create_file("output", 0444, bench_dir, NULL,
			    &bench_output_fops);
	debugfs_create_file("selftest", 0444, bench_dir, NULL,
			    &bench_selftest_fops);

	mutex_lock(&bench_lock);
	bench_print_env();
	if (quick)
		bench_selftest_run();
	mutex_unlock(&bench_lock);
	pr_info("ready: %u methods, clock %s%s\n", bench_nr_methods,
		bench_use_cycles ? "cycles" : "ktime",
		quick ? (bench_selftest_fail ? ", self-check FAILED" :
			 ", self-check passed") : "");
	return 0;

err_methods:
	bench_methods_destroy();
	bench_refill_exit();
err_output:
	bench_output_exit();
err_out:
	pr_err("setup failed: %d\n", err);
	return err;
}

static void __exit atomic_alloc_bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
	bench_methods_destroy();
	bench_refill_exit();
	bench_output_exit();
}

module_init(atomic_alloc_bench_init);
module_exit(atomic_alloc_bench_exit);

MODULE_DESCRIPTION("Latency benchmark: atomic_alloc against the kernel's page allocators");
MODULE_AUTHOR("atomic_alloc developers");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * bench_job.c - run a function in a kthread bound to a given CPU and wait
 * for its result
 *
 * The table, the refill observer and the sustained draw's consumer run this
 * way.  A job's struct is owned by its starter: bench_job_wait() reads the
 * result after the completion and reaps the thread.
 */

#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "bench.h"

static int bench_job_thread(void *data)
{
	struct bench_job *job = data;

	job->ret = job->fn(job->arg);
	complete(&job->done);
	/* kthread_stop() reaps us; wait for it. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* Start @fn(@arg) on @cpu; 0, or an error and nothing started. */
int bench_job_start(struct bench_job *job, unsigned int cpu,
		    int (*fn)(void *), void *arg)
{
	job->fn = fn;
	job->arg = arg;
	job->ret = 0;
	init_completion(&job->done);
	job->task = kthread_create_on_cpu(bench_job_thread, job, cpu,
					  "aa_bench/%u");
	if (IS_ERR(job->task))
		return PTR_ERR(job->task);
	wake_up_process(job->task);
	return 0;
}

/* Wait for a started job; its function's return value. */
int bench_job_wait(struct bench_job *job)
{
	wait_for_completion(&job->done);
	kthread_stop(job->task);
	return job->ret;
}

int bench_on_cpu(unsigned int cpu, int (*fn)(void *), void *arg)
{
	struct bench_job job;
	int err;

	err = bench_job_start(&job, cpu, fn, arg);
	if (err)
		return err;
	return bench_job_wait(&job);
}

/* Another online CPU than @cpu, or @cpu if it is the only one. */
unsigned int bench_other_cpu(unsigned int cpu)
{
	unsigned int other = cpumask_any_but(cpu_online_mask, cpu);

	return other < nr_cpu_ids ? other : cpu;
}

/* The CPU tables and refill tests run on: bench_cpu, if it is online. */
unsigned int bench_table_cpu(void)
{
	return cpu_online(bench_cpu) ? bench_cpu :
	       cpumask_first(cpu_online_mask);
}

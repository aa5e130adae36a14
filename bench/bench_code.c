// SPDX-License-Identifier: GPL-2.0
/*
 * bench_code.c - the fast paths instruction by instruction: their code as
 * it runs, and the path one alloc+free pair of each method executes, for
 * counting on the host (scripts/aa_insn.py)
 *
 * The "code" command prints two things.
 *
 * 1. Code bytes (BCODEFN, BCODE lines): for each function below, its
 *    address, its size as kallsyms knows it (%pS prints "name+0x0/0xsize")
 *    and its bytes as they are in memory.  page_pool lives in Debian's
 *    vmlinux, which ships without symbols, and the code that runs is the
 *    code after boot-time and load-time patching (alternatives, paravirt,
 *    ftrace's nops, the return thunk), so it is read here; the host
 *    disassembles it with objdump -b binary at that address.
 *
 * 2. Traces (BTRACE lines, x86_64): one pair of each method run with the
 *    trap flag set, on the bench CPU with BH and IRQs disabled, after a few
 *    untraced pairs (so the pools are in their steady state, the CPU's
 *    array above its low watermark).  A die notifier takes every
 *    single-step #DB, records the address of the next instruction and
 *    keeps stepping; the trap flag is cleared right after the pair.  The
 *    host maps the addresses onto the disassembly: the count of
 *    instructions a pair executes, which branch each took, which function
 *    each belongs to.  The count does not depend on the emulator.
 *
 * Concurrency: runs under bench_lock, like every command.  The trace runs
 * on a kthread bound to the bench CPU, and the notifier records only on
 * that CPU, only while bench_trace.on is set (by that kthread, with IRQs
 * off); the command reads the record after the kthread ended.
 */

#include <linux/bottom_half.h>
#include <linux/irqflags.h>
#include <linux/kallsyms.h>
#include <linux/kdebug.h>
#include <linux/kernel.h>
#include <linux/notifier.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#ifdef CONFIG_X86_64
#include <asm/processor-flags.h>
#endif

#include "../atomic_alloc.h"
#include "bench.h"
#include "bench_compat.h"

#define BENCH_CODE_LINE		64
#define BENCH_CODE_MAX		4096
#define BENCH_TRACE_MAX		1024
#define BENCH_TRACE_RUNS	2
#define BENCH_TRACE_WARMUP	8
#define BENCH_TRACE_LINE	12

/* The exported functions on the pairs' fast paths. */
static const struct bench_code_fn bench_code_fns[] = {
	{ "atomic_alloc_page", atomic_alloc_page },
	{ "atomic_alloc_free", atomic_alloc_free },
	{ "page_pool_alloc_pages", page_pool_alloc_pages },
#ifdef BENCH_HAVE_PAGE_POOL_NETMEM
	/* 6.12: page_pool_alloc_pages() wraps this one. */
	{ "page_pool_alloc_netmems", page_pool_alloc_netmems },
	/* What page_pool_put_full_page() calls once the ref is the last. */
	{ "page_pool_put_unrefed_netmem", page_pool_put_unrefed_netmem },
#else
	{ "page_pool_put_defragged_page", page_pool_put_defragged_page },
#endif
};

/* The size kallsyms gives the function at @addr; 0 if not its start. */
static unsigned long bench_code_size(const void *addr)
{
	char sym[KSYM_SYMBOL_LEN];
	unsigned long off, size;
	const char *p;

	sprint_symbol(sym, (unsigned long)addr);
	p = strchr(sym, '+');
	if (!p || sscanf(p, "+0x%lx/0x%lx", &off, &size) != 2 || off)
		return 0;
	return size;
}

static bool bench_print_fn(const struct bench_code_fn *f)
{
	unsigned long size = bench_code_size(f->addr);
	const u8 *p = f->addr;
	unsigned int i, len;

	if (!size || size > BENCH_CODE_MAX) {
		bench_printf("BCODESKIP fn=%s size=%lu why=not a symbol start or over %d bytes\n",
			     f->name, size, BENCH_CODE_MAX);
		return false;
	}
	bench_printf("BCODEFN fn=%s addr=%lx size=%lu\n", f->name,
		     (unsigned long)p, size);
	for (i = 0; i < size; i += len) {
		len = min_t(unsigned long, size - i, BENCH_CODE_LINE);
		bench_printf("BCODE fn=%s off=%u hex=%*phN\n", f->name, i,
			     (int)len, p + i);
	}
	return true;
}

#ifdef CONFIG_X86_64

static struct {
	bool on;
	unsigned int cpu;
	unsigned int n;
	bool overflow;
	unsigned long ip[BENCH_TRACE_MAX];
} bench_trace;

/* Every single-step trap of the traced pair: note where it stopped. */
static int bench_trace_notify(struct notifier_block *nb, unsigned long val,
			      void *data)
{
	struct die_args *args = data;
	struct pt_regs *regs = args->regs;

	/*
	 * Also the trap after the popfq that clears TF: the trap flag is
	 * tested as an instruction starts, so that one still traps.
	 */
	if (val != DIE_DEBUG || !READ_ONCE(bench_trace.on) ||
	    raw_smp_processor_id() != bench_trace.cpu)
		return NOTIFY_DONE;
	if (bench_trace.n < BENCH_TRACE_MAX) {
		bench_trace.ip[bench_trace.n++] = regs->ip;
	} else {
		bench_trace.overflow = true;
		regs->flags &= ~X86_EFLAGS_TF;
	}
	return NOTIFY_STOP;
}

static struct notifier_block bench_trace_nb = {
	.notifier_call = bench_trace_notify,
};

static __always_inline void bench_tf_set(void)
{
	asm volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq" ::: "cc", "memory");
}

static __always_inline void bench_tf_clear(void)
{
	asm volatile("pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq" ::: "cc", "memory");
}

/* One traced pair, with BH and IRQs disabled; false if it failed. */
static noinline bool bench_trace_pair(const struct bench_method *m)
{
	unsigned long flags;
	bool ok;

	local_bh_disable();
	local_irq_save(flags);
	bench_trace.n = 0;
	bench_trace.overflow = false;
	bench_trace.cpu = raw_smp_processor_id();
	WRITE_ONCE(bench_trace.on, true);
	bench_tf_set();
	ok = m->pair(m);
	bench_tf_clear();
	WRITE_ONCE(bench_trace.on, false);
	local_irq_restore(flags);
	local_bh_enable();
	return ok;
}

/* The methods traced: cheap enough to single-step, pool-like. */
static bool bench_traced(const struct bench_method *m)
{
	static const char * const names[] = {
		"timer", "floor", "floor_guarded", "floor_lockless",
		"floor_split", "atomic_alloc", "page_pool",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(m->name, names[i]))
			return true;
	return false;
}

struct bench_trace_out {
	const struct bench_method *m;
	unsigned int run;
	bool ok;
	unsigned int n;
	bool overflow;
	unsigned long ip[BENCH_TRACE_MAX];
};

struct bench_trace_job {
	struct bench_trace_out *out;
	unsigned int nr;
};

static int bench_trace_fn(void *arg)
{
	struct bench_trace_job *job = arg;
	struct bench_trace_out *o;
	const struct bench_method *m;
	unsigned int i, k, r;
	unsigned long flags;

	for (i = 0; i < bench_nr_methods; i++) {
		m = &bench_methods[i];
		if (!bench_traced(m))
			continue;
		local_bh_disable();
		local_irq_save(flags);
		for (k = 0; k < BENCH_TRACE_WARMUP; k++)
			m->pair(m);
		local_irq_restore(flags);
		local_bh_enable();
		for (r = 0; r < BENCH_TRACE_RUNS; r++) {
			o = &job->out[job->nr++];
			o->m = m;
			o->run = r;
			o->ok = bench_trace_pair(m);
			o->n = bench_trace.n;
			o->overflow = bench_trace.overflow;
			memcpy(o->ip, bench_trace.ip, o->n * sizeof(o->ip[0]));
		}
	}
	return 0;
}

static void bench_print_trace(const struct bench_trace_out *o)
{
	unsigned int i;

	bench_printf("BTRACE method=%s order=%u run=%u ok=%d n=%u overflow=%d\n",
		     o->m->name, o->m->order, o->run, o->ok, o->n, o->overflow);
	for (i = 0; i < o->n; i++) {
		if (i % BENCH_TRACE_LINE == 0)
			bench_printf("%sBTRACEIP method=%s order=%u run=%u i=%u ips=",
				     i ? "\n" : "", o->m->name, o->m->order,
				     o->run, i);
		bench_printf("%s%lx", i % BENCH_TRACE_LINE ? "," : "",
			     o->ip[i]);
	}
	if (o->n)
		bench_printf("\n");
}

static int bench_trace_all(void)
{
	struct bench_trace_job job = { };
	unsigned int i;
	int err;

	job.out = vcalloc(bench_nr_methods * BENCH_TRACE_RUNS,
			  sizeof(*job.out));
	if (!job.out)
		return -ENOMEM;
	err = register_die_notifier(&bench_trace_nb);
	if (!err) {
		err = bench_on_cpu(bench_table_cpu(), bench_trace_fn, &job);
		unregister_die_notifier(&bench_trace_nb);
	}
	for (i = 0; i < job.nr; i++)
		bench_print_trace(&job.out[i]);
	vfree(job.out);
	return err;
}

#else /* !CONFIG_X86_64 */

static int bench_trace_all(void)
{
	bench_printf("BTRACESKIP why=single-stepping with the trap flag is x86_64 only\n");
	return 0;
}

#endif /* CONFIG_X86_64 */

/**
 * bench_print_code() - print the fast paths' code and a trace of each pair
 *
 * Context: Process context, bench_lock held.
 * Return: 0, or the error that stopped the trace.
 */
int bench_print_code(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bench_code_fns); i++)
		bench_print_fn(&bench_code_fns[i]);
	for (i = 0; i < bench_nr_method_code; i++)
		bench_print_fn(&bench_method_code[i]);
	return bench_trace_all();
}

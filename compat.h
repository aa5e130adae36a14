/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels atomic_alloc supports (6.1 LTS and
 * 6.12 LTS, generic and PREEMPT_RT), kept in one place.  Everything else
 * is written against the 6.12 API.  Each difference is detected by what
 * the headers define, not by version number, so backports just work.
 */
#ifndef _ATOMIC_ALLOC_COMPAT_H
#define _ATOMIC_ALLOC_COMPAT_H

#include <linux/atomic.h>
#include <linux/fault-inject.h>
#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/types.h>

/*
 * this_cpu_try_cmpxchg() is not in 6.1; there the value-returning
 * this_cpu_cmpxchg() does the same (one more compare on x86).
 */
#ifndef this_cpu_try_cmpxchg
#define this_cpu_try_cmpxchg(pcp, ovalp, nval)				\
({									\
	typeof(ovalp) __aa_ovalp = (ovalp);				\
	typeof(*__aa_ovalp) __aa_old = *__aa_ovalp;			\
	typeof(*__aa_ovalp) __aa_cur = this_cpu_cmpxchg(pcp, __aa_old, nval); \
									\
	if (__aa_cur != __aa_old)					\
		*__aa_ovalp = __aa_cur;					\
	__aa_cur == __aa_old;						\
})
#endif

/* lockdep_assert_no_hardirq() arrived in 6.2. */
#ifndef lockdep_assert_no_hardirq
#define lockdep_assert_no_hardirq()	lockdep_assert(!in_hardirq())
#endif

/*
 * Before 6.10, <linux/fault-inject.h> declared nothing at all without
 * CONFIG_FAULT_INJECTION; since then it has empty stubs.
 */
#if !defined(CONFIG_FAULT_INJECTION) && !defined(DECLARE_FAULT_ATTR)
struct fault_attr {
};

#define DECLARE_FAULT_ATTR(name) struct fault_attr name = {}

static inline bool should_fail(struct fault_attr *attr, ssize_t size)
{
	return false;
}

static inline struct dentry *
fault_create_debugfs_attr(const char *name, struct dentry *parent,
			  struct fault_attr *attr)
{
	return ERR_PTR(-ENODEV);
}
#endif
#ifndef FAULT_ATTR_INITIALIZER
#define FAULT_ATTR_INITIALIZER {}
#endif

/*
 * Shrinkers are allocated by the core since 6.7 (which added the
 * SHRINKER_ALLOCATED flag); before that the owner embedded one.
 */
#ifdef SHRINKER_ALLOCATED
static inline struct shrinker *
aa_shrinker_create(const char *name, void *priv,
		   unsigned long (*count)(struct shrinker *,
					  struct shrink_control *),
		   unsigned long (*scan)(struct shrinker *,
					 struct shrink_control *))
{
	struct shrinker *s = shrinker_alloc(0, "atomic_alloc-%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	s->private_data = priv;
	shrinker_register(s);
	return s;
}

static inline void *aa_shrinker_priv(struct shrinker *s)
{
	return s->private_data;
}

static inline void aa_shrinker_destroy(struct shrinker *s)
{
	shrinker_free(s);
}
#else
struct aa_shrinker {
	struct shrinker shrinker;
	void *priv;
};

static inline struct shrinker *
aa_shrinker_create(const char *name, void *priv,
		   unsigned long (*count)(struct shrinker *,
					  struct shrink_control *),
		   unsigned long (*scan)(struct shrinker *,
					 struct shrink_control *))
{
	struct aa_shrinker *as = kzalloc(sizeof(*as), GFP_KERNEL);

	if (!as)
		return NULL;
	as->shrinker.count_objects = count;
	as->shrinker.scan_objects = scan;
	as->shrinker.seeks = DEFAULT_SEEKS;
	as->priv = priv;
	if (register_shrinker(&as->shrinker, "atomic_alloc-%s", name)) {
		kfree(as);
		return NULL;
	}
	return &as->shrinker;
}

static inline void *aa_shrinker_priv(struct shrinker *s)
{
	return container_of(s, struct aa_shrinker, shrinker)->priv;
}

static inline void aa_shrinker_destroy(struct shrinker *s)
{
	if (!s)
		return;
	unregister_shrinker(s);
	kfree(container_of(s, struct aa_shrinker, shrinker));
}
#endif

/*
 * Does the current context hold a raw spinlock (a lock whose lockdep wait
 * type is LD_WAIT_SPIN) in its own irq context?  lockdep knows, in every
 * kernel with CONFIG_LOCKDEP; elsewhere nobody can tell and the answer is
 * no.  The walk mirrors check_wait_context() in kernel/locking/lockdep.c.
 */
static inline bool aa_raw_lock_held(void)
{
#ifdef CONFIG_LOCKDEP
	struct task_struct *t = current;
	unsigned int ctx = 0;
	int i;

#ifdef CONFIG_TRACE_IRQFLAGS
	ctx = t->softirq_context ? 1 : 0;	/* bit 0: softirq */
#endif
	for (i = t->lockdep_depth - 1; i >= 0; i--) {
		const struct held_lock *h = &t->held_locks[i];

		if (h->irq_context != ctx)
			break;
		if (h->instance && h->instance->wait_type_inner == LD_WAIT_SPIN &&
		    h->instance->lock_type != LD_LOCK_WAIT_OVERRIDE)
			return true;
	}
#endif
	return false;
}

#endif /* _ATOMIC_ALLOC_COMPAT_H */

/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM atomic_alloc

#if !defined(_ATOMIC_ALLOC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ATOMIC_ALLOC_TRACE_H

#include <linux/trace_events.h>
#include <linux/tracepoint.h>
#include <trace/events/mmflags.h>

/* Why buffers went back to the page allocator. */
#define AA_RELEASE_OVERFLOW	0	/* surplus: freed with every reserve full */
#define AA_RELEASE_SHRINKER	1	/* surplus returned under memory pressure */
#define AA_RELEASE_CPU_DEAD	2	/* a CPU went offline */
#define AA_RELEASE_DESTROY	3	/* the pool was destroyed */
#define AA_RELEASE_REFCNT	4	/* freed while someone else held a reference */

/*
 * Since 6.10 __assign_str() takes only the field and copies from the
 * __string() source; before, it took the source too.  EVENT_NULL_STR came
 * with that change.
 */
#ifndef aa_assign_pool
#ifdef EVENT_NULL_STR
#define aa_assign_pool		__assign_str(pool)
#else
#define aa_assign_pool		__assign_str(pool, pool)
#endif
#endif

TRACE_EVENT(atomic_alloc_refill,
	    TP_PROTO(const char *pool, int cpu, unsigned int added,
		     unsigned int level, bool failed),
	    TP_ARGS(pool, cpu, added, level, failed),
	    TP_STRUCT__entry(__string(pool, pool)
			     __field(int, cpu)
			     __field(unsigned int, added)
			     __field(unsigned int, level)
			     __field(bool, failed)),
	    TP_fast_assign(aa_assign_pool;
			   __entry->cpu = cpu;
			   __entry->added = added;
			   __entry->level = level;
			   __entry->failed = failed;),
	    TP_printk("pool=%s cpu=%d added=%u level=%u failed=%d",
		      __get_str(pool), __entry->cpu, __entry->added,
		      __entry->level, __entry->failed)
);

TRACE_EVENT(atomic_alloc_fallback,
	    TP_PROTO(const char *pool, int cpu, int tier),
	    TP_ARGS(pool, cpu, tier),
	    TP_STRUCT__entry(__string(pool, pool)
			     __field(int, cpu)
			     __field(int, tier)),
	    TP_fast_assign(aa_assign_pool;
			   __entry->cpu = cpu;
			   __entry->tier = tier;),
	    TP_printk("pool=%s cpu=%d tier=%s", __get_str(pool), __entry->cpu,
		      __print_symbolic(__entry->tier,
				       { 2, "shared" }, { 3, "page-allocator" }))
);

TRACE_EVENT(atomic_alloc_fail,
	    TP_PROTO(const char *pool, int cpu, gfp_t gfp, bool direct_allowed),
	    TP_ARGS(pool, cpu, gfp, direct_allowed),
	    TP_STRUCT__entry(__string(pool, pool)
			     __field(int, cpu)
			     __field(unsigned long, gfp)
			     __field(bool, direct_allowed)),
	    TP_fast_assign(aa_assign_pool;
			   __entry->cpu = cpu;
			   __entry->gfp = (__force unsigned long)gfp;
			   __entry->direct_allowed = direct_allowed;),
	    TP_printk("pool=%s cpu=%d gfp=%s direct_allowed=%d",
		      __get_str(pool), __entry->cpu,
		      show_gfp_flags(__entry->gfp), __entry->direct_allowed)
);

TRACE_EVENT(atomic_alloc_release,
	    TP_PROTO(const char *pool, unsigned int released, int reason),
	    TP_ARGS(pool, released, reason),
	    TP_STRUCT__entry(__string(pool, pool)
			     __field(unsigned int, released)
			     __field(int, reason)),
	    TP_fast_assign(aa_assign_pool;
			   __entry->released = released;
			   __entry->reason = reason;),
	    TP_printk("pool=%s released=%u reason=%s", __get_str(pool),
		      __entry->released,
		      __print_symbolic(__entry->reason,
				       { AA_RELEASE_OVERFLOW, "overflow" },
				       { AA_RELEASE_SHRINKER, "shrinker" },
				       { AA_RELEASE_CPU_DEAD, "cpu-dead" },
				       { AA_RELEASE_DESTROY, "destroy" },
				       { AA_RELEASE_REFCNT, "refcnt" }))
);

#endif /* _ATOMIC_ALLOC_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE atomic_alloc_trace
#include <trace/define_trace.h>

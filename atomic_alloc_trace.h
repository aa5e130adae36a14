/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM atomic_alloc

#if !defined(_ATOMIC_ALLOC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ATOMIC_ALLOC_TRACE_H

#include <linux/tracepoint.h>

/* Pool names are at most 31 characters (see struct atomic_alloc_params). */
#define AA_TRACE_NAME_LEN	32

/* Why buffers went back to the page allocator. */
#define AA_RELEASE_OVERFLOW	0	/* freed with every reserve full */
#define AA_RELEASE_SHRINKER	1	/* surplus returned under pressure */
#define AA_RELEASE_CPU_DEAD	2	/* a CPU went offline */
#define AA_RELEASE_DESTROY	3	/* the pool was destroyed */

TRACE_EVENT(atomic_alloc_refill,
	    TP_PROTO(const char *pool, int cpu, unsigned int added,
		     unsigned int level, bool failed),
	    TP_ARGS(pool, cpu, added, level, failed),
	    TP_STRUCT__entry(__array(char, pool, AA_TRACE_NAME_LEN)
			     __field(int, cpu)
			     __field(unsigned int, added)
			     __field(unsigned int, level)
			     __field(bool, failed)),
	    TP_fast_assign(strscpy(__entry->pool, pool, AA_TRACE_NAME_LEN);
			   __entry->cpu = cpu;
			   __entry->added = added;
			   __entry->level = level;
			   __entry->failed = failed;),
	    TP_printk("pool=%s cpu=%d added=%u level=%u%s", __entry->pool,
		      __entry->cpu, __entry->added, __entry->level,
		      __entry->failed ? " page allocator failed" : "")
);

TRACE_EVENT(atomic_alloc_fallback,
	    TP_PROTO(const char *pool, int cpu, int tier),
	    TP_ARGS(pool, cpu, tier),
	    TP_STRUCT__entry(__array(char, pool, AA_TRACE_NAME_LEN)
			     __field(int, cpu)
			     __field(int, tier)),
	    TP_fast_assign(strscpy(__entry->pool, pool, AA_TRACE_NAME_LEN);
			   __entry->cpu = cpu;
			   __entry->tier = tier;),
	    TP_printk("pool=%s cpu=%d tier=%s", __entry->pool, __entry->cpu,
		      __print_symbolic(__entry->tier,
				       { 2, "shared" }, { 3, "page-allocator" }))
);

TRACE_EVENT(atomic_alloc_fail,
	    TP_PROTO(const char *pool, int cpu, gfp_t gfp, bool direct_allowed),
	    TP_ARGS(pool, cpu, gfp, direct_allowed),
	    TP_STRUCT__entry(__array(char, pool, AA_TRACE_NAME_LEN)
			     __field(int, cpu)
			     __field(unsigned long, gfp)
			     __field(bool, direct_allowed)),
	    TP_fast_assign(strscpy(__entry->pool, pool, AA_TRACE_NAME_LEN);
			   __entry->cpu = cpu;
			   __entry->gfp = (__force unsigned long)gfp;
			   __entry->direct_allowed = direct_allowed;),
	    TP_printk("pool=%s cpu=%d gfp=%#lx%s", __entry->pool, __entry->cpu,
		      __entry->gfp,
		      __entry->direct_allowed ? "" : " (page allocator not allowed here)")
);

TRACE_EVENT(atomic_alloc_release,
	    TP_PROTO(const char *pool, unsigned int count, int why),
	    TP_ARGS(pool, count, why),
	    TP_STRUCT__entry(__array(char, pool, AA_TRACE_NAME_LEN)
			     __field(unsigned int, count)
			     __field(int, why)),
	    TP_fast_assign(strscpy(__entry->pool, pool, AA_TRACE_NAME_LEN);
			   __entry->count = count;
			   __entry->why = why;),
	    TP_printk("pool=%s released=%u reason=%s", __entry->pool,
		      __entry->count,
		      __print_symbolic(__entry->why,
				       { AA_RELEASE_OVERFLOW, "overflow" },
				       { AA_RELEASE_SHRINKER, "shrinker" },
				       { AA_RELEASE_CPU_DEAD, "cpu-dead" },
				       { AA_RELEASE_DESTROY, "destroy" }))
);

#endif /* _ATOMIC_ALLOC_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE atomic_alloc_trace
#include <trace/define_trace.h>

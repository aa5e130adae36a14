/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the KUnit suites atomic_alloc and atomic_alloc_buf:
 * make every page allocation of the refill worker fail for the rest of a
 * case (atomic_alloc_fail_refill, a fault_attr of the pool).  The case is
 * skipped on a kernel without CONFIG_FAULT_INJECTION.
 */
#ifndef _ATOMIC_ALLOC_KUNIT_FAULT_H
#define _ATOMIC_ALLOC_KUNIT_FAULT_H

#include <kunit/test.h>
#include <linux/fault-inject.h>

#include "atomic_alloc_priv.h"

static inline void aa_kunit_fail_refill_off(void *unused)
{
#ifdef CONFIG_FAULT_INJECTION
	atomic_alloc_fail_refill.probability = 0;
	atomic_set(&atomic_alloc_fail_refill.times, 1);
#endif
}

/* Until the case ends (a KUnit action turns it off), or until _off(). */
static inline void aa_kunit_fail_refill_on(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	atomic_alloc_fail_refill.verbose = 0;
	atomic_alloc_fail_refill.interval = 1;
	atomic_alloc_fail_refill.probability = 100;
	atomic_set(&atomic_alloc_fail_refill.times, -1);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, aa_kunit_fail_refill_off,
						  NULL));
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
#endif
}

#endif /* _ATOMIC_ALLOC_KUNIT_FAULT_H */

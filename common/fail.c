/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fail.c - failure injection for tests (INVARIANTS builds): after `after`
 * more successful allocations, the next `count` fail.  The zones consult
 * it (umem/zone.c); it lives here, below them, so that any layer's
 * allocation may.  _xm_fail_armed is read without the lock on every
 * allocation of an INVARIANTS build, so that an unarmed run pays one
 * relaxed load.
 *
 * Hidden: _xm_fail_inject, _xm_fail_now (tests).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "xm_common_int.h"

_Atomic int _xm_fail_armed;
static pthread_mutex_t xm_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static long xm_fail_after;
static long xm_fail_count;

void _xm_fail_inject(long after, long count)
{
	pthread_mutex_lock(&xm_fail_lock);
	if (after < 0 || count <= 0) {
		atomic_store(&_xm_fail_armed, 0);
	} else {
		xm_fail_after = after;
		xm_fail_count = count;
		atomic_store(&_xm_fail_armed, 1);
	}
	pthread_mutex_unlock(&xm_fail_lock);
}

bool _xm_fail_now(void)
{
#ifdef INVARIANTS
	bool fail = false;

	if (!atomic_load_explicit(&_xm_fail_armed, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&xm_fail_lock);
	if (atomic_load(&_xm_fail_armed)) {
		if (xm_fail_after > 0) {
			xm_fail_after--;
		} else if (xm_fail_count > 0) {
			fail = true;
			if (--xm_fail_count == 0)
				atomic_store(&_xm_fail_armed, 0);
		}
	}
	pthread_mutex_unlock(&xm_fail_lock);
	return fail;
#else
	return false;
#endif
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_umem_debug.c - the INVARIANTS checks of the zones: a double free,
 * a foreign pointer and a write after free each panic with a message
 * naming the zone; freed items carry the poison pattern; the audit sees
 * per-item state that disagrees with where items are.  Under ASan, a
 * read of a freed item is caught at the read.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xm_umem.h"
#include "xm_umem_int.h"

static struct xm_umem *u;
static struct xm_zone *z;
static char want[256];

/*
 * Panic messages come through the sink before abort(): a message other
 * than the expected one ends the test with exit code 3 instead of
 * SIGABRT, so the test fails.
 */
static int sink(enum xm_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level == XM_PRINT_WARN && want[0] != '\0' &&
	    strstr(buf, want) == NULL) {
		fprintf(stderr, "unexpected message: %s(wanted \"%s\")\n", buf,
			want);
		_exit(3);
	}
	fputs(buf, stderr);
	return 0;
}

static void setup(void)
{
	XM_OPTS(xm_umem_opts, o, .nmbclusters = 32, .nmbjumbop = 32,
		.nmbjumbo9 = 32, .nmbjumbo16 = 32, .nmbufs = 256,
		.bucket_size = 8, .flags = XM_UMEM_F_NO_HUGEPAGES);

	xm_set_print(sink);
	u = xm_umem_create(&o);
	cr_assert_not_null(u);
}

static void teardown(void)
{
	xm_umem_destroy(u);
	u = NULL;
}

TestSuite(umem_debug, .init = setup, .fini = teardown, .timeout = 20);

static void expect_panic(const char *what)
{
	snprintf(want, sizeof(want), "xmbuf: %s: %s", xm_zone_name(z), what);
}

#ifdef INVARIANTS

/* The parameters of a test run once per zone. */
static struct criterion_test_params every_zone(void)
{
	static enum xm_zone_id ids[] = {
		XM_ZONE_CLUST, XM_ZONE_JUMBOP, XM_ZONE_JUMBO9,
		XM_ZONE_JUMBO16, XM_ZONE_MBUF,
	};

	return cr_make_param_array(enum xm_zone_id, ids, XM_ZONE_MAX);
}

ParameterizedTestParameters(umem_debug, double_free)
{
	return every_zone();
}

ParameterizedTest(enum xm_zone_id *id, umem_debug, double_free,
		  .signal = SIGABRT)
{
	void *p;

	z = xm_umem_zone(u, *id);
	p = xm_zone_alloc(z, XM_NOWAIT);
	cr_assert_not_null(p);
	xm_zone_free(z, p);
	expect_panic("double free of");
	xm_zone_free(z, p);
}

Test(umem_debug, double_free_in_one_bulk, .signal = SIGABRT)
{
	void *v[4];

	z = xm_umem_zone(u, XM_ZONE_CLUST);
	cr_assert_eq(xm_zone_alloc_bulk(z, v, 3, XM_NOWAIT), 0);
	v[3] = v[1];
	expect_panic("double free of");
	xm_zone_free_bulk(z, v, 4);
}

Test(umem_debug, double_free_after_the_depot, .signal = SIGABRT)
{
	void *p;

	z = xm_umem_zone(u, XM_ZONE_JUMBO9);
	p = xm_zone_alloc(z, XM_NOWAIT);
	xm_zone_free(z, p);
	xm_zone_cache_flush(z);
	expect_panic("double free of");
	xm_zone_free(z, p);
}

Test(umem_debug, foreign_pointer_inside_an_item, .signal = SIGABRT)
{
	char *p;

	z = xm_umem_zone(u, XM_ZONE_JUMBOP);
	p = xm_zone_alloc(z, XM_NOWAIT);
	cr_assert_not_null(p);
	expect_panic("free of foreign pointer");
	xm_zone_free(z, p + 64);
}

Test(umem_debug, foreign_pointer_outside_the_zone, .signal = SIGABRT)
{
	char local[64];

	z = xm_umem_zone(u, XM_ZONE_MBUF);
	expect_panic("free of foreign pointer");
	xm_zone_free(z, local);
}

Test(umem_debug, item_of_another_zone, .signal = SIGABRT)
{
	struct xm_zone *zc = xm_umem_zone(u, XM_ZONE_CLUST);
	void *p = xm_zone_alloc(zc, XM_NOWAIT);

	cr_assert_not_null(p);
	z = xm_umem_zone(u, XM_ZONE_JUMBO16);
	expect_panic("free of foreign pointer");
	xm_zone_free(z, p);
}

Test(umem_debug, free_of_an_item_never_allocated, .signal = SIGABRT)
{
	z = xm_umem_zone(u, XM_ZONE_JUMBO16);
	expect_panic("free of never-allocated item");
	xm_zone_free(z, _xm_zone_item(z, 31));
}

ParameterizedTestParameters(umem_debug, write_after_free)
{
	return every_zone();
}

/* The freed item comes back first (LIFO): its poison must be whole. */
ParameterizedTest(enum xm_zone_id *id, umem_debug, write_after_free,
		  .signal = SIGABRT)
{
	char *p;

	z = xm_umem_zone(u, *id);
	p = xm_zone_alloc(z, XM_NOWAIT);
	cr_assert_not_null(p);
	xm_zone_free(z, p);
	XM_ASAN_UNPOISON(p, xm_zone_size(z));
	p[xm_zone_size(z) - 1] ^= 1;
	expect_panic("write after free of");
	(void)xm_zone_alloc(z, XM_NOWAIT);
}

Test(umem_debug, write_after_free_seen_through_bulk, .signal = SIGABRT)
{
	void *v[4];
	char *p;

	z = xm_umem_zone(u, XM_ZONE_CLUST);
	cr_assert_eq(xm_zone_alloc_bulk(z, v, 4, XM_NOWAIT), 0);
	xm_zone_free_bulk(z, v, 4);
	p = v[2];
	XM_ASAN_UNPOISON(p, 8);
	p[0] = 'x';
	expect_panic("write after free of");
	(void)xm_zone_alloc_bulk(z, v, 4, XM_NOWAIT);
}

Test(umem_debug, freed_items_carry_poison)
{
	uint32_t *p;

	for (int id = 0; id < XM_ZONE_MAX; id++) {
		z = xm_umem_zone(u, (enum xm_zone_id)id);
		p = xm_zone_alloc(z, XM_NOWAIT);
		cr_assert_not_null(p);
		memset(p, 0, xm_zone_size(z));
		xm_zone_free(z, p);
		XM_ASAN_UNPOISON(p, xm_zone_size(z));
		for (uint32_t i = 0; i < xm_zone_size(z) / 4; i++)
			cr_assert_eq(p[i], XM_POISON, "%s word %u: %#x",
				     xm_zone_name(z), i, p[i]);
		XM_ASAN_POISON(p, xm_zone_size(z));
	}
}

/* No false alarms: items written while held, freed, reused, many times. */
Test(umem_debug, honest_reuse_never_panics)
{
	void *v[40];

	for (int id = 0; id < XM_ZONE_MAX; id++) {
		z = xm_umem_zone(u, (enum xm_zone_id)id);
		for (int round = 0; round < 20; round++) {
			unsigned int n = 1 + (unsigned int)(round * 7) % 30;

			cr_assert_eq(xm_zone_alloc_bulk(z, v, n, XM_NOWAIT), 0);
			for (unsigned int i = 0; i < n; i++)
				memset(v[i], round, xm_zone_size(z));
			if (round & 1) {
				xm_zone_free_bulk(z, v, n);
			} else {
				for (unsigned int i = 0; i < n; i++)
					xm_zone_free(z, v[n - 1 - i]);
			}
		}
		cr_expect_eq(xm_zone_audit(z, &(struct xm_zone_audit){ 0 }), 0);
	}
}

Test(umem_debug, audit_compares_item_state)
{
	struct xm_zone_audit a;
	void *p, *q;
	uint64_t idx;

	z = xm_umem_zone(u, XM_ZONE_CLUST);
	p = xm_zone_alloc(z, XM_NOWAIT);
	q = xm_zone_alloc(z, XM_NOWAIT);
	xm_zone_free(z, q);
	cr_expect_eq(xm_zone_audit(z, &a), 0);
	cr_expect_eq(a.mismatches, 0);
	/* Held, but its state says free. */
	idx = _xm_zone_index(z, p);
	atomic_store(&z->uz_state[idx], XM_ITEM_FREE);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.mismatches, 1);
	atomic_store(&z->uz_state[idx], XM_ITEM_ALLOCATED);
	/* Free in a cache, but its state says held. */
	idx = _xm_zone_index(z, q);
	atomic_store(&z->uz_state[idx], XM_ITEM_ALLOCATED);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.mismatches, 1);
	atomic_store(&z->uz_state[idx], XM_ITEM_FREE);
	/* Never created, but marked. */
	atomic_store(&z->uz_state[31], XM_ITEM_FREE);
	cr_expect_eq(xm_zone_audit(z, &a), -EUCLEAN);
	cr_expect_eq(a.mismatches, 1);
	atomic_store(&z->uz_state[31], XM_ITEM_UNBORN);
	cr_expect_eq(xm_zone_audit(z, &a), 0);
	xm_zone_free(z, p);
}

#if defined(__SANITIZE_ADDRESS__)
/* ASan reports the stray read itself and exits with status 1. */
Test(umem_debug, asan_catches_a_read_after_free, .exit_code = 1)
{
	volatile char *p;

	z = xm_umem_zone(u, XM_ZONE_JUMBOP);
	p = xm_zone_alloc(z, XM_NOWAIT);
	cr_assert_not_null(p);
	xm_zone_free(z, (void *)p);
	want[0] = '\0';
	(void)p[100];
	cr_assert_fail("read of a freed frame went unnoticed");
}
#endif

#else /* !INVARIANTS */

Test(umem_debug, needs_invariants)
{
	z = xm_umem_zone(u, XM_ZONE_CLUST);
	expect_panic("");
	cr_skip_test("debug checks exist only in INVARIANTS builds");
}

#endif

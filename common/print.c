/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * print.c - the library's only way to say something: a sink the
 * application can replace (libxdp's libxdp_set_print), plus the panic
 * used by XM_ASSERT and the options validation every layer shares.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "xm_common_int.h"

static int xm_default_print(enum xm_print_level level, const char *fmt,
			    va_list args)
{
	if (level == XM_PRINT_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static _Atomic(xm_print_fn_t) xm_print_fn = xm_default_print;

xm_print_fn_t xm_set_print(xm_print_fn_t fn)
{
	return atomic_exchange(&xm_print_fn, fn);
}

void _xm_print(enum xm_print_level level, const char *fmt, ...)
{
	xm_print_fn_t fn = atomic_load(&xm_print_fn);
	va_list args;

	if (fn == NULL)
		return;
	va_start(args, fmt);
	fn(level, fmt, args);
	va_end(args);
}

void _xm_panic(const char *fmt, ...)
{
	xm_print_fn_t fn = atomic_load(&xm_print_fn);
	va_list args;

	/* A panic is never silenced: fall back to stderr. */
	if (fn == NULL)
		fn = xm_default_print;
	va_start(args, fmt);
	fn(XM_PRINT_WARN, fmt, args);
	va_end(args);
	abort();
}

bool _xm_opts_valid(const void *opts, size_t known_sz, const char *type_name)
{
	size_t sz = *(const size_t *)opts;
	const unsigned char *p = opts;

	if (sz < sizeof(size_t)) {
		xm_pr_warn("%s: sz %zu is too small\n", type_name, sz);
		return false;
	}
	for (size_t i = known_sz; i < sz; i++) {
		if (p[i] != 0) {
			xm_pr_warn("%s has non-zero bytes past the fields this "
				   "library knows (offset %zu)\n", type_name, i);
			return false;
		}
	}
	return true;
}

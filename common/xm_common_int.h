/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_common_int.h - private helpers shared by every layer of the library:
 * messages (through the replaceable print sink), assertions, visibility.
 * Not installed; not for applications.
 */
#ifndef XM_COMMON_INT_H
#define XM_COMMON_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xm_common.h"

/* Internal symbols shared between .c files: prefix _xm_, never exported. */
#define XM_HIDDEN		__attribute__((visibility("hidden")))

#define xm_likely(x)		__builtin_expect(!!(x), 1)
#define xm_unlikely(x)		__builtin_expect(!!(x), 0)

#ifndef __containerof
#define __containerof(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

XM_HIDDEN void _xm_print(enum xm_print_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints through the sink, then aborts: only for broken invariants. */
XM_HIDDEN void _xm_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define xm_pr_warn(fmt, ...)	_xm_print(XM_PRINT_WARN, "xmbuf: " fmt, ##__VA_ARGS__)
#define xm_pr_info(fmt, ...)	_xm_print(XM_PRINT_INFO, "xmbuf: " fmt, ##__VA_ARGS__)
#define xm_pr_debug(fmt, ...)	_xm_print(XM_PRINT_DEBUG, "xmbuf: " fmt, ##__VA_ARGS__)

/*
 * XM_ASSERT(expr, (fmt, args...)): FreeBSD's KASSERT.  Compiled in under
 * -DINVARIANTS (debug and test builds), nothing otherwise.  Guards
 * invariants only, never input a caller can get wrong.
 */
#ifdef INVARIANTS
#define XM_ASSERT(expr, msg)						\
	do {								\
		if (xm_unlikely(!(expr)))				\
			_xm_panic msg;					\
	} while (0)
#else
#define XM_ASSERT(expr, msg)	do { (void)sizeof(!(expr)); } while (0)
#endif

#if defined(INVARIANTS) && INVARIANTS > 1
#define XM_ASSERT_EXPENSIVE(expr, msg)	XM_ASSERT(expr, msg)
#else
#define XM_ASSERT_EXPENSIVE(expr, msg)	do { } while (0)
#endif

/*
 * Failure injection for tests (honoured in INVARIANTS builds only): after
 * `after` more successful zone allocations, the next `count` fail as if
 * the zone were at its limit (no warning, no reclaim).  after < 0 turns it
 * off.  Lets a test walk every cleanup path of a function that allocates.
 */
XM_HIDDEN void _xm_fail_inject(long after, long count);
/* True when the allocation being made must fail (consumes one step). */
XM_HIDDEN bool _xm_fail_now(void);
/* Non-zero while injection is armed: the fast paths' one relaxed load. */
XM_HIDDEN extern _Atomic int _xm_fail_armed;

/* Options struct validation, libbpf's OPTS_VALID. */
XM_HIDDEN bool _xm_opts_valid(const void *opts, size_t known_sz,
			      const char *type_name);
#define XM_OPTS_VALID(opts, type)					\
	(!(opts) || _xm_opts_valid((opts),				\
		offsetof(struct type, type##__last_field) +		\
		sizeof(((struct type *)0)->type##__last_field), #type))
#define XM_OPTS_HAS(opts, field)					\
	((opts) && (opts)->sz >= offsetof(typeof(*(opts)), field) +	\
		sizeof((opts)->field))
#define XM_OPTS_GET(opts, field, fallback)				\
	(XM_OPTS_HAS(opts, field) ? (opts)->field : fallback)

#endif /* XM_COMMON_INT_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * warns.h - the library's warnings, captured for a test to count and
 * read: install xm_warns_capture() with xm_set_print() (usually in the
 * suite's .init) and assert on xm_warns_n and xm_warns_text.
 *
 * Only XM_PRINT_WARN messages are kept (info and debug would make the
 * counts depend on the log level); their text is appended in order and
 * truncated at the buffer's end.  Criterion runs each test in its own
 * process, so the state starts empty in every test.
 */
#ifndef XM_TEST_WARNS_H
#define XM_TEST_WARNS_H

#include <stdarg.h>

#include "xm_umem.h"

#define XM_WARNS_TEXT_MAX	8192

extern int xm_warns_n;				/* warnings so far */
extern char xm_warns_text[XM_WARNS_TEXT_MAX];	/* their text */

/** A print callback for xm_set_print() that counts and keeps warnings. */
int xm_warns_capture(enum xm_print_level level, const char *fmt,
		     va_list ap);

#endif /* XM_TEST_WARNS_H */

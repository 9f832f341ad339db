// SPDX-License-Identifier: BSD-2-Clause
/*
 * warns.c - warning capture for tests (model in warns.h).
 *
 * KPI:
 *   xm_warns_capture, xm_warns_n, xm_warns_text
 */
#include <stdio.h>
#include <string.h>

#include "warns.h"

int xm_warns_n;
char xm_warns_text[XM_WARNS_TEXT_MAX];

int xm_warns_capture(enum xm_print_level level, const char *fmt, va_list ap)
{
	size_t len = strlen(xm_warns_text);

	if (level != XM_PRINT_WARN)
		return 0;
	xm_warns_n++;
	vsnprintf(xm_warns_text + len, sizeof(xm_warns_text) - len, fmt, ap);
	return 0;
}

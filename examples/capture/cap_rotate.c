// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_rotate.c - file names, clock-aligned periods and the -W ring (the
 * naming rules are in cap_rotate.h).
 *
 * KPI (example-private):
 *   cap_rotate_width, cap_rotate_name, cap_rotate_period,
 *   cap_ring_init, cap_ring_fini, cap_ring_push
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_rotate.h"

unsigned int cap_rotate_width(uint32_t nfiles)
{
	unsigned int w = 0;
	uint32_t x = nfiles ? nfiles - 1 : 0;

	while (x > 0) {
		w++;
		x /= 10;
	}
	return w;
}

int cap_rotate_name(char *buf, size_t len, const char *pattern, bool use_time,
		    time_t period, uint32_t count, unsigned int width)
{
	char base[PATH_MAX];
	int n;

	if (!buf || !len || !pattern || !*pattern)
		return -EINVAL;
	if (use_time) {
		struct tm tm;
		size_t k;

		if (!localtime_r(&period, &tm))
			return -EINVAL;
		/* 0 is both "empty" and "did not fit"; the pattern is not
		 * empty, so an empty result can only be an overflow or a
		 * pattern of conversions that expand to nothing */
		k = strftime(base, sizeof(base), pattern, &tm);
		if (k == 0)
			return strlen(pattern) >= sizeof(base) ?
			       -ENAMETOOLONG : -EINVAL;
	} else {
		if (strlen(pattern) >= sizeof(base))
			return -ENAMETOOLONG;
		strcpy(base, pattern);
	}
	if (count == 0 && width == 0)
		n = snprintf(buf, len, "%s", base);
	else
		n = snprintf(buf, len, "%s%0*u", base, (int)width, count);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

void cap_rotate_period(time_t now, uint32_t secs, time_t *start, time_t *end)
{
	time_t s = secs ? now - (now % (time_t)secs) : now;

	*start = s;
	*end = secs ? s + (time_t)secs : s;
}

int cap_ring_init(struct cap_ring *r, uint32_t nfiles)
{
	memset(r, 0, sizeof(*r));
	if (nfiles == 0 || nfiles > CAP_ROTATE_MAX_FILES)
		return -EINVAL;
	r->names = calloc(nfiles, sizeof(*r->names));
	if (!r->names)
		return -ENOMEM;
	r->nfiles = nfiles;
	return 0;
}

void cap_ring_fini(struct cap_ring *r)
{
	if (!r->names)
		return;
	for (uint32_t i = 0; i < r->nfiles; i++)
		free(r->names[i]);
	free(r->names);
	memset(r, 0, sizeof(*r));
}

int cap_ring_push(struct cap_ring *r, const char *name, char **evicted)
{
	char *copy = strdup(name);
	uint32_t i;

	*evicted = NULL;
	if (!copy)
		return -ENOMEM;
	/* A name reused (-C -W cycles FILE0..) is the same file: forget the
	 * old entry, keeping the others in order. */
	for (i = 0; i < r->count; i++) {
		uint32_t at = (r->head + i) % r->nfiles;

		if (strcmp(r->names[at], name) == 0)
			break;
	}
	if (i < r->count) {
		free(r->names[(r->head + i) % r->nfiles]);
		for (; i + 1 < r->count; i++)
			r->names[(r->head + i) % r->nfiles] =
				r->names[(r->head + i + 1) % r->nfiles];
		r->names[(r->head + r->count - 1) % r->nfiles] = NULL;
		r->count--;
	}
	if (r->count == r->nfiles) {
		*evicted = r->names[r->head];
		r->names[r->head] = NULL;
		r->head = (r->head + 1) % r->nfiles;
		r->count--;
	}
	r->names[(r->head + r->count) % r->nfiles] = copy;
	r->count++;
	return 0;
}

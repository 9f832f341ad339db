/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_sched.c - size schedules and flow numbering (pg_sched.h).  Pure:
 * no I/O, no clock; the random flow order comes from a seeded generator.
 *
 * Smooth weighted round robin (nginx's upstream balancer): each step
 * every size gains its weight in credit, the one with the most credit
 * goes out and pays the total weight.  Over one cycle of sum(weights)
 * steps each size goes out exactly weight times, spread as evenly as the
 * integers allow, so a short window of packets already has the profile's
 * proportions.
 *
 * KPI: pg_sizes_fixed, pg_sizes_sweep, pg_sizes_imix, pg_sizes_free,
 *      pg_parse_sizes, pg_parse_imix, pg_flows_init, pg_flows_free,
 *      pg_rand_next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_sched.h"

void pg_sizes_free(struct pg_sizes *s)
{
	free(s->sz_sizes);
	free(s->sz_cycle);
	memset(s, 0, sizeof(*s));
}

static int pg_sizes_alloc(struct pg_sizes *s, uint32_t nsizes, uint32_t len)
{
	memset(s, 0, sizeof(*s));
	s->sz_sizes = calloc(nsizes, sizeof(*s->sz_sizes));
	s->sz_cycle = calloc(len, sizeof(*s->sz_cycle));
	if (!s->sz_sizes || !s->sz_cycle) {
		pg_sizes_free(s);
		return -ENOMEM;
	}
	s->sz_n = nsizes;
	s->sz_len = len;
	return 0;
}

static void pg_sizes_finish(struct pg_sizes *s)
{
	s->sz_max = 0;
	s->sz_cycle_bytes = 0;
	for (uint32_t i = 0; i < s->sz_n; i++)
		if (s->sz_sizes[i] > s->sz_max)
			s->sz_max = s->sz_sizes[i];
	for (uint32_t i = 0; i < s->sz_len; i++)
		s->sz_cycle_bytes += s->sz_sizes[s->sz_cycle[i]];
}

void pg_sizes_strip_fcs(struct pg_sizes *s)
{
	for (uint32_t i = 0; i < s->sz_n; i++)
		s->sz_sizes[i] -= PG_FCS_LEN;
	pg_sizes_finish(s);
}

int pg_sizes_fixed(struct pg_sizes *s, uint32_t size)
{
	int err;

	if (size == 0)
		return -EINVAL;
	err = pg_sizes_alloc(s, 1, 1);
	if (err)
		return err;
	s->sz_sizes[0] = size;
	pg_sizes_finish(s);
	return 0;
}

int pg_sizes_sweep(struct pg_sizes *s, uint32_t lo, uint32_t hi,
		   uint32_t step)
{
	uint32_t n;
	int err;

	if (lo == 0 || hi < lo || step == 0)
		return -EINVAL;
	n = (hi - lo) / step + 1;
	if (n > PG_CYCLE_MAX)
		return -EINVAL;
	err = pg_sizes_alloc(s, n, n);
	if (err)
		return err;
	for (uint32_t i = 0; i < n; i++) {
		s->sz_sizes[i] = lo + i * step;
		s->sz_cycle[i] = (uint16_t)i;
	}
	pg_sizes_finish(s);
	return 0;
}

static uint32_t pg_gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int pg_sizes_imix(struct pg_sizes *s, const uint32_t *sizes,
		  const uint32_t *weights, unsigned int n)
{
	int64_t credit[PG_IMIX_MAX] = { 0 };
	uint32_t g = 0, w[PG_IMIX_MAX];
	uint64_t total = 0;
	int err;

	if (n == 0 || n > PG_IMIX_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		if (weights[i] == 0 || sizes[i] == 0)
			return -EINVAL;
		g = pg_gcd(g, weights[i]);
	}
	for (unsigned int i = 0; i < n; i++) {
		w[i] = weights[i] / g;
		total += w[i];
	}
	if (total > PG_CYCLE_MAX)
		return -EINVAL;
	err = pg_sizes_alloc(s, n, (uint32_t)total);
	if (err)
		return err;
	memcpy(s->sz_sizes, sizes, n * sizeof(*sizes));
	for (uint32_t step = 0; step < total; step++) {
		unsigned int best = 0;

		for (unsigned int i = 0; i < n; i++) {
			credit[i] += w[i];
			if (credit[i] > credit[best])
				best = i;
		}
		credit[best] -= (int64_t)total;
		s->sz_cycle[step] = (uint16_t)best;
	}
	pg_sizes_finish(s);
	return 0;
}

/* Parses a decimal number at *p (no sign), advancing it. */
static bool pg_parse_num(const char **p, uint64_t max, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
		s++;
	}
	*p = s;
	*out = (uint32_t)v;
	return true;
}

/* "SIZE,SIZE,...": each once per cycle, in the order given. */
static int pg_parse_size_list(const char *arg, uint32_t lo, uint32_t hi,
			      struct pg_sizes *s, char *err,
			      unsigned int errlen)
{
	uint32_t sizes[PG_IMIX_MAX];
	unsigned int n = 0;
	const char *p = arg;
	int rc;

	for (;;) {
		if (n == PG_IMIX_MAX) {
			snprintf(err, errlen, "size list '%s' has more than %u "
				 "sizes", arg, PG_IMIX_MAX);
			return -EINVAL;
		}
		if (!pg_parse_num(&p, UINT32_MAX, &sizes[n]) ||
		    (*p != ',' && *p != '\0')) {
			snprintf(err, errlen, "bad size list '%s' (SIZE,SIZE,...)",
				 arg);
			return -EINVAL;
		}
		if (sizes[n] < lo || sizes[n] > hi) {
			snprintf(err, errlen, "size %u out of range %u..%u",
				 sizes[n], lo, hi);
			return -EINVAL;
		}
		n++;
		if (*p == '\0')
			break;
		p++;
	}
	rc = pg_sizes_alloc(s, n, n);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->sz_sizes[i] = sizes[i];
		s->sz_cycle[i] = (uint16_t)i;
	}
	pg_sizes_finish(s);
	return 0;
}

int pg_parse_sizes(const char *arg, uint32_t lo, uint32_t hi,
		   struct pg_sizes *s, char *err, unsigned int errlen)
{
	const char *p = arg;
	uint32_t a, b, step = 1;
	int rc;

	if (arg && strchr(arg, ','))
		return pg_parse_size_list(arg, lo, hi, s, err, errlen);
	if (!arg || !pg_parse_num(&p, UINT32_MAX, &a)) {
		snprintf(err, errlen, "size '%s' is not a number", arg ? arg : "");
		return -EINVAL;
	}
	b = a;
	if (*p == '-') {
		p++;
		if (!pg_parse_num(&p, UINT32_MAX, &b)) {
			snprintf(err, errlen, "bad size range '%s' (LO-HI[:STEP])",
				 arg);
			return -EINVAL;
		}
		if (*p == ':') {
			p++;
			if (!pg_parse_num(&p, UINT32_MAX, &step) || step == 0) {
				snprintf(err, errlen, "bad sweep step in '%s'", arg);
				return -EINVAL;
			}
		}
	}
	if (*p) {
		snprintf(err, errlen, "junk after the size in '%s'", arg);
		return -EINVAL;
	}
	if (a < lo || b > hi || b < lo || a > hi) {
		snprintf(err, errlen, "size %s out of range %u..%u", arg, lo, hi);
		return -EINVAL;
	}
	if (b < a) {
		snprintf(err, errlen, "size range '%s' runs backwards", arg);
		return -EINVAL;
	}
	rc = a == b ? pg_sizes_fixed(s, a) : pg_sizes_sweep(s, a, b, step);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	else if (rc)
		snprintf(err, errlen, "sweep '%s' has more than %u sizes", arg,
			 PG_CYCLE_MAX);
	return rc;
}

int pg_parse_imix(const char *arg, uint32_t lo, uint32_t hi,
		  struct pg_sizes *s, char *err, unsigned int errlen)
{
	static const uint32_t def_sizes[] = { 64, 594, 1518 };
	static const uint32_t def_weights[] = { 7, 4, 1 };
	uint32_t sizes[PG_IMIX_MAX], weights[PG_IMIX_MAX];
	unsigned int n = 0;
	const char *p = arg;
	int rc;

	if (!arg || !*arg) {
		rc = pg_sizes_imix(s, def_sizes, def_weights, 3);
		if (rc)
			snprintf(err, errlen, "out of memory");
		return rc;
	}
	for (;;) {
		if (n == PG_IMIX_MAX) {
			snprintf(err, errlen, "IMIX list '%s' has more than %u "
				 "sizes", arg, PG_IMIX_MAX);
			return -EINVAL;
		}
		if (!pg_parse_num(&p, UINT32_MAX, &sizes[n]) || *p != ':') {
			snprintf(err, errlen, "bad IMIX list '%s' (SIZE:WEIGHT,...)",
				 arg);
			return -EINVAL;
		}
		p++;
		if (!pg_parse_num(&p, PG_CYCLE_MAX, &weights[n]) ||
		    weights[n] == 0) {
			snprintf(err, errlen, "bad IMIX weight in '%s' "
				 "(1..%u)", arg, PG_CYCLE_MAX);
			return -EINVAL;
		}
		if (sizes[n] < lo || sizes[n] > hi) {
			snprintf(err, errlen, "IMIX size %u out of range %u..%u",
				 sizes[n], lo, hi);
			return -EINVAL;
		}
		n++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			snprintf(err, errlen, "bad IMIX list '%s' (SIZE:WEIGHT,...)",
				 arg);
			return -EINVAL;
		}
		p++;
	}
	rc = pg_sizes_imix(s, sizes, weights, n);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	else if (rc)
		snprintf(err, errlen, "IMIX weights of '%s' add up past %u "
			 "(after dividing by their common divisor)", arg,
			 PG_CYCLE_MAX);
	return rc;
}

uint64_t pg_rand_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

void pg_flows_free(struct pg_flows *f)
{
	free(f->fl_perm);
	memset(f, 0, sizeof(*f));
}

int pg_flows_init(struct pg_flows *f, const uint32_t base[PG_FLOW_DIMS],
		  const uint32_t count[PG_FLOW_DIMS], uint32_t nflows,
		  bool random, uint64_t seed)
{
	uint64_t combos = 1;

	memset(f, 0, sizeof(*f));
	for (unsigned int d = 0; d < PG_FLOW_DIMS; d++) {
		if (count[d] == 0)
			return -EINVAL;
		f->fl_base[d] = base[d];
		f->fl_count[d] = count[d];
		f->fl_div[d] = combos > UINT32_MAX ? UINT32_MAX :
			       (uint32_t)combos;
		if (combos <= (uint64_t)PG_FLOWS_MAX * 2)
			combos *= count[d];
	}
	if (nflows == 0) {
		if (combos > PG_FLOWS_MAX)
			return -ERANGE;
		nflows = (uint32_t)combos;
	}
	if (nflows > combos || nflows > PG_FLOWS_MAX)
		return -ERANGE;
	f->fl_n = nflows;
	if (random && nflows > 1) {
		uint64_t st = seed ? seed : 0x9e3779b97f4a7c15ull;

		f->fl_perm = malloc(nflows * sizeof(*f->fl_perm));
		if (!f->fl_perm)
			return -ENOMEM;
		for (uint32_t i = 0; i < nflows; i++)
			f->fl_perm[i] = i;
		/* Fisher-Yates */
		for (uint32_t i = nflows - 1; i > 0; i--) {
			uint32_t j = (uint32_t)(pg_rand_next(&st) % (i + 1));
			uint32_t t = f->fl_perm[i];

			f->fl_perm[i] = f->fl_perm[j];
			f->fl_perm[j] = t;
		}
	}
	return 0;
}

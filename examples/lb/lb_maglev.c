// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_maglev.c - weighted Maglev table population (see lb_maglev.h for the
 * model and the paper's pseudocode it follows).
 *
 * Cost: filling M slots takes M turns; a turn walks its permutation past
 * slots already taken, about M ln M steps over the whole build in
 * expectation (the coupon collector's sum): a 65537-slot table builds in
 * a millisecond or two.  Builds happen on the control thread, at start
 * and on reload, never on the packet path.
 *
 * KPI:
 *   lb_is_prime()          table sizes must be prime
 *   lb_maglev_perm()       a backend's offset and skip from its name
 *   lb_maglev_populate()   fill a table
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_maglev.h"

bool lb_is_prime(uint32_t m)
{
	if (m < 2)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

void lb_maglev_perm(const struct lb_sipkey *k, const void *name, size_t len,
		    uint32_t m, struct lb_maglev_backend *b)
{
	uint64_t h = lb_siphash(k, name, len);

	/* Two independent 32-bit halves, as the paper's h1 and h2. */
	b->mb_offset = (uint32_t)(h % m);
	b->mb_skip = m > 1 ? (uint32_t)((h >> 32) % (m - 1)) + 1 : 1;
}

int lb_maglev_populate(uint16_t *table, uint32_t m,
		       const struct lb_maglev_backend *be, uint32_t n)
{
	uint32_t *pos;		/* next slot of each permutation to try */
	uint64_t *credit;	/* turns owed, in units of max weight */
	uint32_t maxw = 0, filled = 0;

	if (table == NULL || m < LB_MAGLEV_MIN_SIZE ||
	    m > LB_MAGLEV_MAX_SIZE || !lb_is_prime(m) ||
	    n > LB_MAGLEV_MAX_BACKENDS || n > m || (n && be == NULL))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (be[i].mb_weight > LB_MAGLEV_MAX_WEIGHT ||
		    be[i].mb_offset >= m || be[i].mb_skip == 0 ||
		    be[i].mb_skip >= m)
			return -EINVAL;
		if (be[i].mb_weight > maxw)
			maxw = be[i].mb_weight;
	}
	for (uint32_t s = 0; s < m; s++)
		table[s] = LB_MAGLEV_NONE;
	if (maxw == 0)
		return 0;

	pos = calloc(n, sizeof(*pos));
	credit = calloc(n, sizeof(*credit));
	if (pos == NULL || credit == NULL) {
		free(pos);
		free(credit);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		pos[i] = be[i].mb_offset;

	for (;;) {
		for (uint32_t i = 0; i < n; i++) {
			credit[i] += be[i].mb_weight;
			while (credit[i] >= maxw) {
				uint32_t c = pos[i], skip = be[i].mb_skip;

				credit[i] -= maxw;
				/*
				 * The permutation visits every slot once in M
				 * steps and the table is not full, so this
				 * ends.
				 */
				while (table[c] != LB_MAGLEV_NONE) {
					c += skip;
					if (c >= m)
						c -= m;
				}
				table[c] = (uint16_t)i;
				c += skip;
				pos[i] = c >= m ? c - m : c;
				if (++filled == m)
					goto out_free;
			}
		}
	}
out_free:
	free(pos);
	free(credit);
	return 0;
}

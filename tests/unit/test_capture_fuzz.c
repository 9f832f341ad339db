/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_capture_fuzz.c - the capture fuzz target's seeds and a few
 * thousand mutations of them, replayed through the same property check
 * (tests/fuzz/capture_fuzz_common.h) without libFuzzer, so every `make
 * test` and, under ASan and UBSan, every `make sanitize` runs them.  Each
 * input sits in a heap buffer of exactly its length: a read past it is
 * an ASan report.  Mutations are deterministic (fixed xorshift seed):
 * byte flips, cuts, insertions of filter keywords and operators.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../fuzz/capture_fuzz_common.h"

TestSuite(capture_fuzz, .timeout = 60);

static struct cap_fuzz_state state;
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 17);
}

static void check_exact(const uint8_t *data, size_t len, const char *what,
			int iter)
{
	uint8_t *c = malloc(len ? len : 1);
	const char *why;

	cr_assert_not_null(c);
	memcpy(c, data, len);
	why = cap_fuzz_check(&state, c, len);
	free(c);
	cr_assert_null(why, "%s %d (len %zu): %s", what, iter, len, why);
}

Test(capture_fuzz, seeds_hold_every_property)
{
	static struct cap_fuzz_seed seeds[CAP_FUZZ_SEEDS];
	int n = cap_fuzz_seeds(seeds);

	cr_assert_eq(n, CAP_FUZZ_SEEDS);
	for (int i = 0; i < n; i++) {
		cr_assert_gt(seeds[i].s_len, 1);
		check_exact(seeds[i].s_buf, seeds[i].s_len, "seed", i);
		for (size_t k = 0; k < seeds[i].s_len; k++)
			check_exact(seeds[i].s_buf, k, "prefix", i);
	}
	/* the expression seeds do push rules: the property has teeth */
	check_exact((const uint8_t *)"\0udp dst port 53", 16, "udp", 0);
	cr_assert(!state.rules.all);
	cr_assert_eq(state.rules.nrules, 1);
}

Test(capture_fuzz, mutations_hold_every_property)
{
	static struct cap_fuzz_seed seeds[CAP_FUZZ_SEEDS];
	static const char *const words[] = {
		" and ", " or ", " not ", "(", ")", " port ", " dst ", " src ",
		" host ", " net ", " vlan ", " udp ", " tcp ", " ip6 ", "/",
		"::", ".", "65536", "4096", "255.255.255.255", " arp ",
	};
	uint8_t buf[CAP_FUZZ_SEED_MAX * 2];
	int n = cap_fuzz_seeds(seeds);

	for (int iter = 0; iter < 4000; iter++) {
		const struct cap_fuzz_seed *s = &seeds[rnd() % (uint32_t)n];
		size_t len = s->s_len;

		memcpy(buf, s->s_buf, len);
		for (int m = 0; m < 1 + (int)(rnd() % 4); m++) {
			uint32_t op = rnd() % 4, at = len ? rnd() % len : 0;

			if (op == 0 && len) {
				buf[at] ^= (uint8_t)(1u << (rnd() % 8));
			} else if (op == 1 && len > 2) {
				len = 1 + rnd() % (len - 1);
			} else if (op == 2 && len) {
				buf[at] = (uint8_t)rnd();
			} else {
				const char *w = words[rnd() % (sizeof(words) /
							     sizeof(words[0]))];
				size_t wl = strlen(w);

				if (len + wl > sizeof(buf) || at == 0)
					continue;
				memmove(buf + at + wl, buf + at, len - at);
				memcpy(buf + at, w, wl);
				len += wl;
			}
		}
		check_exact(buf, len, "mutation", iter);
	}
}

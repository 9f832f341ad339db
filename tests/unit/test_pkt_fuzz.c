/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pkt_fuzz.c - the packet fuzz target's seeds and a few thousand
 * mutations of them, replayed through the same property check
 * (tests/fuzz/pkt_fuzz_common.h) without libFuzzer, so every `make test`
 * and, under ASan and UBSan, every `make sanitize` runs them.  Each input
 * sits in a heap buffer of exactly its length: a read past it is an ASan
 * report.  The mutations are deterministic (fixed xorshift seed) and aim
 * at what breaks parsers: length and offset fields, cuts, growth.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../fuzz/pkt_fuzz_common.h"

TestSuite(pkt_fuzz, .timeout = 60);

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 17);
}

static void check_exact(const uint8_t *data, uint32_t len, uint32_t mix,
			const char *what, int iter)
{
	uint8_t *c = malloc(len ? len : 1);
	const char *why;

	cr_assert_not_null(c);
	memcpy(c, data, len);
	why = pkt_check(c, len, mix);
	free(c);
	cr_assert_null(why, "%s %d (len %u): %s", what, iter, len, why);
}

Test(pkt_fuzz, seeds_parse_and_hold_every_property)
{
	static struct pkt_seed seeds[PKT_SEEDS];
	struct xm_pkt_info pi;
	int n = pkt_seeds(seeds);

	cr_assert_eq(n, PKT_SEEDS);
	for (int i = 0; i < n; i++) {
		cr_assert_gt(seeds[i].s_len, 0, "seed %d built", i);
		/* Every seed is a good packet: mutations start from sense. */
		cr_assert_eq(xm_pkt_parse(seeds[i].s_buf, seeds[i].s_len, &pi),
			     0, "seed %d: %s", i, xm_pkt_strerror(pi.pi_err));
		for (uint32_t mix = 0; mix < 8; mix++)
			check_exact(seeds[i].s_buf, seeds[i].s_len,
				    mix * 0x01010101u ^ 0x8000u, "seed", i);
		/* And every prefix of it. */
		for (uint32_t k = 0; k < seeds[i].s_len; k++)
			check_exact(seeds[i].s_buf, k, k, "prefix", i);
	}
}

/* Values that sit on the edges of length and type checks. */
static const uint16_t edges[] = {
	0, 1, 4, 5, 7, 8, 15, 19, 20, 39, 40, 41, 0x45, 0x4f, 0x60, 0x86dd,
	0x0800, 0x8100, 0x88a8, 0xfff8, 0x2000, 0x3fff, 0xff, 0xffff,
};

static uint32_t mutate(uint8_t *b, uint32_t len, uint32_t cap)
{
	int rounds = 1 + (int)(rnd() % 4);

	for (int r = 0; r < rounds; r++) {
		uint32_t op = rnd() % 6, off = len ? rnd() % len : 0;

		switch (op) {
		case 0:		/* flip a bit */
			if (len)
				b[off] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:		/* an edge value into a 16-bit field */
			if (len >= 2) {
				uint16_t v = edges[rnd() % (sizeof(edges) /
							    sizeof(edges[0]))];

				off = rnd() % (len - 1);
				b[off] = (uint8_t)(v >> 8);
				b[off + 1] = (uint8_t)v;
			}
			break;
		case 2:		/* an edge value into a byte */
			if (len)
				b[off] = (uint8_t)edges[rnd() %
					(sizeof(edges) / sizeof(edges[0]))];
			break;
		case 3:		/* cut */
			len = len ? rnd() % len : 0;
			break;
		case 4:		/* grow with random bytes */
		{
			uint32_t add = rnd() % 64;

			if (len + add > cap)
				add = cap - len;
			for (uint32_t i = 0; i < add; i++)
				b[len + i] = (uint8_t)rnd();
			len += add;
			break;
		}
		default:	/* a random byte */
			if (len)
				b[off] = (uint8_t)rnd();
			break;
		}
	}
	return len;
}

Test(pkt_fuzz, mutations_hold_every_property)
{
	static struct pkt_seed seeds[PKT_SEEDS];
	static uint8_t b[PKT_SEED_MAX + 256];
	int n = pkt_seeds(seeds), ok = 0;

	for (int iter = 0; iter < 6000; iter++) {
		const struct pkt_seed *s = &seeds[rnd() % (uint32_t)n];
		struct xm_pkt_info pi;
		uint32_t len;

		memcpy(b, s->s_buf, s->s_len);
		len = mutate(b, s->s_len, sizeof(b));
		check_exact(b, len, rnd(), "mutation", iter);
		ok += xm_pkt_parse(b, len, &pi) == 0;
	}
	/* The mutations keep a fair share parseable, or they test little. */
	cr_assert_gt(ok, 1000, "only %d of 6000 mutations parsed", ok);
}

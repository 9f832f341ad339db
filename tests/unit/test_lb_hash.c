// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_hash.c - xmbuf-lb's keyed hash (examples/lb/lb_hash.c):
 * SipHash-2-4 against the reference vectors of the paper's authors, and
 * the flow hash's canonical encoding.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/lb/lb_hash.h"

/*
 * SipHash-2-4 with key 00 01 .. 0f over the messages 00, 00 01, ...,
 * 00 01 .. 3e (lengths 0..63): the 64 vectors published with the
 * reference implementation (vectors.h, "vectors_sip64").
 */
static const uint64_t sip64_vectors[64] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
	0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
	0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
	0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
	0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull,
	0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull, 0xbed65cf21aa2ee98ull,
	0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull,
	0x2f2e6163076bcfadull, 0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull,
	0xad87a3535c49ef28ull, 0x32d892fad841c342ull, 0x7127512f72f27cceull,
	0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
	0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull,
	0x9abfd8766a33735cull, 0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull,
	0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull, 0xf935451de4f21df2ull,
	0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
	0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull,
	0xa192d576b245165aull, 0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full,
	0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull, 0xb78dbfaf3a8d83bdull,
	0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
	0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull,
	0x958a324ceb064572ull,
};

static struct lb_sipkey ref_key(void)
{
	uint8_t k[LB_KEY_LEN];
	struct lb_sipkey key;

	for (int i = 0; i < LB_KEY_LEN; i++)
		k[i] = (uint8_t)i;
	lb_sipkey_init(&key, k);
	return key;
}

static struct lb_flow v4_flow(uint32_t src, uint16_t sport)
{
	struct lb_flow f;

	memset(&f, 0, sizeof(f));
	f.f_src[0] = src;
	f.f_dst[0] = 0x010212c6;	/* 198.18.2.1 in network order */
	f.f_sport = sport;
	f.f_dport = 80;
	f.f_proto = 6;
	return f;
}

TestSuite(lb_hash);

Test(lb_hash, reference_vectors)
{
	struct lb_sipkey key = ref_key();
	uint8_t msg[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t len = 0; len < 64; len++)
		cr_assert_eq(lb_siphash(&key, msg, len), sip64_vectors[len],
			     "SipHash-2-4 of %zu bytes: %016llx, want %016llx",
			     len, (unsigned long long)lb_siphash(&key, msg, len),
			     (unsigned long long)sip64_vectors[len]);
}

Test(lb_hash, unaligned_input_same_result)
{
	struct lb_sipkey key = ref_key();
	uint8_t buf[80];

	/* Messages at every alignment hash as at offset 0. */
	for (int off = 1; off < 8; off++) {
		for (int i = 0; i < 64; i++)
			buf[off + i] = (uint8_t)i;
		for (size_t len = 0; len < 64; len += 7)
			cr_assert_eq(lb_siphash(&key, buf + off, len),
				     sip64_vectors[len]);
	}
}

Test(lb_hash, empty_message_needs_no_buffer)
{
	struct lb_sipkey key = ref_key();

	cr_assert_eq(lb_siphash(&key, NULL, 0), sip64_vectors[0]);
}

Test(lb_hash, key_bytes_are_little_endian_words)
{
	struct lb_sipkey key = ref_key();

	cr_assert_eq(key.k0, 0x0706050403020100ull);
	cr_assert_eq(key.k1, 0x0f0e0d0c0b0a0908ull);
}

Test(lb_hash, flow_hash_is_the_canonical_encoding)
{
	struct lb_sipkey key = ref_key();
	struct lb_flow f = v4_flow(0x0101a8c0, 40000), g = f;
	uint8_t enc[14];

	/* 14 bytes for IPv4: src, dst, sport, dport (big-endian), proto,
	 * flags. */
	memcpy(enc, &f.f_src[0], 4);
	memcpy(enc + 4, &f.f_dst[0], 4);
	enc[8] = 40000 >> 8;
	enc[9] = 40000 & 0xff;
	enc[10] = 0;
	enc[11] = 80;
	enc[12] = 6;
	enc[13] = 0;
	cr_assert_eq(lb_flow_hash(&key, &f), lb_siphash(&key, enc, 14));

	/* Words an IPv4 flow does not use are not hashed. */
	g.f_src[2] = 0xdeadbeef;
	g.f_dst[3] = 0x12345678;
	cr_assert_eq(lb_flow_hash(&key, &g), lb_flow_hash(&key, &f));
	cr_assert(!lb_flow_equal(&f, &g), "but the flows are not equal");
}

Test(lb_hash, flow_hash_v6_uses_all_words)
{
	struct lb_sipkey key = ref_key();
	struct lb_flow f = v4_flow(1, 1), g;

	f.f_flags = LB_FLOW_V6;
	g = f;
	g.f_src[3] ^= 1;
	cr_assert_neq(lb_flow_hash(&key, &f), lb_flow_hash(&key, &g));
	g = f;
	g.f_flags = 0;
	cr_assert_neq(lb_flow_hash(&key, &f), lb_flow_hash(&key, &g),
		      "IPv4 and IPv6 flows of the same bytes differ");
}

Test(lb_hash, every_field_counts)
{
	struct lb_sipkey key = ref_key();
	struct lb_flow f = v4_flow(0x0101a8c0, 1000), g;
	uint64_t h = lb_flow_hash(&key, &f);

	g = f; g.f_src[0] ^= 0x01000000;
	cr_assert_neq(lb_flow_hash(&key, &g), h);
	g = f; g.f_dst[0] ^= 1;
	cr_assert_neq(lb_flow_hash(&key, &g), h);
	g = f; g.f_sport++;
	cr_assert_neq(lb_flow_hash(&key, &g), h);
	g = f; g.f_dport++;
	cr_assert_neq(lb_flow_hash(&key, &g), h);
	g = f; g.f_proto = 17;
	cr_assert_neq(lb_flow_hash(&key, &g), h);
	g = f; g.f_flags = LB_FLOW_FRAG;
	cr_assert_neq(lb_flow_hash(&key, &g), h);
}

Test(lb_hash, same_key_same_hash_other_key_other_hash)
{
	uint8_t k1[LB_KEY_LEN], k2[LB_KEY_LEN];
	struct lb_sipkey a, b, c;
	unsigned int same = 0;

	for (int i = 0; i < LB_KEY_LEN; i++)
		k1[i] = k2[i] = (uint8_t)(0x5a ^ i);
	lb_sipkey_init(&a, k1);
	lb_sipkey_init(&b, k2);		/* a second instance, same key */
	k2[7] ^= 0x10;			/* one key bit different */
	lb_sipkey_init(&c, k2);
	for (uint32_t i = 0; i < 4096; i++) {
		struct lb_flow f = v4_flow(i * 2654435761u, (uint16_t)i);

		cr_assert_eq(lb_flow_hash(&a, &f), lb_flow_hash(&b, &f));
		same += lb_flow_hash(&a, &f) % 65537 ==
			lb_flow_hash(&c, &f) % 65537;
	}
	/* With another key the slots are unrelated: a few coincide. */
	cr_assert_lt(same, 8, "%u of 4096 flows kept their slot", same);
}

Test(lb_hash, source_ports_spread_evenly)
{
	struct lb_sipkey key = ref_key();
	unsigned int bins[16] = { 0 };

	/* 65536 flows from one client, only the port varying: what an
	 * attacker controls.  Each of 16 bins gets 4096 +- 10%. */
	for (uint32_t p = 0; p < 65536; p++) {
		struct lb_flow f = v4_flow(0x0101a8c0, (uint16_t)p);

		bins[lb_flow_hash(&key, &f) % 16]++;
	}
	for (int i = 0; i < 16; i++)
		cr_assert(bins[i] > 3686 && bins[i] < 4506, "bin %d: %u", i,
			  bins[i]);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_hash.c - SipHash-c-d, written from the paper ("SipHash: a fast
 * short-input PRF", Aumasson and Bernstein, INDOCRYPT 2012), and the
 * load balancer's flow hash on top of it.
 *
 * State: four 64-bit words v0..v3 initialised from the key and the
 * constants "somepseudorandomlygeneratedbytes"; each 8-byte little-endian
 * message word m is absorbed as v3 ^= m, c SipRounds, v0 ^= m; the last
 * word carries the message length in its top byte; finalisation is
 * v2 ^= 0xff and d SipRounds; the output is v0 ^ v1 ^ v2 ^ v3.
 *
 * Two instances: SipHash-2-4, the paper's recommendation, for what is
 * hashed at configuration time (lb_maglev.c's backend permutations, the
 * flow hash's key words); and SipHash-1-3 for the pin buckets (a flow's
 * first packet).  tests/unit/test_lb_hash.c checks both against
 * reference vectors.  The flow hash, every packet, is a cheaper keyed
 * multiply-xor mix (lb_flow_hash(); lb_hash.h says why).
 *
 * KPI:
 *   lb_sipkey_init()  expand a 16-byte key
 *   lb_siphash()      SipHash-2-4 of a byte string
 *   lb_siphash13()    SipHash-1-3 of a byte string
 *   (lb_flow_hash(), every packet's, is inline in lb_hash.h)
 */
#include <endian.h>

#include "lb_hash.h"

static inline uint64_t rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

#define SIPROUND(v0, v1, v2, v3)					\
	do {								\
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0;		\
		v0 = rotl64(v0, 32);					\
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;		\
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;		\
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2;		\
		v2 = rotl64(v2, 32);					\
	} while (0)

void lb_sipkey_init(struct lb_sipkey *k, const uint8_t key[LB_KEY_LEN])
{
	uint8_t msg[16] = "xmbuf-lb flow  ";

	k->k0 = load_le64(key);
	k->k1 = load_le64(key + 8);
	/* The flow hash's key words: SipHash-2-4 of the key over a label
	 * and an index, so they are as secret as the key and unrelated to
	 * one another. */
	for (unsigned int i = 0; i < LB_FLOW_KEY_WORDS; i++) {
		msg[15] = (uint8_t)i;
		k->f[i] = lb_siphash(k, msg, sizeof(msg));
	}
}

/*
 * SipHash-c-d of a byte string; c and d are constants at every call, so
 * the compiler unrolls the rounds.
 */
static inline uint64_t sip_bytes(const struct lb_sipkey *k, const void *data,
				 size_t len, unsigned int c, unsigned int d)
{
	const uint8_t *p = data;
	const uint8_t *end = p + (len & ~(size_t)7);
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ull;
	uint64_t m, last = (uint64_t)len << 56;

	for (; p != end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		for (unsigned int r = 0; r < c; r++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The 0..7 bytes left, little-endian, under the length byte. */
	switch (len & 7) {
	case 7: last |= (uint64_t)p[6] << 48;	/* fall through */
	case 6: last |= (uint64_t)p[5] << 40;	/* fall through */
	case 5: last |= (uint64_t)p[4] << 32;	/* fall through */
	case 4: last |= (uint64_t)p[3] << 24;	/* fall through */
	case 3: last |= (uint64_t)p[2] << 16;	/* fall through */
	case 2: last |= (uint64_t)p[1] << 8;	/* fall through */
	case 1: last |= (uint64_t)p[0];		/* fall through */
	case 0: break;
	}
	v3 ^= last;
	for (unsigned int r = 0; r < c; r++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (unsigned int r = 0; r < d; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t lb_siphash(const struct lb_sipkey *k, const void *data, size_t len)
{
	return sip_bytes(k, data, len, 2, 4);
}

uint64_t lb_siphash13(const struct lb_sipkey *k, const void *data,
		      size_t len)
{
	return sip_bytes(k, data, len, 1, 3);
}

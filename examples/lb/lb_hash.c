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
 * hashed at configuration time (lb_maglev.c's backend permutations); and
 * SipHash-1-3 for the flow hash, every packet (see lb_hash.h for why
 * that is enough).  tests/unit/test_lb_hash.c checks both against
 * reference vectors.
 *
 * KPI:
 *   lb_sipkey_init()  expand a 16-byte key
 *   lb_siphash()      SipHash-2-4 of a byte string
 *   lb_siphash13()    SipHash-1-3 of a byte string
 *   lb_flow_hash()    SipHash-1-3 of a flow's canonical encoding, its
 *                     message words built from the fields
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
	k->k0 = load_le64(key);
	k->k1 = load_le64(key + 8);
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

/*
 * SipHash-1-3 of message words already assembled: n full words, then the
 * last one (0..7 bytes and the length byte).  sip_bytes(..., 1, 3) for a
 * message whose words the caller built (lb_flow_hash()).
 */
static inline uint64_t sip13_words(const struct lb_sipkey *k,
				   const uint64_t *m, unsigned int n,
				   uint64_t last)
{
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ull;

	for (unsigned int i = 0; i < n; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* A 32-bit word as stored (network order bytes), read as the
 * little-endian value SipHash's message words are. */
static inline uint64_t le32w(uint32_t stored)
{
	return le32toh(stored);
}

/*
 * The canonical encoding (see lb_hash.h) is assembled straight into
 * SipHash's little-endian message words from the fields, not written
 * byte by byte into a buffer and loaded back: same bytes, same hash
 * (test_lb_hash checks it against lb_siphash13() of the buffer), ~125
 * instructions a packet fewer (callgrind, examples/lb/README.md).
 *
 *   IPv4, 14 bytes: m0 = src | dst << 32
 *                   last = sport(BE) dport(BE) proto flags 0 len=14
 *   IPv6, 38 bytes: m0..m3 = src, dst (8 bytes each)
 *                   last = sport(BE) dport(BE) proto flags 0 len=38
 */
uint64_t lb_flow_hash(const struct lb_sipkey *k, const struct lb_flow *f)
{
	uint64_t m[4], tail;

	tail = (uint64_t)(f->f_sport >> 8) |
	       (uint64_t)(f->f_sport & 0xff) << 8 |
	       (uint64_t)(f->f_dport >> 8) << 16 |
	       (uint64_t)(f->f_dport & 0xff) << 24 |
	       (uint64_t)f->f_proto << 32 | (uint64_t)f->f_flags << 40;
	if (!(f->f_flags & LB_FLOW_V6)) {
		m[0] = le32w(f->f_src[0]) | le32w(f->f_dst[0]) << 32;
		return sip13_words(k, m, 1, tail | (uint64_t)14 << 56);
	}
	m[0] = le32w(f->f_src[0]) | le32w(f->f_src[1]) << 32;
	m[1] = le32w(f->f_src[2]) | le32w(f->f_src[3]) << 32;
	m[2] = le32w(f->f_dst[0]) | le32w(f->f_dst[1]) << 32;
	m[3] = le32w(f->f_dst[2]) | le32w(f->f_dst[3]) << 32;
	return sip13_words(k, m, 4, tail | (uint64_t)38 << 56);
}

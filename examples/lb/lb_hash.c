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
 *   lb_flow_hash()    keyed multiply-xor mix of a flow's canonical
 *                     encoding, its words built from the fields
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

/*
 * The flow hash's mixing step: the 128-bit product of two 64-bit words,
 * its halves folded together (the "multiply-and-xor" of wyhash and
 * rapidhash).  Each output bit depends on every input bit of both words
 * through the carries of the multiplication, and it is two instructions
 * on x86-64 (MUL, XOR).
 */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * MurmurHash3's 64-bit finaliser: a bijection in which every input bit
 * flips every output bit with probability close to 1/2.  After mum() it
 * evens out the low bits (the Maglev slot and the connection-table
 * bucket take different bit ranges of the hash, lb_lru.c), which a lone
 * product leaves weaker than the middle ones.
 */
static inline uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* A 32-bit word as stored (network order bytes), read as a
 * little-endian value, so that hosts of either byte order agree. */
static inline uint64_t le32w(uint32_t stored)
{
	return le32toh(stored);
}

/*
 * The flow is encoded as 64-bit words (the same on every host: bytes
 * read little-endian), and the words are mixed with the flow-hash key
 * words of lb_sipkey_init():
 *
 *   IPv4: a = src | dst << 32
 *         t = sport(BE) dport(BE) proto flags 0 14   (bytes, low first)
 *         h = fmix64(mum(a ^ f0, t ^ f1))
 *   IPv6: a0..a3 = src, dst (8 bytes each), t as above with 38
 *         x = mum(a0 ^ f0, a1 ^ f1), y = mum(a2 ^ f2, a3 ^ f3)
 *         h = fmix64(mum(x ^ t ^ f4, y ^ f5))
 *
 * About 25 instructions for an IPv4 flow against ~125 for SipHash-1-3
 * (callgrind, examples/lb/README.md); tests/unit/test_lb_hash.c checks
 * the encoding, the spread and the avalanche.
 */
uint64_t lb_flow_hash(const struct lb_sipkey *k, const struct lb_flow *f)
{
	uint64_t t, x, y;

	/* The ports' big-endian bytes, low first: byte-swapped values on
	 * any host. */
	t = (uint64_t)__builtin_bswap16(f->f_sport) |
	    (uint64_t)__builtin_bswap16(f->f_dport) << 16 |
	    (uint64_t)f->f_proto << 32 | (uint64_t)f->f_flags << 40;
	if (!(f->f_flags & LB_FLOW_V6))
		return fmix64(mum((le32w(f->f_src[0]) |
				   le32w(f->f_dst[0]) << 32) ^ k->f[0],
				  (t | (uint64_t)14 << 56) ^ k->f[1]));
	x = mum((le32w(f->f_src[0]) | le32w(f->f_src[1]) << 32) ^ k->f[0],
		(le32w(f->f_src[2]) | le32w(f->f_src[3]) << 32) ^ k->f[1]);
	y = mum((le32w(f->f_dst[0]) | le32w(f->f_dst[1]) << 32) ^ k->f[2],
		(le32w(f->f_dst[2]) | le32w(f->f_dst[3]) << 32) ^ k->f[3]);
	return fmix64(mum(x ^ (t | (uint64_t)38 << 56) ^ k->f[4],
			  y ^ k->f[5]));
}

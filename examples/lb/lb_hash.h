/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_hash.h - the load balancer's keyed hashes: SipHash (Aumasson and
 * Bernstein, 2012), a pseudorandom function of a 128-bit key, as
 * SipHash-2-4 and SipHash-1-3, and the per-packet flow hash.
 *
 * Why keyed and not a fast unkeyed mix (Jenkins, CRC, Toeplitz with a
 * published key): the flow hash chooses the backend, so whoever can
 * compute it can choose source ports that all land on one backend, or
 * that all collide in one chain of the connection table.  With the key
 * secret (random per deployment unless the operator sets one), nobody
 * outside can.  Two LB instances given the same key compute the same
 * hash for every flow, which is what lets ECMP spray packets of one flow
 * over several instances.
 *
 * The flow hash, every packet, is cheaper than SipHash: the flow's words
 * xored with key words, multiplied pairwise to 128 bits with the halves
 * folded (wyhash's "mum"), and MurmurHash3's finaliser (lb_hash.c).
 * About 45 instructions a packet for an IPv4 flow against ~125 for
 * SipHash-1-3, which was most of what the balancer's own code cost a
 * packet (examples/lb/README.md, "Cost").  What that gives up: SipHash is a PRF
 * (an attacker who sees outputs learns nothing of the key); this mix is
 * only keyed, with 384 key bits derived from the deployment key by
 * SipHash-2-4 (lb_sipkey_init()).  From outside one sees at most which
 * backend answers a flow, a few bits of the hash, never the hash, and
 * without the key words no flow's hash can be computed, so choosing
 * ports that collide still needs the key.  A flood that collided anyway
 * would lengthen a chain of one worker's connection table, whose pins
 * are rate-limited per source and per worker (lb_path.h).  SipHash-2-4
 * stays for the Maglev permutations (configuration time) and SipHash-1-3
 * for the pin buckets (a flow's first packet only).
 *
 * Changing the flow hash changes which backend a flow maps to, between
 * versions of xmbuf-lb only: two balancers of the same version and key
 * agree on every flow (the hash is a function of key and flow alone, the
 * same on hosts of either byte order), and the persisted key keeps flows
 * where they were across restarts of one version.
 *
 * The flow key hashed is the canonical encoding of struct lb_flow (see
 * lb_flow_hash()): only the bytes a flow of that family really has, so an
 * IPv4 flow costs one SipHash block plus the final one.
 */
#ifndef LB_HASH_H
#define LB_HASH_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#define LB_KEY_LEN		16	/* SipHash key bytes */

#define LB_FLOW_KEY_WORDS	6	/* lb_flow_hash()'s key words */

/* A key expanded to the two little-endian words SipHash starts from,
 * and the flow hash's key words derived from it. */
struct lb_sipkey {
	uint64_t k0;			/* key bytes 0..7, little-endian */
	uint64_t k1;			/* key bytes 8..15 */
	uint64_t f[LB_FLOW_KEY_WORDS];	/* SipHash-2-4 of the key over
					 * "xmbuf-lb flow  " + index */
};

/* lb_flow.f_flags */
#define LB_FLOW_V6		0x01	/* addresses are IPv6 */
#define LB_FLOW_FRAG		0x02	/* a fragment: 3-tuple, ports zero */

/*
 * A flow as the balancer sees it: the connection table's key and the
 * input of the flow hash.  Addresses are in network order, as in the
 * packet; IPv4 uses word 0 only, the rest stays zero.
 */
struct lb_flow {
	uint32_t f_src[4];		/* source address */
	uint32_t f_dst[4];		/* destination address (the VIP) */
	uint16_t f_sport;		/* source port, host order; 0 for frags */
	uint16_t f_dport;		/* destination port; 0 for frags */
	uint8_t f_proto;		/* IP protocol */
	uint8_t f_flags;		/* LB_FLOW_* */
	uint16_t f_pad;			/* zero */
};
_Static_assert(sizeof(struct lb_flow) == 40, "lb_flow is 40 bytes");

/** Expands a 16-byte key. */
void lb_sipkey_init(struct lb_sipkey *k, const uint8_t key[LB_KEY_LEN]);

/** SipHash-2-4 of len bytes at data. */
uint64_t lb_siphash(const struct lb_sipkey *k, const void *data, size_t len);
/** SipHash-1-3 of len bytes at data. */
uint64_t lb_siphash13(const struct lb_sipkey *k, const void *data,
		      size_t len);

/*
 * The flow hash's mixing step: the 128-bit product of two 64-bit words,
 * its halves folded together (the "multiply-and-xor" of wyhash and
 * rapidhash).  Each output bit depends on every input bit of both words
 * through the carries of the multiplication, and it is two instructions
 * on x86-64 (MUL, XOR).
 */
static inline uint64_t lb_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * MurmurHash3's 64-bit finaliser: a bijection in which every input bit
 * flips every output bit with probability close to 1/2.  After lb_mum()
 * it evens out the low bits (the Maglev slot and the connection-table
 * bucket take different bit ranges of the hash, lb_lru.c), which a lone
 * product leaves weaker than the middle ones.
 */
static inline uint64_t lb_fmix64(uint64_t x)
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
static inline uint64_t lb_le32w(uint32_t stored)
{
	return le32toh(stored);
}

/*
 * The flow hash: a keyed multiply-xor mix of the canonical encoding of f
 * (IPv4: 14 bytes, IPv6: 38 bytes: source, destination, ports
 * big-endian, protocol, flags), so equal flows hash equally whatever
 * their padding holds.  The encoding is read as 64-bit words (the same
 * on every host: bytes read little-endian), and the words are mixed with
 * the flow-hash key words of lb_sipkey_init():
 *
 *   IPv4: a = src | dst << 32
 *         t = sport(BE) dport(BE) proto flags 0 14   (bytes, low first)
 *         h = lb_fmix64(lb_mum(a ^ f0, t ^ f1))
 *   IPv6: a0..a3 = src, dst (8 bytes each), t as above with 38
 *         x = lb_mum(a0 ^ f0, a1 ^ f1), y = lb_mum(a2 ^ f2, a3 ^ f3)
 *         h = lb_fmix64(lb_mum(x ^ t ^ f4, y ^ f5))
 *
 * About 45 instructions a packet for an IPv4 flow against ~125 for
 * SipHash-1-3 (callgrind, examples/lb/README.md); inline, since every
 * packet and every table operation computes it.  tests/unit/test_lb_hash.c
 * checks the encoding, the spread and the avalanche.
 */
static inline uint64_t lb_flow_hash(const struct lb_sipkey *k,
				    const struct lb_flow *f)
{
	uint64_t t, x, y;

	/* The ports' big-endian bytes, low first: byte-swapped values on
	 * any host. */
	t = (uint64_t)__builtin_bswap16(f->f_sport) |
	    (uint64_t)__builtin_bswap16(f->f_dport) << 16 |
	    (uint64_t)f->f_proto << 32 | (uint64_t)f->f_flags << 40;
	if (!(f->f_flags & LB_FLOW_V6))
		return lb_fmix64(lb_mum((lb_le32w(f->f_src[0]) |
					 lb_le32w(f->f_dst[0]) << 32) ^ k->f[0],
					(t | (uint64_t)14 << 56) ^ k->f[1]));
	x = lb_mum((lb_le32w(f->f_src[0]) | lb_le32w(f->f_src[1]) << 32) ^
		   k->f[0],
		   (lb_le32w(f->f_src[2]) | lb_le32w(f->f_src[3]) << 32) ^
		   k->f[1]);
	y = lb_mum((lb_le32w(f->f_dst[0]) | lb_le32w(f->f_dst[1]) << 32) ^
		   k->f[2],
		   (lb_le32w(f->f_dst[2]) | lb_le32w(f->f_dst[3]) << 32) ^
		   k->f[3]);
	return lb_fmix64(lb_mum(x ^ (t | (uint64_t)38 << 56) ^ k->f[4],
				y ^ k->f[5]));
}

/** True when two flows are the same (every byte compared). */
static inline int lb_flow_equal(const struct lb_flow *a,
				const struct lb_flow *b)
{
	uint64_t x[5], y[5];

	/* memcpy, not a cast: the words are read without aliasing trouble
	 * and the compiler turns this into five loads each. */
	__builtin_memcpy(x, a, sizeof(x));
	__builtin_memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
		(x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

#endif /* LB_HASH_H */

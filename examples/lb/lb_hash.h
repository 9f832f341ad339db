/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_hash.h - the load balancer's keyed hashes: SipHash (Aumasson and
 * Bernstein, 2012), a pseudorandom function of a 128-bit key, as
 * SipHash-2-4 and SipHash-1-3.
 *
 * Why a keyed PRF and not a fast unkeyed mix (Jenkins, CRC, Toeplitz with
 * a published key): the flow hash chooses the backend, so whoever can
 * compute it can choose source ports that all land on one backend, or
 * that all collide in one chain of the connection table.  With the key
 * secret (random per deployment unless the operator sets one), nobody
 * outside can.  Two LB instances given the same key compute the same
 * hash for every flow, which is what lets ECMP spray packets of one flow
 * over several instances.
 *
 * Why SipHash-1-3 for the flow hash (one round per message word, three
 * to finish, against two and four): it is what Rust's standard HashMap
 * and CPython (3.11 on) use for the same job, keeping a hash table safe
 * from flooding by whoever does not know the key; its authors proposed
 * it for that use.  The output itself is never sent anywhere: from
 * outside one sees at most which backend answers a flow, a few bits, and
 * no published attack recovers the key or predicts collisions of
 * SipHash-1-3 from such outputs.  The key stays random per deployment
 * unless the operator sets one.  SipHash-2-4 stays for
 * the Maglev permutations (configuration time, where speed does not
 * matter).  The flow hash is ~60 instructions cheaper a packet (5 rounds
 * instead of 8 for an IPv4 flow; examples/lb/README.md, "Performance").
 * Two balancers with the same key still agree on every flow: the hash is
 * still a function of key and flow alone.
 *
 * The flow key hashed is the canonical encoding of struct lb_flow (see
 * lb_flow_hash()): only the bytes a flow of that family really has, so an
 * IPv4 flow costs one SipHash block plus the final one.
 */
#ifndef LB_HASH_H
#define LB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define LB_KEY_LEN		16	/* SipHash key bytes */

/* A key expanded to the two little-endian words SipHash starts from. */
struct lb_sipkey {
	uint64_t k0;			/* key bytes 0..7, little-endian */
	uint64_t k1;			/* key bytes 8..15 */
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

/**
 * The flow hash: SipHash-1-3 over the canonical encoding of f (IPv4: 14
 * bytes, IPv6: 38 bytes: source, destination, ports big-endian, protocol,
 * flags), so equal flows hash equally whatever their padding holds.
 */
uint64_t lb_flow_hash(const struct lb_sipkey *k, const struct lb_flow *f);

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

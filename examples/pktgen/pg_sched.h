/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_sched.h - what each transmitted packet is: its size (fixed, a sweep,
 * an IMIX) and its flow (stepped or random over address and port ranges).
 * Pure functions of the packet's number, so every engine and every queue
 * sends the same pattern and a unit test can check it.
 *
 * Sizes: a schedule, a cycle of indexes into the distinct sizes.
 *   fixed 64           sizes {64}              cycle 0
 *   sweep 64-66        sizes {64, 65, 66}      cycle 0 1 2
 *   list 64,128,64     sizes {64, 128, 64}     cycle 0 1 2
 *   IMIX 64:7,594:4,1518:1 (the classic 7:4:1)
 *                      sizes {64, 594, 1518}   cycle of 12, interleaved
 *                      by smooth weighted round robin:
 *                      0 1 0 0 1 0 2 0 1 0 0 1 ...
 * so any 12 consecutive packets hold exactly 7, 4 and 1 of each.
 *
 * Flows: flow k (0 <= k < nflows) is a mixed-radix number over the four
 * ranges, the source address varying fastest, then the destination, the
 * source port, the destination port:
 *   src = src_base + k % n_src
 *   dst = dst_base + (k / n_src) % n_dst     ...
 * so flows 0 .. n_src*n_dst*n_sport*n_dport - 1 are distinct 5-tuples
 * and a receiver sees exactly nflows of them.  Packet i is flow i % nflows
 * (stepped) or perm[i % nflows] for a random permutation drawn once
 * (random: every flow still appears once per nflows packets).
 */
#ifndef PG_SCHED_H
#define PG_SCHED_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Frame sizes as every tester and switch counts them, with the 4-byte
 * FCS (64 .. 9018), are what the user gives (-s, --imix, rfc2544's
 * list); the packet on the wire, what the generator builds and the
 * receiver sees, is 4 bytes shorter (the NIC appends the FCS).  A
 * schedule is parsed in frame sizes and turned into wire sizes once
 * (pg_sizes_strip_fcs); everything after that counts wire bytes.
 */
#define PG_FCS_LEN		4
#define PG_FRAME_MIN		64	/* Ethernet minimum, with FCS */
#define PG_FRAME_MAX		9018	/* 9000-byte MTU + 14 + FCS */
#define PG_SIZE_MIN		(PG_FRAME_MIN - PG_FCS_LEN)	/* wire: 60 */
#define PG_SIZE_MAX		(PG_FRAME_MAX - PG_FCS_LEN)	/* 9014 */
/* L1 adds the preamble (7), the SFD (1) and the gap (12) to a frame */
#define PG_L1_OVERHEAD		20
#define PG_IMIX_MAX		16	/* sizes in a weight list */
#define PG_CYCLE_MAX		65536	/* longest size cycle */

struct pg_sizes {
	uint32_t *sz_sizes;		/* distinct sizes, as given */
	uint32_t sz_n;			/* entries in sz_sizes */
	uint16_t *sz_cycle;		/* indexes into sz_sizes */
	uint32_t sz_len;		/* cycle length */
	uint32_t sz_max;		/* largest size */
	uint64_t sz_cycle_bytes;	/* bytes in one cycle */
};

/** One size.  @return 0 or -EINVAL (outside lo..hi), -ENOMEM. */
int pg_sizes_fixed(struct pg_sizes *s, uint32_t size);
/** lo, lo+step, ... <= hi.  @return 0, -EINVAL, -ENOMEM. */
int pg_sizes_sweep(struct pg_sizes *s, uint32_t lo, uint32_t hi,
		   uint32_t step);
/**
 * Sizes with weights, interleaved by smooth weighted round robin; the
 * weights are reduced by their greatest common divisor first.
 * @return 0; -EINVAL (no sizes, a weight of 0, a cycle longer than
 * PG_CYCLE_MAX); -ENOMEM.
 */
int pg_sizes_imix(struct pg_sizes *s, const uint32_t *sizes,
		  const uint32_t *weights, unsigned int n);
void pg_sizes_free(struct pg_sizes *s);
/** Size of packet i. */
static inline uint32_t pg_sizes_at(const struct pg_sizes *s, uint64_t i)
{
	return s->sz_sizes[s->sz_cycle[i % s->sz_len]];
}

/** Frame sizes (with FCS) to wire sizes: every size less PG_FCS_LEN. */
void pg_sizes_strip_fcs(struct pg_sizes *s);

/**
 * Parses "-s" arguments: "SIZE", "LO-HI" or "LO-HI:STEP" (a sweep), or a
 * comma list "SIZE,SIZE,..." (each once per cycle, in that order).
 * @return 0, or -EINVAL with a reason in err.
 */
int pg_parse_sizes(const char *arg, uint32_t lo, uint32_t hi,
		   struct pg_sizes *s, char *err, unsigned int errlen);
/**
 * Parses an IMIX weight list "SIZE:WEIGHT,SIZE:WEIGHT,..." (NULL or ""
 * gives 64:7,594:4,1518:1, frame sizes with the FCS).  @return 0 or -EINVAL with a reason in err.
 */
int pg_parse_imix(const char *arg, uint32_t lo, uint32_t hi,
		  struct pg_sizes *s, char *err, unsigned int errlen);

/* Flow dimensions, in mixed-radix order. */
enum {
	PG_FLOW_SRC = 0,		/* source address (its last 32 bits) */
	PG_FLOW_DST,			/* destination address */
	PG_FLOW_SPORT,			/* source port */
	PG_FLOW_DPORT,			/* destination port */
	PG_FLOW_DIMS,
};

struct pg_flows {
	uint32_t fl_n;			/* flows */
	uint32_t fl_base[PG_FLOW_DIMS];	/* first value (host order) */
	uint32_t fl_count[PG_FLOW_DIMS];/* values of the range */
	uint32_t fl_div[PG_FLOW_DIMS];	/* flows per step of the digit */
	uint32_t *fl_perm;		/* random order, or NULL: stepped */
};

#define PG_FLOWS_MAX		(1U << 24)

/**
 * Sets up nflows flows over the ranges (count 1: fixed).  nflows 0 means
 * every combination.  random draws a permutation from seed.
 * @return 0; -ERANGE when the ranges hold fewer than nflows distinct
 * tuples (or more than PG_FLOWS_MAX with nflows 0); -EINVAL for a count
 * of 0; -ENOMEM.
 */
int pg_flows_init(struct pg_flows *f, const uint32_t base[PG_FLOW_DIMS],
		  const uint32_t count[PG_FLOW_DIMS], uint32_t nflows,
		  bool random, uint64_t seed);
void pg_flows_free(struct pg_flows *f);
/** Flow of packet i. */
static inline uint32_t pg_flows_index(const struct pg_flows *f, uint64_t i)
{
	uint32_t k = (uint32_t)(i % f->fl_n);

	return f->fl_perm ? f->fl_perm[k] : k;
}
/** Value of dimension d for flow k. */
static inline uint32_t pg_flows_value(const struct pg_flows *f, uint32_t k,
				      unsigned int d)
{
	return f->fl_base[d] + (k / f->fl_div[d]) % f->fl_count[d];
}

/** xorshift64*: the generator of the random flow order. */
uint64_t pg_rand_next(uint64_t *state);

#endif /* PG_SCHED_H */

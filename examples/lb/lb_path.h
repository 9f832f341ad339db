/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_path.h - the load balancer's per-packet decision, on plain bytes: a
 * frame goes in with the room around it, a verdict comes out with where
 * the frame to send now starts.  No mbufs, rings or sockets here, so the
 * fuzz target (tests/fuzz/fuzz_lb_path.c) and the unit tests drive
 * exactly the code the workers run.
 *
 *   frame as received (RX frame, headroom from the port)
 *   |<-- headroom -->|eth|vlan|IP ... TCP/UDP ... payload|<-- tailroom -->|
 *
 *   LB_FORWARD: outer headers written into the headroom, L2 moved in front
 *   |<-headroom-n->|eth|vlan|outer IP [UDP [GUE]]|IP ... payload|
 *                  ^ frame + r_off (r_off = -n)
 *
 *   LB_REPLY: an ICMP/ICMPv6 too-big answer built over the frame itself,
 *   sent back the way the packet came (r_off = 0)
 *
 * Decision, per packet (fragments by 3-tuple, as Maglev's paper does):
 *   parse -> VIP (dst, proto, dport) or, for any fragment, the VIP owning
 *   (dst, proto) -> flow hash (keyed, deployment key) -> connection
 *   table hit: the flow's backend (found again by stable id after a
 *   reload; rescheduled if it left the pool) / miss: Maglev table slot
 *   hash mod M, and an entry for the flow only when the packet starts
 *   one and the pin budgets allow (below) -> encapsulate, or too big:
 *   ICMP.
 *
 * Pinning (taking a connection-table entry) under a flood: only a flow's
 * first packet pins it (TCP: a SYN without ACK; UDP and fragments: any
 * packet that misses); a TCP segment that misses is forwarded by the
 * Maglev table and touches nothing.  Each pin takes a token from its
 * source's bucket (LB_PIN_BUCKETS per worker, by a keyed hash of the
 * source address, an IPv6 source by its /64: pin-rate a second, pin-burst
 * deep) and one from the worker's (lru-size / 8 a second, lru-size / 4
 * deep).  A flow refused a token is forwarded all the same, by the
 * table, and counted; so a flood, from one source or from many, replaces
 * at most lru-size / 4 entries at once and lru-size / 8 a second.
 */
#ifndef LB_PATH_H
#define LB_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "xm_pkt.h"
#include "lb_config.h"
#include "lb_lru.h"

#define LB_MAX_OVERHEAD		(XM_PKT_IPV6_HLEN + XM_PKT_UDP_HLEN + \
				 XM_PKT_GUE_HLEN)	/* 52 bytes */
#define LB_PIN_BUCKETS		1024	/* source buckets per worker */

enum lb_verdict {
	LB_DROP = 0,			/* free the frame (counted) */
	LB_FORWARD,			/* send the encapsulated frame */
	LB_REPLY,			/* send the ICMP reply */
};

/* Per-worker counters (single writer, relaxed atomic stores). */
struct lb_path_stats {
	uint64_t rx;			/* frames processed */
	uint64_t forwarded;		/* encapsulated toward a backend */
	uint64_t icmp_sent;		/* too-big replies built */
	uint64_t malformed;		/* xm_pkt_parse() refused */
	uint64_t malformed_why[XM_PKT_ERR_MAX]; /* ... by reason */
	uint64_t not_ip;		/* neither IPv4 nor IPv6 */
	uint64_t not_tcp_udp;		/* IP, but another protocol */
	uint64_t no_service;		/* no VIP for dst/proto/port */
	uint64_t no_backend;		/* VIP without a backend of weight */
	uint64_t frags;			/* fragments balanced by 3-tuple */
	uint64_t frag_no_owner;		/* several services on the address,
					 * none marked 'frag' */
	uint64_t too_big;		/* over the MTU once encapsulated */
	uint64_t too_big_dropped;	/* ... and not answered: DF clear,
					 * ICMP not allowed, rate limit */
	uint64_t no_headroom;		/* no room for the outer headers */
	uint64_t rescheduled;		/* flows whose backend left */
	uint64_t pin_refused_source;	/* flow starts not pinned: their
					 * source's budget was spent */
	uint64_t pin_refused_table;	/* ... the worker's budget was spent
					 * (a flood from many sources) */
	uint64_t csum_completed;	/* TCP/UDP checksums a local sender
					 * left partial, finished here
					 * (lb_csum.c) */
};

/*
 * A token bucket kept as what it owes, in nanotokens (1e9 a token):
 * zeroed memory is a full bucket, so nothing needs setting up, and a
 * worker's first packet at any clock reading finds its budgets whole.
 */
struct lb_pin {
	uint64_t pn_debt;		/* nanotokens taken and not yet back */
	uint64_t pn_last_ns;		/* clock at the last refill */
};

/* One worker's state. */
struct lb_path {
	struct lb_lru *p_lru;		/* its connection table */
	unsigned int p_worker;		/* its counter set in the config */
	uint8_t p_mac[6];		/* outer Ethernet source */
	uint32_t p_if_mtu;		/* interface MTU (config mtu 0) */
	uint64_t p_icmp_credit;		/* rate limit: replies * 1e9 */
	uint64_t p_icmp_last_ns;	/* last refill */
	uint32_t p_vip_hint;		/* service of the last packet: tried
					 * before the lookup (any value is
					 * safe, it is checked) */
	struct lb_path_stats p_st;	/* counters */
	struct lb_pin p_pin_all;	/* the worker's pin budget */
	struct lb_pin p_pin[LB_PIN_BUCKETS]; /* per source (hashed) */
};

/* Where the frame to send starts (relative to the received frame) and
 * how long it is. */
struct lb_result {
	int32_t r_off;			/* <= 0 */
	uint32_t r_len;			/* bytes */
};

/* What lb_path_classify() learned about a frame, for lb_path_decide(). */
struct lb_pkt {
	struct xm_pkt_info k_pi;	/* the parse */
	struct lb_flow k_flow;		/* 5-tuple, or 3-tuple for fragments */
	uint64_t k_hash;		/* lb_flow_hash() of k_flow */
	int k_vip;			/* service index */
};

/**
 * xm_pkt_parse() of the balancer's common frame (untagged IPv4 without
 * options, an unfragmented TCP or UDP segment), cheaper.
 * @return true with *pi exactly what xm_pkt_parse() gives (success);
 * false, *pi undefined, for any other frame: parse it with
 * xm_pkt_parse().
 */
bool lb_path_parse_fast(const uint8_t *frame, uint32_t len,
			struct xm_pkt_info *pi);

/**
 * First half of a decision: parses the frame, finds its service, hashes
 * its flow and prefetches the connection-table bucket.
 * @return true when the frame goes on to lb_path_decide(); false when it
 * is to be dropped (counted in w->p_st).
 */
bool lb_path_classify(struct lb_path *w, const struct lb_config *c,
		      const uint8_t *frame, uint32_t len, struct lb_pkt *k);

/**
 * Second half: the flow's backend (connection table, else Maglev), and
 * the encapsulation or the too-big reply.  Arguments as lb_path_process()
 * plus k from lb_path_classify() of the same frame and configuration.
 */
enum lb_verdict lb_path_decide(struct lb_path *w, const struct lb_config *c,
			       uint8_t *frame, uint32_t len,
			       uint32_t headroom, uint32_t tailroom,
			       uint64_t now_ns, const struct lb_pkt *k,
			       struct lb_result *r);

/**
 * Decides one frame (lb_path_classify() then lb_path_decide()).
 * @param w the worker; @param c the configuration in force (built)
 * @param frame, len the received frame
 * @param headroom writable bytes before frame; @param tailroom after it
 * @param now_ns a monotonic clock, for the ICMP rate limit
 * @param r where the frame to send is (LB_FORWARD, LB_REPLY)
 * @return the verdict; every LB_DROP is counted in w->p_st.
 */
enum lb_verdict lb_path_process(struct lb_path *w, const struct lb_config *c,
				uint8_t *frame, uint32_t len,
				uint32_t headroom, uint32_t tailroom,
				uint64_t now_ns, struct lb_result *r);

/** Reads w's counters from another thread. */
void lb_path_stats_read(const struct lb_path *w, struct lb_path_stats *st);

#endif /* LB_PATH_H */

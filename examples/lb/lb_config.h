/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_config.h - xmbuf-lb's configuration: the file format, its parser,
 * and the immutable object the packet path reads.
 *
 * The format (examples/lb/README.md has the full reference): one
 * directive per line, words separated by blanks, '#' starts a comment.
 *
 *   key 000102030405060708090a0b0c0d0e0f   # SipHash key; default random
 *   table-size 65537                        # Maglev M, a prime
 *   lru-size 65536                          # flows per worker
 *   src-prefix 198.18.128.0/17              # outer IPv4 sources
 *   src-prefix 2001:2:0:8000::/64           # outer IPv6 sources
 *   gateway 02:00:00:00:00:01               # next hop MAC (Katran's)
 *   mtu 1500                                # outer packet limit
 *   encap ipip | gue PORT | gue-direct PORT
 *   icmp-rate 1000                          # too-big replies/s/worker
 *   pin-rate 1000                           # flows/s a source may pin
 *   pin-burst 4000                          # ... at once (4 x pin-rate)
 *   steer address | service                 # what reaches the LB
 *   vip 198.18.2.1 udp 53 [frag]            # a service ...
 *   health tcp 53 interval 1 rise 2 fall 2  # ... its checks (lb_health.h)
 *   backend 198.18.1.11 [weight 3] [mac 02:..] # ... and its pool
 *
 * Life of a configuration:
 *
 *   file --lb_config_parse()--> lb_config (validated, no tables)
 *        --lb_config_build()--> + Maglev tables, lookups, stable ids,
 *                                 per-worker counters      (immutable)
 *        --> published to the workers by pointer; the previous one is
 *            freed once every worker has moved past it (lb.c)
 *
 * Every error names its line ("lb.conf:12: ..."); errors about the file
 * as a whole (no vip at all) name the last line.  A reload is parsed
 * against the running configuration: the key and lru-size cannot change
 * without a restart (the connection tables are hashed with the key and
 * sized by lru-size), and the backends and VIPs that stay keep their
 * stable identities, so established flows keep their backend.
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xm_pkt.h"
#include "lb_hash.h"

#define LB_MAX_VIPS		1024	/* services */
#define LB_MAX_BACKENDS		4096	/* per service */
#define LB_MAX_RULES		16	/* steering rules (XM_PORT_MAX_RULES) */
#define LB_MAX_LINE		1024	/* bytes per line */
#define LB_MAX_FILE		(16u << 20) /* bytes per file */
#define LB_LRU_DEFAULT		65536u
#define LB_ICMP_RATE_DEFAULT	1000u
#define LB_PIN_RATE_DEFAULT	1000u	/* flows a second one source pins */
#define LB_PIN_RATE_MAX		10000000u
#define LB_PIN_BURST_MAX	100000000u
#define LB_MTU_MIN		576u
#define LB_MTU_MAX		65535u
#define LB_WEIGHT_DEFAULT	1u
#define LB_ERRLEN		256	/* room for any message */
#define LB_HEALTH_PATH_MAX	128	/* 'health http PATH', NUL included */
#define LB_HEALTH_MS_MIN	100u	/* interval and timeout, 0.1 s .. */
#define LB_HEALTH_MS_MAX	3600000u /* ... one hour */
#define LB_HEALTH_COUNT_MAX	100u	/* rise, fall */

enum lb_encap {
	LB_ENCAP_IPIP = 0,		/* IPIP / IP6IP6 / 4in6 / 6in4 */
	LB_ENCAP_GUE,			/* outer UDP + GUE variant 0 header */
	LB_ENCAP_GUE_DIRECT,		/* outer UDP + inner IP (variant 1) */
};

enum lb_steer {
	LB_STEER_ADDRESS = 0,		/* all TCP/UDP to a VIP address (so
					 * later fragments arrive too) */
	LB_STEER_SERVICE,		/* VIP address + protocol + port */
};

enum lb_health_kind {
	LB_HEALTH_NONE = 0,		/* no checks: always up (default) */
	LB_HEALTH_TCP,			/* a TCP connect completes */
	LB_HEALTH_HTTP,			/* GET PATH answers the expected code */
};

/* A service's health check ('health' line; keepalived's terms). */
struct lb_health {
	uint8_t h_kind;			/* enum lb_health_kind */
	uint8_t h_reset;		/* 'on-down reset': a down backend's
					 * established flows move too */
	uint16_t h_port;		/* 0: the service's port */
	uint16_t h_expect;		/* HTTP status that means up (200) */
	uint32_t h_interval_ms;		/* between checks of one backend */
	uint32_t h_timeout_ms;		/* a check's limit, <= interval */
	uint32_t h_rise;		/* successes in a row: up */
	uint32_t h_fall;		/* failures in a row: down */
	uint32_t h_line;		/* config line, 0: not given */
	char h_path[LB_HEALTH_PATH_MAX]; /* HTTP request path */
};

/* An address with its family (4 or 6). */
struct lb_prefix {
	union xm_pkt_addr p_addr;	/* network order, host bits zero */
	uint8_t p_family;		/* 0 (unset), 4 or 6 */
	uint8_t p_len;			/* prefix length */
	uint32_t p_line;		/* where it was set */
};

struct lb_backend {
	union xm_pkt_addr be_addr;	/* outer destination, network order */
	uint8_t be_family;		/* 4 or 6 */
	uint8_t be_has_mac;		/* be_mac given (else the gateway) */
	uint8_t be_mac[6];		/* next hop MAC */
	uint32_t be_weight;		/* 0 .. LB_MAGLEV_MAX_WEIGHT; 0 drains:
					 * what the table is built with */
	uint32_t be_conf_weight;	/* the file's weight (be_weight is 0
					 * while down or drained: lb_state.c) */
	uint8_t be_down;		/* health checks say down */
	uint8_t be_drained;		/* 'ctl drain' until the next reload */
	uint8_t be_reset;		/* down with 'on-down reset': its
					 * established flows move (lb_path) */
	uint32_t be_line;		/* config line */
	uint32_t be_id;			/* stable identity across reloads */
	uint32_t be_stat;		/* counter slot (lb_config_stats) */
};

struct lb_vip {
	union xm_pkt_addr v_addr;	/* network order */
	uint8_t v_family;		/* 4 or 6 */
	uint8_t v_proto;		/* XM_PKT_IPPROTO_TCP or _UDP */
	uint16_t v_port;		/* host order, 1..65535 */
	uint8_t v_frag;			/* 'frag': owns its address's fragments */
	uint32_t v_line;		/* config line */
	uint32_t v_id;			/* stable identity across reloads */
	struct lb_backend *v_be;	/* pool, sorted by address once built */
	uint32_t v_nbe;			/* backends */
	uint32_t v_nactive;		/* backends with a weight */
	uint16_t *v_table;		/* Maglev table (built), indexes v_be */
	struct lb_health v_health;	/* its checks */
	uint8_t v_all_down;		/* every backend down: the table is
					 * the last one with one up (lb_state) */
};

/* A steering rule the port should install (converted in lb.c). */
struct lb_rule {
	uint8_t r_family;		/* 4 or 6 */
	uint8_t r_proto;		/* TCP or UDP */
	uint16_t r_port;		/* host order; 0: any (address mode) */
	union xm_pkt_addr r_addr;	/* VIP address */
};

/* Counters of one VIP or backend in one worker (single writer). */
struct lb_cnt {
	uint64_t packets;		/* packets forwarded */
	uint64_t bytes;			/* their bytes as received */
	uint64_t new_flows;		/* table misses that start a flow */
	uint64_t lru_misses;		/* table misses mid-flow (TCP without
					 * SYN): an evicted flow or one that
					 * began on another LB */
};

/* One entry of the stable-identity map, sorted by id. */
struct lb_idmap {
	uint32_t im_id;			/* be_id */
	uint16_t im_vip;		/* VIP index */
	uint16_t im_be;			/* backend index in the VIP */
};

struct lb_config {
	uint32_t c_gen;			/* generation, 1 for the first */
	uint8_t c_key[LB_KEY_LEN];	/* SipHash key */
	uint8_t c_key_set;		/* 'key' given (else random/kept) */
	uint32_t c_key_line;		/* where */
	struct lb_sipkey c_sipkey;	/* expanded key */
	uint32_t c_table_size;		/* Maglev M */
	uint32_t c_lru_size;		/* flows per worker */
	uint32_t c_lru_line;		/* where set, 0: default */
	struct lb_prefix c_src4;	/* outer IPv4 source prefix */
	struct lb_prefix c_src6;	/* outer IPv6 source prefix */
	uint8_t c_gw_mac[6];		/* gateway MAC */
	uint8_t c_has_gw;		/* gateway given */
	uint32_t c_mtu;			/* 0: the interface's */
	uint8_t c_encap;		/* enum lb_encap */
	uint16_t c_gue_port;		/* GUE destination port */
	uint32_t c_icmp_rate;		/* per worker per second, 0: no limit */
	uint32_t c_pin_rate;		/* flows a source may pin a second, per
					 * worker; 0: no pinning limit at all */
	uint32_t c_pin_burst;		/* ... at once (its bucket's depth) */
	uint8_t c_steer;		/* enum lb_steer */
	struct lb_vip *c_vips;		/* services */
	uint32_t c_nvips;
	uint32_t c_nbackends;		/* over every VIP */
	uint32_t c_lines;		/* lines in the file */
	/* Built by lb_config_build(): */
	bool c_built;
	uint32_t c_next_id;		/* next stable id to hand out */
	uint16_t *c_vip_hash;		/* open addressing: VIP index */
	uint16_t *c_frag_hash;		/* (addr, proto): a VIP of that key */
	uint16_t *c_frag_owner;		/* ... and its fragments' owner, or
					 * LB_FRAG_AMBIGUOUS */
	uint32_t c_hash_mask;		/* slots - 1, both tables */
	struct lb_idmap *c_idmap;	/* c_nbackends entries, by id */
	struct lb_rule c_rules[LB_MAX_RULES]; /* steering */
	uint32_t c_nrules;
	unsigned int c_nworkers;	/* counter sets */
	struct lb_cnt **c_stats;	/* [worker][nvips + nbackends] */
	struct lb_cnt *c_carry;		/* [nvips + nbackends]: totals of
					 * earlier generations (main thread) */
};

#define LB_HASH_EMPTY		0xffffu	/* free slot of c_vip_hash */
#define LB_FRAG_AMBIGUOUS	0xfffeu	/* several services, none 'frag' */

/**
 * Parses and validates a configuration held in memory.
 * @param text, len the file's bytes (need not be NUL-terminated)
 * @param name what messages call the file
 * @param running the configuration in force, or NULL at start: a reload
 * may not change the key or lru-size, and without a key line it keeps the
 * running key (at start: a random one from getrandom())
 * @param err, errlen where a message goes: "name:line: what"
 * @return the configuration, not built; NULL with errno EINVAL (bad
 * configuration, message in err) or ENOMEM.
 */
struct lb_config *lb_config_parse(const char *text, size_t len,
				  const char *name,
				  const struct lb_config *running, char *err,
				  size_t errlen);

/**
 * Builds what the packet path reads: sorts each pool by address, carries
 * stable identities (and so established flows) over from running, builds
 * the Maglev tables, the lookup tables, the steering rules, and zeroed
 * counters for nworkers workers.
 * @return 0, on success; -EINVAL (message in err, naming the line) or
 * -ENOMEM.
 */
int lb_config_build(struct lb_config *c, const struct lb_config *running,
		    unsigned int nworkers, char *err, size_t errlen);

/**
 * Reads path and parses it (lb_config_parse() of the file's bytes).
 * @return as lb_config_parse(); errno ENOENT etc. for a file that cannot
 * be read (message in err).
 */
struct lb_config *lb_config_read(const char *path,
				 const struct lb_config *running, char *err,
				 size_t errlen);

/**
 * Reads path and parses and builds it (lb_config_read() then
 * lb_config_build()).  @return as lb_config_read().
 */
struct lb_config *lb_config_load(const char *path,
				 const struct lb_config *running,
				 unsigned int nworkers, char *err,
				 size_t errlen);

/** Frees a configuration; NULL is allowed. */
void lb_config_free(struct lb_config *c);

/**
 * The service for a packet: VIP index, or -1 when none.
 * @param family 4 or 6; @param addr destination (network order)
 */
int lb_config_vip(const struct lb_config *c, uint8_t family,
		  const union xm_pkt_addr *addr, uint8_t proto, uint16_t port);

/**
 * True when v is the service for (family, addr, proto, port): what
 * lb_config_vip() compares a candidate against.  Services are unique in
 * a configuration, so a VIP that matches is the answer, whichever way it
 * was found (lb_path.c tries the worker's last hit first).
 */
static inline bool lb_vip_is(const struct lb_vip *v, uint8_t family,
			     const union xm_pkt_addr *a, uint8_t proto,
			     uint16_t port)
{
	uint64_t x[2], y[2];

	/* Two word compares, not a memcmp call: the packet path asks this
	 * for every packet. */
	__builtin_memcpy(x, &v->v_addr, 16);
	__builtin_memcpy(y, a, 16);
	return v->v_port == port && v->v_family == family &&
	       v->v_proto == proto && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/**
 * The service that balances fragments to (addr, proto): the VIP marked
 * 'frag', or the only one on that address and protocol.
 * @return VIP index; -1 none; -2 several and none marked.
 */
int lb_config_frag_vip(const struct lb_config *c, uint8_t family,
		       const union xm_pkt_addr *addr, uint8_t proto);

/** The entry of stable backend id, or NULL when it is not configured. */
const struct lb_idmap *lb_config_backend_by_id(const struct lb_config *c,
					       uint32_t id);

/** Counter slots: VIP v is slot v, backend b is slot c_nvips + be_stat. */
static inline unsigned int lb_config_slots(const struct lb_config *c)
{
	return c->c_nvips + c->c_nbackends;
}

/**
 * Folds old's counters (every worker plus its carried totals) into c's
 * carried totals, VIP by VIP and backend by backend, matched by stable
 * id.  Call once no worker writes old's counters any more.
 */
void lb_config_carry_stats(struct lb_config *c, const struct lb_config *old);

/** Sum of one slot over the workers plus the carried totals. */
void lb_config_slot_total(const struct lb_config *c, unsigned int slot,
			  struct lb_cnt *out);

/** "198.18.2.1:53/udp" or "[2001:2::1]:80/tcp". */
const char *lb_vip_name(const struct lb_vip *v, char *buf, size_t len);
/** The backend's address as text. */
const char *lb_addr_name(uint8_t family, const union xm_pkt_addr *a,
			 char *buf, size_t len);

#endif /* LB_CONFIG_H */

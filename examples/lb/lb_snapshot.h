/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_snapshot.h - one consistent reading of a running balancer, for the
 * control socket (lb_ctl.c) and /metrics (lb_metrics.c): taken under the
 * balancer's control lock (lb.c), then formatted without it, so the
 * formatters are pure functions of a snapshot (unit-tested on one made
 * by hand).
 *
 * Every loss is in it, wherever it happens (issue 13 item 7): the
 * decisions' drops (lb_path), the worker loop's (TX ring full, chains),
 * and the port's: the kernel's RX ring full, fill ring empty, other
 * kernel drops, the port's own, TX not sendable, invalid descriptors,
 * and packets steered to a queue without a socket.  lb_losses_total()
 * is the one sum the stats line, `ctl status`, /metrics and the --json
 * summary all show.
 */
#ifndef LB_SNAPSHOT_H
#define LB_SNAPSHOT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "xm_port.h"
#include "xm_umem.h"
#include "lb_config.h"
#include "lb_health.h"
#include "lb_lru.h"
#include "lb_path.h"

/* Every worker's counters summed (lb.c's sum_totals()). */
struct lb_totals {
	struct lb_path_stats p;		/* decisions, summed */
	uint64_t tx;			/* accepted by tx_burst */
	uint64_t tx_full;		/* dropped: TX ring full */
	uint64_t multi_buffer;		/* dropped: chains */
	uint64_t busy_cycles;		/* in loops that moved packets */
	uint32_t headroom_min;		/* least RX headroom seen */
	uint64_t flows;			/* entries in the tables */
	uint64_t lru_capacity;		/* entries, all tables */
	struct lb_lru_stats lru;	/* summed */
};

/* Losses by where they happen.  The kernel counts a frame lost to an
 * empty fill ring in rx_fill_ring_empty_descs and in rx_dropped too, so
 * rx_other is rx_dropped beyond the former: each loss counted once. */
struct lb_losses {
	uint64_t path;			/* lb_path and worker drops */
	uint64_t rx_ring_full;		/* kernel: RX ring full */
	uint64_t fill_ring_empty;	/* kernel: no frame to receive into */
	uint64_t rx_other;		/* kernel: other RX drops */
	uint64_t rx_port;		/* the port's (bad descriptors) */
	uint64_t tx_port;		/* accepted by the port, not sent */
	uint64_t invalid_descs;		/* RX fill + TX invalid descriptors */
	uint64_t no_socket;		/* steered to a queue with no socket:
					 * passed to the stack, not balanced */
};

struct lb_snap_be {
	uint32_t vip;			/* index in vips */
	char addr[INET6_ADDRSTRLEN];
	uint32_t weight;		/* in the table now */
	uint32_t conf_weight;		/* the file's */
	bool drained, down, checked;	/* checked: the service has checks */
	struct lb_health_info health;	/* when checked */
	struct lb_cnt cnt;		/* packets, bytes, new flows, misses */
};

struct lb_snap_vip {
	char name[80];			/* "198.18.2.1:80/tcp" */
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	const char *proto;		/* "tcp" / "udp" */
	const char *health;		/* "none", "tcp", "http" */
	bool all_down;
	struct lb_cnt cnt;
	uint32_t be0, nbe;		/* its backends in be[] */
};

struct lb_snap {
	const char *iface;
	const char *config;		/* path */
	uint32_t generation;
	double uptime_s;
	unsigned int nworkers;
	uint64_t reloads, reload_failures, rule_failures;
	uint64_t all_down_events;	/* services that found every backend
					 * down (table kept) */
	uint64_t health_transitions;
	uint64_t drains;		/* addresses drained now */
	uint64_t ctl_requests, ctl_errors;
	uint64_t metrics_requests;
	struct lb_totals t;
	uint64_t *worker_flows;		/* [nworkers] */
	bool have_port;
	struct xm_port_stats port;
	struct lb_losses loss;
	uint32_t nzones;
	struct xm_zone_stats zones[XM_ZONE_MAX];
	uint32_t nvips, nbe;
	struct lb_snap_vip *vips;
	struct lb_snap_be *be;
};

/** The decisions' and the worker loop's drops. */
uint64_t lb_path_drops(const struct lb_totals *t);
/** Fills l from t and st (st NULL: no port counters). */
void lb_losses_fill(struct lb_losses *l, const struct lb_totals *t,
		    const struct xm_port_stats *st);
/** Every loss, counted once. */
uint64_t lb_losses_total(const struct lb_losses *l);

/**
 * Fills the configuration's part of s (services, backends, their
 * counters and health; hm may be NULL) and the zones of u (may be NULL).
 * The caller fills the rest.  @return 0, or -ENOMEM.
 */
int lb_snap_config(struct lb_snap *s, const struct lb_config *c,
		   struct lb_health_mon *hm, struct xm_umem *u);
/** Frees what lb_snap_config() and the caller allocated in s. */
void lb_snap_free(struct lb_snap *s);

#endif /* LB_SNAPSHOT_H */

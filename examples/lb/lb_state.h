/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_state.h - what the operator and the health checks change at run time
 * over the configuration the file gave: a backend drained from the
 * control socket, a backend the checks call down.  Neither edits the
 * configuration in force (the workers read it without a lock); both make
 * a new generation, as a reload does:
 *
 *   running --lb_config_clone()--> copy, not built
 *           --lb_state_apply()---> be_weight = 0 for down and drained
 *                                  backends (be_conf_weight kept)
 *           --lb_config_build()--> Maglev tables without them: their
 *                                  slots go to the others, the rest stay
 *           --> published like a reload (lb.c)
 *
 * Established flows keep their backend: the connection table finds it
 * again by stable id whatever its weight (as for a drain), unless the
 * service says 'on-down reset' (be_reset, read by lb_path.c).  When every
 * backend a service would use is down, the service keeps the weights of
 * its last table (a try is better than a drop) and says so (v_all_down).
 */
#ifndef LB_STATE_H
#define LB_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "lb_config.h"

#define LB_MAX_DRAINS		256	/* drained addresses at once */

/* Addresses drained from the control socket (every service's backend of
 * that address), until the next reload. */
struct lb_drains {
	uint32_t d_n;
	struct {
		uint8_t family;
		union xm_pkt_addr addr;
	} d_addr[LB_MAX_DRAINS];
};

/** Is the backend down?  be_id is its id in the running configuration. */
typedef bool lb_down_fn(void *ctx, uint32_t be_id);

/**
 * A copy of c as it was parsed (services, pools, settings, lookups),
 * without what lb_config_build() adds.  @return NULL with errno ENOMEM.
 */
struct lb_config *lb_config_clone(const struct lb_config *c);

/**
 * Sets every backend's be_weight from its be_conf_weight, the drains and
 * down() (asked with the id the same backend has in running; a backend
 * new in n is up), and be_down, be_drained, be_reset, v_all_down and
 * v_nactive to match.  A service whose backends of weight are all down
 * keeps, for each of them, the weight it has in running's table.
 * @param running the configuration in force (NULL at start: all up)
 * @return how many services became all down (were not in running).
 */
unsigned int lb_state_apply(struct lb_config *n,
			    const struct lb_config *running,
			    const struct lb_drains *d, lb_down_fn *down,
			    void *ctx);

/**
 * Health of a VIP address, for what announces it (the BGP work, issue
 * 14): true when at least one backend of at least one service on that
 * address (any protocol and port) is up, has a weight in the file and is
 * not drained.  It reads the flags of c, so ask the configuration in
 * force (lb.c: under lb->lock): they follow the checks within one main
 * loop round (50 ms).  A service whose backends are all down says so
 * here (false) even while it keeps its last table.
 */
bool lb_config_vip_healthy(const struct lb_config *c, uint8_t family,
			   const union xm_pkt_addr *addr);

/** The backend's id in c: same service and address; 0 when none. */
uint32_t lb_state_backend_id(const struct lb_config *c,
			     const struct lb_vip *v,
			     const struct lb_backend *be);

/**
 * Parses "ADDRESS" (IPv4 or IPv6) for drain and undrain.
 * @return true when it is one.
 */
bool lb_state_parse_addr(const char *s, uint8_t *family,
			 union xm_pkt_addr *a);
/** Drained?  */
bool lb_drains_has(const struct lb_drains *d, uint8_t family,
		   const union xm_pkt_addr *a);
/** @return 0; -EEXIST already drained; -ENOSPC LB_MAX_DRAINS reached. */
int lb_drains_add(struct lb_drains *d, uint8_t family,
		  const union xm_pkt_addr *a);
/** @return 0; -ENOENT not drained. */
int lb_drains_del(struct lb_drains *d, uint8_t family,
		  const union xm_pkt_addr *a);
/** Backends of c with that address (in any service). */
unsigned int lb_config_count_addr(const struct lb_config *c, uint8_t family,
				  const union xm_pkt_addr *a);

#endif /* LB_STATE_H */

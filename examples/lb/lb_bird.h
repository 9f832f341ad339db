/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_bird.h - announcing the VIPs by BGP through BIRD 2 (model and the
 * reasons for it in lb_bird.c; BIRD's side in examples/lb/bird/).
 */
#ifndef LB_BIRD_H
#define LB_BIRD_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_config.h"

#define LB_BIRD_SOCK_DEFAULT	"/run/bird/bird.ctl"
#define LB_BIRD_RETRY_NS	1000000000ull	/* birdc again after 1 s */

/*
 * Whether service vi of c can take new flows (a backend with a weight
 * that is up).  NULL in lb_bird_set(): a weight is enough.
 */
typedef bool lb_bird_service_up_fn(void *ctx, const struct lb_config *c,
				    uint32_t vi);

struct lb_bird {
	char b_routes4[4096];		/* --bird-routes FILE: IPv4 routes */
	char b_routes6[4096 + 8];	/* FILE.v6: IPv6 routes */
	char b_sock[108];		/* BIRD's control socket */
	const char *b_birdc;		/* the birdc program */
	char b_tun[IF_NAMESIZE];	/* the device the routes go via */
	int b_tun_fd;			/* holds the device; -1 when closed */
	bool b_up;			/* device up: announcing */
	bool b_pending;			/* files changed, BIRD not told yet */
	bool b_failing;			/* the last birdc failed (said once) */
	uint64_t b_retry_ns;		/* next birdc attempt */
	char *b_text4;			/* what the files hold now */
	char *b_text6;
	uint32_t b_announced;		/* VIP addresses in the files */
	uint32_t b_addresses;		/* ... of all the configuration's */
	uint64_t b_configures;		/* birdc configure that worked */
	uint64_t b_configure_failures;	/* ... that did not */
	char b_msg[512];		/* what the last birdc said, when it
					 * failed */
};

/**
 * The route lines for c: one `route ADDR/32 via "TUN";` (or /128, in
 * text6) per VIP address with at least one service up.
 * @param text4, text6 where the lines go (malloc'd; free them)
 * @param announced, addresses VIP addresses announced, and in all
 * @return 0, or -ENOMEM.
 */
int lb_bird_routes(const struct lb_config *c, const char *tun,
		   lb_bird_service_up_fn *up, void *ctx, char **text4,
		   char **text6, uint32_t *announced, uint32_t *addresses);

/**
 * Creates the TUN device tun (not persistent: it goes when the process
 * does, SIGKILL included), down; remembers the files and socket.
 * @return 0; negative error code, otherwise (message in err): -EBUSY
 * when another process holds a device of that name.
 */
int lb_bird_open(struct lb_bird *b, const char *routes, const char *sock,
		 const char *birdc, const char *tun, char *err,
		 size_t errlen);
/**
 * The announcement set for c: rewrites the files (whole: a temporary
 * file, then rename) when it changed and marks BIRD to be told.
 * @return 0, or negative error code (message in err).
 */
int lb_bird_set(struct lb_bird *b, const struct lb_config *c,
		lb_bird_service_up_fn *up, void *ctx, char *err,
		size_t errlen);
/**
 * Tells BIRD (`birdc -s SOCK configure`) when the files changed, at most
 * once per LB_BIRD_RETRY_NS while it fails.  Blocks for the time birdc
 * takes (5 s at most).
 * @return 0 when nothing was to be done; 1 when BIRD took the files
 * now; -1 when birdc failed (why in b_msg).
 */
int lb_bird_poll(struct lb_bird *b, uint64_t now_ns);
/**
 * Device up (announce the set) or down (withdraw everything at once:
 * the host is drained).  @return 0, or negative error code.
 */
int lb_bird_updown(struct lb_bird *b, bool up);
/** Closes the device (withdraws everything) and frees. */
void lb_bird_close(struct lb_bird *b);

#endif /* LB_BIRD_H */

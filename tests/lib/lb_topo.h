/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_topo.h - the load balancer's end-to-end topology, shared by the
 * xmbuf-lb integration suites (test_lb.c over IPv4, test_lb_ipv6.c
 * dual-stacked): namespaces on one bridge, balancers run as example
 * binaries, backends that decapsulate in XDP and answer the client.
 *
 *   ns_cli 198.18.1.1 [2001:2:0:1::1] --+
 *   (AF_PACKET: the test)               |        ns_sw: bridge br0
 *   ns_lb[i] 198.18.1.(2+i) ------------+-[br0]-+ (port sw<ifname>)
 *   (xmbuf-lb -i el<i>)                         +- ns_be1 .11 [::11]
 *                                               +- ns_be2 .12 [::12]
 *   VIPs 198.18.2.1 [and 2001:2:0:2::1] on the  +- ns_be3 .13 [::13]
 *   backends' lo; xmbuf-decap on their links, accepting tunnels from
 *   the balancers' src-prefix only (XM_LBT_SRC4, XM_LBT_SRC6)
 *
 * A host's MAC is 02:00:00:00:01:<host number>.  One server thread
 * answers for every backend: each of its sockets (bound to a VIP and
 * port in a backend namespace) answers a datagram with "B<n>" (n the
 * backend, 1..3) and the first 14 bytes of the request, from the VIP
 * straight to the client.  The client's datagrams carry "XMLB" and a
 * flow number, so an answer names the flow and the backend it reached.
 *
 * Bracketed parts exist only with .ipv6: IPv6 is turned on (without
 * router solicitations or DAD) in the client's and backends'
 * namespaces only, and the bridge floods multicast (no MLD snooping).
 * Addresses: 198.18.0.0/15 and 2001:2::/48 only, inside the test's own
 * namespaces.
 *
 * These are fixtures: every function asserts (Criterion) on a failure,
 * so call them from a test or its .init; xm_lbt_down() never asserts
 * and undoes whatever xm_lbt_up() got to, for a .fini.
 */
#ifndef XM_TEST_LB_TOPO_H
#define XM_TEST_LB_TOPO_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xm_pkt.h"
#include "netns.h"

#define XM_LBT_NBE		3		/* backends */
#define XM_LBT_NLB_MAX		2		/* balancers at the most */
#define XM_LBT_NSOCK_MAX	3		/* server sockets per backend */
#define XM_LBT_OUT_MAX		(256 * 1024)	/* kept of a child's output */
#define XM_LBT_VIP4		"198.18.2.1"
#define XM_LBT_VIP4_N		0xc6120201u
#define XM_LBT_CLIENT4_N	0xc6120101u
#define XM_LBT_VIP6		"2001:2:0:2::1"
#define XM_LBT_CLIENT6		"2001:2:0:1::1"
#define XM_LBT_GUE_PORT		6080		/* xmbuf-decap --gue-port */
/* The balancers' outer sources (their src-prefix lines): the only ones
 * the backends' xmbuf-decap accepts tunnels from (--allow-src). */
#define XM_LBT_SRC4		"198.18.128.0/17"
#define XM_LBT_SRC6		"2001:2:0:8000::/64"

/* An xmbuf-lb child and what it said. */
struct xm_lbt_proc {
	pid_t pid;			/* 0: not running */
	int out_fd;			/* stdout pipe, -1 at EOF */
	int err_fd;			/* stderr pipe, -1 at EOF */
	char *out;			/* stdout (the JSON summary) */
	size_t out_len;
	char *err;			/* stderr, its last part when long */
	size_t err_len;
	char conf[128];			/* its configuration file */
};

/* A server socket of every backend: [VIP of family]:port. */
struct xm_lbt_sock {
	int family;			/* 4 or 6 */
	uint16_t port;
};

struct xm_lbt_opts {
	const char *what;		/* the suite, for the skip message */
	unsigned int nlb;		/* balancer namespaces, 1..NLB_MAX */
	bool ipv6;			/* dual stack: see the diagram */
	unsigned int nsock;		/* entries of sock */
	struct xm_lbt_sock sock[XM_LBT_NSOCK_MAX];
};

struct xm_lbt {
	struct xm_netns ns_cli;
	struct xm_netns ns_sw;		/* the bridge */
	struct xm_netns ns_lb[XM_LBT_NLB_MAX];
	struct xm_netns ns_be[XM_LBT_NBE];
	unsigned int nlb;
	unsigned int nsock;
	struct xm_lbt_sock sock[XM_LBT_NSOCK_MAX];
	char tmpdir[64];		/* configuration files */
	int cli_fd;			/* AF_PACKET on the client's ec */
	struct in6_addr vip6;
	struct in6_addr client6;
	struct xm_lbt_proc lb[XM_LBT_NLB_MAX];
	int srv_fd[XM_LBT_NBE][XM_LBT_NSOCK_MAX];
	pthread_t srv_thread;
	bool srv_running;
	volatile bool srv_stop;
};

/**
 * Skips the test (loudly) without root; else builds the topology, starts
 * xmbuf-decap on every backend and the server thread, opens cli_fd.
 */
void xm_lbt_up(struct xm_lbt *t, const struct xm_lbt_opts *o);
/** Kills the balancers, stops the servers, deletes everything. */
void xm_lbt_down(struct xm_lbt *t);

/** Path of the example `name` (or $env); asserts that it exists. */
const char *xm_lbt_bin(const char *name, const char *env);
/** Writes path whole or not at all (a temporary file, then rename). */
void xm_lbt_write_file(const char *path, const char *text);
/** The unsigned number after "key": in json, after `within` if given. */
uint64_t xm_lbt_json_u64(const char *json, const char *within,
			 const char *key);
/** xm_lbt_json_u64() on balancer i's JSON summary (after it stopped). */
uint64_t xm_lbt_summary(const struct xm_lbt *t, int i, const char *within,
			const char *key);
/** Backend b's (0..NBE-1) counter `key` from xmbuf-decap --stats. */
uint64_t xm_lbt_decap_count(const struct xm_lbt *t, int b, const char *key);

/** Runs `xmbuf-lb args...` in ns (NULL: here) without waiting. */
void xm_lbt_spawn(struct xm_lbt_proc *l, const struct xm_netns *ns,
		  const char *const *args);
/** The same under a wrapper: `wrap... xmbuf-lb args...` (wrap[0] a
 * path; NULL-terminated; NULL: none). */
void xm_lbt_spawn_under(struct xm_lbt_proc *l, const struct xm_netns *ns,
			const char *const *wrap, const char *const *args);
/**
 * Sends sig (0: none), reads until EOF, reaps within ms (killing an
 * overstayer).  @return the exit status, or -1 after a signal or a kill.
 */
int xm_lbt_finish(struct xm_lbt_proc *l, int sig, int ms);
/**
 * Starts balancer i on el<i> (-p --json, then extra when not NULL) with
 * conf written to <tmpdir>/lb<i>.conf; returns once it runs.
 */
void xm_lbt_start(struct xm_lbt *t, int i, const char *conf,
		  const char *extra);
/** The same with any number of extra arguments (extra ends at NULL). */
void xm_lbt_start_argv(struct xm_lbt *t, int i, const char *conf,
		       const char *const *extra);
/**
 * Reads balancer i's output until needle appears on its stderr after
 * offset from, for ms at most.  @return whether it did.
 */
bool xm_lbt_wait_err(struct xm_lbt *t, int i, const char *needle,
		     size_t from, int ms);
/** Rewrites balancer i's file, SIGHUP.  @return true if it reloaded. */
bool xm_lbt_reload(struct xm_lbt *t, int i, const char *conf);
/**
 * SIGHUP to balancer i, whatever its file is now; waits (10 s at most,
 * then fails the test) for its verdict.  @return true if it reloaded.
 */
bool xm_lbt_hup(struct xm_lbt *t, int i);
/** The same for a balancer started with xm_lbt_spawn(). */
bool xm_lbt_hup_proc(struct xm_lbt_proc *l);
/**
 * Waits (ms at most) until balancer i's live line (once a second on its
 * stderr: rx, fwd, icmp, drop, flows) shows column col at want or more,
 * so a test stops it once what it counts has happened, not after a
 * guessed sleep.  @return the last value seen (0: none yet).
 */
uint64_t xm_lbt_wait_live(struct xm_lbt *t, int i, const char *col,
			  uint64_t want, int ms);
/** Stops balancer i; exit 0 and a clean frame audit in its summary. */
void xm_lbt_stop_clean(struct xm_lbt *t, int i);

/** MAC of balancer i's interface. */
void xm_lbt_lb_mac(int i, uint8_t mac[6]);
/** The client's MAC. */
extern const uint8_t xm_lbt_cli_mac[6];

/* A datagram from the client to a VIP, through one balancer. */
struct xm_lbt_dgram {
	int lb;				/* balancer: destination MAC */
	int family;			/* 4 or 6: which VIP */
	uint16_t sport;			/* host order */
	uint16_t dport;
	uint32_t flow;			/* after "XMLB" in the payload; also
					 * the IPv4 id / the flow label */
	uint32_t l3_len;		/* IP packet, >= headers + 8 */
	bool df;			/* IPv4: don't fragment */
};

/** Builds d into buf.  @return the frame's length. */
uint32_t xm_lbt_client_frame(const struct xm_lbt *t, uint8_t *buf,
			     uint32_t cap, const struct xm_lbt_dgram *d);
/** The frame's source is the family's VIP. */
bool xm_lbt_from_vip(const struct xm_lbt *t, const struct xm_pkt_info *pi,
		     int family);
/**
 * A backend's answer to flow (sport0 + i), i < n, of the family's
 * VIP:dport?  @return i, with *be the backend (0..NBE-1), or -1 for
 * any other frame.
 */
int xm_lbt_answer_of(const struct xm_lbt *t, const uint8_t *f, ssize_t len,
		     int family, uint16_t sport0, int n, uint16_t dport,
		     int *be);
/* Sends datagram d to the balancer (one frame, or pieces of it). */
typedef void xm_lbt_send_fn(struct xm_lbt *t, const struct xm_lbt_dgram *d);

/**
 * Asks about n flows: flow i is first with sport + i and flow i.  Sends
 * every unanswered flow's datagram (through send, NULL: as one frame),
 * collects the answers until quiet_ms pass without one, for at most
 * rounds rounds.  be[i] gets the backend that answered flow i, or -1.
 * @return flows answered.
 */
int xm_lbt_ask(struct xm_lbt *t, const struct xm_lbt_dgram *first, int n,
	       int rounds, int quiet_ms, xm_lbt_send_fn *send, int *be);
/**
 * xm_lbt_ask() of balancer lb about n flows (source ports sport0 ..) of
 * the family's VIP:dport: 44-byte (IPv4, DF) or 64-byte (IPv6) packets,
 * at most 4 rounds, 400 ms of silence ending a round.
 */
int xm_lbt_probe(struct xm_lbt *t, int lb, int family, uint16_t sport0,
		 int n, uint16_t dport, int *be);
/**
 * Sends one datagram (flow 0, IPv4 with DF) of l3_len bytes, up to 3
 * times 500 ms apart.  @return true when a backend answered it.
 */
bool xm_lbt_answered_once(struct xm_lbt *t, int lb, int family,
			  uint16_t sport, uint16_t dport, uint32_t l3_len);
/**
 * Waits up to ms for the VIP's too-big answer (ICMPv6 packet too big,
 * or ICMP fragmentation needed) quoting the client's datagram from
 * sport; asserts its checksum, its bounded size (RFC 4443 2.4(c), RFC
 * 1812 4.3.2.3) and that it goes to the client.
 * @return the MTU it reports, or 0 when none came.
 */
uint32_t xm_lbt_wait_too_big(struct xm_lbt *t, int family, uint16_t sport,
			     int ms);
/** Asserts that every flow of be[0..n) went to one backend. */
void xm_lbt_assert_one_backend(const int *be, int n);
/**
 * Counts be[0..n) by backend into per[NBE] and asserts each count is
 * within tol (a fraction) of its share of n (share[NBE], summing to 1).
 */
void xm_lbt_assert_spread(const int *be, int n, const double *share,
			  double tol, const char *what, int per[]);

#endif /* XM_TEST_LB_TOPO_H */

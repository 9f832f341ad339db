/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netns.h - test hosts made of network namespaces and veth pairs, and an
 * AF_PACKET peer to talk to them (shared by every integration suite and
 * by the benchmarks that need a wire).
 *
 *   namespace "xmt<pid>_<rand>" (A)        namespace "xmt<pid>_<rand>" (B)
 *   +----------------------------+         +----------------------------+
 *   | veth a: 198.18.N.1/24      |<------->| veth b: 198.18.N.2/24      |
 *   |   MAC 02:00:00:00:N:01     |         |   MAC 02:00:00:00:N:02     |
 *   |   (port under test)        |         |   (AF_PACKET peer)         |
 *   +----------------------------+         +----------------------------+
 *
 * Nothing is created in the root namespace: both ends of every pair live
 * in namespaces the test made, so deleting the namespaces removes the
 * veths too.  Names carry the creator's pid; xm_netns_sweep() deletes
 * what a crashed run left (its pid is gone).  Addresses: 198.18.0.0/15
 * only (IPv6 tests use the benchmarking prefix 2001:2::/48 and never
 * route).  IPv6 is disabled on the namespaces so the stack sends no
 * unsolicited traffic (router solicitations, MLD) into a test.
 *
 * Every function returns 0 or -errno (and says why on stderr); none
 * aborts, so a test's .fini can always clean up.
 */
#ifndef XM_TEST_NETNS_H
#define XM_TEST_NETNS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XM_NETNS_PREFIX		"xmt"

struct xm_netns {
	char name[32];			/* under /run/netns */
	int fd;				/* open namespace, -1 when none */
};

/** Creates a namespace with a unique name, lo up, IPv6 off. */
int xm_netns_create(struct xm_netns *ns);
/** Deletes it (and every interface inside).  Safe on a zeroed struct. */
void xm_netns_destroy(struct xm_netns *ns);
/** Deletes namespaces left by test processes that no longer exist. */
int xm_netns_sweep(void);

/**
 * Moves the calling thread into ns.  *saved receives an fd of the
 * namespace it was in (for xm_netns_leave()).
 */
int xm_netns_enter(const struct xm_netns *ns, int *saved);
/** Moves the calling thread back to saved and closes it. */
int xm_netns_leave(int saved);

/**
 * Runs fn(arg) in a forked child inside ns and waits for it.
 * @return the child's exit status (fn's return value, 0..255), or
 * -errno; a child killed by a signal gives 128 + signal.
 */
int xm_netns_run(const struct xm_netns *ns, int (*fn)(void *), void *arg);

/**
 * Runs a shell command (printf-style) inside ns, or in the current
 * namespace when ns is NULL.  Output is shown only when it fails.
 * @return the command's exit status, or -errno.
 */
int xm_netns_sh(const struct xm_netns *ns, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A veth pair between two namespaces (or both ends in one). */
struct xm_veth_opts {
	unsigned int mtu;		/* 0: 1500 */
	unsigned int queues;		/* RX and TX queues each end (0: 1) */
	unsigned int index;		/* N in 198.18.N.x and the MACs, 1..255;
					 * distinct per pair within a test */
};

struct xm_veth {
	struct xm_netns *ns_a;
	struct xm_netns *ns_b;
	char a[IF_NAMESIZE];		/* end in ns_a */
	char b[IF_NAMESIZE];		/* end in ns_b */
	uint8_t mac_a[6];
	uint8_t mac_b[6];
	uint32_t ip_a;			/* network order, 198.18.N.1 */
	uint32_t ip_b;			/* network order, 198.18.N.2 */
	unsigned int mtu;
	unsigned int queues;
	bool up;
};

/** Creates the pair, sets MTU, MACs, addresses, brings both ends up. */
int xm_veth_create(struct xm_veth *v, struct xm_netns *a, struct xm_netns *b,
		   const struct xm_veth_opts *o);
/** Deletes the pair (also happens when a namespace goes). */
void xm_veth_destroy(struct xm_veth *v);

/**
 * An AF_PACKET socket on ifname inside ns (all protocols; own outgoing
 * frames not looped back; 4 MiB receive buffer).  @return fd or -errno.
 */
int xm_raw_open(const struct xm_netns *ns, const char *ifname);
/**
 * Sends one frame, retrying for up to 100 ms while the device pushes
 * back (ENOBUFS, EAGAIN).  @return 0 or -errno.
 */
int xm_raw_send(int fd, const void *frame, size_t len);
/**
 * Receives one frame within timeout_ms.  @return its length, 0 on
 * timeout, or -errno.
 */
ssize_t xm_raw_recv(int fd, void *buf, size_t cap, int timeout_ms);

/** A UDP socket bound to addr:port inside ns.  @return fd or -errno. */
int xm_udp_open(const struct xm_netns *ns, uint32_t addr, uint16_t port);
/** The same for IPv6: bound to [addr]:port inside ns. */
int xm_udp6_open(const struct xm_netns *ns, const struct in6_addr *addr,
		 uint16_t port);

/* Test frames: Ethernet [802.1Q] IPv4|IPv6 UDP, payload from a seed. */
struct xm_tframe {
	const uint8_t *dmac;
	const uint8_t *smac;
	uint16_t vlan;			/* 0: untagged, else 802.1Q with this id */
	int family;			/* 4 or 6 */
	uint32_t saddr;			/* IPv4, network order */
	uint32_t daddr;
	uint8_t saddr6[16];		/* IPv6 */
	uint8_t daddr6[16];
	uint8_t proto;			/* 0: UDP; else the IP protocol number,
					 * with the UDP-shaped header kept */
	uint16_t sport;			/* host order */
	uint16_t dport;
	uint32_t seq;			/* first payload word, network order */
	uint16_t flow;			/* second payload half-word */
	uint32_t seed;			/* pattern for the rest */
};

/**
 * Builds a frame of exactly len bytes (at least the headers plus 6)
 * into buf.  @return len, or 0 when len does not fit.
 */
size_t xm_tframe_build(uint8_t *buf, size_t len, const struct xm_tframe *t);
/** Offset of the UDP payload in a frame built with t. */
size_t xm_tframe_payload_off(const struct xm_tframe *t);
/** Reads seq and flow back from a frame built with t's layout. */
bool xm_tframe_parse(const uint8_t *buf, size_t len,
		     const struct xm_tframe *layout, uint32_t *seq,
		     uint16_t *flow, uint16_t *dport);

/** Monotonic milliseconds. */
uint64_t xm_now_ms(void);

#endif /* XM_TEST_NETNS_H */

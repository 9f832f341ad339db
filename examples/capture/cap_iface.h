/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_iface.h - which capture path an interface gets by default, and
 * why (the start banner and -D say it):
 *
 *   carries host traffic?        an IPv4 or IPv6 address (an IPv6
 *   (passive: copies, the host   link-local address aside: every
 *    keeps every packet)         interface that is up has one, a mirror
 *                                port too), a master (bridge, bond, VRF
 *                                port), or a route that uses it (main
 *                                IPv4 table, every IPv6 table, link-local
 *                                and multicast routes aside)
 *   none of these                a dedicated capture port (a switch's
 *   (inline: AF_XDP consumes)    mirror port, a TAP): line rate
 */
#ifndef CAP_IFACE_H
#define CAP_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * Whether ifname carries host traffic; why gets the first reason found
 * ("has 198.18.7.2/24", "is a port of br0", "route 10.0.0.0/8 uses it"),
 * or "no address, no route" when it carries none.
 */
bool cap_iface_host_traffic(const char *ifname, char *why, size_t len);

/**
 * The id and name of the XDP program attached to ifindex.
 * @return 0 (*id 0: none) or -errno.
 */
int cap_iface_xdp_prog(int ifindex, unsigned int *id, char *name,
		       size_t len);

/** -D: every interface, its default path and why.  @return 0 or 1. */
int cap_iface_list(FILE *out);

#endif /* CAP_IFACE_H */

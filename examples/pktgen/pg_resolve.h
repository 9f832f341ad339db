/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_resolve.h - destination MAC resolution without sending anything:
 * the kernel's routing and neighbour tables (rtnetlink), and for a veth
 * the MAC of its peer (which may sit in another namespace: asked through
 * IFLA_TARGET_NETNSID).  The interface's own facts (index, MTU, MAC)
 * are xm_port_ifinfo()'s.
 */
#ifndef PG_RESOLVE_H
#define PG_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "xm_pkt.h"

/**
 * The MAC to send to for dst out of ifname: the next hop's entry in the
 * neighbour table (the route's gateway, or dst itself when on-link),
 * else the peer of a veth.  how receives "neighbour table" or "veth peer".
 * @return 0; -ENOENT (nothing known: err says what was tried), -errno.
 */
int pg_resolve_mac(const char *ifname, int family,
		   const union xm_pkt_addr *dst, uint8_t mac[6],
		   const char **how, char *err, size_t errlen);

/**
 * The link speed of ifname in Mb/s, from the driver through the ethtool
 * ioctl (SIOCETHTOOL: ETHTOOL_GLINKSETTINGS, else ETHTOOL_GSET); no
 * privilege needed.  @return 0 with *mbps; -ENODATA when the driver
 * reports none (link down, or a device without one such as lo),
 * -errno of the ioctl.
 */
int pg_link_speed(const char *ifname, uint32_t *mbps);

#endif /* PG_RESOLVE_H */

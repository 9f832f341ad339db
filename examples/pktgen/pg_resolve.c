/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_resolve.c - where the generator's frames go, learned from the kernel
 * (pg_resolve.h).  A traffic generator must not ARP or ping on its own:
 * the user's network decides what is known, and this reads it.
 *
 *   dst --RTM_GETROUTE--> gateway (or dst, on-link)
 *       --RTM_GETNEIGH--> lladdr of a usable entry on the interface
 *   else, a veth: RTM_GETLINK -> IFLA_LINK (peer index) and
 *       IFLA_LINK_NETNSID -> RTM_GETLINK(peer, IFLA_TARGET_NETNSID)
 *       -> IFLA_ADDRESS
 *
 * The link speed (pg_link_speed) is the driver's, through the ethtool
 * ioctl, not the ethtool program.
 *
 * KPI: pg_resolve_mac, pg_link_speed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <net/if.h>
#include <sys/ioctl.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "xm_port.h"

#include "pg_resolve.h"

#ifndef IFLA_TARGET_NETNSID
#define IFLA_TARGET_NETNSID	46
#endif

#define NL_BUF			16384

/* ---------------------------------------------------------- netlink */

struct nl_req {
	struct nlmsghdr n;
	union {
		struct rtmsg r;
		struct ndmsg nd;
		struct ifinfomsg i;
	};
	char attrs[256];
};

static void nl_attr(struct nl_req *q, unsigned short type, const void *d,
		    unsigned short len)
{
	struct rtattr *a = (struct rtattr *)((char *)q +
					     NLMSG_ALIGN(q->n.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), d, len);
	q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * Sends q and hands every answer message to fn until DONE / the single
 * reply.  fn returns 1 to stop early (found).  @return 0, 1, or -errno
 * (a netlink error answer included).
 */
static int nl_talk(struct nl_req *q,
		   int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
	char buf[NL_BUF] __attribute__((aligned(8)));
	bool dump = q->n.nlmsg_flags & NLM_F_DUMP;
	int fd, rc = 0;

	fd = nl_open();
	if (fd < 0)
		return fd;
	q->n.nlmsg_seq = 1;
	if (send(fd, q, q->n.nlmsg_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			rc = -errno;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				rc = e->error;
				goto out;
			}
			if (rc == 0) {
				rc = fn(h, arg);
				if (rc < 0)
					goto out;
			}
			if (!dump)
				goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* ------------------------------------------------------------ route */

struct route_ans {
	int family;
	unsigned int alen;
	uint8_t gw[16];
	bool have_gw;
};

static int route_cb(struct nlmsghdr *h, void *arg)
{
	struct route_ans *ra = arg;
	struct rtmsg *r = NLMSG_DATA(h);
	int len = (int)RTM_PAYLOAD(h);

	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_GATEWAY &&
		    RTA_PAYLOAD(a) == ra->alen) {
			memcpy(ra->gw, RTA_DATA(a), ra->alen);
			ra->have_gw = true;
		}
	}
	return 1;
}

/* ------------------------------------------------------- neighbours */

struct neigh_ans {
	int ifindex;
	unsigned int alen;
	const uint8_t *addr;
	uint8_t mac[6];
	bool found;
};

static int neigh_cb(struct nlmsghdr *h, void *arg)
{
	struct neigh_ans *na = arg;
	struct ndmsg *nd = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	const uint8_t *dst = NULL, *ll = NULL;

	if (h->nlmsg_type != RTM_NEWNEIGH || len < 0 ||
	    nd->ndm_ifindex != na->ifindex ||
	    (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)) ||
	    nd->ndm_state == NUD_NONE)
		return 0;
	for (struct rtattr *a = (struct rtattr *)((char *)nd +
						  NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == na->alen)
			dst = RTA_DATA(a);
		else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
			ll = RTA_DATA(a);
	}
	if (!dst || !ll || memcmp(dst, na->addr, na->alen))
		return 0;
	memcpy(na->mac, ll, 6);
	na->found = true;
	return 1;
}

/* ------------------------------------------------------------ links */

struct link_ans {
	int link;			/* IFLA_LINK, 0: none */
	int netnsid;			/* IFLA_LINK_NETNSID, -1: same ns */
	bool is_veth;
	uint8_t mac[6];
	bool have_mac;
};

static int link_cb(struct nlmsghdr *h, void *arg)
{
	struct link_ans *la = arg;
	struct ifinfomsg *i = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h);

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&la->link, RTA_DATA(a), 4);
			break;
		case IFLA_LINK_NETNSID:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&la->netnsid, RTA_DATA(a), 4);
			break;
		case IFLA_ADDRESS:
			if (RTA_PAYLOAD(a) == 6) {
				memcpy(la->mac, RTA_DATA(a), 6);
				la->have_mac = true;
			}
			break;
		case IFLA_LINKINFO: {
			int l2 = (int)RTA_PAYLOAD(a);

			for (struct rtattr *b = RTA_DATA(a); RTA_OK(b, l2);
			     b = RTA_NEXT(b, l2))
				if (b->rta_type == IFLA_INFO_KIND &&
				    RTA_PAYLOAD(b) >= 4 &&
				    !strncmp(RTA_DATA(b), "veth", 4))
					la->is_veth = true;
			break;
		}
		default:
			break;
		}
	}
	return 1;
}

static int get_link(int ifindex, int netnsid, struct link_ans *la)
{
	struct nl_req q;

	memset(&q, 0, sizeof(q));
	memset(la, 0, sizeof(*la));
	la->netnsid = -1;
	q.n.nlmsg_len = NLMSG_LENGTH(sizeof(q.i));
	q.n.nlmsg_type = RTM_GETLINK;
	q.n.nlmsg_flags = NLM_F_REQUEST;
	q.i.ifi_family = AF_UNSPEC;
	q.i.ifi_index = ifindex;
	if (netnsid >= 0)
		nl_attr(&q, IFLA_TARGET_NETNSID, &netnsid, sizeof(netnsid));
	return nl_talk(&q, link_cb, la);
}

int pg_resolve_mac(const char *ifname, int family,
		   const union xm_pkt_addr *dst, uint8_t mac[6],
		   const char **how, char *err, size_t errlen)
{
	struct route_ans ra = { .family = family };
	struct neigh_ans na;
	struct link_ans la, peer;
	struct xm_port_ifinfo ifi;
	struct nl_req q;
	int ifindex, rc, af = family == 6 ? AF_INET6 : AF_INET;
	unsigned int alen = family == 6 ? 16 : 4;
	const uint8_t *hop = dst->a_v6;

	rc = xm_port_ifinfo(ifname, &ifi);
	if (rc) {
		snprintf(err, errlen, "interface %s: %s", ifname, strerror(-rc));
		return rc;
	}
	ifindex = ifi.ifindex;

	/* The next hop: the route's gateway, when there is one. */
	memset(&q, 0, sizeof(q));
	q.n.nlmsg_len = NLMSG_LENGTH(sizeof(q.r));
	q.n.nlmsg_type = RTM_GETROUTE;
	q.n.nlmsg_flags = NLM_F_REQUEST;
	q.r.rtm_family = (unsigned char)af;
	q.r.rtm_dst_len = (unsigned char)(alen * 8);
	nl_attr(&q, RTA_DST, dst->a_v6, (unsigned short)alen);
	nl_attr(&q, RTA_OIF, &ifindex, sizeof(ifindex));
	ra.alen = alen;
	if (nl_talk(&q, route_cb, &ra) > 0 && ra.have_gw)
		hop = ra.gw;

	memset(&na, 0, sizeof(na));
	na.ifindex = ifindex;
	na.alen = alen;
	na.addr = hop;
	memset(&q, 0, sizeof(q));
	q.n.nlmsg_len = NLMSG_LENGTH(sizeof(q.nd));
	q.n.nlmsg_type = RTM_GETNEIGH;
	q.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.nd.ndm_family = (unsigned char)af;
	rc = nl_talk(&q, neigh_cb, &na);
	if (rc >= 0 && na.found) {
		memcpy(mac, na.mac, 6);
		*how = "neighbour table";
		return 0;
	}

	rc = get_link(ifindex, -1, &la);
	if (rc > 0 && la.is_veth && la.link > 0) {
		rc = get_link(la.link, la.netnsid, &peer);
		if (rc > 0 && peer.have_mac) {
			memcpy(mac, peer.mac, 6);
			*how = "veth peer";
			return 0;
		}
	}
	snprintf(err, errlen, "no neighbour entry for the next hop on %s%s; "
		 "give --dst-mac", ifname,
		 la.is_veth ? " and the veth peer could not be read" : "");
	return -ENOENT;
}

/* ------------------------------------------------------- link speed */

/* ETHTOOL_GLINKSETTINGS: a handshake for the mask size, then the call. */
static int pg_speed_ksettings(int fd, struct ifreq *ifr, uint32_t *speed)
{
	struct {
		struct ethtool_link_settings req;
		__u32 masks[3 * 127];
	} ks;

	memset(&ks, 0, sizeof(ks));
	ks.req.cmd = ETHTOOL_GLINKSETTINGS;
	ifr->ifr_data = (void *)&ks;
	if (ioctl(fd, SIOCETHTOOL, ifr) < 0)
		return -errno;
	if (ks.req.link_mode_masks_nwords >= 0 ||
	    -ks.req.link_mode_masks_nwords > 127)
		return -EPROTO;
	ks.req.link_mode_masks_nwords = (__s8)-ks.req.link_mode_masks_nwords;
	ks.req.cmd = ETHTOOL_GLINKSETTINGS;
	if (ioctl(fd, SIOCETHTOOL, ifr) < 0)
		return -errno;
	*speed = ks.req.speed;
	return 0;
}

int pg_link_speed(const char *ifname, uint32_t *mbps)
{
	struct ifreq ifr;
	uint32_t speed = 0;
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = pg_speed_ksettings(fd, &ifr, &speed);
	if (err == -EOPNOTSUPP || err == -EPROTO) {
		/* an older driver: the legacy call */
		struct ethtool_cmd ec = { .cmd = ETHTOOL_GSET };

		ifr.ifr_data = (void *)&ec;
		err = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
		if (!err)
			speed = ethtool_cmd_speed(&ec);
	}
	close(fd);
	if (err == -EOPNOTSUPP)
		return -ENODATA;
	if (err)
		return err;
	if (speed == 0 || speed == (uint32_t)SPEED_UNKNOWN)
		return -ENODATA;
	*mbps = speed;
	return 0;
}

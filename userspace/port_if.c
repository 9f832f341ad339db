// SPDX-License-Identifier: BSD-2-Clause
/*
 * port_if.c - what comes before a port: the interface as xm_port_open()
 * will find it (index, MTU, RX queues, address) and the frames a UMEM
 * must hold for a port's rings.  Both answer without a port, so that a
 * tool can size its UMEM before it opens one (the UMEM comes first).
 *
 * The queries are ioctls on a datagram socket: they answer for the
 * calling thread's network namespace, as the socket's bind will, where
 * sysfs shows the namespace it was mounted in (wrong after a bare
 * setns()).  The queue count is the one xm_port_open() opens by default,
 * so the UMEM sized from it fits the port.
 *
 * Official port KPI (xm_port.h): xm_port_ifinfo, xm_port_frames_needed.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xm_port_int.h"

int xm_port_ifinfo(const char *ifname, struct xm_port_ifinfo *info)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct xm_port_ifinfo r = {};
	struct ifreq ifr;
	int fd, err = 0;

	if (ifname == NULL || info == NULL)
		return -EINVAL;
	if (!*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
		err = -errno;
		goto out_close;
	}
	r.ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFMTU, &ifr) != 0) {
		err = -errno;
		goto out_close;
	}
	r.mtu = (uint32_t)ifr.ifr_mtu;
	/* A device without a hardware address (a tun) keeps zeros. */
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(r.mac, ifr.ifr_hwaddr.sa_data, sizeof(r.mac));
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		uint32_t n = ch.rx_count > ch.combined_count ?
			     ch.rx_count : ch.combined_count;

		r.rx_queues = n ? n : 1;
	} else {
		r.rx_queues = 1;	/* no channels op: one queue */
	}
	*info = r;
out_close:
	close(fd);
	return err;
}

uint32_t xm_port_frames_needed(const struct xm_port_frames_opts *opts)
{
	uint64_t rx, fill, tx, comp, per, total;
	uint32_t flags;

	if (opts == NULL || !XM_OPTS_VALID(opts, xm_port_frames_opts))
		return 0;
	flags = XM_OPTS_GET(opts, flags, 0);
	/* The defaults xm_port_open() applies (xm_port_setup_rings()). */
	rx = XM_OPTS_GET(opts, rx_size, 0);
	if (!rx)
		rx = XM_PORT_DEF_RX_SIZE;
	fill = XM_OPTS_GET(opts, fill_size, 0);
	if (!fill)
		fill = 2 * rx;
	tx = XM_OPTS_GET(opts, tx_size, 0);
	if (!tx)
		tx = XM_PORT_DEF_TX_SIZE;
	comp = XM_OPTS_GET(opts, comp_size, 0);
	if (!comp)
		comp = tx;
	if (flags & XM_PORT_F_TX_ONLY)
		rx = fill = 0;
	if (flags & XM_PORT_F_RX_ONLY)
		tx = comp = 0;
	/* Each term is below 2^32 and nqueues too: no overflow in 64 bits. */
	per = rx + fill + tx + comp + XM_OPTS_GET(opts, held, 0);
	total = per * XM_OPTS_GET(opts, nqueues, 0) +
		XM_OPTS_GET(opts, reserve, 0);
	return total > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)total;
}

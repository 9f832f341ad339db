// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_iface.c - does an interface carry the host's traffic (the default
 * capture path follows from it: cap_iface.h), and -D's list.
 *
 * Addresses come from getifaddrs(), the master from the sysfs "master"
 * link, routes from /proc/net/route (the main IPv4 table) and
 * /proc/net/ipv6_route (every IPv6 table), which name the device: no
 * netlink parsing for a question asked once at start.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap_iface.h"

#define CAP_RTF_UP		0x0001	/* route flags of /proc/net */
#define CAP_RTF_LOCAL		0x80000000u /* RTF_LOCAL: an own address */

static unsigned int mask_len(const struct sockaddr *m)
{
	const uint8_t *b;
	unsigned int n = 0, len;

	if (!m)
		return 0;
	if (m->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)m)->sin_addr;
		len = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)m)->sin6_addr;
		len = 16;
	}
	for (unsigned int i = 0; i < len; i++)
		n += (unsigned int)__builtin_popcount(b[i]);
	return n;
}

/* An address other than an IPv6 link-local one.  @return true. */
static bool has_address(const char *ifname, char *why, size_t len)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN];
		const void *p;

		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			p = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a6 =
				&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a6))
				continue;
			p = a6;
		} else {
			continue;
		}
		inet_ntop(i->ifa_addr->sa_family, p, a, sizeof(a));
		snprintf(why, len, "has %s/%u", a, mask_len(i->ifa_netmask));
		found = true;
	}
	freeifaddrs(ifa);
	return found;
}

static bool has_master(const char *ifname, char *why, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(why, len, "is a port of %s", base ? base + 1 : target);
	return true;
}

/* A route of the main IPv4 table through ifname. */
static bool has_route4(const char *ifname, char *why, size_t len)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[512], dev[IF_NAMESIZE + 1];
	unsigned int dst, gw, flags, mask;
	bool found = false;

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		struct in_addr a;
		char s[INET_ADDRSTRLEN];

		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", dev, &dst, &gw,
			   &flags, &mask) != 5 || strcmp(dev, ifname) ||
		    !(flags & CAP_RTF_UP))
			continue;
		a.s_addr = dst;
		inet_ntop(AF_INET, &a, s, sizeof(s));
		snprintf(why, len, "route %s/%d uses it", s,
			 __builtin_popcount(mask));
		found = true;
	}
	fclose(f);
	return found;
}

/* An IPv6 route through ifname, link-local, multicast and own
 * addresses aside. */
static bool has_route6(const char *ifname, char *why, size_t len)
{
	FILE *f = fopen("/proc/net/ipv6_route", "r");
	char line[512], dst[33], dev[IF_NAMESIZE + 1];
	unsigned int plen, flags;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		struct in6_addr a;
		char s[INET6_ADDRSTRLEN];

		if (sscanf(line, "%32s %x %*s %*x %*s %*x %*x %*x %x %16s",
			   dst, &plen, &flags, dev) != 4 || strcmp(dev, ifname))
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned int b;

			sscanf(dst + 2 * i, "%2x", &b);
			a.s6_addr[i] = (uint8_t)b;
		}
		if ((flags & CAP_RTF_LOCAL) || !(flags & CAP_RTF_UP) ||
		    IN6_IS_ADDR_LINKLOCAL(&a) || IN6_IS_ADDR_MULTICAST(&a))
			continue;
		inet_ntop(AF_INET6, &a, s, sizeof(s));
		snprintf(why, len, "route %s/%u uses it", s, plen);
		found = true;
	}
	fclose(f);
	return found;
}

bool cap_iface_host_traffic(const char *ifname, char *why, size_t len)
{
	if (has_address(ifname, why, len) || has_master(ifname, why, len) ||
	    has_route4(ifname, why, len) || has_route6(ifname, why, len))
		return true;
	snprintf(why, len, "no address, no route");
	return false;
}

int cap_iface_xdp_prog(int ifindex, unsigned int *id, char *name,
		       size_t len)
{
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	uint32_t pid = 0;
	int fd, err;

	*id = 0;
	if (name && len)
		name[0] = '\0';
	err = bpf_xdp_query_id(ifindex, 0, &pid);
	if (err)
		return err;
	*id = pid;
	if (!pid || !name)
		return 0;
	fd = bpf_prog_get_fd_by_id(pid);
	if (fd < 0)
		return 0;	/* the id is known; its name is a nicety */
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
	return 0;
}

int cap_iface_list(FILE *out)
{
	struct if_nameindex *ni = if_nameindex(), *i;

	if (!ni) {
		fprintf(stderr, "cannot list the interfaces: %s\n",
			strerror(errno));
		return 1;
	}
	for (i = ni; i->if_index; i++) {
		char why[128], name[32];
		unsigned int id;
		bool host = cap_iface_host_traffic(i->if_name, why,
						   sizeof(why));

		fprintf(out, "%u.%s [%s: %s", i->if_index, i->if_name,
			host ? "passive" : "inline", why);
		if (cap_iface_xdp_prog((int)i->if_index, &id, name,
				       sizeof(name)) == 0 && id)
			fprintf(out, "; XDP program %s (id %u): --at-xdp",
				name[0] ? name : "?", id);
		fprintf(out, "]\n");
	}
	if_freenameindex(ni);
	return 0;
}

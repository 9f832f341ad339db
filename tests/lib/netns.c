/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netns.c - namespaces, veth pairs, an AF_PACKET peer and test frames
 * for the integration suites (model and rules in netns.h).
 *
 * Configuration goes through iproute2 (`ip -n NS ...`): it is what an
 * operator would type, and a failing command prints what it said.
 * Everything that must run in a namespace (sockets, sysctls) does so by
 * setns() on the calling thread and back, never by leaving a thread in
 * another namespace.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

#define XM_NETNS_DIR		"/run/netns"

uint64_t xm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ commands */

static int xm_vsh(const struct xm_netns *ns, const char *fmt, va_list ap)
{
	char cmd[1024], full[1200], out[4096];
	size_t used = 0;
	FILE *f;
	int st;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	if (ns)
		snprintf(full, sizeof(full), "ip netns exec %s sh -c '%s' 2>&1",
			 ns->name, cmd);
	else
		snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	if (f == NULL)
		return -errno;
	while (used < sizeof(out) - 1) {
		size_t n = fread(out + used, 1, sizeof(out) - 1 - used, f);

		if (n == 0)
			break;
		used += n;
	}
	out[used] = '\0';
	st = pclose(f);
	if (st == -1)
		return -errno;
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (st != 0)
		fprintf(stderr, "netns: `%s` failed (%d): %s", full, st, out);
	return st;
}

int xm_netns_sh(const struct xm_netns *ns, const char *fmt, ...)
{
	va_list ap;
	int st;

	va_start(ap, fmt);
	st = xm_vsh(ns, fmt, ap);
	va_end(ap);
	return st;
}

/* A command in the current namespace (no `ip netns exec`). */
#define xm_sh(...)	xm_netns_sh(NULL, __VA_ARGS__)

/* ----------------------------------------------------------- namespaces */

int xm_netns_enter(const struct xm_netns *ns, int *saved)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (cur < 0)
		return -errno;
	if (setns(ns->fd, CLONE_NEWNET) != 0) {
		int err = -errno;

		close(cur);
		return err;
	}
	*saved = cur;
	return 0;
}

int xm_netns_leave(int saved)
{
	int err = 0;

	if (saved < 0)
		return -EBADF;
	if (setns(saved, CLONE_NEWNET) != 0)
		err = -errno;
	close(saved);
	return err;
}

static int xm_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

int xm_netns_create(struct xm_netns *ns)
{
	static unsigned int counter;
	unsigned int r;
	int saved, err;

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	r = ((unsigned int)time(NULL) ^ (unsigned int)rand() ^
	     (++counter << 8)) & 0xffff;
	snprintf(ns->name, sizeof(ns->name), XM_NETNS_PREFIX "%d_%04x",
		 (int)getpid(), r);
	err = xm_sh("ip netns add %s", ns->name);
	if (err)
		return err < 0 ? err : -EIO;
	{
		char path[128];

		snprintf(path, sizeof(path), XM_NETNS_DIR "/%s", ns->name);
		ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (ns->fd < 0) {
		err = -errno;
		goto out_del;
	}
	err = xm_netns_enter(ns, &saved);
	if (err)
		goto out_del;
	/* no IPv6 autoconfiguration traffic into the tests */
	(void)xm_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	(void)xm_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6",
			    "1");
	xm_netns_leave(saved);
	err = xm_sh("ip -n %s link set lo up", ns->name);
	if (err) {
		err = -EIO;
		goto out_del;
	}
	return 0;

out_del:
	xm_netns_destroy(ns);
	return err;
}

void xm_netns_destroy(struct xm_netns *ns)
{
	if (ns->fd > 0)
		close(ns->fd);
	ns->fd = -1;
	if (ns->name[0])
		(void)xm_sh("ip netns del %s", ns->name);
	ns->name[0] = '\0';
}

int xm_netns_sweep(void)
{
	DIR *d = opendir(XM_NETNS_DIR);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		int pid;
		unsigned int r;

		if (sscanf(de->d_name, XM_NETNS_PREFIX "%d_%x", &pid, &r) != 2)
			continue;
		if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (xm_sh("ip netns del %s", de->d_name) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int xm_netns_run(const struct xm_netns *ns, int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (ns && setns(ns->fd, CLONE_NEWNET) != 0)
			_exit(127);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ----------------------------------------------------------------- veth */

int xm_veth_create(struct xm_veth *v, struct xm_netns *a, struct xm_netns *b,
		   const struct xm_veth_opts *o)
{
	unsigned int idx = o && o->index ? o->index : 1;
	unsigned int q = o && o->queues ? o->queues : 1;
	unsigned int mtu = o && o->mtu ? o->mtu : 1500;
	char ipa[INET_ADDRSTRLEN], ipb[INET_ADDRSTRLEN];
	struct in_addr in;
	int err;

	memset(v, 0, sizeof(*v));
	if (idx > 255)
		return -EINVAL;
	v->ns_a = a;
	v->ns_b = b;
	v->mtu = mtu;
	v->queues = q;
	snprintf(v->a, sizeof(v->a), "xv%ua", idx);
	snprintf(v->b, sizeof(v->b), "xv%ub", idx);
	memcpy(v->mac_a, (uint8_t[]){ 0x02, 0, 0, 0, (uint8_t)idx, 1 }, 6);
	memcpy(v->mac_b, (uint8_t[]){ 0x02, 0, 0, 0, (uint8_t)idx, 2 }, 6);
	v->ip_a = htonl((198u << 24) | (18u << 16) | (idx << 8) | 1);
	v->ip_b = htonl((198u << 24) | (18u << 16) | (idx << 8) | 2);
	in.s_addr = v->ip_a;
	inet_ntop(AF_INET, &in, ipa, sizeof(ipa));
	in.s_addr = v->ip_b;
	inet_ntop(AF_INET, &in, ipb, sizeof(ipb));

	err = xm_sh("ip -n %s link add %s numtxqueues %u numrxqueues %u "
		    "address 02:00:00:00:%02x:01 type veth peer name %s "
		    "netns %s numtxqueues %u numrxqueues %u "
		    "address 02:00:00:00:%02x:02", a->name, v->a, q, q, idx,
		    v->b, b->name, q, q, idx);
	if (err)
		return -EIO;
	v->up = true;
	err = xm_sh("ip -n %s link set %s mtu %u up && "
		    "ip -n %s addr add %s/24 dev %s && "
		    "ip -n %s link set %s mtu %u up && "
		    "ip -n %s addr add %s/24 dev %s",
		    a->name, v->a, mtu, a->name, ipa, v->a,
		    b->name, v->b, mtu, b->name, ipb, v->b);
	if (err) {
		xm_veth_destroy(v);
		return -EIO;
	}
	return 0;
}

void xm_veth_destroy(struct xm_veth *v)
{
	if (v->up && v->ns_a && v->ns_a->name[0])
		(void)xm_sh("ip -n %s link del %s 2>/dev/null || true",
			    v->ns_a->name, v->a);
	v->up = false;
}

/* -------------------------------------------------------------- sockets */

int xm_raw_open(const struct xm_netns *ns, const char *ifname)
{
	struct sockaddr_ll sll;
	int saved = -1, fd, err = 0, one = 1, rcvbuf = 4 << 20;

	if (ns && (err = xm_netns_enter(ns, &saved)) != 0)
		return err;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		err = sll.sll_ifindex ? -errno : -ENODEV;
		close(fd);
		goto out;
	}
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			 sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			 sizeof(rcvbuf));
out:
	if (saved >= 0)
		xm_netns_leave(saved);
	return err ? err : fd;
}

int xm_raw_send(int fd, const void *frame, size_t len)
{
	uint64_t deadline = xm_now_ms() + 100;

	for (;;) {
		ssize_t n = send(fd, frame, len, 0);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EMSGSIZE;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (xm_now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(100);
	}
}

ssize_t xm_raw_recv(int fd, void *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	n = recv(fd, buf, cap, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

/* A UDP socket bound to sa inside ns (NULL: here).  @return fd or -errno. */
static int udp_bind(const struct xm_netns *ns, const struct sockaddr *sa,
		    socklen_t salen)
{
	int saved = -1, fd, err = 0;

	if (ns && (err = xm_netns_enter(ns, &saved)) != 0)
		return err;
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out_leave;
	}
	if (bind(fd, sa, salen) != 0) {
		err = -errno;
		close(fd);
	}
out_leave:
	if (saved >= 0)
		xm_netns_leave(saved);
	return err ? err : fd;
}

int xm_udp_open(const struct xm_netns *ns, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	sin.sin_port = htons(port);
	return udp_bind(ns, (struct sockaddr *)&sin, sizeof(sin));
}

int xm_udp6_open(const struct xm_netns *ns, const struct in6_addr *addr,
		 uint16_t port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = *addr;
	sin6.sin6_port = htons(port);
	return udp_bind(ns, (struct sockaddr *)&sin6, sizeof(sin6));
}

/* --------------------------------------------------------------- frames */

static uint16_t xm_csum16(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t xm_l2_len(const struct xm_tframe *t)
{
	return 14 + (t->vlan ? 4 : 0);
}

static size_t xm_l3_len(const struct xm_tframe *t)
{
	return t->family == 6 ? 40 : 20;
}

size_t xm_tframe_payload_off(const struct xm_tframe *t)
{
	return xm_l2_len(t) + xm_l3_len(t) + 8;
}

size_t xm_tframe_build(uint8_t *buf, size_t len, const struct xm_tframe *t)
{
	size_t l2 = xm_l2_len(t), l3 = xm_l3_len(t);
	size_t off = xm_tframe_payload_off(t);
	uint8_t proto = t->proto ? t->proto : 17;
	uint32_t x = t->seed * 2654435761u + t->seq;
	uint8_t *p = buf;

	if (len < off + 6 || len - l2 > 65535)
		return 0;
	memcpy(p, t->dmac, 6);
	memcpy(p + 6, t->smac, 6);
	p += 12;
	if (t->vlan) {
		*p++ = 0x81;
		*p++ = 0x00;
		*p++ = (uint8_t)(t->vlan >> 8 & 0x0f);
		*p++ = (uint8_t)t->vlan;
	}
	*p++ = t->family == 6 ? 0x86 : 0x08;
	*p++ = t->family == 6 ? 0xdd : 0x00;
	if (t->family == 6) {
		uint16_t plen = (uint16_t)(len - l2 - 40);

		p[0] = 0x60;
		p[1] = p[2] = p[3] = 0;
		p[4] = (uint8_t)(plen >> 8);
		p[5] = (uint8_t)plen;
		p[6] = proto;
		p[7] = 64;
		memcpy(p + 8, t->saddr6, 16);
		memcpy(p + 24, t->daddr6, 16);
	} else {
		uint16_t tot = (uint16_t)(len - l2);
		uint16_t c;

		memset(p, 0, 20);
		p[0] = 0x45;
		p[2] = (uint8_t)(tot >> 8);
		p[3] = (uint8_t)tot;
		p[6] = 0x40;	/* DF */
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, &t->saddr, 4);
		memcpy(p + 16, &t->daddr, 4);
		c = xm_csum16(p, 20);
		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
	}
	p += l3;
	{
		uint16_t ulen = (uint16_t)(len - l2 - l3);

		p[0] = (uint8_t)(t->sport >> 8);
		p[1] = (uint8_t)t->sport;
		p[2] = (uint8_t)(t->dport >> 8);
		p[3] = (uint8_t)t->dport;
		p[4] = (uint8_t)(ulen >> 8);
		p[5] = (uint8_t)ulen;
		p[6] = p[7] = 0;	/* no UDP checksum (IPv4 allows it) */
	}
	p = buf + off;
	p[0] = (uint8_t)(t->seq >> 24);
	p[1] = (uint8_t)(t->seq >> 16);
	p[2] = (uint8_t)(t->seq >> 8);
	p[3] = (uint8_t)t->seq;
	p[4] = (uint8_t)(t->flow >> 8);
	p[5] = (uint8_t)t->flow;
	for (size_t i = off + 6; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	return len;
}

bool xm_tframe_parse(const uint8_t *buf, size_t len,
		     const struct xm_tframe *layout, uint32_t *seq,
		     uint16_t *flow, uint16_t *dport)
{
	size_t off = xm_tframe_payload_off(layout);
	size_t l4 = off - 8;
	size_t et = layout->vlan ? 16 : 12;
	uint16_t type = layout->family == 6 ? 0x86dd : 0x0800;

	if (len < off + 6 || (uint16_t)(buf[et] << 8 | buf[et + 1]) != type)
		return false;
	*dport = (uint16_t)(buf[l4 + 2] << 8 | buf[l4 + 3]);
	*seq = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
	       (uint32_t)buf[off + 2] << 8 | buf[off + 3];
	*flow = (uint16_t)(buf[off + 4] << 8 | buf[off + 5]);
	return true;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_decap.c - xmbuf-decap, the backend side of xmbuf-lb, on its
 * own: who may tunnel to a backend.  With --allow-src, a tunnel packet is
 * stripped only when its outer source is in an allowed prefix and its
 * outer destination is one of the backend's addresses; everything else
 * is dropped and counted by reason.  Without it, any tunnel is stripped
 * (as before, and said so at attach).
 *
 *   namespace A (the test)              namespace B (the backend)
 *   AF_PACKET on the pair's b end ------ a end 198.18.41.1 and
 *   (198.18.41.2): IPIP, GUE and 4in6    2001:2:0:1::2, xmbuf-decap
 *   frames with chosen outer addresses   --allow-src ...; VIP 198.18.2.1
 *                                        on lo, UDP :53 (the test's)
 *
 * Each frame carries an inner UDP datagram to the VIP with a tag; what
 * reaches the socket was stripped, and the counters say why the rest was
 * not.  A case ends with a frame that must arrive: the path is one queue,
 * in order, so once it is read every frame sent before it has been
 * decided.  Addresses: 198.18.0.0/15 and 2001:2::/48, in the test's own
 * namespaces.  Needs root; skipped, loudly, without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "xm_pkt.h"
#include "../lib/netns.h"
#include "../lib/proc.h"

#define VIP		"198.18.2.1"
#define VIP_N		0xc6120201u
#define BALANCERS4	"198.18.128.0/17"	/* the allowed sources */
#define BALANCERS6	"2001:2:0:8000::/64"
#define BE6		"2001:2:0:1::2"		/* B's IPv6 address */
#define GUE_PORT	6080
#define WAIT_MS		5000

static struct {
	struct xm_netns a, b;
	struct xm_veth v;
	int raw;			/* AF_PACKET in A */
	int udp;			/* VIP:53 in B */
	char decap[PATH_MAX + 64];	/* the binary */
	uint32_t tag;			/* next frame's tag */
} F;

static void setup(void)
{
	struct xm_veth_opts vo = { .index = 41 };

	memset(&F, 0, sizeof(F));
	F.raw = F.udp = -1;
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: xmbuf-decap integration needs root "
			     "(namespaces, veth, XDP)");
	cr_assert_not_null(xm_example_path("xmbuf-decap", "XMBUF_DECAP",
					   F.decap, sizeof(F.decap)));
	(void)xm_netns_sweep();
	cr_assert_eq(xm_netns_create(&F.a), 0);
	cr_assert_eq(xm_netns_create(&F.b), 0);
	/* the backend end is "a" of the pair (198.18.41.1) in B */
	cr_assert_eq(xm_veth_create(&F.v, &F.b, &F.a, &vo), 0);
	cr_assert_eq(xm_netns_sh(&F.b, "sysctl -qw "
				 "net.ipv6.conf.all.disable_ipv6=0 && "
				 "sysctl -qw net.ipv6.conf.%s.disable_ipv6=0 && "
				 "ip addr add " BE6 "/64 dev %s nodad && "
				 "ip addr add " VIP "/32 dev lo && "
				 "sysctl -qw net.ipv4.conf.all.rp_filter=0 && "
				 "sysctl -qw net.ipv4.conf.%s.rp_filter=0",
				 F.v.a, F.v.a, F.v.a), 0);
	F.raw = xm_raw_open(&F.a, F.v.b);
	cr_assert_geq(F.raw, 0, "raw socket: %s", strerror(-F.raw));
	F.udp = xm_udp_open(&F.b, htonl(VIP_N), 53);
	cr_assert_geq(F.udp, 0, "UDP socket: %s", strerror(-F.udp));
}

static void teardown(void)
{
	if (F.raw >= 0)
		close(F.raw);
	if (F.udp >= 0)
		close(F.udp);
	/* the program goes with the veth, the veth with the namespaces */
	xm_netns_destroy(&F.a);
	xm_netns_destroy(&F.b);
}

TestSuite(lb_decap, .init = setup, .fini = teardown, .timeout = 60);

/* Runs xmbuf-decap on the backend's interface with args. */
static int decap(const char *args)
{
	return xm_netns_sh(&F.b, "%s -i %s %s", F.decap, F.v.a, args);
}

/* The same, quietly, for runs that are to fail: their exit status. */
static int decap_status(const char *args)
{
	char cmd[PATH_MAX + 256];
	int st;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i %s %s "
		 ">/dev/null 2>&1", F.b.name, F.decap, F.v.a, args);
	st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The attached program's counter key (within `within` when given). */
static uint64_t count(const char *within, const char *key)
{
	char cmd[PATH_MAX + 256], out[4096], k[64];
	const char *p = out;
	size_t len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i %s --stats --json",
		 F.b.name, F.decap, F.v.a);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	cr_assert_eq(pclose(f), 0, "%s: %s", cmd, out);
	if (within) {
		p = strstr(out, within);
		cr_assert_not_null(p, "'%s' not in %s", within, out);
	}
	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(p, k);
	cr_assert_not_null(p, "'%s' not in %s", key, out);
	return strtoull(p + strlen(k), NULL, 10);
}

/* An outer header: version, source, destination; GUE or not. */
struct outer {
	int version;			/* 4 or 6 */
	const char *src;
	const char *dst;
	bool gue;
};

/*
 * Sends one tunnel frame: an inner UDP datagram to VIP:53 carrying a new
 * tag, under o.  @return the tag.
 */
static uint32_t send_tunnel(const struct outer *o)
{
	static uint8_t buf[256];
	uint8_t *inner = buf + 128, *frame, macs[12];
	struct xm_tframe t = {
		.dmac = F.v.mac_a,
		.smac = F.v.mac_b,
		.family = 4,
		.saddr = F.v.ip_b,
		.daddr = htonl(VIP_N),
		.sport = 40000,
		.dport = 53,
		.seed = 7,
	};
	struct xm_pkt_encap en;
	size_t len;
	int n;

	t.seq = ++F.tag;
	len = xm_tframe_build(inner - 14, 14 + 20 + 8 + 16, &t);
	cr_assert_eq(len, 14 + 20 + 8 + 16);
	memset(&en, 0, sizeof(en));
	en.en_type = o->gue ? XM_PKT_ENCAP_GUE : XM_PKT_ENCAP_IPIP;
	en.en_sport = 50000;
	en.en_dport = GUE_PORT;
	en.en_outer.ip_version = (uint8_t)o->version;
	en.en_outer.ip_ttl = 64;
	if (o->version == 4) {
		cr_assert_eq(inet_pton(AF_INET, o->src,
				       &en.en_outer.ip_src.a_v4), 1);
		cr_assert_eq(inet_pton(AF_INET, o->dst,
				       &en.en_outer.ip_dst.a_v4), 1);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, o->src,
				       en.en_outer.ip_src.a_v6), 1);
		cr_assert_eq(inet_pton(AF_INET6, o->dst,
				       en.en_outer.ip_dst.a_v6), 1);
	}
	/* the outer header goes where the Ethernet header is: keep the
	 * MACs, and put them back in front of it */
	memcpy(macs, inner - 14, 12);
	n = xm_pkt_encap(inner, 100, (uint32_t)len - 14, &en);
	cr_assert_gt(n, 0, "encap: %d", n);
	frame = inner - n - 14;
	memcpy(frame, macs, 12);
	frame[12] = o->version == 4 ? 0x08 : 0x86;
	frame[13] = o->version == 4 ? 0x00 : 0xdd;
	cr_assert_eq(xm_raw_send(F.raw, frame, (size_t)(len + (size_t)n)), 0);
	return t.seq;
}

/*
 * Reads the VIP socket until tag `until` arrives (WAIT_MS at most);
 * got[] gets every tag seen, *n their number.  @return whether `until`
 * came.
 */
static bool read_until(uint32_t until, uint32_t *got, int *n, int cap)
{
	uint64_t end = xm_now_ms() + WAIT_MS;

	*n = 0;
	while (xm_now_ms() < end) {
		struct pollfd p = { .fd = F.udp, .events = POLLIN };
		uint8_t buf[64];
		uint32_t tag;

		if (poll(&p, 1, 50) <= 0)
			continue;
		if (recv(F.udp, buf, sizeof(buf), MSG_DONTWAIT) < 4)
			continue;
		memcpy(&tag, buf, 4);
		tag = ntohl(tag);
		if (*n < cap)
			got[(*n)++] = tag;
		if (tag == until)
			return true;
	}
	return false;
}

static bool seen(const uint32_t *got, int n, uint32_t tag)
{
	for (int i = 0; i < n; i++)
		if (got[i] == tag)
			return true;
	return false;
}

/* Sends each case of o[] k times, then a marker that must arrive;
 * want[i]: whether case i is stripped. */
static void run_cases(const struct outer *o, const bool *want, int ncase,
		      const struct outer *marker)
{
	uint32_t tags[16][4], got[256], last;
	int n;

	cr_assert_leq(ncase, 16);
	for (int i = 0; i < ncase; i++)
		for (int k = 0; k < 4; k++)
			tags[i][k] = send_tunnel(&o[i]);
	last = send_tunnel(marker);
	cr_assert(read_until(last, got, &n, 256), "the marker frame (%s -> "
		  "%s) was not delivered", marker->src, marker->dst);
	for (int i = 0; i < ncase; i++)
		for (int k = 0; k < 4; k++)
			cr_assert_eq(seen(got, n, tags[i][k]), want[i],
				     "IPv%d%s %s -> %s: %s", o[i].version,
				     o[i].gue ? " GUE" : "", o[i].src,
				     o[i].dst, want[i] ? "not stripped" :
				     "stripped");
}

Test(lb_decap, only_allowed_balancers_to_local_addresses_are_stripped)
{
	const char *me = "198.18.41.1";
	const struct outer ok = { 4, "198.18.130.5", me, false };
	const struct outer cases[] = {
		{ 4, "198.18.9.9", me, false },		/* not a balancer */
		{ 4, "198.18.200.1", "198.18.41.99", false }, /* not ours */
		{ 4, "198.18.9.9", "198.18.41.99", false },	/* both */
		{ 4, "198.18.255.254", me, true },	/* GUE, allowed */
		{ 4, "198.19.0.1", me, true },		/* GUE, not */
		{ 6, "2001:2:0:8000::5", BE6, false },	/* 4in6, allowed */
		{ 6, "2001:2:0:9::1", BE6, false },	/* 4in6, not */
		{ 6, "2001:2:0:8000::5", "2001:2:0:1::99", false },
		{ 4, "198.18.128.0", me, false },	/* prefix edges */
		{ 4, "198.18.127.255", me, false },
	};
	const bool want[] = { false, false, false, true, false, true, false,
			      false, true, false };

	cr_assert_eq(decap("--persist --gue-port 6080 --allow-src "
			   BALANCERS4 " -a " BALANCERS6), 0);
	run_cases(cases, want, (int)(sizeof(cases) / sizeof(cases[0])), &ok);
	/* the counters, by reason: 4 frames a case */
	cr_assert_eq(count("\"refused\"", "source"), 4 * 5);
	cr_assert_eq(count("\"refused\"", "destination"), 4 * 2);
	cr_assert_eq(count(NULL, "ipip"), 4 * 1 + 1);
	cr_assert_eq(count(NULL, "gue"), 4);
	cr_assert_eq(count(NULL, "ip4in6"), 4);

	/* --local adds a destination */
	cr_assert_eq(decap("--unload"), 0);
	cr_assert_eq(decap("--persist -a " BALANCERS4 " --local "
			   "198.18.41.99"), 0);
	{
		const struct outer more[] = {
			{ 4, "198.18.200.1", "198.18.41.99", false },
			{ 4, "198.18.200.1", "198.18.41.98", false },
			{ 4, "198.18.9.9", "198.18.41.99", false },
		};
		const bool w2[] = { true, false, false };

		run_cases(more, w2, 3, &ok);
	}
	cr_assert_eq(count("\"refused\"", "source"), 4);
	cr_assert_eq(count("\"refused\"", "destination"), 4);
}

/* Without --allow-src nothing changes: any tunnel is stripped, and the
 * tool says so; a bad prefix is a usage error. */
Test(lb_decap, without_an_allow_list_any_tunnel_is_stripped)
{
	const struct outer ok = { 4, "198.18.9.9", "198.18.41.1", false };
	const struct outer cases[] = {
		{ 4, "198.19.200.1", "198.18.41.77", false },
	};
	const bool want[] = { true };
	char cmd[PATH_MAX + 256], out[512];
	FILE *f;
	size_t len;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i %s --persist 2>&1",
		 F.b.name, F.decap, F.v.a);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	cr_assert_eq(pclose(f), 0, "%s", out);
	cr_assert_not_null(strstr(out, "no --allow-src"), "%s", out);
	run_cases(cases, want, 1, &ok);
	cr_assert_eq(count("\"refused\"", "source"), 0);
	cr_assert_eq(count("\"refused\"", "destination"), 0);
	cr_assert_eq(decap("--unload"), 0);

	cr_assert_eq(decap_status("--persist -a 198.18.128.1/17"), 2,
		     "host bits set");
	cr_assert_eq(decap_status("--persist -a 198.18.128.0/33"), 2);
	cr_assert_eq(decap_status("--persist -a 2001:2::/129"), 2);
	cr_assert_eq(decap_status("--persist -a bogus"), 2);
	cr_assert_eq(decap_status("--stats -a 198.18.0.0/15"), 2);
}

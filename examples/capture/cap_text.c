// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_text.c - without -w, xmbuf-capture prints a line per packet in
 * tcpdump -n -q's form (local time, addresses and ports, the protocol
 * and its length), with " In"/"Out" as tcpdump gives it for a capture
 * of both directions, and the verdict at an XDP program's exit:
 *
 *   12:00:01.000123 In  IP 198.18.7.1 > 198.18.7.2: ICMP echo request, id 7, seq 1, length 64
 *   12:00:01.000150 Out IP 198.18.7.2.9 > 198.18.7.1.40000: UDP, length 18
 *   12:00:01.000201 In  IP6 2001:db8::1.80 > 2001:db8::2.5000: tcp 0
 *   12:00:01.000300 In  ARP, Request who-has 198.18.7.2 tell 198.18.7.1, length 28
 *
 * Only what the captured bytes hold is read; a header cut short by the
 * snap length is printed as far as it goes ("IP truncated").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cap_run.h"

#define ETH_IP		0x0800
#define ETH_ARP		0x0806
#define ETH_IP6		0x86dd

struct line {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= l->cap - l->len)
		l->full = true;
	else
		l->len += (size_t)n;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static const char *xdp_action(uint32_t v)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP",
					     "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return v < 5 ? names[v] : "XDP_?";
}

/* The L4 part after "IP a > b" or "IP6 a > b" (ports go on the
 * addresses, so the addresses are printed here). */
static void l4(struct line *l, int fam, const uint8_t *src, const uint8_t *dst,
	       uint8_t proto, const uint8_t *p, const uint8_t *end,
	       uint32_t l4len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	bool ports = (proto == 6 || proto == 17 || proto == 132) &&
		     p + 4 <= end;

	inet_ntop(fam, src, s, sizeof(s));
	inet_ntop(fam, dst, d, sizeof(d));
	if (ports)
		put(l, "%s.%u > %s.%u: ", s, be16(p), d, be16(p + 2));
	else
		put(l, "%s > %s: ", s, d);
	switch (proto) {
	case 17:
		if (p + 8 <= end)
			put(l, "UDP, length %u", be16(p + 4) >= 8 ?
			    be16(p + 4) - 8u : 0u);
		else
			put(l, "UDP, length %u", l4len >= 8 ? l4len - 8 : 0);
		return;
	case 6:
		if (p + 13 <= end) {
			uint32_t hl = (uint32_t)(p[12] >> 4) * 4;

			put(l, "tcp %u", l4len > hl ? l4len - hl : 0);
		} else {
			put(l, "tcp (truncated)");
		}
		return;
	case 132:
		put(l, "sctp, length %u", l4len);
		return;
	case 1:
	case 58:
		if (p + 8 <= end && (p[0] == 8 || p[0] == 0 || p[0] == 128 ||
				     p[0] == 129)) {
			bool req = p[0] == 8 || p[0] == 128;

			put(l, "%s echo %s, id %u, seq %u, length %u",
			    proto == 1 ? "ICMP" : "ICMP6",
			    req ? "request" : "reply", be16(p + 4),
			    be16(p + 6), l4len);
		} else if (p + 2 <= end) {
			put(l, "%s type %u code %u, length %u",
			    proto == 1 ? "ICMP" : "ICMP6", p[0], p[1], l4len);
		} else {
			put(l, "%s, length %u", proto == 1 ? "ICMP" : "ICMP6",
			    l4len);
		}
		return;
	default:
		put(l, "ip-proto-%u %u", proto, l4len);
	}
}

static void ipv4(struct line *l, const uint8_t *p, const uint8_t *end)
{
	uint32_t ihl, tot;

	if (p + 20 > end) {
		put(l, "IP truncated");
		return;
	}
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	tot = be16(p + 2);
	put(l, "IP ");
	if ((be16(p + 6) & 0x1fff) || ihl < 20) {
		char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, p + 12, s, sizeof(s));
		inet_ntop(AF_INET, p + 16, d, sizeof(d));
		put(l, "%s > %s: ip-proto-%u (fragment)", s, d, p[9]);
		return;
	}
	l4(l, AF_INET, p + 12, p + 16, p[9], p + ihl, end,
	   tot > ihl ? tot - ihl : 0);
}

static void ipv6(struct line *l, const uint8_t *p, const uint8_t *end)
{
	if (p + 40 > end) {
		put(l, "IP6 truncated");
		return;
	}
	const uint8_t *h = p + 40;
	uint32_t left = be16(p + 4);
	uint8_t nh = p[6];

	put(l, "IP6 ");
	/* extension headers (hop-by-hop, routing, destination options,
	 * fragment) are walked to the transport, as tcpdump does; a chain
	 * cut by the snap length prints the header it stopped at */
	for (int n = 0; n < 8; n++) {
		uint32_t hl;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
			break;
		if (h + 8 > end)
			break;
		if (nh == 44) {
			if (be16(h + 2) & 0xfff8) {
				char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

				inet_ntop(AF_INET6, p + 8, s, sizeof(s));
				inet_ntop(AF_INET6, p + 24, d, sizeof(d));
				put(l, "%s > %s: ip-proto-%u (fragment)", s, d,
				    h[0]);
				return;
			}
			hl = 8;
		} else {
			hl = ((uint32_t)h[1] + 1) * 8;
		}
		if (hl > left)
			break;
		nh = h[0];
		h += hl;
		left -= hl;
	}
	l4(l, AF_INET6, p + 8, p + 24, nh, h, end, left);
}

static void arp(struct line *l, const uint8_t *p, const uint8_t *end,
		uint32_t len)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	if (p + 28 > end || be16(p + 2) != ETH_IP || p[5] != 4) {
		put(l, "ARP, length %u", len);
		return;
	}
	inet_ntop(AF_INET, p + 14, s, sizeof(s));
	inet_ntop(AF_INET, p + 24, d, sizeof(d));
	if (be16(p + 6) == 1)
		put(l, "ARP, Request who-has %s tell %s, length %u", d, s, len);
	else if (be16(p + 6) == 2)
		put(l, "ARP, Reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x, "
		    "length %u", s, p[8], p[9], p[10], p[11], p[12], p[13],
		    len);
	else
		put(l, "ARP, op %u, length %u", be16(p + 6), len);
}

int cap_text_line(char *buf, size_t *len, size_t cap, uint64_t ts_ns,
		  const uint8_t *p, uint32_t caplen, uint32_t wirelen,
		  uint32_t dir, uint32_t verdict)
{
	struct line l = { .p = buf, .len = *len, .cap = cap };
	const uint8_t *end = p + caplen, *q = p + 14;
	time_t sec = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;
	uint16_t type;

	localtime_r(&sec, &tm);
	put(&l, "%02d:%02d:%02d.%06u ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (unsigned int)(ts_ns % 1000000000ull / 1000));
	if (dir)
		put(&l, "%s ", dir == CAP_DIR_OUT ? "Out" : "In ");
	if (caplen < 14) {
		put(&l, "[|ether], length %u", wirelen);
	} else {
		type = be16(p + 12);
		/* tags are stepped over, as tcpdump does without -e */
		for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8) &&
		     q + 4 <= end; i++) {
			type = be16(q + 2);
			q += 4;
		}
		if (type == ETH_IP)
			ipv4(&l, q, end);
		else if (type == ETH_IP6)
			ipv6(&l, q, end);
		else if (type == ETH_ARP)
			arp(&l, q, end, (uint32_t)(wirelen - (q - p)));
		else
			put(&l, "ethertype 0x%04x, length %u", type, wirelen);
	}
	if (verdict != UINT32_MAX)
		put(&l, ", %s", xdp_action(verdict));
	put(&l, "\n");
	if (l.full)
		return -ENOSPC;
	*len = l.len;
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_filter.h - the part of a tcpdump filter expression that the XDP
 * steering rules (xm_port_rule) can express, for xmbuf-capture.
 *
 * THE RULE: the kernel pre-filter never rejects a frame libpcap accepts.
 * The whole expression is always compiled by libpcap and applied in user
 * space; what is pushed into the kernel is a SUPERSET of it, by
 * construction, on two sides:
 *
 *  - the translator mirrors libpcap's own semantics, and where it cannot
 *    say exactly what a part selects it says "everything" for that part
 *    (pushes less, never more narrowly);
 *  - the XDP program (bpf/xm_redirect_match.h) never rejects what it
 *    cannot read: a test on a field it could not parse (a tag or header
 *    cut short, IPv4 IHL < 5, an IPv6 extension header cut short) holds,
 *    so such a frame goes to user space and libpcap decides.
 *
 * Most of what the expression does not want never leaves the kernel.
 * The translation works on sets of rules (their union), and each
 * primitive stands for its exact rules or for something larger (in the
 * end, "everything", which pushes no rule at all):
 *
 *   udp, tcp, sctp           one rule on the IP protocol (v4 and v6)
 *   icmp, icmp6, ip, ip6     protocol and/or address family
 *   ip|ip6 broadcast|multicast  the family (the address test stays in
 *                            user space)
 *   [proto] [src|dst] port N source and/or destination port (TCP, UDP,
 *                            SCTP): "udp port 9" is exactly {udp sport 9}
 *                            u {udp dport 9}, two rules
 *   ip|ip6 [src|dst] host A  source and/or destination prefix /32, /128
 *   ip|ip6 [src|dst] net A/L prefix (also "net 10.1" for 10.1.0.0/16)
 *   vlan N                   the outer tag (0x8100, 0x88a8, 0x9100, as
 *                            libpcap); only the first "vlan"
 *   host A, net N            (no "ip") also match ARP and RARP, which rules
 *                            cannot: pushed only inside a conjunction with
 *                            something that implies IP ("udp and host A")
 *   and, or, parentheses     intersection and union of the rule sets
 *   less N, greater N,       everything, leaving the rest to narrow
 *   broadcast, multicast     ("udp and greater 200" pushes "udp")
 *   not X                    everything (nothing narrows the kernel side)
 *
 * libpcap's semantics mirrored:
 *  - qualifiers: a bare ID after and/or/not takes the qualifiers of the
 *    primitive before it, and after a parenthesised group the ones in
 *    force before its "(" ("ip src A or (ip dst B) or C": C is ip src);
 *  - "vlan" moves every test compiled after it 4 bytes in, in every
 *    branch ("vlan 100 or ip" reads an untagged ARP frame's bytes 16-17
 *    as its type): a primitive after n "vlan"s is translated only where
 *    those n are conjuncts in force (ANDed before it, not negated), which
 *    guarantees the tags the rules read through; elsewhere it stands
 *    for everything;
 *  - numbers: 0x.. hex and 0.. octal ("port 053" is port 43), "net 10"
 *    is 10/8, "host 10" is 0.0.0.10;
 *  - "ip broadcast" needs the interface's netmask (cap_filter_netmask).
 *
 * At most XM_PORT_MAX_RULES rules come out; a larger union is
 * "everything".  An expression this parser does not understand as a
 * whole (hostnames, service names, byte offsets, "mask", "mpls", three
 * "vlan"s) pushes nothing: it is filtered in user space only, and the
 * start banner says so.
 *
 * Checked by tests/unit/test_capture_filter_diff.c and the fuzz target
 * tests/fuzz/fuzz_capture_filter.c: libpcap and these rules, run through
 * the XDP program's own matcher, on the same frames.
 */
#ifndef CAP_FILTER_H
#define CAP_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "xm_port.h"

struct cap_filter_rules {
	unsigned int nrules;		/* rules to push (0 with all) */
	bool all;			/* nothing can be narrowed: push none */
	struct xm_port_rule rules[XM_PORT_MAX_RULES]; /* their union is a
					 * superset of the expression */
	char why[160];			/* with all: the reason, for people */
};

/**
 * Translates a libpcap filter expression (already accepted by
 * pcap_compile) into steering rules.
 * @return 0 and *out filled (out->all when nothing is pushed); -EINVAL for
 * NULL arguments.
 */
int cap_filter_translate(const char *expr, struct cap_filter_rules *out);

/**
 * Describes rule r for people ("udp dst port 53", "ip src 198.18.0.0/15").
 * @return buf.
 */
const char *cap_filter_rule_str(const struct xm_port_rule *r, char *buf,
				size_t len);

/**
 * The netmask libpcap needs for "ip broadcast", as tcpdump finds it: the
 * IPv4 netmask of ifname (pcap_lookupnet), or 0 when it has none (then
 * only 255.255.255.255 and 0.0.0.0 are broadcast addresses).
 * @return the netmask as pcap_lookupnet() gives it, which is what
 * tcpdump hands pcap_compile() unchanged.
 */
uint32_t cap_filter_netmask(const char *ifname);

#endif /* CAP_FILTER_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_filter.h - the part of a tcpdump filter expression that the XDP
 * steering rules (xm_port_rule) can express, for xmbuf-capture.
 *
 * The whole expression is always compiled by libpcap and applied in user
 * space; what is pushed into the kernel only has to be a SUPERSET of it:
 * every packet the expression matches must match some rule, so nothing
 * the expression wants is lost to the stack, while most of what it does
 * not want never leaves the kernel.  The translation therefore works on
 * sets of rules (their union), and wherever a primitive has no exact
 * rule it stands for something larger (in the end, "everything", which
 * pushes no rule at all):
 *
 *   udp, tcp, sctp           one rule on the IP protocol (v4 and v6)
 *   icmp, icmp6, ip, ip6     protocol and/or address family
 *   [proto] dst port N       destination port (TCP, UDP, SCTP)
 *   [proto] [src] port N     the protocols only (rules have no source port)
 *   ip|ip6 [src|dst] host A  source and/or destination prefix /32, /128
 *   ip|ip6 [src|dst] net A/L prefix (also "net 10.1" for 10.1.0.0/16)
 *   vlan N                   the outer tag (only the first "vlan" of an
 *                            expression; later ones refer to inner tags)
 *   host A, net N            (no "ip") also match ARP and RARP, which rules
 *                            cannot: pushed only inside a conjunction with
 *                            something that implies IP ("udp and host A")
 *   and, or, parentheses     intersection and union of the rule sets
 *   less N, greater N,       everything, leaving the rest to narrow
 *   broadcast, multicast     ("udp and greater 200" pushes "udp")
 *   not X                    everything (nothing narrows the kernel side)
 *
 * At most XM_PORT_MAX_RULES rules come out; a larger union is
 * "everything".  An expression this parser does not understand as a
 * whole (hostnames, service names, byte offsets, "mask", three "vlan"s)
 * pushes nothing: it is filtered in user space only.
 *
 * Known gaps of the kernel side that a superset cannot fix (the XDP
 * parser, bpf/xm_redirect_prog.h): frames tagged 0x9100 (pre-standard
 * QinQ) are not looked into, and IPv4 headers shorter than 20 bytes or
 * truncated are not parsed; with rules pushed such frames go to the
 * stack, where tcpdump would have seen them.
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

#endif /* CAP_FILTER_H */

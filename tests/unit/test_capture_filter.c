// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture_filter.c - the filter subset xmbuf-capture pushes into the
 * XDP program (examples/capture/cap_filter.c).
 *
 * The translations: the rules an expression turns into, field by field,
 * and the expressions that must push nothing (not, ARP-inclusive "host",
 * byte offsets, too many rules, contradictions).  The property that
 * matters, that the rules never keep from libpcap a frame it accepts, is
 * test_capture_filter_diff.c's, run through the XDP program's own
 * matcher.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "../../examples/capture/cap_filter.h"

static struct cap_filter_rules fr;

static void translate(const char *expr)
{
	cr_assert_eq(cap_filter_translate(expr, &fr), 0);
}

static void assert_all(const char *expr)
{
	translate(expr);
	cr_assert(fr.all, "'%s' must push nothing, got %u rule(s)", expr,
		  fr.nrules);
	cr_assert_eq(fr.nrules, 0);
	cr_assert_neq(fr.why[0], '\0', "a reason is given");
}

static const struct xm_port_rule *find_rule(uint32_t match, uint8_t proto,
					    uint16_t dport)
{
	for (unsigned int i = 0; i < fr.nrules; i++) {
		const struct xm_port_rule *r = &fr.rules[i];

		if (r->match == match &&
		    (!(match & XM_RULE_M_PROTO) || r->ip_proto == proto) &&
		    (!(match & XM_RULE_M_DST_PORT) || r->dst_port == dport))
			return r;
	}
	return NULL;
}

/* The rule with exactly these tests, source port included. */
static const struct xm_port_rule *find_sport(uint32_t match, uint8_t proto,
					     uint16_t sport, uint16_t dport)
{
	for (unsigned int i = 0; i < fr.nrules; i++) {
		const struct xm_port_rule *r = &fr.rules[i];

		if (r->match == match &&
		    (!(match & XM_RULE_M_PROTO) || r->ip_proto == proto) &&
		    (!(match & XM_RULE_M_SRC_PORT) || r->src_port == sport) &&
		    (!(match & XM_RULE_M_DST_PORT) || r->dst_port == dport))
			return r;
	}
	return NULL;
}

TestSuite(capture_filter);

Test(capture_filter, protocols)
{
	translate("udp");
	cr_assert(!fr.all);
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	cr_assert_eq(fr.rules[0].ip_proto, 17);
	translate("tcp or udp");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO, 6, 0));
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO, 17, 0));
	translate("icmp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO | XM_RULE_M_FAMILY);
	cr_assert_eq(fr.rules[0].family, AF_INET);
	cr_assert_eq(fr.rules[0].ip_proto, 1);
	translate("ip6");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_FAMILY);
	cr_assert_eq(fr.rules[0].family, AF_INET6);
}

Test(capture_filter, ports)
{
	translate("udp dst port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				     53));
	translate("udp and dst port 5000");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				     5000));
	translate("dst port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_rule(XM_RULE_M_DST_PORT, 0, 53));
	/* the source port is a rule field too: "udp port 9" is exactly
	 * UDP with source or destination port 9, never "all UDP" */
	translate("udp port 9");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_sport(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				      0, 9));
	cr_assert_not_null(find_sport(XM_RULE_M_PROTO | XM_RULE_M_SRC_PORT, 17,
				      9, 0));
	cr_assert_null(find_rule(XM_RULE_M_PROTO, 17, 0));
	translate("tcp src port 80");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_sport(XM_RULE_M_PROTO | XM_RULE_M_SRC_PORT, 6,
				      80, 0));
	translate("port 53");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_sport(XM_RULE_M_DST_PORT, 0, 0, 53));
	cr_assert_not_null(find_sport(XM_RULE_M_SRC_PORT, 0, 53, 0));
	translate("src and dst port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_sport(XM_RULE_M_SRC_PORT | XM_RULE_M_DST_PORT,
				      0, 53, 53));
	translate("src port 7 and dst port 9");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_not_null(find_sport(XM_RULE_M_SRC_PORT | XM_RULE_M_DST_PORT,
				      0, 7, 9));
	/* a bare number reuses "dst port" */
	translate("dst port 53 or 80");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_DST_PORT, 0, 80));
	translate("(udp or tcp) and dst port 80");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 6,
				     80));
	/* no ports on ICMP: the conjunction is empty, nothing to push */
	assert_all("icmp and dst port 5");
}

Test(capture_filter, addresses)
{
	const struct xm_port_rule *r;
	uint8_t want[16] = { 198, 18, 0, 0 };

	translate("ip host 198.18.0.1");
	cr_assert_eq(fr.nrules, 2);
	r = find_rule(XM_RULE_M_SRC, 0, 0);
	cr_assert_not_null(r);
	cr_assert_eq(r->family, AF_INET);
	cr_assert_eq(r->src_len, 32);
	cr_assert_eq(memcmp(r->src, (uint8_t[4]){ 198, 18, 0, 1 }, 4), 0);
	cr_assert_not_null(find_rule(XM_RULE_M_DST, 0, 0));
	translate("ip src net 198.18.0.0/15");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_SRC);
	cr_assert_eq(fr.rules[0].src_len, 15);
	cr_assert_eq(memcmp(fr.rules[0].src, want, 16), 0);
	translate("ip dst net 198.18");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].dst_len, 16, "libpcap's 'net 198.18' is /16");
	translate("ip6 net 2001:2::/48");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_eq(fr.rules[0].family, AF_INET6);
	cr_assert_eq(fr.rules[0].match & (XM_RULE_M_SRC | XM_RULE_M_DST) ?
		     (fr.rules[0].match & XM_RULE_M_SRC ? fr.rules[0].src_len :
		      fr.rules[0].dst_len) : 0, 48);
	/* IPv6 hosts are IPv6's only: no ARP to worry about */
	translate("host 2001:2::1");
	cr_assert_eq(fr.nrules, 2);
	translate("ip src 198.18.0.1 and dst 198.18.0.2");
	cr_assert_eq(fr.nrules, 1, "the bare dst reuses 'ip': one rule");
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_SRC | XM_RULE_M_DST);
	translate("ip host 198.18.0.1 or 198.18.0.2");
	cr_assert_eq(fr.nrules, 4);
	/* nested prefixes intersect to the longer one; disjoint to nothing */
	translate("ip src net 198.18.0.0/15 and ip src host 198.18.3.4");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].src_len, 32);
	assert_all("ip src net 10.0.0.0/8 and ip src net 198.18.0.0/15");
}

Test(capture_filter, arp_inclusive_hosts)
{
	/* "host A" also matches ARP and RARP naming A: rules cannot */
	assert_all("host 198.18.0.1");
	cr_assert(strstr(fr.why, "ARP"), "the reason names ARP: %s", fr.why);
	assert_all("net 198.18.0.0/15");
	assert_all("src 198.18.0.1");
	assert_all("arp");
	/* ... unless something in the conjunction implies IP */
	translate("udp and host 198.18.0.1");
	cr_assert_eq(fr.nrules, 2);
	translate("host 198.18.0.1 and dst port 53");
	cr_assert_eq(fr.nrules, 2);
	/* a VLAN survives as the only test an ARP term can keep */
	translate("vlan 7 and host 198.18.0.1");
	cr_assert(!fr.all);
	cr_assert_not_null(find_rule(XM_RULE_M_VLAN, 0, 0));
}

Test(capture_filter, vlans)
{
	translate("vlan 100");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN);
	cr_assert_eq(fr.rules[0].vlan_id, 100);
	translate("vlan 100 and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN | XM_RULE_M_PROTO);
	/* the second "vlan" is an inner tag: no rule field */
	translate("vlan 100 and vlan 200 and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].vlan_id, 100);
	translate("vlan and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	/* vlan 0 is priority-tagged; to a rule 0 means untagged */
	translate("vlan 0 and udp");
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	translate("vlan 100 and vlan 200");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN);
	assert_all("vlan 1 and vlan 2 and vlan 3 and udp");
	/* libpcap reads whatever follows a "vlan" 4 bytes in, in every
	 * branch: only what is ANDed under it is translated */
	assert_all("vlan 100 or udp");
	assert_all("vlan 100 or ip");
	assert_all("not vlan and udp");
	assert_all("(vlan 100 or vlan 200) and udp");
	translate("vlan 100 and (udp or tcp)");
	cr_assert_eq(fr.nrules, 2);
	cr_assert_not_null(find_rule(XM_RULE_M_VLAN | XM_RULE_M_PROTO, 6, 0));
	translate("vlan 100 and (vlan 200 or udp)");
	cr_assert_eq(fr.nrules, 1, "udp after two vlans, one in an 'or'");
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_VLAN);
}

Test(capture_filter, libpcap_numbers_and_qualifiers)
{
	/* a leading 0 is octal, 0x hex, as libpcap's scanner reads them */
	translate("udp dst port 053");
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				     43));
	translate("udp dst port 0x35");
	cr_assert_not_null(find_rule(XM_RULE_M_PROTO | XM_RULE_M_DST_PORT, 17,
				     53));
	translate("vlan 0144");
	cr_assert_eq(fr.rules[0].vlan_id, 100);
	translate("ip net 198.18.0.0/020");
	cr_assert_eq(fr.rules[0].src_len, 16);
	translate("ip net 0306");
	cr_assert_eq(fr.rules[0].src_len, 8);
	cr_assert_eq(fr.rules[0].src[0], 198);
	/* after "( ... )" a bare ID takes what was in force before "(" */
	translate("ip src 198.18.1.1 or (ip dst 198.18.1.2) or 198.18.1.3");
	cr_assert_eq(fr.nrules, 3);
	cr_assert_eq(fr.rules[2].match, XM_RULE_M_SRC);
	cr_assert_eq(fr.rules[2].src[3], 3);
	translate("ip src 198.18.1.1 or (udp) or 198.18.1.3");
	cr_assert_eq(fr.nrules, 3);
	/* the family stands for "ip broadcast" */
	translate("ip broadcast and udp");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO | XM_RULE_M_FAMILY);
}

Test(capture_filter, untranslatable)
{
	assert_all("not udp");
	/* a negation inside a conjunction only widens its own part */
	translate("udp and not port 53");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].match, XM_RULE_M_PROTO);
	assert_all("less 100");
	assert_all("broadcast or udp");
	/* a length test is everything, and leaves the rest to narrow */
	translate("udp and greater 200");
	cr_assert_eq(fr.nrules, 1);
	cr_assert_eq(fr.rules[0].ip_proto, 17);
	translate("len >= 100 and udp");
	cr_assert(fr.all, "relational expressions are not translated");
	assert_all("ether host 02:00:00:00:00:01");
	assert_all("ip[9] = 17");
	assert_all("tcp[tcpflags] & tcp-syn != 0");
	assert_all("port domain");
	assert_all("host example.com");
	assert_all("portrange 1-100");
	assert_all("tcp and udp");
	assert_all("udp or arp");
	assert_all("ip proto 17");
	assert_all("(udp");
	assert_all("udp )");
	assert_all("");
	assert_all("and");
	/* more rules than the kernel side holds */
	assert_all("dst port 1 or 2 or 3 or 4 or 5 or 6 or 7 or 8 or 9 or 10 "
		   "or 11 or 12 or 13 or 14 or 15 or 16 or 17");
	translate("dst port 1 or 2 or 3 or 4 or 5 or 6 or 7 or 8 or 9 or 10 "
		  "or 11 or 12 or 13 or 14 or 15 or 16");
	cr_assert_eq(fr.nrules, 16);
}

Test(capture_filter, bad_arguments)
{
	cr_assert_eq(cap_filter_translate(NULL, &fr), -EINVAL);
	cr_assert_eq(cap_filter_translate("udp", NULL), -EINVAL);
}

Test(capture_filter, rule_strings)
{
	char buf[128];

	translate("udp dst port 53");
	cr_assert_str_eq(cap_filter_rule_str(&fr.rules[0], buf, sizeof(buf)),
			 "udp dst port 53");
	translate("ip src net 198.18.0.0/15");
	cr_assert_str_eq(cap_filter_rule_str(&fr.rules[0], buf, sizeof(buf)),
			 "ip src 198.18.0.0/15");
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture_filter_diff.c - xmbuf-capture's kernel pre-filter against
 * libpcap itself (tests/fuzz/capture_filter_diff.h has the comparison):
 * a generated corpus of diverse and malformed frames, a list of
 * expressions (every one of issue #20 and the common ones), each
 * compiled by libpcap and by the tool's translator; every frame libpcap
 * accepts must pass the rules as the XDP program's own matcher
 * (bpf/xm_redirect_match.h) evaluates them.
 *
 * Beside the property, checks that keep it honest: most expressions do
 * push rules, and those rules do keep some frames in the kernel; the
 * issue's frames and shapes are in the corpus and libpcap accepts them.
 */
#include <criterion/criterion.h>

#include "../fuzz/capture_filter_diff.h"

#define CORPUS_MAX	6000

static uint8_t *corpus[CORPUS_MAX];
static uint32_t corpus_len[CORPUS_MAX];
static int ncorpus;

static void add_frame(const uint8_t *f, uint32_t len)
{
	cr_assert_lt(ncorpus, CORPUS_MAX);
	corpus[ncorpus] = malloc(len ? len : 1);
	cr_assert_not_null(corpus[ncorpus]);
	memcpy(corpus[ncorpus], f, len);
	corpus_len[ncorpus++] = len;
}

/* Every spec, whole and cut at each byte up to the ports. */
static void add_cuts(uint8_t *f, const struct cfd_spec *s)
{
	struct cfd_spec c = *s;
	uint32_t len = cfd_build(f, s);

	add_frame(f, len);
	for (uint32_t cut = 1; cut < 100 && cut < len; cut++) {
		c.cut = cut;
		add_frame(f, cfd_build(f, &c));
	}
}

static void make_corpus(void)
{
	uint8_t *f = malloc(CFD_FRAME_MAX);
	struct cfd_pick k = { .rng = 0x9e3779b97f4a7c15ULL };
	struct cfd_spec s;

	cr_assert_not_null(f);
	ncorpus = 0;
	for (size_t i = 0; i < CFD_NELEM(cfd_issue_frames); i++)
		add_frame(f, cfd_hex(f, cfd_issue_frames[i]));
	/* the shapes the issue names, cut at every byte */
	memset(&s, 0, sizeof(s));
	s.type = 0x0800;
	s.ihl = 5;
	s.proto = 17;
	memcpy(s.src, cfd_v4[2], 4);
	memcpy(s.dst, cfd_v4[3], 4);
	s.sport = 161;
	s.dport = 53;
	add_cuts(f, &s);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		s.ihl = ihl;
		add_frame(f, cfd_build(f, &s));
	}
	s.ihl = 5;
	s.ntags = 1;
	s.tpid[0] = 0x9100;
	s.vid[0] = 100;
	add_cuts(f, &s);
	s.ntags = 2;
	s.tpid[1] = 0x8100;
	s.vid[1] = 200;
	add_frame(f, cfd_build(f, &s));
	memset(&s, 0, sizeof(s));
	s.type = 0x86dd;
	s.proto = 17;
	memcpy(s.src, cfd_v6[0], 16);
	memcpy(s.dst, cfd_v6[3], 16);
	s.dport = 53;
	add_cuts(f, &s);
	s.nexts = 2;
	s.ext[0] = 44;
	s.ext[1] = 60;
	add_cuts(f, &s);
	s.nexts = 1;
	s.frag = 0x10;
	add_cuts(f, &s);
	/* and many generated ones */
	while (ncorpus < CORPUS_MAX - 10) {
		cfd_spec_pick(&k, &s);
		add_frame(f, cfd_build(f, &s));
	}
	free(f);
}

static void free_corpus(void)
{
	for (int i = 0; i < ncorpus; i++)
		free(corpus[i]);
	ncorpus = 0;
}

static const char *const exprs[] = {
	/* issue #20 */
	"ip src 198.18.1.1 or (ip dst 198.18.1.2) or 198.18.1.3",
	"vlan 100 or ip", "vlan 100 or udp", "not vlan and udp",
	"vlan 100", "vlan 100 and vlan 200", "vlan and udp", "udp", "ip",
	"ip and not tcp", "ip host 198.18.1.1", "ip host 198.18.5.5",
	"ip src and dst net 198.18.0.0/16", "ip6", "net 2001:2::/48",
	"ip broadcast",
	/* qualifiers carried over */
	"ip src 198.18.1.1 or (udp) or 198.18.1.3",
	"host 198.18.1.1 or (host 198.18.1.2 and udp) or 198.18.1.3",
	"ip dst 198.18.5.5 or (ip src 198.18.1.1 and tcp) or 198.18.1.2",
	"dst port 53 or 80", "udp dst port 53 or (tcp) or 161",
	"ip src 198.18.1.3 and not 198.18.1.1",
	/* vlan shifts */
	"vlan 100 and udp", "vlan 100 and (udp or tcp)",
	"(vlan 100 and udp) or tcp", "vlan and vlan 200 and udp",
	"vlan 100 and vlan 200 and ip6", "vlan 100 and not udp",
	"vlan 7 and arp", "vlan 100 and ip host 198.18.1.3",
	"(vlan 100 or vlan 200) and udp", "vlan 100 and (vlan 200 or udp)",
	"vlan or ip", "vlan 100 and dst port 53", "vlan 0 and udp",
	"vlan 4095 or vlan 100", "vlan 0x64", "vlan 0144 and udp",
	/* numbers as libpcap reads them */
	"port 053", "dst port 0x35", "udp dst port 0241", "net 198.18.0.0/020",
	"net 198", "net 0306", "host 3323068675",
	/* the common ones */
	"tcp", "sctp", "icmp", "icmp6", "arp", "rarp", "arp or udp",
	"port 53", "dst port 53", "src port 53", "udp port 53",
	"udp dst port 53", "tcp src port 80", "udp and dst port 5000",
	"src or dst port 80", "src and dst port 53",
	"tcp dst port 80 or udp dst port 53", "dst port 53 or 161 or 443",
	"host 198.18.1.1", "src 198.18.1.3", "ip src 198.18.1.3",
	"ip dst net 198.18.1.0/24", "ip net 198.18", "net 198.18",
	"ip6 host 2001:2::1", "ip6 net 2001:2::/48", "ip6 src 2001:2::2",
	"ip6 src net 2001:2::/32", "host 2001:2::1 and udp",
	"udp and host 198.18.1.1", "host 198.18.5.5 and dst port 53",
	"ip and (udp dst port 53 or tcp dst port 80)", "ip6 and udp",
	"(ip6 and udp) or (ip and tcp dst port 80)", "icmp or icmp6",
	"(ip src 198.18.1.1 or ip src 198.18.1.2) and udp",
	"udp and dst port 5000 and ip6", "ip multicast", "ip6 multicast",
	"ip dst 198.18.1.255", "dst net 198.18.0.0/15 and udp",
	"not udp", "udp and not port 53", "udp and greater 90",
	"less 100 or tcp", "greater 1000 and udp", "less 64",
	"broadcast", "ether broadcast and udp", "ip[9] = 17",
};

/* Runs every expression over the corpus with netmask; @return how many
 * pushed rules. */
static int run_all(uint32_t netmask)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct cfd_filter *f = calloc(1, sizeof(*f));
	char why[128] = "";
	int pushed = 0;

	cr_assert_not_null(p);
	cr_assert_not_null(f);
	for (size_t e = 0; e < CFD_NELEM(exprs); e++) {
		int accepted = 0, kept = 0;
		int rc = cfd_compile(p, exprs[e], netmask, f, why,
				     sizeof(why));

		cr_assert_neq(rc, 1, "libpcap refuses '%s': %s", exprs[e],
			      pcap_geterr(p));
		cr_assert_eq(rc, 0, "'%s': %s", exprs[e], why);
		for (int i = 0; i < ncorpus; i++) {
			bool lib = cfd_libpcap(f, corpus[i], corpus_len[i]);
			bool kern = cfd_kernel(f, corpus[i], corpus_len[i]);

			if (lib)
				accepted++;
			if (!kern)
				kept++;
			cr_assert(!lib || kern, "'%s': frame %d (%u bytes) "
				  "accepted by libpcap, kept in the kernel by "
				  "the rules", exprs[e], i, corpus_len[i]);
		}
		cr_assert_gt(accepted, 0, "'%s' accepts part of the corpus",
			     exprs[e]);
		if (!f->rules.all) {
			pushed++;
			cr_assert_gt(kept, 0, "'%s': the rules keep something "
				     "in the kernel", exprs[e]);
		}
		cfd_free(f);
	}
	free(f);
	pcap_close(p);
	return pushed;
}

TestSuite(capture_filter_diff, .timeout = 120);

Test(capture_filter_diff, rules_never_reject_what_libpcap_accepts)
{
	int pushed;

	make_corpus();
	cr_assert_gt(ncorpus, 5000);
	/* no netmask (an interface without IPv4), and a /24 as
	 * pcap_lookupnet returns it */
	pushed = run_all(0);
	cr_assert_gt(pushed, 60, "most expressions push rules (%d)", pushed);
	run_all(htonl(0xffffff00));
	free_corpus();
}

/* The issue's frames, each with the expression that missed it. */
Test(capture_filter_diff, issue_frames)
{
	static const struct {
		int frame;
		const char *expr;
	} cases[] = {
		{ 0, "ip src 198.18.1.1 or (ip dst 198.18.1.2) or 198.18.1.3" },
		{ 1, "vlan 100 or ip" },
		{ 1, "vlan 100 or udp" },
		{ 1, "not vlan and udp" },
	};
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct cfd_filter *f = calloc(1, sizeof(*f));
	uint8_t *buf = malloc(CFD_FRAME_MAX);
	char why[128] = "";

	cr_assert(p && f && buf);
	for (size_t i = 0; i < CFD_NELEM(cases); i++) {
		uint32_t len = cfd_hex(buf, cfd_issue_frames[cases[i].frame]);

		cr_assert_eq(cfd_compile(p, cases[i].expr, 0, f, why,
					 sizeof(why)), 0, "%s", why);
		cr_assert(cfd_libpcap(f, buf, len), "libpcap takes frame %d "
			  "with '%s'", cases[i].frame, cases[i].expr);
		cr_assert(cfd_kernel(f, buf, len), "the rules take frame %d "
			  "with '%s'", cases[i].frame, cases[i].expr);
		cfd_free(f);
	}
	/* the qualifier fix keeps the expression narrow: ip src, not dst */
	cr_assert_eq(cap_filter_translate("ip src 198.18.1.1 or (ip dst "
					  "198.18.1.2) or 198.18.1.3",
					  &f->rules), 0);
	cr_assert(!f->rules.all);
	cr_assert_eq(f->rules.nrules, 3);
	cr_assert_eq(f->rules.rules[2].match, XM_RULE_M_SRC);
	free(buf);
	free(f);
	pcap_close(p);
}

/* What the XDP side cannot read goes to user space, field by field. */
Test(capture_filter_diff, unreadable_fields_hold)
{
	uint8_t *f = malloc(CFD_FRAME_MAX);
	struct xm_xdp_view v;
	struct cfd_spec s;
	uint32_t len;

	cr_assert_not_null(f);
	memset(&s, 0, sizeof(s));
	s.type = 0x0800;
	s.ihl = 5;
	s.proto = 17;
	s.ntags = 1;
	s.tpid[0] = 0x9100;
	s.vid[0] = 100;
	len = cfd_build(f, &s);
	memset(&v, 0, sizeof(v));
	xm_xdp_parse(f, f + len, &v);
	cr_assert_eq(v.vlan_id, 100, "0x9100 is a tag");
	cr_assert_eq(v.family, XM_XDP_FAMILY_IPV4);
	cr_assert_eq(v.ports, XM_VIEW_PORTS_READ);
	/* IHL 3: protocol and addresses as libpcap reads them, no ports */
	s.ntags = 0;
	s.ihl = 3;
	len = cfd_build(f, &s);
	memset(&v, 0, sizeof(v));
	xm_xdp_parse(f, f + len, &v);
	cr_assert_eq(v.family, XM_XDP_FAMILY_IPV4);
	cr_assert(v.known & XM_VIEW_K_PROTO);
	cr_assert_eq(v.proto, 17);
	cr_assert_eq(v.ports, XM_VIEW_PORTS_UNREAD);
	/* IPv6 cut after the source address */
	memset(&s, 0, sizeof(s));
	s.type = 0x86dd;
	s.proto = 17;
	s.cut = 14 + 30;
	len = cfd_build(f, &s);
	memset(&v, 0, sizeof(v));
	xm_xdp_parse(f, f + len, &v);
	cr_assert_eq(v.family, XM_XDP_FAMILY_IPV6);
	cr_assert_eq(v.src_read[3], ~0u);
	cr_assert_eq(v.dst_read[0], 0);
	cr_assert_eq(v.proto, 17);
	cr_assert_eq(v.ports, XM_VIEW_PORTS_UNREAD);
	/* a fragment header cut short: protocol unread */
	s.nexts = 1;
	s.ext[0] = 44;
	s.cut = 14 + 44;
	len = cfd_build(f, &s);
	memset(&v, 0, sizeof(v));
	xm_xdp_parse(f, f + len, &v);
	cr_assert_not(v.known & XM_VIEW_K_PROTO);
	/* a runt: nothing known */
	memset(&v, 0, sizeof(v));
	xm_xdp_parse(f, f + 10, &v);
	cr_assert_eq(v.known, 0);
	free(f);
}

Test(capture_filter_diff, netmask_as_tcpdump)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;

	cr_assert_not_null(p);
	/* no such interface (or no IPv4 on it): 0, as tcpdump */
	cr_assert_eq(cap_filter_netmask("xm-no-such-if0"), 0);
	cr_assert_eq(cap_filter_netmask(NULL), 0);
	cr_assert_eq(pcap_compile(p, &prog, "ip broadcast", 1,
				  cap_filter_netmask("xm-no-such-if0")), 0,
		     "%s", pcap_geterr(p));
	pcap_freecode(&prog);
	pcap_close(p);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_config.c - xmbuf-lb's configuration (examples/lb/lb_config.c):
 * the documented format parses to what it says; every error names its
 * line ("name:LINE: ..."); reloads keep stable identities and refuse what
 * needs a restart; lookups, fragment owners, steering rules and counter
 * carry-over work on the built object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "../../examples/lb/lb_config.h"
#include "../../examples/lb/lb_maglev.h"

TestSuite(lb_config, .timeout = 30);

#define HEAD "src-prefix 198.18.128.0/17\ngateway 02:00:00:00:00:01\n"

static struct lb_config *parse(const char *text, const struct lb_config *run,
			       char *err)
{
	return lb_config_parse(text, strlen(text), "t.conf", run, err,
			       LB_ERRLEN);
}

static struct lb_config *build(const char *text, const struct lb_config *run)
{
	char err[LB_ERRLEN];
	struct lb_config *c = parse(text, run, err);

	cr_assert_not_null(c, "parse: %s", err);
	cr_assert_eq(lb_config_build(c, run, 2, err, sizeof(err)), 0,
		     "build: %s", err);
	return c;
}

static union xm_pkt_addr v4(const char *s)
{
	union xm_pkt_addr a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(inet_pton(AF_INET, s, &a.a_v4), 1);
	return a;
}

static union xm_pkt_addr v6(const char *s)
{
	union xm_pkt_addr a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(inet_pton(AF_INET6, s, a.a_v6), 1);
	return a;
}

Test(lb_config, the_documented_example_parses)
{
	const char *text =
		"# comment line\n"
		"key 000102030405060708090a0b0c0d0e0f   # trailing comment\n"
		"table-size 251\n"
		"lru-size 1024\r\n"
		"src-prefix 198.18.128.0/17\n"
		"src-prefix 2001:2:0:8000::/64\n"
		"gateway 02:00:00:00:00:01\n"
		"mtu 1400\n"
		"encap gue 6080\n"
		"icmp-rate 50\n"
		"steer service\n"
		"\n"
		"vip 198.18.2.1 udp 53 frag\n"
		"\tbackend 198.18.1.12 weight 3\n"
		"  backend 198.18.1.11 mac 02:00:00:00:01:0b weight 0\n"
		"vip 2001:2::1 tcp 443\n"
		"  backend 2001:2::11\n";
	struct lb_config *c = build(text, NULL);
	union xm_pkt_addr a = v4("198.18.2.1"), a6 = v6("2001:2::1");
	const struct lb_vip *v;

	cr_assert(c->c_key_set);
	cr_assert_eq(c->c_key[15], 0x0f);
	cr_assert_eq(c->c_table_size, 251);
	cr_assert_eq(c->c_lru_size, 1024);
	cr_assert_eq(c->c_src4.p_len, 17);
	cr_assert_eq(c->c_src6.p_len, 64);
	cr_assert_eq(c->c_mtu, 1400);
	cr_assert_eq(c->c_encap, LB_ENCAP_GUE);
	cr_assert_eq(c->c_gue_port, 6080);
	cr_assert_eq(c->c_icmp_rate, 50);
	cr_assert_eq(c->c_steer, LB_STEER_SERVICE);
	cr_assert_eq(c->c_nvips, 2);
	cr_assert_eq(c->c_nbackends, 3);
	cr_assert_eq(c->c_lines, 17);

	cr_assert_eq(lb_config_vip(c, 4, &a, XM_PKT_IPPROTO_UDP, 53), 0);
	cr_assert_eq(lb_config_vip(c, 4, &a, XM_PKT_IPPROTO_UDP, 54), -1);
	cr_assert_eq(lb_config_vip(c, 4, &a, XM_PKT_IPPROTO_TCP, 53), -1);
	cr_assert_eq(lb_config_vip(c, 6, &a6, XM_PKT_IPPROTO_TCP, 443), 1);
	v = &c->c_vips[0];
	cr_assert_eq(v->v_line, 13);
	cr_assert(v->v_frag);
	/* The pool is sorted by address, whatever the line order. */
	cr_assert_eq(v->v_be[0].be_addr.a_v4, v4("198.18.1.11").a_v4);
	cr_assert_eq(v->v_be[0].be_weight, 0);
	cr_assert_eq(v->v_be[0].be_line, 15);
	cr_assert(v->v_be[0].be_has_mac);
	cr_assert_eq(v->v_be[0].be_mac[5], 0x0b);
	cr_assert_eq(v->v_be[1].be_weight, 3);
	cr_assert_eq(v->v_nactive, 1);
	/* Weight 0 drains: the whole table is the other backend's. */
	for (uint32_t s = 0; s < c->c_table_size; s++)
		cr_assert_eq(v->v_table[s], 1);
	/* Service steering: one rule per service, with the port. */
	cr_assert_eq(c->c_nrules, 2);
	cr_assert_eq(c->c_rules[0].r_port, 53);
	cr_assert_eq(c->c_rules[1].r_family, 6);
	lb_config_free(c);
}

Test(lb_config, defaults)
{
	struct lb_config *c = build(HEAD "vip 198.18.2.1 tcp 80\n"
				    "backend 198.18.1.1\n", NULL);

	cr_assert_not(c->c_key_set, "no key line: a random key");
	cr_assert_eq(c->c_table_size, LB_MAGLEV_DEFAULT_SIZE);
	cr_assert_eq(c->c_lru_size, LB_LRU_DEFAULT);
	cr_assert_eq(c->c_icmp_rate, LB_ICMP_RATE_DEFAULT);
	cr_assert_eq(c->c_pin_rate, LB_PIN_RATE_DEFAULT);
	cr_assert_eq(c->c_pin_burst, 4 * LB_PIN_RATE_DEFAULT);
	cr_assert_eq(c->c_encap, LB_ENCAP_IPIP);
	cr_assert_eq(c->c_steer, LB_STEER_ADDRESS);
	cr_assert_eq(c->c_mtu, 0, "the interface's");
	cr_assert_eq(c->c_vips[0].v_be[0].be_weight, 1);
	cr_assert_eq(c->c_nrules, 1);
	cr_assert_eq(c->c_rules[0].r_port, 0, "address steering: any port");
	lb_config_free(c);
}

Test(lb_config, random_keys_differ_and_reloads_keep_them)
{
	const char *text = HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n";
	struct lb_config *a = build(text, NULL), *b = build(text, NULL), *r;

	cr_assert_neq(memcmp(a->c_key, b->c_key, LB_KEY_LEN), 0,
		      "two starts draw two keys");
	r = build(text, a);
	cr_assert_eq(memcmp(a->c_key, r->c_key, LB_KEY_LEN), 0,
		     "a reload keeps the running key");
	cr_assert_eq(r->c_gen, a->c_gen + 1);
	lb_config_free(a);
	lb_config_free(b);
	lb_config_free(r);
}

/* A bad configuration and the line its error must name. */
struct bad_case {
	const char *text;
	unsigned int line;
	const char *says;	/* part of the message */
};

static const struct bad_case bad_cases[] = {
	{ "bogus 1\n", 1, "unknown directive" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\nbackend\n", 5,
	  "'backend' takes" },
	{ "backend 198.18.1.1\n", 1, "before any 'vip'" },
	{ HEAD "vip 198.18.2.1 sctp 80\n", 3, "protocol" },
	{ HEAD "vip 198.18.2.1 tcp 0\n", 3, "port" },
	{ HEAD "vip 198.18.2.1 tcp 65536\n", 3, "port" },
	{ HEAD "vip 198.18.2.1 tcp 8a\n", 3, "port" },
	{ HEAD "vip 224.0.0.1 tcp 80\n", 3, "unicast" },
	{ HEAD "vip 0.0.0.0 tcp 80\n", 3, "unicast" },
	{ HEAD "vip ff02::1 tcp 80\n", 3, "unicast" },
	{ HEAD "vip 198.18.2.300 tcp 80\n", 3, "unicast" },
	{ HEAD "vip 198.18.2.1 tcp 80 fragment\n", 3, "option" },
	{ HEAD "vip 198.18.2.1 tcp\n", 3, "'vip' takes" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 weight 65536\n", 4,
	  "weight" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 weight -1\n", 4,
	  "weight" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 weight 1 weight 2\n",
	  4, "repeated" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 mac 01:00:5e:00:00:01\n",
	  4, "mac" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 mac 02:00:00:00:00\n",
	  4, "mac" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 color red\n", 4,
	  "option" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1 weight\n", 4,
	  "'backend' takes" },
	{ "key 0011\n", 1, "hex digits" },
	{ "key 000102030405060708090a0b0c0d0e0g\n", 1, "hex digits" },
	{ "key 000102030405060708090a0b0c0d0e0f\n\n"
	  "key 000102030405060708090a0b0c0d0e0f\n", 3, "twice (first at line 1)" },
	{ "table-size 65536\n", 1, "prime" },
	{ "table-size 2\n", 1, "prime" },
	{ "table-size 99999999999\n", 1, "prime" },
	{ "lru-size 8\n", 1, "lru-size" },
	{ "src-prefix 198.18.0.0\n", 1, "ADDRESS/LENGTH" },
	{ "src-prefix 198.18.0.1/15\n", 1, "host bits zero" },
	{ "src-prefix 198.18.0.0/32\n", 1, "at least one host bit" },
	{ "src-prefix 198.18.0.0/15\nsrc-prefix 198.19.0.0/16\n", 2,
	  "twice" },
	{ "gateway ff:ff:ff:ff:ff:ff\n", 1, "unicast MAC" },
	{ "gateway 00:00:00:00:00:00\n", 1, "unicast MAC" },
	{ "mtu 100\n", 1, "'mtu'" },
	{ "mtu 65536\n", 1, "'mtu'" },
	{ "encap vxlan\n", 1, "'encap'" },
	{ "encap gue\n", 1, "'encap'" },
	{ "encap gue 0\n", 1, "'encap'" },
	{ "icmp-rate lots\n", 1, "icmp-rate" },
	{ "pin-rate -1\n", 1, "'pin-rate'" },
	{ "pin-rate 10000001\n", 1, "'pin-rate'" },
	{ "pin-rate 5\npin-rate 6\n", 2, "twice" },
	{ "pin-burst 0\n", 1, "'pin-burst'" },
	{ "pin-burst 100000001\n", 1, "'pin-burst'" },
	{ HEAD "pin-rate 0\npin-burst 5\nvip 198.18.2.1 tcp 80\n"
	  "backend 198.18.1.1\n", 4, "needs a pin-rate" },
	{ "steer everything\n", 1, "'steer'" },
	{ "a b c d e f g h i j k l m n o p q r s t u\n", 1,
	  "more than 20 words" },
	/* health checks (one line per service) */
	{ "health tcp\n", 1, "'health' before any 'vip'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth udp\n", 4, "'health' takes" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth\n", 4, "'health' takes" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp 0\n", 4, "health port" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp 65536\n", 4,
	  "health port" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth http\n", 4, "takes a PATH" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth http status\n", 4,
	  "takes a PATH" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth http /a\x7f" "b\n", 4,
	  "takes a PATH" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth http / expect 99\n", 4,
	  "expect '99'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp expect 200\n", 4,
	  "'health' option 'expect'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp interval 0.05\n", 4,
	  "interval '0.05'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp interval 1.2345\n", 4,
	  "interval '1.2345'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp interval 1.\n", 4,
	  "interval '1.'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp interval 3601\n", 4,
	  "interval '3601'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp rise 0\n", 4,
	  "rise '0'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp fall 101\n", 4,
	  "fall '101'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp rise 2 rise 3\n", 4,
	  "repeated" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp rise\n", 4,
	  "incomplete" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp on-down drop\n", 4,
	  "'reset' or 'keep'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp interval 1 timeout 2\n",
	  4, "longer than the interval" },
	{ HEAD "vip 198.18.2.1 tcp 80\nhealth tcp\nhealth none\n", 5,
	  "twice for this service (first at line 4)" },
	{ "\n\nvip 198.18.2.1 tcp 80\0 x\n", 3, "NUL" },
	/* whole-file checks, still naming the line at fault */
	{ "", 1, "no 'vip'" },
	{ "# nothing\n\n\n", 3, "no 'vip'" },
	{ "src-prefix 198.18.128.0/17\n"
	  "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n", 3, "next hop" },
	{ "gateway 02:00:00:00:00:01\n"
	  "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n", 3, "src-prefix" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 2001:2::5\n", 4,
	  "IPv6 'src-prefix'" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n"
	  "vip 198.18.2.1 tcp 80\n", 5, "defined twice (first at line 3)" },
	{ HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.2\n"
	  "backend 198.18.1.1\nbackend 198.18.1.2\n", 6,
	  "listed twice in this service (first at line 4)" },
	{ HEAD "vip 198.18.2.1 udp 80 frag\nvip 198.18.2.1 udp 81 frag\n", 4,
	  "two 'frag' services" },
	{ HEAD "table-size 3\nvip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n"
	  "backend 198.18.1.2\nbackend 198.18.1.3\nbackend 198.18.1.4\n", 4,
	  "do not fit" },
};

/* pin-burst is four seconds of pin-rate unless given; pin-rate 0 is
 * "no pinning limit" and takes no burst. */
Test(lb_config, pin_budgets)
{
	static const struct {
		const char *lines;
		uint32_t rate, burst;
	} cases[] = {
		{ "pin-rate 10\n", 10, 40 },
		{ "pin-burst 7\n", LB_PIN_RATE_DEFAULT, 7 },
		{ "pin-rate 3\npin-burst 1\n", 3, 1 },
		{ "pin-burst 9\npin-rate 2\n", 2, 9 },
		{ "pin-rate 0\n", 0, 0 },
		{ "pin-rate 10000000\n", 10000000, 40000000 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct lb_config *c;

		snprintf(text, sizeof(text), HEAD "%svip 198.18.2.1 tcp 80\n"
			 "backend 198.18.1.1\n", cases[i].lines);
		c = build(text, NULL);
		cr_assert_eq(c->c_pin_rate, cases[i].rate, "case %zu", i);
		cr_assert_eq(c->c_pin_burst, cases[i].burst, "case %zu", i);
		lb_config_free(c);
	}
}

Test(lb_config, every_error_names_its_line)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		size_t len = strlen(b->text);
		char err[LB_ERRLEN], want[32];
		struct lb_config *c;

		/* The NUL case: its length runs past the embedded NUL. */
		if (strstr(b->says, "NUL"))
			len += 3;
		errno = 0;
		c = lb_config_parse(b->text, len, "t.conf", NULL, err,
				    sizeof(err));
		cr_assert_null(c, "case %zu parsed: %s", i, b->text);
		cr_assert_eq(errno, EINVAL, "case %zu: errno %d", i, errno);
		snprintf(want, sizeof(want), "t.conf:%u: ", b->line);
		cr_assert_eq(strncmp(err, want, strlen(want)), 0,
			     "case %zu: '%s' should start '%s'", i, err, want);
		cr_assert_not_null(strstr(err, b->says),
				   "case %zu: '%s' should say '%s'", i, err,
				   b->says);
	}
}

Test(lb_config, too_many_steering_rules_names_the_service)
{
	char text[4096];
	char err[LB_ERRLEN];
	int n = snprintf(text, sizeof(text), HEAD);

	/* 17 VIP addresses need 17 rules; the port has 16. */
	for (int i = 1; i <= 17; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "vip 198.18.2.%d tcp 80\nbackend 198.18.1.1\n", i);
	cr_assert_null(parse(text, NULL, err));
	cr_assert_not_null(strstr(err, "t.conf:35: "), "%s", err);
	cr_assert_not_null(strstr(err, "steering rule"), "%s", err);

	/* 16 addresses, two protocols and many ports each: address steering
	 * needs one rule per address and protocol. */
	n = snprintf(text, sizeof(text), HEAD);
	for (int i = 1; i <= 8; i++)
		for (int p = 80; p < 83; p++)
			n += snprintf(text + n, sizeof(text) - (size_t)n,
				      "vip 198.18.2.%d tcp %d\nbackend 198.18.1.1\n"
				      "vip 198.18.2.%d udp %d\nbackend 198.18.1.1\n",
				      i, p, i, p);
	{
		struct lb_config *c = build(text, NULL);

		cr_assert_eq(c->c_nrules, 16);
		lb_config_free(c);
	}
}

Test(lb_config, too_long_lines_and_files)
{
	char err[LB_ERRLEN];
	char *big = malloc(LB_MAX_LINE + 100);

	memset(big, 'x', LB_MAX_LINE + 99);
	big[LB_MAX_LINE + 99] = '\0';
	big[0] = '\n';
	cr_assert_null(parse(big, NULL, err));
	cr_assert_not_null(strstr(err, "t.conf:2: longer than"), "%s", err);
	free(big);
	cr_assert_null(lb_config_parse("x", LB_MAX_FILE + 1, "t.conf", NULL,
				       err, sizeof(err)));
	cr_assert_not_null(strstr(err, "larger than"), "%s", err);
	errno = 0;
	cr_assert_null(lb_config_parse(NULL, 4, "t.conf", NULL, err,
				       sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	/* No room for a message is not a crash. */
	cr_assert_null(lb_config_parse("bogus\n", 6, "t.conf", NULL, NULL, 0));
}

Test(lb_config, reload_refuses_a_new_key_or_lru_size)
{
	char err[LB_ERRLEN];
	struct lb_config *run = build("key 000102030405060708090a0b0c0d0e0f\n"
				      HEAD "vip 198.18.2.1 tcp 80\n"
				      "backend 198.18.1.1\n", NULL), *c;

	c = parse("key 000102030405060708090a0b0c0d0eff\n" HEAD
		  "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n", run, err);
	cr_assert_null(c);
	cr_assert_not_null(strstr(err, "t.conf:1: the key differs"), "%s", err);
	c = parse(HEAD "lru-size 4096\n"
		  "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n", run, err);
	cr_assert_null(c);
	cr_assert_not_null(strstr(err, "t.conf:3: lru-size 4096 differs"), "%s",
			   err);
	/* Same key or none at all: accepted, the key kept. */
	c = build(HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.2\n", run);
	cr_assert_eq(memcmp(c->c_key, run->c_key, LB_KEY_LEN), 0);
	lb_config_free(c);
	lb_config_free(run);
}

Test(lb_config, reload_keeps_stable_ids)
{
	struct lb_config *a, *b;
	const struct lb_idmap *im;
	uint32_t id_b2, id_b3, vid;

	a = build(HEAD "vip 198.18.2.1 tcp 80\n"
		  "backend 198.18.1.1\nbackend 198.18.1.2\nbackend 198.18.1.3\n"
		  "vip 198.18.2.2 tcp 80\nbackend 198.18.1.9\n", NULL);
	vid = a->c_vips[0].v_id;
	id_b2 = a->c_vips[0].v_be[1].be_id;
	id_b3 = a->c_vips[0].v_be[2].be_id;
	/* Reload: .1 removed, .4 added, .3 drained, lines reordered, the
	 * other service gone. */
	b = build(HEAD "vip 198.18.2.1 tcp 80\n"
		  "backend 198.18.1.4\nbackend 198.18.1.3 weight 0\n"
		  "backend 198.18.1.2\n", a);
	cr_assert_eq(b->c_vips[0].v_id, vid);
	cr_assert_eq(b->c_vips[0].v_be[0].be_id, id_b2, "198.18.1.2 kept");
	cr_assert_eq(b->c_vips[0].v_be[1].be_id, id_b3, "198.18.1.3 kept");
	cr_assert_geq(b->c_vips[0].v_be[2].be_id, a->c_next_id, "new id");
	im = lb_config_backend_by_id(b, id_b3);
	cr_assert_not_null(im);
	cr_assert_eq(im->im_vip, 0);
	cr_assert_eq(im->im_be, 1);
	cr_assert_null(lb_config_backend_by_id(b, a->c_vips[0].v_be[0].be_id),
		       "removed backend has no entry");
	cr_assert_null(lb_config_backend_by_id(b, 0));
	lb_config_free(a);
	lb_config_free(b);
}

Test(lb_config, line_order_does_not_change_the_table)
{
	struct lb_config *a, *b;

	a = build("key 0f0e0d0c0b0a09080706050403020100\n" HEAD
		  "vip 198.18.2.1 udp 53\nbackend 198.18.1.1 weight 2\n"
		  "backend 198.18.1.2\nbackend 198.18.1.3 weight 5\n", NULL);
	b = build("vip 198.18.2.1 udp 53\nbackend 198.18.1.3 weight 5\n"
		  "backend 198.18.1.1 weight 2\n" HEAD
		  "backend 198.18.1.2\n"
		  "key 0f0e0d0c0b0a09080706050403020100\n", NULL);
	cr_assert_eq(memcmp(a->c_vips[0].v_table, b->c_vips[0].v_table,
			    a->c_table_size * sizeof(uint16_t)), 0);
	lb_config_free(a);
	lb_config_free(b);
}

Test(lb_config, fragment_owners)
{
	union xm_pkt_addr a1 = v4("198.18.2.1"), a2 = v4("198.18.2.2");
	union xm_pkt_addr a3 = v4("198.18.2.3"), a9 = v4("198.18.2.9");
	struct lb_config *c = build(HEAD
		"vip 198.18.2.1 udp 53\nbackend 198.18.1.1\n"		/* 0 */
		"vip 198.18.2.2 udp 53\nbackend 198.18.1.1\n"		/* 1 */
		"vip 198.18.2.2 udp 54 frag\nbackend 198.18.1.1\n"	/* 2 */
		"vip 198.18.2.2 udp 55\nbackend 198.18.1.1\n"		/* 3 */
		"vip 198.18.2.3 udp 53\nbackend 198.18.1.1\n"		/* 4 */
		"vip 198.18.2.3 udp 54\nbackend 198.18.1.1\n"		/* 5 */
		"vip 198.18.2.3 tcp 54\nbackend 198.18.1.1\n",		/* 6 */
		NULL);

	cr_assert_eq(lb_config_frag_vip(c, 4, &a1, XM_PKT_IPPROTO_UDP), 0,
		     "the only service owns them");
	cr_assert_eq(lb_config_frag_vip(c, 4, &a2, XM_PKT_IPPROTO_UDP), 2,
		     "the 'frag' one owns them");
	cr_assert_eq(lb_config_frag_vip(c, 4, &a3, XM_PKT_IPPROTO_UDP), -2,
		     "two services, none marked: nobody");
	cr_assert_eq(lb_config_frag_vip(c, 4, &a3, XM_PKT_IPPROTO_TCP), 6);
	cr_assert_eq(lb_config_frag_vip(c, 4, &a9, XM_PKT_IPPROTO_UDP), -1);
	cr_assert_eq(lb_config_frag_vip(c, 4, &a1, XM_PKT_IPPROTO_TCP), -1);
	lb_config_free(c);
}

Test(lb_config, counters_carry_over_a_reload)
{
	struct lb_config *a, *b;
	struct lb_cnt t;

	a = build(HEAD "vip 198.18.2.1 tcp 80\n"
		  "backend 198.18.1.1\nbackend 198.18.1.2\n", NULL);
	/* Worker 0 and 1 counted on the VIP and on 198.18.1.2. */
	a->c_stats[0][0].packets = 5;
	a->c_stats[1][0].packets = 7;
	a->c_stats[1][0].bytes = 700;
	a->c_stats[0][a->c_nvips + a->c_vips[0].v_be[1].be_stat].new_flows = 3;
	a->c_stats[0][a->c_nvips + a->c_vips[0].v_be[0].be_stat].packets = 9;
	b = build(HEAD "vip 198.18.2.1 tcp 80\n"
		  "backend 198.18.1.2\nbackend 198.18.1.3\n", a);
	b->c_stats[1][0].packets = 1;
	lb_config_carry_stats(b, a);
	lb_config_slot_total(b, 0, &t);
	cr_assert_eq(t.packets, 13);
	cr_assert_eq(t.bytes, 700);
	lb_config_slot_total(b, b->c_nvips + b->c_vips[0].v_be[0].be_stat, &t);
	cr_assert_eq(t.new_flows, 3, "198.18.1.2 keeps its counts");
	lb_config_slot_total(b, b->c_nvips + b->c_vips[0].v_be[1].be_stat, &t);
	cr_assert_eq(t.packets, 0, "198.18.1.3 is new");
	lb_config_free(a);
	lb_config_free(b);
}

Test(lb_config, load_from_a_file)
{
	char path[] = "/tmp/test_lb_config.XXXXXX";
	char err[LB_ERRLEN];
	const char *text = HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n"
			   "oops\n";
	struct lb_config *c;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = lb_config_load(path, NULL, 1, err, sizeof(err));
	cr_assert_null(c);
	cr_assert_not_null(strstr(err, ":5: unknown directive 'oops'"), "%s",
			   err);
	cr_assert_eq(strncmp(err, path, strlen(path)), 0, "names the file");
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, text, strlen(text) - 5),
		     (ssize_t)strlen(text) - 5);
	close(fd);
	c = lb_config_load(path, NULL, 3, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_assert(c->c_built);
	cr_assert_eq(c->c_nworkers, 3);
	lb_config_free(c);
	unlink(path);

	errno = 0;
	cr_assert_null(lb_config_load("/nonexistent/lb.conf", NULL, 1, err,
				      sizeof(err)));
	cr_assert_eq(errno, ENOENT);
	cr_assert_not_null(strstr(err, "/nonexistent/lb.conf"), "%s", err);
	cr_assert_null(lb_config_load("/tmp", NULL, 1, err, sizeof(err)),
		       "a directory");
}

/*
 * A configuration path that is no regular file is refused at once with
 * a message saying so: a FIFO with no writer (whose open would block the
 * reloading thread for good), one with a writer, a device, a directory.
 * A symlink to a regular file is a normal way to point at a file.
 */
Test(lb_config, load_refuses_what_is_not_a_regular_file, .timeout = 10)
{
	char dir[] = "/tmp/test_lb_config.XXXXXX";
	char fifo[64], link[64], file[64], err[LB_ERRLEN];
	const char *text = HEAD "vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\n";
	const char *paths[] = { fifo, "/dev/null", dir };
	struct lb_config *c;
	int fd, wfd = -1;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	snprintf(file, sizeof(file), "%s/real.conf", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			errno = 0;
			err[0] = '\0';
			c = lb_config_load(paths[i], NULL, 1, err, sizeof(err));
			cr_assert_null(c, "%s accepted", paths[i]);
			cr_assert_eq(errno, EINVAL, "%s: %s", paths[i],
				     strerror(errno));
			cr_assert_not_null(strstr(err, "not a regular file"),
					   "%s", err);
			cr_assert_eq(strncmp(err, paths[i], strlen(paths[i])),
				     0, "names the file: %s", err);
		}
		/* the second time round, the FIFO has a writer */
		if (k == 0) {
			wfd = open(fifo, O_RDWR | O_NONBLOCK);
			cr_assert_geq(wfd, 0);
			cr_assert_eq(write(wfd, text, strlen(text)),
				     (ssize_t)strlen(text));
		}
	}
	close(wfd);

	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(symlink(file, link), 0);
	c = lb_config_load(link, NULL, 1, err, sizeof(err));
	cr_assert_not_null(c, "through a symlink: %s", err);
	lb_config_free(c);
	unlink(link);
	unlink(file);
	unlink(fifo);
	rmdir(dir);
}

Test(lb_config, build_rejects_misuse)
{
	char err[LB_ERRLEN];
	struct lb_config *c = parse(HEAD "vip 198.18.2.1 tcp 80\n"
				    "backend 198.18.1.1\n", NULL, err);

	cr_assert_eq(lb_config_build(c, NULL, 0, err, sizeof(err)), -EINVAL,
		     "no workers");
	cr_assert_eq(lb_config_build(c, NULL, 1, err, sizeof(err)), 0);
	cr_assert_eq(lb_config_build(c, NULL, 1, err, sizeof(err)), -EINVAL,
		     "built twice");
	lb_config_free(c);
	lb_config_free(NULL);
}

Test(lb_config, names)
{
	struct lb_config *c = build(HEAD "src-prefix 2001:2:0:8000::/64\n"
				    "vip 2001:2::1 tcp 443\nbackend 2001:2::11\n"
				    "vip 198.18.2.1 udp 53\nbackend 198.18.1.1\n",
				    NULL);
	char buf[80];

	cr_assert_str_eq(lb_vip_name(&c->c_vips[0], buf, sizeof(buf)),
			 "[2001:2::1]:443/tcp");
	cr_assert_str_eq(lb_vip_name(&c->c_vips[1], buf, sizeof(buf)),
			 "198.18.2.1:53/udp");
	cr_assert_str_eq(lb_addr_name(6, &c->c_vips[0].v_be[0].be_addr, buf,
				      sizeof(buf)), "2001:2::11");
	lb_config_free(c);
}

/* Health lines: defaults, every option, per service. */
Test(lb_config, health_lines)
{
	struct lb_config *c = build(HEAD
		"vip 198.18.2.1 tcp 80\n"
		"health tcp 8080 interval 0.5 timeout 0.25 rise 3 fall 4 "
		"on-down reset\n"
		"backend 198.18.1.1 weight 3\n"
		"vip 198.18.2.1 tcp 443\n"
		"health http /healthz?full=1 8443 expect 204\n"
		"backend 198.18.1.2\n"
		"vip 198.18.2.1 udp 53\n"
		"backend 198.18.1.3\n"
		"vip 198.18.2.2 tcp 80\n"
		"health tcp interval 0.5\n"
		"backend 198.18.1.4\n", NULL);
	const struct lb_health *h = &c->c_vips[0].v_health;

	cr_assert_eq(h->h_kind, LB_HEALTH_TCP);
	cr_assert_eq(h->h_port, 8080);
	cr_assert_eq(h->h_interval_ms, 500);
	cr_assert_eq(h->h_timeout_ms, 250);
	cr_assert_eq(h->h_rise, 3);
	cr_assert_eq(h->h_fall, 4);
	cr_assert_eq(h->h_reset, 1);
	cr_assert_eq(h->h_line, 4);
	cr_assert_eq(c->c_vips[0].v_be[0].be_conf_weight, 3);
	h = &c->c_vips[1].v_health;
	cr_assert_eq(h->h_kind, LB_HEALTH_HTTP);
	cr_assert_str_eq(h->h_path, "/healthz?full=1");
	cr_assert_eq(h->h_port, 8443);
	cr_assert_eq(h->h_expect, 204);
	/* keepalived-like defaults: 2 s, 1 s, rise 2, fall 3, keep */
	cr_assert_eq(h->h_interval_ms, 2000);
	cr_assert_eq(h->h_timeout_ms, 1000);
	cr_assert_eq(h->h_rise, 2);
	cr_assert_eq(h->h_fall, 3);
	cr_assert_eq(h->h_reset, 0);
	cr_assert_eq(c->c_vips[2].v_health.h_kind, LB_HEALTH_NONE);
	/* a timeout not given follows a short interval down */
	cr_assert_eq(c->c_vips[3].v_health.h_interval_ms, 500);
	cr_assert_eq(c->c_vips[3].v_health.h_timeout_ms, 500);
	lb_config_free(c);
}

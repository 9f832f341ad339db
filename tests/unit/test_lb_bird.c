// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_bird.c - what xmbuf-lb asks BIRD to announce
 * (examples/lb/lb_bird.c, lb_bird_routes()): one static route per VIP
 * address that has a service able to take new flows, via the balancer's
 * device; IPv4 and IPv6 apart (BIRD's static protocols take one family
 * each); an address with several services once; an address whose
 * services all have no backend with a weight (or none up, by the
 * caller's test) is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/lb/lb_bird.h"
#include "../../examples/lb/lb_config.h"

TestSuite(lb_bird, .timeout = 30);

static struct lb_config *build(const char *text)
{
	char err[LB_ERRLEN];
	struct lb_config *c = lb_config_parse(text, strlen(text), "t.conf",
					      NULL, err, sizeof(err));

	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(lb_config_build(c, NULL, 1, err, sizeof(err)), 0, "%s",
		     err);
	return c;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

#define HEAD "src-prefix 198.18.128.0/17\nsrc-prefix 2001:2:0:8000::/64\n" \
	     "gateway 02:00:00:00:00:01\n"

Test(lb_bird, one_route_per_address_that_can_serve)
{
	struct lb_config *c = build(HEAD
		"vip 198.18.2.1 tcp 80\n  backend 198.18.1.11\n"
		"vip 198.18.2.1 udp 53\n  backend 198.18.1.12\n"
		"vip 198.18.2.2 tcp 80\n  backend 198.18.1.11 weight 0\n"
		"vip 198.18.2.3 tcp 80\n  backend 198.18.1.11 weight 0\n"
		"vip 198.18.2.3 tcp 81\n  backend 198.18.1.12 weight 3\n"
		"vip 2001:2:0:2::1 tcp 80\n  backend 2001:2:0:1::11\n");
	char *t4, *t6;
	uint32_t ann, all;

	cr_assert_eq(lb_bird_routes(c, "xlb-el0", NULL, NULL, &t4, &t6, &ann,
				    &all), 0);
	cr_assert_eq(all, 4);
	cr_assert_eq(ann, 3);
	cr_assert_eq(count(t4, "route 198.18.2.1/32 via \"xlb-el0\";\n"), 1,
		     "%s", t4);
	cr_assert_eq(count(t4, "198.18.2.2"), 0, "drained: %s", t4);
	cr_assert_eq(count(t4, "route 198.18.2.3/32 via \"xlb-el0\";\n"), 1,
		     "one service of two can serve: %s", t4);
	cr_assert_eq(count(t4, "route "), 2, "%s", t4);
	cr_assert_eq(count(t6, "route 2001:2:0:2::1/128 via \"xlb-el0\";\n"),
		     1, "%s", t6);
	cr_assert_eq(count(t6, "route "), 1, "%s", t6);
	free(t4);
	free(t6);
	lb_config_free(c);
}

/* The caller's view of health: services 0 and 1 down. */
static bool up_from_two(void *ctx, const struct lb_config *c, uint32_t vi)
{
	(void)ctx;
	return vi >= 2 && c->c_vips[vi].v_nactive > 0;
}

Test(lb_bird, services_down_by_the_callers_test_are_withdrawn)
{
	struct lb_config *c = build(HEAD
		"vip 198.18.2.1 tcp 80\n  backend 198.18.1.11\n"
		"vip 198.18.2.2 tcp 80\n  backend 198.18.1.11\n"
		"vip 198.18.2.3 tcp 80\n  backend 198.18.1.11\n");
	char *t4, *t6;
	uint32_t ann, all;

	cr_assert_eq(lb_bird_routes(c, "d", up_from_two, NULL, &t4, &t6, &ann,
				    &all), 0);
	cr_assert_eq(all, 3);
	cr_assert_eq(ann, 1);
	cr_assert_eq(count(t4, "route "), 1, "%s", t4);
	/* Service i's address (the built order, whichever it is) is
	 * announced when service i is up. */
	for (uint32_t i = 0; i < 3; i++) {
		const uint8_t *a = (const uint8_t *)&c->c_vips[i].v_addr.a_v4;
		char r[64];

		snprintf(r, sizeof(r), "route 198.18.2.%u/32", a[3]);
		cr_assert_eq(count(t4, r), i >= 2, "%s: %s", r, t4);
	}
	free(t4);
	free(t6);
	lb_config_free(c);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_lb_config.c - libFuzzer target for xmbuf-lb's configuration parser
 * (examples/lb/lb_config.c): every input is a configuration file.
 *
 * Properties: parsing any bytes returns a configuration or NULL with
 * errno EINVAL and a message "fuzz:LINE: ..." whose LINE is a line of the
 * input; a configuration that parses also builds (when its tables are of
 * a size a fuzzer should spend time on), as a fresh start and as a
 * reload of a fixed running configuration, and what it built is
 * consistent: each service found by its own key, each table slot a
 * backend of its pool or empty, stable ids found again, at most 16
 * steering rules.  The first byte chooses start or reload.
 *
 * Built and run by `make fuzz` (fuzz_lb_config_SRCS in the Makefile);
 * --seed-dir=DIR writes a few configurations into an empty DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/lb/lb_config.h"
#include "../../examples/lb/lb_maglev.h"
#include "../../examples/lb/lb_state.h"
#include "fuzz_seed_dir.h"

/* Builds cost table-size x services: keep a fuzz input's under this. */
#define BUILD_SLOTS_MAX		(1u << 20)

static const char *const seeds[] = {
	"key 000102030405060708090a0b0c0d0e0f\ntable-size 251\n"
	"lru-size 1024\nsrc-prefix 198.18.128.0/17\n"
	"src-prefix 2001:2:0:8000::/64\ngateway 02:00:00:00:00:01\n"
	"mtu 1400\nencap gue 6080\nicmp-rate 50\nsteer service\n\n"
	"vip 198.18.2.1 udp 53 frag\n\tbackend 198.18.1.12 weight 3\n"
	"  backend 198.18.1.11 mac 02:00:00:00:01:0b weight 0\n"
	"vip 2001:2::1 tcp 443\n  backend 2001:2::11\n",
	"src-prefix 198.18.0.0/15\ngateway 02:00:00:00:00:01\n"
	"vip 198.18.2.1 tcp 80\nbackend 198.18.1.1\nbackend 198.18.1.2\n"
	"vip 198.18.2.1 udp 80\nbackend 198.18.1.1 weight 7\n"
	"vip 198.18.2.2 udp 80\nvip 198.18.2.2 udp 81\n",
	"# comment\r\nencap gue-direct 9\r\nsteer address\r\n"
	"table-size 7\r\nsrc-prefix 2001:2::/48\r\n"
	"vip 2001:2::5 udp 1 frag\r\nbackend 2001:2::6 mac 02:aa:bb:cc:dd:ee\r\n",
	"src-prefix 198.18.0.0/15\ngateway 02:00:00:00:00:01\n"
	"vip 198.18.2.1 tcp 80\nhealth http /healthz 8080 expect 204 "
	"interval 0.5 timeout 0.25 rise 3 fall 1 on-down reset\n"
	"backend 198.18.1.1\nbackend 198.18.1.2 weight 9\n"
	"vip 198.18.2.1 udp 53\nhealth tcp\nbackend 198.18.1.3\n"
	"vip 198.18.2.2 udp 53\nhealth none\n",
};

static struct lb_config *running;

static void fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_lb_config: property broken: %s (%s)\n", why,
		detail ? detail : "");
	abort();
}

/* --seed-dir: every seed configuration, with either selector byte. */
static void write_seeds(const char *dir)
{
	char path[4096];

	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		for (uint8_t sel = 0; sel < 2; sel++) {
			snprintf(path, sizeof(path), "%s/conf-%zu-%u", dir, k,
				 sel);
			(void)fuzz_write_seed(path, &sel, 1, seeds[k],
					      strlen(seeds[k]));
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[LB_ERRLEN];

	fuzz_seed_dirs(*argc, *argv, write_seeds);
	running = lb_config_parse(seeds[0], strlen(seeds[0]), "seed", NULL, err,
				  sizeof(err));
	if (running == NULL || lb_config_build(running, NULL, 1, err,
					       sizeof(err)))
		fail("the running configuration does not build", err);
	return 0;
}

static void check_built(const struct lb_config *c)
{
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];

		if (lb_config_vip(c, v->v_family, &v->v_addr, v->v_proto,
				  v->v_port) != (int)vi)
			fail("a service is not found by its own key", NULL);
		for (uint32_t s = 0; s < c->c_table_size; s++)
			if (v->v_table[s] != LB_MAGLEV_NONE &&
			    v->v_table[s] >= v->v_nbe)
				fail("a table slot names no backend", NULL);
		if (v->v_nactive && v->v_table[0] == LB_MAGLEV_NONE)
			fail("an active pool left a slot empty", NULL);
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			const struct lb_idmap *im =
				lb_config_backend_by_id(c, v->v_be[b].be_id);

			if (im == NULL || im->im_vip != vi || im->im_be != b)
				fail("a backend's id does not find it", NULL);
		}
	}
	if (c->c_nrules > LB_MAX_RULES)
		fail("too many steering rules", NULL);
}

/* Health says down for every other id (ids are handed out in order). */
static bool odd_down(void *ctx, uint32_t id)
{
	(void)ctx;
	return id & 1;
}

/* A drain and the health states over c (built), as lb.c makes a new
 * generation of them: it builds, and keeps every service's backends. */
static void check_state(const struct lb_config *c)
{
	struct lb_drains d = { 0 };
	struct lb_config *n = lb_config_clone(c);
	char err[LB_ERRLEN];

	if (n == NULL)
		return;
	/* the first service's first backend drained */
	if (c->c_vips[0].v_nbe)
		lb_drains_add(&d, c->c_vips[0].v_be[0].be_family,
			      &c->c_vips[0].v_be[0].be_addr);
	lb_state_apply(n, c, &d, odd_down, NULL);
	if (lb_config_build(n, c, 1, err, sizeof(err)))
		fail("a configuration with drains and health does not build",
		     err);
	check_built(n);
	for (uint32_t vi = 0; vi < n->c_nvips; vi++)
		if (n->c_vips[vi].v_nbe != c->c_vips[vi].v_nbe)
			fail("a service lost backends to drains or health",
			     NULL);
	lb_config_free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lb_config *run;
	struct lb_config *c;
	char err[LB_ERRLEN];
	unsigned int line, lines = 1;

	if (size < 1)
		return 0;
	run = (data[0] & 1) ? running : NULL;
	data++;
	size--;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	errno = 0;
	c = lb_config_parse((const char *)data, size, "fuzz", run, err,
			    sizeof(err));
	if (c == NULL) {
		if (errno != EINVAL && errno != ENOMEM)
			fail("errno is neither EINVAL nor ENOMEM", err);
		if (errno == EINVAL &&
		    (sscanf(err, "fuzz:%u: ", &line) != 1 || line == 0 ||
		     line > lines))
			fail("the message does not name a line", err);
		return 0;
	}
	if ((uint64_t)c->c_table_size * c->c_nvips <= BUILD_SLOTS_MAX) {
		if (lb_config_build(c, run, 2, err, sizeof(err)))
			fail("a parsed configuration does not build", err);
		check_built(c);
		check_state(c);
		if (run)
			lb_config_carry_stats(c, run);
	}
	lb_config_free(c);
	return 0;
}

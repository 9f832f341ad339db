// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_ops.c - the pure parts of xmbuf-lb's operations (issue 13):
 * the health state machine and HTTP status line (lb_health.c), drains and
 * health over the configuration (lb_state.c), the control socket's
 * parser and formatters (lb_ctl.c), the Prometheus exposition and the
 * --metrics address (lb_metrics.c), and the one sum of losses
 * (lb_snapshot.c).  The formatters' JSON goes through a real JSON parser
 * and the exposition through prometheus_client's (Debian's python3).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "../../examples/lb/lb_config.h"
#include "../../examples/lb/lb_ctl.h"
#include "../../examples/lb/lb_health.h"
#include "../../examples/lb/lb_metrics.h"
#include "../../examples/lb/lb_snapshot.h"
#include "../../examples/lb/lb_state.h"

TestSuite(lb_ops, .timeout = 30);

#define PY	"/usr/bin/python3"

/* ---------------------------------------------------------- health */

Test(lb_ops, health_rise_and_fall)
{
	struct lb_hstate s = { .hs_up = true };

	/* fall 3: two failures change nothing, a success resets the run */
	cr_assert_not(lb_health_step(&s, false, 2, 3));
	cr_assert_not(lb_health_step(&s, false, 2, 3));
	cr_assert_not(lb_health_step(&s, true, 2, 3));
	cr_assert_not(lb_health_step(&s, false, 2, 3));
	cr_assert_not(lb_health_step(&s, false, 2, 3));
	cr_assert(lb_health_step(&s, false, 2, 3));
	cr_assert_not(s.hs_up);
	/* down stays down, and says nothing more */
	cr_assert_not(lb_health_step(&s, false, 2, 3));
	/* rise 2 */
	cr_assert_not(lb_health_step(&s, true, 2, 3));
	cr_assert_not(lb_health_step(&s, false, 2, 3));
	cr_assert_not(lb_health_step(&s, true, 2, 3));
	cr_assert(lb_health_step(&s, true, 2, 3));
	cr_assert(s.hs_up);
	cr_assert_not(lb_health_step(&s, true, 2, 3));
	/* rise 1, fall 1: every change of result is a change of state */
	cr_assert(lb_health_step(&s, false, 1, 1));
	cr_assert(lb_health_step(&s, true, 1, 1));
}

Test(lb_ops, http_status_line)
{
	static const struct {
		const char *in;
		int want;
	} c[] = {
		{ "HTTP/1.1 200 OK\r\n", 200 },
		{ "HTTP/1.0 503 Service Unavailable\r\nX: y\r\n", 503 },
		{ "HTTP/1.1 204\r\n", 204 },
		{ "HTTP/1.1 404 Not Found\n", 404 },
		{ "HTTP/1.1 200 OK", -EAGAIN },
		{ "HTT", -EAGAIN },
		{ "", -EAGAIN },
		{ "HTTP/2 200 OK\r\n", -EINVAL },
		{ "HTTP/1.1 20 OK\r\n", -EINVAL },
		{ "HTTP/1.1 2000 OK\r\n", -EINVAL },
		{ "HTTP/1.1 099 x\r\n", -EINVAL },
		{ "HTTP/1.1 600 x\r\n", -EINVAL },
		{ "SSH-2.0-OpenSSH\r\n", -EINVAL },
		{ "http/1.1 200 OK\r\n", -EINVAL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		cr_assert_eq(lb_health_http_status(c[i].in, strlen(c[i].in)),
			     c[i].want, "'%s'", c[i].in);
}

/* ----------------------------------------------------------- state */

#define HEAD "key 000102030405060708090a0b0c0d0e0f\n" \
	     "src-prefix 198.18.128.0/17\ngateway 02:00:00:00:00:01\n"

static struct lb_config *load(const char *text, const struct lb_config *run)
{
	char err[LB_ERRLEN];
	struct lb_config *c = lb_config_parse(text, strlen(text), "t", run,
					      err, sizeof(err));

	cr_assert_not_null(c, "%s", err);
	return c;
}

static void build(struct lb_config *c, const struct lb_config *run)
{
	char err[LB_ERRLEN];

	cr_assert_eq(lb_config_build(c, run, 1, err, sizeof(err)), 0, "%s",
		     err);
}

/* The set of backend ids the test calls down. */
static uint32_t down_ids[8];
static int ndown;

static bool is_down(void *ctx, uint32_t id)
{
	(void)ctx;
	for (int i = 0; i < ndown; i++)
		if (down_ids[i] == id)
			return true;
	return false;
}

static unsigned int slots_of(const struct lb_config *c, uint32_t vi,
			     uint32_t b)
{
	unsigned int n = 0;

	for (uint32_t s = 0; s < c->c_table_size; s++)
		n += c->c_vips[vi].v_table[s] == b;
	return n;
}

Test(lb_ops, down_and_drained_backends_leave_the_table_only)
{
	struct lb_config *c = load(HEAD "table-size 251\n"
		"vip 198.18.2.1 tcp 80\nhealth tcp on-down reset\n"
		"backend 198.18.1.1\nbackend 198.18.1.2 weight 2\n"
		"backend 198.18.1.3\n"
		"vip 198.18.2.1 tcp 81\nbackend 198.18.1.3\n"
		"backend 198.18.1.4\n", NULL), *n, *m;
	struct lb_drains d = { 0 };
	union xm_pkt_addr a;
	uint8_t fam;
	unsigned int moved = 0;

	build(c, NULL);
	/* .2 down (health), .3 drained (both services) */
	ndown = 1;
	down_ids[0] = c->c_vips[0].v_be[1].be_id;
	cr_assert(lb_state_parse_addr("198.18.1.3", &fam, &a));
	cr_assert_eq(lb_drains_add(&d, fam, &a), 0);
	cr_assert_eq(lb_drains_add(&d, fam, &a), -EEXIST);
	cr_assert_eq(lb_config_count_addr(c, fam, &a), 2);
	n = lb_config_clone(c);
	cr_assert_not_null(n);
	cr_assert_eq(lb_state_apply(n, c, &d, is_down, NULL), 0);
	build(n, c);
	cr_assert_eq(n->c_gen, 2);
	cr_assert(n->c_vips[0].v_be[1].be_down);
	cr_assert(n->c_vips[0].v_be[1].be_reset, "on-down reset");
	cr_assert_eq(n->c_vips[0].v_be[1].be_weight, 0);
	cr_assert_eq(n->c_vips[0].v_be[1].be_conf_weight, 2);
	cr_assert(n->c_vips[0].v_be[2].be_drained);
	cr_assert_not(n->c_vips[0].v_be[2].be_reset, "a drain resets none");
	cr_assert(n->c_vips[1].v_be[0].be_drained);
	cr_assert_eq(n->c_vips[0].v_nactive, 1);
	cr_assert_eq(slots_of(n, 0, 0), n->c_table_size);
	cr_assert_eq(slots_of(n, 1, 1), n->c_table_size);
	/* stable ids stay: established flows find their backend again */
	for (uint32_t vi = 0; vi < 2; vi++)
		for (uint32_t b = 0; b < c->c_vips[vi].v_nbe; b++)
			cr_assert_eq(n->c_vips[vi].v_be[b].be_id,
				     c->c_vips[vi].v_be[b].be_id);
	/* the remaining backend's slots did not move (minimal
	 * disruption: only the leavers' slots are redistributed) */
	for (uint32_t s = 0; s < c->c_table_size; s++)
		moved += c->c_vips[0].v_table[s] == 0 &&
			 n->c_vips[0].v_table[s] != 0;
	cr_assert_eq(moved, 0);
	/* 198.18.2.1 has a healthy backend (.1 on :80); no other address */
	cr_assert(lb_config_vip_healthy(n, 4, &n->c_vips[0].v_addr));
	cr_assert(lb_state_parse_addr("198.18.2.9", &fam, &a));
	cr_assert_not(lb_config_vip_healthy(n, fam, &a));
	cr_assert(lb_state_parse_addr("198.18.1.3", &fam, &a));

	/* Undrain, back up: the tables of the file again. */
	cr_assert_eq(lb_drains_del(&d, fam, &a), 0);
	cr_assert_eq(lb_drains_del(&d, fam, &a), -ENOENT);
	ndown = 0;
	m = lb_config_clone(n);
	lb_state_apply(m, n, &d, is_down, NULL);
	build(m, n);
	for (uint32_t s = 0; s < c->c_table_size; s++)
		cr_assert_eq(m->c_vips[0].v_table[s], c->c_vips[0].v_table[s]);
	lb_config_free(m);
	lb_config_free(n);
	lb_config_free(c);
}

Test(lb_ops, all_down_keeps_the_last_table)
{
	struct lb_config *c = load(HEAD "table-size 251\n"
		"vip 198.18.2.1 tcp 80\nhealth tcp\n"
		"backend 198.18.1.1\nbackend 198.18.1.2\n", NULL), *n, *m;

	build(c, NULL);
	/* .1 down: the table is .2's */
	ndown = 1;
	down_ids[0] = c->c_vips[0].v_be[0].be_id;
	n = lb_config_clone(c);
	cr_assert_eq(lb_state_apply(n, c, NULL, is_down, NULL), 0);
	build(n, c);
	cr_assert_eq(slots_of(n, 0, 1), n->c_table_size);
	/* .2 down too: counted once, the last table (.2's) stays */
	ndown = 2;
	down_ids[1] = c->c_vips[0].v_be[1].be_id;
	m = lb_config_clone(n);
	cr_assert_eq(lb_state_apply(m, n, NULL, is_down, NULL), 1);
	build(m, n);
	cr_assert(m->c_vips[0].v_all_down);
	cr_assert_not(m->c_vips[0].v_be[1].be_reset);
	cr_assert_eq(slots_of(m, 0, 1), m->c_table_size);
	/* what announces the VIP would withdraw it now, and not before */
	cr_assert(lb_config_vip_healthy(n, 4, &n->c_vips[0].v_addr));
	cr_assert_not(lb_config_vip_healthy(m, 4, &m->c_vips[0].v_addr));
	lb_config_free(n);
	/* still all down: not counted again */
	n = lb_config_clone(m);
	cr_assert_eq(lb_state_apply(n, m, NULL, is_down, NULL), 0);
	lb_config_free(n);
	/* both back up: served and announced again (the clone starts
	 * from the all-down generation, which must not stick) */
	ndown = 0;
	n = lb_config_clone(m);
	cr_assert_eq(lb_state_apply(n, m, NULL, is_down, NULL), 0);
	build(n, m);
	cr_assert_not(n->c_vips[0].v_all_down);
	cr_assert_eq(n->c_vips[0].v_nactive, 2);
	cr_assert_eq(n->c_vips[0].v_be[0].be_weight, 1);
	cr_assert(lb_config_vip_healthy(n, 4, &n->c_vips[0].v_addr));
	lb_config_free(n);
	lb_config_free(m);
	lb_config_free(c);
}

/* ------------------------------------------------------------- ctl */

Test(lb_ops, ctl_commands_parse)
{
	static const struct {
		const char *line;
		int verb;		/* -1: refused */
		const char *arg;
		bool json;
		const char *msg;
	} c[] = {
		{ "status", LB_CTL_STATUS, "", false, NULL },
		{ "  status\t--json ", LB_CTL_STATUS, "", true, NULL },
		{ "backends --json", LB_CTL_BACKENDS, "", true, NULL },
		{ "flows", LB_CTL_FLOWS, "", false, NULL },
		{ "flows 198.18.2.1:80/tcp --json", LB_CTL_FLOWS,
		  "198.18.2.1:80/tcp", true, NULL },
		{ "drain 198.18.1.1", LB_CTL_DRAIN, "198.18.1.1", false, NULL },
		{ "undrain --json 2001:2::1", LB_CTL_UNDRAIN, "2001:2::1",
		  true, NULL },
		{ "reload", LB_CTL_RELOAD, "", false, NULL },
		{ "help", LB_CTL_HELP, "", false, NULL },
		{ "", -1, NULL, false, "empty" },
		{ "status now", -1, NULL, false, "no argument" },
		{ "drain", -1, NULL, false, "takes an address" },
		{ "drain a b", -1, NULL, false, "one address" },
		{ "drain --force", -1, NULL, false, "one address" },
		{ "status --json --json", -1, NULL, false, "no argument" },
		{ "shutdown", -1, NULL, false, "unknown command" },
		{ "status\x1b[2J", -1, NULL, false, "not a command" },
		{ "status \xff", -1, NULL, false, "not a command" },
		{ "a b c d e", -1, NULL, false, "too many words" },
	};
	char err[LB_ERRLEN], big[LB_CTL_LINE_MAX + 2];
	struct lb_ctl_cmd cmd;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int e = lb_ctl_parse(c[i].line, strlen(c[i].line), &cmd, err,
				     sizeof(err));

		if (c[i].verb < 0) {
			cr_assert_eq(e, -EINVAL, "'%s' parsed", c[i].line);
			cr_assert_not_null(strstr(err, c[i].msg), "'%s': %s",
					   c[i].line, err);
			continue;
		}
		cr_assert_eq(e, 0, "'%s': %s", c[i].line, err);
		cr_assert_eq((int)cmd.verb, c[i].verb, "'%s'", c[i].line);
		cr_assert_str_eq(cmd.arg, c[i].arg);
		cr_assert_eq(cmd.json, c[i].json);
	}
	/* a NUL inside the line, and the length limit */
	cr_assert_eq(lb_ctl_parse("status\0x", 8, &cmd, err, sizeof(err)),
		     -EINVAL);
	memset(big, 'a', sizeof(big));
	cr_assert_eq(lb_ctl_parse(big, sizeof(big), &cmd, err, sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "longer than"));
	/* the limit exactly: LB_CTL_LINE_MAX bytes are a command, one
	 * more is refused for its length (not read past the buffer) */
	memset(big, ' ', sizeof(big));
	memcpy(big, "status", 6);
	cr_assert_eq(lb_ctl_parse(big, LB_CTL_LINE_MAX, &cmd, err,
				  sizeof(err)), 0, "%s", err);
	cr_assert_eq((int)cmd.verb, LB_CTL_STATUS);
	cr_assert_eq(lb_ctl_parse(big, LB_CTL_LINE_MAX + 1, &cmd, err,
				  sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "longer than"), "%s", err);
	/* an argument of LB_CTL_ARG_MAX bytes: one too many */
	memset(big, 'b', 6 + LB_CTL_ARG_MAX);
	memcpy(big, "drain ", 6);
	cr_assert_eq(lb_ctl_parse(big, 6 + LB_CTL_ARG_MAX, &cmd, err,
				  sizeof(err)), -EINVAL);
	cr_assert_eq(lb_ctl_parse(big, 6 + LB_CTL_ARG_MAX - 1, &cmd, err,
				  sizeof(err)), 0);
}

/* A snapshot made by hand: two services, three backends. */
static void fake_snap(struct lb_snap *s)
{
	static struct lb_snap_vip v[2];
	static struct lb_snap_be b[3];
	static uint64_t wf[2] = { 5, 7 };
	static struct xm_port_stats ps;

	memset(s, 0, sizeof(*s));
	memset(v, 0, sizeof(v));
	memset(b, 0, sizeof(b));
	s->iface = "eth\"1";
	s->config = "/etc/xmbuf-lb/lb.conf";
	s->generation = 4;
	s->uptime_s = 12.5;
	s->nworkers = 2;
	s->worker_flows = wf;
	s->t.p.rx = 1000;
	s->t.p.forwarded = 990;
	s->t.p.no_service = 4;
	s->t.tx_full = 1;
	ps.rx_ring_full = 2;
	ps.rx_fill_ring_empty_descs = 30;
	ps.rx_dropped = 33;	/* 30 of them the fill ring's */
	ps.xdp_no_socket = 5;
	s->have_port = true;
	s->port = ps;
	lb_losses_fill(&s->loss, &s->t, &ps);
	s->ctl_requests = 9;
	s->ctl_errors = 2;
	strcpy(v[0].name, "198.18.2.1:80/tcp");
	strcpy(v[0].addr, "198.18.2.1");
	v[0].port = 80;
	v[0].proto = "tcp";
	v[0].health = "tcp";
	v[0].cnt.packets = 600;
	v[0].cnt.bytes = 60000;
	v[0].cnt.new_flows = 6;
	v[0].be0 = 0;
	v[0].nbe = 2;
	strcpy(v[1].name, "[2001:2::1]:53/udp");
	strcpy(v[1].addr, "2001:2::1");
	v[1].port = 53;
	v[1].proto = "udp";
	v[1].health = "none";
	v[1].cnt.packets = 390;
	v[1].be0 = 2;
	v[1].nbe = 1;
	strcpy(b[0].addr, "198.18.1.11");
	b[0].weight = b[0].conf_weight = 1;
	b[0].cnt.packets = 600;
	b[0].checked = true;
	b[0].health.hi_up = true;
	b[0].health.hi_checks = 10;
	strcpy(b[0].health.hi_reason, "connect ok");
	strcpy(b[1].addr, "198.18.1.12");
	b[1].conf_weight = 2;
	b[1].down = true;
	b[1].checked = true;
	b[1].health.hi_checks = 10;
	b[1].health.hi_failures = 3;
	strcpy(b[1].health.hi_reason, "connect: Connection \"refused\"");
	b[2].vip = 1;
	strcpy(b[2].addr, "2001:2::11");
	b[2].drained = true;
	b[2].cnt.packets = 390;
	s->vips = v;
	s->nvips = 2;
	s->be = b;
	s->nbe = 3;
}

static char *format(const struct lb_ctl_cmd *cmd, const struct lb_snap *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	lb_ctl_format(f, cmd, s);
	fclose(f);
	return buf;
}

/* Runs PY code with text on its stdin.  @return its exit status. */
static int python(const char *code, const char *text)
{
	char cmd[2048];
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), PY " -c '%s'", code);
	f = popen(cmd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(lb_ops, ctl_replies_are_json_and_tables)
{
	static const enum lb_ctl_verb verbs[] = { LB_CTL_STATUS,
		LB_CTL_SERVICES, LB_CTL_BACKENDS };
	struct lb_ctl_cmd cmd = { .json = true };
	struct lb_snap s;
	char *out;

	fake_snap(&s);
	for (size_t i = 0; i < 3; i++) {
		cmd.verb = verbs[i];
		cmd.json = true;
		out = format(&cmd, &s);
		cr_assert_eq(python("import json,sys; json.load(sys.stdin)",
				    out), 0, "not JSON: %s", out);
		free(out);
		cmd.json = false;
		out = format(&cmd, &s);
		cr_assert_gt(strlen(out), 20);
		free(out);
	}
	cmd.verb = LB_CTL_STATUS;
	cmd.json = true;
	out = format(&cmd, &s);
	/* every loss: 4 + 1 (path), 2 + 30 + 3 + 5 (port) */
	cr_assert_eq(python("import json,sys; d = json.load(sys.stdin); "
			    "sys.exit(0 if d[\"dropped\"][\"total\"] == 45 and "
			    "d[\"dropped\"][\"rx_other\"] == 3 and "
			    "d[\"backends_down\"] == 1 and "
			    "d[\"backends_drained\"] == 1 else 1)", out), 0,
		     "%s", out);
	free(out);
	cmd.verb = LB_CTL_BACKENDS;
	out = format(&cmd, &s);
	cr_assert_eq(python("import json,sys; b = json.load(sys.stdin)"
			    "[\"backends\"]; sys.exit(0 if [x[\"state\"] for x "
			    "in b] == [\"up\", \"down\", \"drained\"] and "
			    "b[1][\"conf_weight\"] == 2 and "
			    "b[1][\"health\"][\"failures\"] == 3 else 1)", out),
		     0, "%s", out);
	free(out);
	cmd.json = false;
	cmd.verb = LB_CTL_SERVICES;
	out = format(&cmd, &s);
	cr_assert_not_null(strstr(out, "1/2"), "%s", out);
	free(out);
}

Test(lb_ops, ctl_flows_and_results_are_json)
{
	struct lb_ctl_flow f[2] = {
		{ "198.18.2.1:80/tcp", "198.18.1.1:40000", "198.18.1.11", 0 },
		{ "[2001:2::1]:53/udp", "[2001:2:0:1::1]:5353", "?", 1 },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	lb_ctl_format_flows(o, true, f, 2, true);
	fclose(o);
	cr_assert_eq(python("import json,sys; d = json.load(sys.stdin); "
			    "sys.exit(0 if d[\"truncated\"] and "
			    "len(d[\"flows\"]) == 2 else 1)", buf), 0, "%s",
		     buf);
	free(buf);
	o = open_memstream(&buf, &len);
	lb_ctl_format_result(o, true, "drained \"x\"\n");
	lb_ctl_format_help(o, true);
	fclose(o);
	/* two documents, one a line */
	cr_assert_eq(python("import json,sys; "
			    "[json.loads(l) for l in sys.stdin]", buf), 0,
		     "%s", buf);
	free(buf);
}

/* --------------------------------------------------------- metrics */

Test(lb_ops, metrics_parse_with_prometheus_client)
{
	struct lb_snap s;
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	fake_snap(&s);
	lb_metrics_format(o, &s);
	fclose(o);
	cr_assert_eq(python(
		"import sys\n"
		"from prometheus_client.parser import "
		"text_string_to_metric_families as p\n"
		"v = {}\n"
		"for f in p(sys.stdin.read()):\n"
		"    for x in f.samples:\n"
		"        v[(x.name, tuple(sorted(x.labels.items())))] = x.value\n"
		"def g(n, **l): return v[(n, tuple(sorted(l.items())))]\n"
		"ok = g(\"xmbuf_lb_packets_total\", vip=\"198.18.2.1\", "
		"port=\"80\", proto=\"tcp\") == 600\n"
		"ok &= g(\"xmbuf_lb_backend_up\", vip=\"198.18.2.1\", "
		"port=\"80\", proto=\"tcp\", backend=\"198.18.1.12\") == 0\n"
		"ok &= g(\"xmbuf_lb_backend_up\", vip=\"2001:2::1\", "
		"port=\"53\", proto=\"udp\", backend=\"2001:2::11\") == 1\n"
		"ok &= g(\"xmbuf_lb_drops_total\", reason=\"rx_kernel_other\")"
		" == 3\n"
		"ok &= g(\"xmbuf_lb_drops_total\", reason=\"no_socket\") == 5\n"
		"ok &= g(\"xmbuf_lb_dropped_total\") == 45\n"
		"ok &= g(\"xmbuf_lb_flows\", worker=\"1\") == 7\n"
		"ok &= g(\"xmbuf_lb_config_generation\") == 4\n"
		"ok &= g(\"xmbuf_port_rx_ring_full_total\", iface=\"eth\\\"1\")"
		" == 2\n"
		"sys.exit(0 if ok else 1)\n", buf), 0, "%s", buf);
	free(buf);
}

/* Label values escaped as the exposition format says: backslash,
 * double quote and newline (an interface name may hold a backslash). */
Test(lb_ops, metrics_label_values_are_escaped)
{
	struct lb_snap s;
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	cr_assert_not_null(o);
	fake_snap(&s);
	s.iface = "a\\b\"c\nd";
	lb_metrics_format(o, &s);
	fclose(o);
	cr_assert_not_null(strstr(buf, "{iface=\"a\\\\b\\\"c\\nd\"}"),
			   "%s", buf);
	free(buf);
}

Test(lb_ops, metrics_address)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	static const char *bad[] = { "", "0", "65536", "x", ":80", "1.2.3:80",
		"::1:80", "[::1]", "[::1:80", "127.0.0.1:", "127.0.0.1:8a",
		"[]:80" };

	cr_assert_eq(lb_metrics_parse_addr("9100", &ss, &sl), 0);
	cr_assert_eq(s4->sin_family, AF_INET);
	cr_assert_eq(ntohl(s4->sin_addr.s_addr), 0x7f000001u, "loopback");
	cr_assert_eq(ntohs(s4->sin_port), 9100);
	cr_assert_eq(lb_metrics_parse_addr("198.18.1.2:80", &ss, &sl), 0);
	cr_assert_eq(ntohl(s4->sin_addr.s_addr), 0xc6120102u);
	cr_assert_eq(lb_metrics_parse_addr("[::1]:9100", &ss, &sl), 0);
	cr_assert_eq(s6->sin6_family, AF_INET6);
	cr_assert_eq(sl, sizeof(*s6));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(lb_metrics_parse_addr(bad[i], &ss, &sl), -EINVAL,
			     "'%s'", bad[i]);
}

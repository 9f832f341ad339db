// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_ctl.c - the control socket's server, its command parser and its
 * formatters (model in lb_ctl.h).  The parser and formatters are pure
 * (tests/unit/test_lb_ctl.c); the server is one thread around them.
 *
 * Reading a command is bounded three ways: LB_CTL_LINE_MAX bytes, the
 * LB_CTL_READ_MS limit from accept to newline, and LB_CTL_CONNS
 * connections (one more is told "busy" and closed).  A reply is written
 * with a send time limit, so a client that stops reading costs the
 * server at most LB_CTL_WRITE_MS.
 *
 * KPI:
 *   lb_ctl_start(), lb_ctl_stop(), lb_ctl_requests(), lb_ctl_errors()
 *   lb_ctl_parse(), lb_ctl_format(), lb_ctl_format_flows(),
 *   lb_ctl_format_result(), lb_ctl_format_help()
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xm_example.h"
#include "lb_ctl.h"

/* ------------------------------------------------------------ parser */

static const struct {
	const char *name;
	enum lb_ctl_verb verb;
	int nargs;			/* 0, 1, or -1: 0 or 1 */
	const char *help;
} verbs[] = {
	{ "status", LB_CTL_STATUS, 0,
	  "generation, uptime, configuration, every loss" },
	{ "services", LB_CTL_SERVICES, 0, "each service and its counters" },
	{ "backends", LB_CTL_BACKENDS, 0,
	  "each backend: state, weight, health, flows, packets, bytes" },
	{ "flows", LB_CTL_FLOWS, -1,
	  "[VIP] connection-table entries (" XM_EX_STR(LB_CTL_FLOWS_MAX)
	  " at most)" },
	{ "drain", LB_CTL_DRAIN, 1,
	  "ADDR: weight 0 for that backend until the next reload" },
	{ "undrain", LB_CTL_UNDRAIN, 1, "ADDR: its weight back" },
	{ "drain-host", LB_CTL_DRAIN_HOST, 0,
	  "withdraw every VIP from BGP (--bird-routes), for maintenance" },
	{ "undrain-host", LB_CTL_UNDRAIN_HOST, 0,
	  "announce the VIPs that can be served again" },
	{ "reload", LB_CTL_RELOAD, 0, "reload the configuration (SIGHUP)" },
	{ "help", LB_CTL_HELP, 0, "this list" },
};
#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

int lb_ctl_parse(const char *line, size_t len, struct lb_ctl_cmd *cmd,
		 char *err, size_t errlen)
{
	char buf[LB_CTL_LINE_MAX + 1], *w[4], *s;
	int n = 0, nargs = 0;
	size_t i;

	memset(cmd, 0, sizeof(*cmd));
	if (len > LB_CTL_LINE_MAX) {
		snprintf(err, errlen, "command longer than %d bytes",
			 LB_CTL_LINE_MAX);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		/* Visible ASCII and blanks only: nothing to interpret. */
		if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
			snprintf(err, errlen, "not a command (byte 0x%02x); "
				 "try 'help'", ch);
			return -EINVAL;
		}
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (s = buf;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == 4) {
			snprintf(err, errlen, "too many words; try 'help'");
			return -EINVAL;
		}
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command; try 'help'");
		return -EINVAL;
	}
	for (i = 0; i < NVERBS && strcmp(w[0], verbs[i].name); i++)
		;
	if (i == NVERBS) {
		snprintf(err, errlen, "unknown command '%.40s'; try 'help'",
			 w[0]);
		return -EINVAL;
	}
	cmd->verb = verbs[i].verb;
	for (int k = 1; k < n; k++) {
		if (!strcmp(w[k], "--json") && !cmd->json) {
			cmd->json = true;
			continue;
		}
		if (nargs == 1 || verbs[i].nargs == 0 ||
		    strlen(w[k]) >= LB_CTL_ARG_MAX || w[k][0] == '-') {
			snprintf(err, errlen, "'%s' takes %s; '%.40s' is "
				 "not that", verbs[i].name,
				 verbs[i].nargs == 0 ? "no argument" :
				 verbs[i].nargs == 1 ? "one address" :
				 "at most a service", w[k]);
			return -EINVAL;
		}
		strcpy(cmd->arg, w[k]);
		nargs++;
	}
	if (verbs[i].nargs == 1 && nargs == 0) {
		snprintf(err, errlen, "'%s' takes an address", verbs[i].name);
		return -EINVAL;
	}
	return 0;
}

/* -------------------------------------------------------- formatters */

static const char *be_state(const struct lb_snap_be *b)
{
	return b->drained ? "drained" : b->down ? "down" : "up";
}

static void json_loss(struct xm_ex_json *j, const struct lb_snap *s)
{
	const struct lb_losses *l = &s->loss;

	xm_ex_json_object(j, "dropped");
	xm_ex_json_u64(j, "total", lb_losses_total(l));
	xm_ex_json_u64(j, "path", l->path);
	xm_ex_json_u64(j, "rx_ring_full", l->rx_ring_full);
	xm_ex_json_u64(j, "fill_ring_empty", l->fill_ring_empty);
	xm_ex_json_u64(j, "rx_other", l->rx_other);
	xm_ex_json_u64(j, "rx_port", l->rx_port);
	xm_ex_json_u64(j, "tx_port", l->tx_port);
	xm_ex_json_u64(j, "invalid_descs", l->invalid_descs);
	xm_ex_json_u64(j, "no_socket", l->no_socket);
	xm_ex_json_close(j);
}

static void status(FILE *out, bool json, const struct lb_snap *s)
{
	const struct lb_losses *l = &s->loss;
	uint32_t down = 0, drained = 0;

	for (uint32_t b = 0; b < s->nbe; b++) {
		down += s->be[b].down && !s->be[b].drained;
		drained += s->be[b].drained;
	}
	if (json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, out);
		xm_ex_json_str(&j, "iface", s->iface);
		xm_ex_json_str(&j, "config", s->config);
		xm_ex_json_u64(&j, "generation", s->generation);
		xm_ex_json_double(&j, "uptime_s", s->uptime_s);
		xm_ex_json_u64(&j, "queues", s->nworkers);
		xm_ex_json_u64(&j, "reloads", s->reloads);
		xm_ex_json_u64(&j, "reload_failures", s->reload_failures);
		xm_ex_json_u64(&j, "services", s->nvips);
		xm_ex_json_u64(&j, "backends", s->nbe);
		xm_ex_json_u64(&j, "backends_down", down);
		xm_ex_json_u64(&j, "backends_drained", drained);
		xm_ex_json_u64(&j, "all_down_events", s->all_down_events);
		xm_ex_json_u64(&j, "health_transitions",
			       s->health_transitions);
		xm_ex_json_u64(&j, "rx_packets", s->t.p.rx);
		xm_ex_json_u64(&j, "forwarded", s->t.p.forwarded);
		xm_ex_json_u64(&j, "icmp_too_big_sent", s->t.p.icmp_sent);
		json_loss(&j, s);
		xm_ex_json_u64(&j, "flows", s->t.flows);
		xm_ex_json_u64(&j, "flows_capacity", s->t.lru_capacity);
		xm_ex_json_u64(&j, "ctl_requests", s->ctl_requests);
		xm_ex_json_u64(&j, "ctl_errors", s->ctl_errors);
		xm_ex_json_u64(&j, "metrics_requests", s->metrics_requests);
		xm_ex_json_end(&j);
		return;
	}
	fprintf(out, "xmbuf-lb on %s: generation %u, up %.1f s, config %s "
		"(%llu reload(s), %llu refused)\n", s->iface, s->generation,
		s->uptime_s, s->config, (unsigned long long)s->reloads,
		(unsigned long long)s->reload_failures);
	fprintf(out, "  services %u, backends %u (%u down, %u drained), "
		"all-down events %llu, health changes %llu\n", s->nvips,
		s->nbe, down, drained,
		(unsigned long long)s->all_down_events,
		(unsigned long long)s->health_transitions);
	fprintf(out, "  rx %llu, forwarded %llu, icmp %llu, dropped %llu\n",
		(unsigned long long)s->t.p.rx,
		(unsigned long long)s->t.p.forwarded,
		(unsigned long long)s->t.p.icmp_sent,
		(unsigned long long)lb_losses_total(l));
	fprintf(out, "  dropped: path %llu, rx ring full %llu, fill ring "
		"empty %llu, kernel other %llu, port rx %llu, port tx %llu, "
		"invalid descs %llu, no socket %llu\n",
		(unsigned long long)l->path,
		(unsigned long long)l->rx_ring_full,
		(unsigned long long)l->fill_ring_empty,
		(unsigned long long)l->rx_other,
		(unsigned long long)l->rx_port,
		(unsigned long long)l->tx_port,
		(unsigned long long)l->invalid_descs,
		(unsigned long long)l->no_socket);
	fprintf(out, "  flows %llu of %llu, %u queue(s); control socket: "
		"%llu request(s), %llu error(s)\n",
		(unsigned long long)s->t.flows,
		(unsigned long long)s->t.lru_capacity, s->nworkers,
		(unsigned long long)s->ctl_requests,
		(unsigned long long)s->ctl_errors);
}

static void services(FILE *out, bool json, const struct lb_snap *s)
{
	struct xm_ex_json j;

	if (json) {
		xm_ex_json_begin(&j, out);
		xm_ex_json_array(&j, "services");
	} else {
		fprintf(out, "%-30s %-6s %-9s %-12s %-14s %-10s\n", "SERVICE",
			"HEALTH", "UP/ALL", "PACKETS", "BYTES", "NEW FLOWS");
	}
	for (uint32_t vi = 0; vi < s->nvips; vi++) {
		const struct lb_snap_vip *v = &s->vips[vi];
		uint32_t up = 0;
		char ua[24];

		for (uint32_t b = v->be0; b < v->be0 + v->nbe; b++)
			up += !s->be[b].down && !s->be[b].drained;
		if (!json) {
			snprintf(ua, sizeof(ua), "%u/%u", up, v->nbe);
			fprintf(out, "%-30s %-6s %-9s %-12llu %-14llu %-10llu%s\n",
				v->name, v->health, ua,
				(unsigned long long)v->cnt.packets,
				(unsigned long long)v->cnt.bytes,
				(unsigned long long)v->cnt.new_flows,
				v->all_down ? "  ALL DOWN: last table kept" :
				"");
			continue;
		}
		xm_ex_json_object(&j, NULL);
		xm_ex_json_str(&j, "vip", v->name);
		xm_ex_json_str(&j, "addr", v->addr);
		xm_ex_json_u64(&j, "port", v->port);
		xm_ex_json_str(&j, "proto", v->proto);
		xm_ex_json_str(&j, "health", v->health);
		xm_ex_json_bool(&j, "all_down", v->all_down);
		xm_ex_json_u64(&j, "backends", v->nbe);
		xm_ex_json_u64(&j, "backends_up", up);
		xm_ex_json_u64(&j, "packets", v->cnt.packets);
		xm_ex_json_u64(&j, "bytes", v->cnt.bytes);
		xm_ex_json_u64(&j, "new_flows", v->cnt.new_flows);
		xm_ex_json_u64(&j, "lru_misses", v->cnt.lru_misses);
		xm_ex_json_close(&j);
	}
	if (json) {
		xm_ex_json_close(&j);
		xm_ex_json_end(&j);
	}
}

static void backends(FILE *out, bool json, const struct lb_snap *s)
{
	struct xm_ex_json j;

	if (json) {
		xm_ex_json_begin(&j, out);
		xm_ex_json_array(&j, "backends");
	} else {
		fprintf(out, "%-30s %-26s %-7s %-11s %-10s %-12s %-14s %s\n",
			"SERVICE", "BACKEND", "STATE", "WEIGHT", "FLOWS",
			"PACKETS", "BYTES", "HEALTH");
	}
	for (uint32_t i = 0; i < s->nbe; i++) {
		const struct lb_snap_be *b = &s->be[i];
		const struct lb_snap_vip *v = &s->vips[b->vip];
		char w[24], h[LB_HEALTH_REASON + 32];

		if (!json) {
			snprintf(w, sizeof(w), "%u/%u", b->weight,
				 b->conf_weight);
			if (b->checked)
				snprintf(h, sizeof(h), "%s (%llu/%llu failed)",
					 b->health.hi_reason,
					 (unsigned long long)
					 b->health.hi_failures,
					 (unsigned long long)
					 b->health.hi_checks);
			else
				snprintf(h, sizeof(h), "-");
			fprintf(out, "%-30s %-26s %-7s %-11s %-10llu %-12llu "
				"%-14llu %s\n", v->name, b->addr, be_state(b),
				w, (unsigned long long)b->cnt.new_flows,
				(unsigned long long)b->cnt.packets,
				(unsigned long long)b->cnt.bytes, h);
			continue;
		}
		xm_ex_json_object(&j, NULL);
		xm_ex_json_str(&j, "vip", v->name);
		xm_ex_json_str(&j, "addr", b->addr);
		xm_ex_json_str(&j, "state", be_state(b));
		xm_ex_json_bool(&j, "up", !b->down);
		xm_ex_json_bool(&j, "drained", b->drained);
		xm_ex_json_u64(&j, "weight", b->weight);
		xm_ex_json_u64(&j, "conf_weight", b->conf_weight);
		xm_ex_json_u64(&j, "flows", b->cnt.new_flows);
		xm_ex_json_u64(&j, "packets", b->cnt.packets);
		xm_ex_json_u64(&j, "bytes", b->cnt.bytes);
		xm_ex_json_u64(&j, "lru_misses", b->cnt.lru_misses);
		xm_ex_json_object(&j, "health");
		xm_ex_json_str(&j, "check", v->health);
		if (b->checked) {
			xm_ex_json_bool(&j, "up", b->health.hi_up);
			xm_ex_json_u64(&j, "checks", b->health.hi_checks);
			xm_ex_json_u64(&j, "failures", b->health.hi_failures);
			xm_ex_json_u64(&j, "transitions",
				       b->health.hi_transitions);
			xm_ex_json_str(&j, "last", b->health.hi_reason);
		}
		xm_ex_json_close(&j);
		xm_ex_json_close(&j);
	}
	if (json) {
		xm_ex_json_close(&j);
		xm_ex_json_end(&j);
	}
}

void lb_ctl_format(FILE *out, const struct lb_ctl_cmd *cmd,
		   const struct lb_snap *s)
{
	if (cmd->verb == LB_CTL_STATUS)
		status(out, cmd->json, s);
	else if (cmd->verb == LB_CTL_SERVICES)
		services(out, cmd->json, s);
	else if (cmd->verb == LB_CTL_BACKENDS)
		backends(out, cmd->json, s);
}

void lb_ctl_format_flows(FILE *out, bool json, const struct lb_ctl_flow *f,
			 unsigned int n, bool truncated)
{
	struct xm_ex_json j;

	if (json) {
		xm_ex_json_begin(&j, out);
		xm_ex_json_bool(&j, "truncated", truncated);
		xm_ex_json_array(&j, "flows");
		for (unsigned int i = 0; i < n; i++) {
			xm_ex_json_object(&j, NULL);
			xm_ex_json_str(&j, "vip", f[i].vip);
			xm_ex_json_str(&j, "client", f[i].client);
			xm_ex_json_str(&j, "backend", f[i].backend);
			xm_ex_json_u64(&j, "worker", f[i].worker);
			xm_ex_json_close(&j);
		}
		xm_ex_json_close(&j);
		xm_ex_json_end(&j);
		return;
	}
	fprintf(out, "%-30s %-46s %-26s %s\n", "SERVICE", "CLIENT", "BACKEND",
		"WORKER");
	for (unsigned int i = 0; i < n; i++)
		fprintf(out, "%-30s %-46s %-26s %u\n", f[i].vip, f[i].client,
			f[i].backend, f[i].worker);
	if (truncated)
		fprintf(out, "(first %u entries only)\n", n);
}

void lb_ctl_format_result(FILE *out, bool json, const char *msg)
{
	struct xm_ex_json j;

	if (!json) {
		fprintf(out, "%s\n", msg);
		return;
	}
	xm_ex_json_begin(&j, out);
	xm_ex_json_str(&j, "result", msg);
	xm_ex_json_end(&j);
}

void lb_ctl_format_help(FILE *out, bool json)
{
	struct xm_ex_json j;

	if (json) {
		xm_ex_json_begin(&j, out);
		xm_ex_json_object(&j, "commands");
		for (size_t i = 0; i < NVERBS; i++)
			xm_ex_json_str(&j, verbs[i].name, verbs[i].help);
		xm_ex_json_close(&j);
		xm_ex_json_end(&j);
		return;
	}
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(out, "%-9s %s\n", verbs[i].name, verbs[i].help);
	fprintf(out, "any command takes --json\n");
}

/* ------------------------------------------------------------ server */

struct conn {
	int fd;				/* -1: free */
	uint32_t len;
	uint64_t deadline_ms;
	char buf[LB_CTL_LINE_MAX + 1];
};

struct lb_ctl {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;				/* listening */
	int wake_fd;			/* eventfd: stop */
	dev_t dev;			/* the socket file we made */
	ino_t ino;
	lb_ctl_run_fn *run;
	void *ctx;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t errors;
	struct conn c[LB_CTL_CONNS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Writes len bytes within the send time limit set on fd. */
static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* gone, or too slow: it loses */
		p += n;
		len -= (size_t)n;
	}
}

static void close_conn(struct conn *c)
{
	char sink[4096];

	/*
	 * Read what the client still sent (bounded): a Unix socket closed
	 * with unread data resets the peer, which could then lose the
	 * error line before reading it.
	 */
	for (int i = 0; i < 16; i++)
		if (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void reply_error(struct lb_ctl *s, struct conn *c, const char *msg)
{
	char line[LB_ERRLEN + 16];
	int n = snprintf(line, sizeof(line), "error: %s\n", msg);

	atomic_fetch_add(&s->requests, 1);
	atomic_fetch_add(&s->errors, 1);
	send_all(c->fd, line, (size_t)n < sizeof(line) ? (size_t)n :
		 sizeof(line) - 1);
	close_conn(c);
}

/* A whole line: parse, run, reply, close. */
static void serve(struct lb_ctl *s, struct conn *c, size_t len)
{
	char err[LB_ERRLEN] = "";
	struct lb_ctl_cmd cmd;
	char *body = NULL;
	size_t blen = 0;
	FILE *out;
	int e;

	if (len && c->buf[len - 1] == '\r')
		len--;
	if (lb_ctl_parse(c->buf, len, &cmd, err, sizeof(err))) {
		reply_error(s, c, err);
		return;
	}
	out = open_memstream(&body, &blen);
	if (out == NULL) {
		reply_error(s, c, "out of memory");
		return;
	}
	e = s->run(s->ctx, &cmd, out, err, sizeof(err));
	if (fclose(out) != 0 && !e) {
		e = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
	}
	if (e) {
		free(body);
		reply_error(s, c, err[0] ? err : strerror(-e));
		return;
	}
	atomic_fetch_add(&s->requests, 1);
	send_all(c->fd, "ok\n", 3);
	send_all(c->fd, body, blen);
	free(body);
	close_conn(c);
}

/* Data (or the end) on a connection. */
static void on_readable(struct lb_ctl *s, struct conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, LB_CTL_LINE_MAX + 1 - c->len,
			 MSG_DONTWAIT);
	char *nl;

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			close_conn(c);
		return;
	}
	if (n == 0) {
		/* A connect-and-close asked nothing; a line cut short did. */
		if (c->len == 0)
			close_conn(c);
		else
			reply_error(s, c, "incomplete command (no newline "
				    "before the end)");
		return;
	}
	c->len += (uint32_t)n;
	nl = memchr(c->buf, '\n', c->len);
	if (nl != NULL && nl - c->buf <= LB_CTL_LINE_MAX - 1)
		serve(s, c, (size_t)(nl - c->buf));
	else if (c->len > LB_CTL_LINE_MAX - 1)
		reply_error(s, c, "command longer than "
			    XM_EX_STR(LB_CTL_LINE_MAX) " bytes");
}

static void on_accept(struct lb_ctl *s)
{
	struct timeval tv = { .tv_sec = LB_CTL_WRITE_MS / 1000,
			      .tv_usec = LB_CTL_WRITE_MS % 1000 * 1000 };
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	struct conn *c = NULL;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < LB_CTL_CONNS && c == NULL; i++)
		if (s->c[i].fd < 0)
			c = &s->c[i];
	if (c == NULL) {
		struct conn busy = { .fd = fd };

		reply_error(s, &busy, "busy: " XM_EX_STR(LB_CTL_CONNS)
			    " connections already; try again");
		return;
	}
	c->fd = fd;
	c->len = 0;
	c->deadline_ms = now_ms() + LB_CTL_READ_MS;
}

static void *ctl_main(void *arg)
{
	struct lb_ctl *s = arg;
	struct pollfd pfd[LB_CTL_CONNS + 2];
	int idx[LB_CTL_CONNS];

	while (!atomic_load(&s->stop)) {
		uint64_t now = now_ms(), next = now + 1000;
		int k = 0, wait_ms;

		for (int i = 0; i < LB_CTL_CONNS; i++) {
			struct conn *c = &s->c[i];

			if (c->fd < 0)
				continue;
			if (c->deadline_ms <= now) {
				reply_error(s, c, "incomplete command (no "
					    "newline within "
					    XM_EX_STR(LB_CTL_READ_MS) " ms)");
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			pfd[k].fd = c->fd;
			pfd[k].events = POLLIN;
			idx[k++] = i;
		}
		pfd[k].fd = s->fd;
		pfd[k].events = POLLIN;
		pfd[k + 1].fd = s->wake_fd;
		pfd[k + 1].events = POLLIN;
		for (int i = 0; i < k + 2; i++)
			pfd[i].revents = 0;
		wait_ms = (int)(next - now);
		if (poll(pfd, (nfds_t)k + 2, wait_ms) <= 0)
			continue;
		for (int i = 0; i < k; i++)
			if (pfd[i].revents)
				on_readable(s, &s->c[idx[i]]);
		if (pfd[k].revents & POLLIN)
			on_accept(s);
	}
	return NULL;
}

/* mkdir of path's directory when missing (one level, as /run/xmbuf-lb). */
static int make_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A socket file at path: a live balancer's (-EADDRINUSE), or stale
 * (removed).  Anything else there is left alone (-EEXIST). */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, e;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	e = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ?
	    -EADDRINUSE : errno == ECONNREFUSED ? 0 : -errno;
	close(fd);
	if (e == 0 && unlink(sa->sun_path) < 0 && errno != ENOENT)
		e = -errno;
	return e;
}

struct lb_ctl *lb_ctl_start(const char *path, lb_ctl_run_fn *run, void *ctx,
			    char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct lb_ctl *s;
	struct stat st;
	mode_t old;
	int e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	strcpy(s->path, path);
	strcpy(sa.sun_path, path);
	s->run = run;
	s->ctx = ctx;
	s->fd = s->wake_fd = -1;
	for (int i = 0; i < LB_CTL_CONNS; i++)
		s->c[i].fd = -1;
	e = make_dir(path);
	if (!e)
		e = clear_stale(&sa);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, e == -EADDRINUSE ?
			 "another balancer answers there" : e == -EEXIST ?
			 "exists and is not a socket" : strerror(-e));
		free(s);
		errno = -e;
		return NULL;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		goto out_errno;
	/* 0600 from the start: no moment where another user could connect. */
	old = umask(0177);
	e = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (e < 0)
		goto out_errno;
	if (listen(s->fd, LB_CTL_CONNS) < 0 || stat(path, &st) < 0)
		goto out_unlink;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0)
		goto out_unlink;
	atomic_init(&s->stop, false);
	atomic_init(&s->requests, 0);
	atomic_init(&s->errors, 0);
	e = pthread_create(&s->thread, NULL, ctl_main, s);
	if (e) {
		errno = e;
		goto out_unlink;
	}
	return s;

out_errno:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	goto out_close;
out_unlink:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	unlink(path);
out_close:
	e = errno;
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	errno = e;
	return NULL;
}

void lb_ctl_stop(struct lb_ctl *s)
{
	struct stat st;
	uint64_t one = 1;

	if (s == NULL)
		return;
	atomic_store(&s->stop, true);
	if (write(s->wake_fd, &one, sizeof(one)) < 0)
		one = 0;	/* the counter is full: it is awake anyway */
	pthread_join(s->thread, NULL);
	for (int i = 0; i < LB_CTL_CONNS; i++)
		if (s->c[i].fd >= 0)
			close_conn(&s->c[i]);
	/* Only the file we made: another balancer may have taken the path
	 * since (after ours looked dead to it). */
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	close(s->fd);
	close(s->wake_fd);
	free(s);
}

uint64_t lb_ctl_requests(const struct lb_ctl *s)
{
	return s ? atomic_load(&((struct lb_ctl *)s)->requests) : 0;
}

uint64_t lb_ctl_errors(const struct lb_ctl *s)
{
	return s ? atomic_load(&((struct lb_ctl *)s)->errors) : 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_metrics.c - the Prometheus exposition of a snapshot, and the HTTP
 * server around it (model in lb_metrics.h).  The HTTP side is
 * libmicrohttpd's: its own polling thread, a connection limit and a
 * connection timeout, so a slow or hostile scraper costs a connection
 * slot and nothing else.
 *
 * KPI:
 *   lb_metrics_format(), lb_metrics_parse_addr()   (pure)
 *   lb_metrics_start(), lb_metrics_stop(), lb_metrics_requests()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lb_metrics.h"

#define LB_METRICS_CONNS	16	/* scrapers at once */
#define LB_METRICS_TIMEOUT_S	5	/* idle connection limit */

/* ------------------------------------------------------------ format */

static void head(FILE *o, const char *name, const char *type,
		 const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, quote and newline escaped. */
static void label(FILE *o, const char *key, const char *v, bool first)
{
	fprintf(o, "%s%s=\"", first ? "" : ",", key);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', o);
		if (*v == '\n')
			fputs("\\n", o);
		else
			fputc(*v, o);
	}
	fputc('"', o);
}

static void vip_labels(FILE *o, const struct lb_snap_vip *v)
{
	char port[8];

	snprintf(port, sizeof(port), "%u", v->port);
	label(o, "vip", v->addr, true);
	label(o, "port", port, false);
	label(o, "proto", v->proto, false);
}

static void one(FILE *o, const char *name, uint64_t v)
{
	fprintf(o, "%s %llu\n", name, (unsigned long long)v);
}

enum vfield { F_PACKETS, F_BYTES, F_NEW };

static uint64_t cnt_field(const struct lb_cnt *c, enum vfield f)
{
	return f == F_PACKETS ? c->packets : f == F_BYTES ? c->bytes :
	       c->new_flows;
}

static void services(FILE *o, const struct lb_snap *s)
{
	static const struct {
		const char *vip, *be, *help;
	} fam[] = {
		{ "xmbuf_lb_packets_total", "xmbuf_lb_backend_packets_total",
		  "packets forwarded" },
		{ "xmbuf_lb_bytes_total", "xmbuf_lb_backend_bytes_total",
		  "bytes forwarded, as received" },
		{ "xmbuf_lb_new_flows_total",
		  "xmbuf_lb_backend_new_flows_total", "flows started" },
	};

	for (int f = 0; f < 3; f++) {
		head(o, fam[f].vip, "counter", fam[f].help);
		for (uint32_t vi = 0; vi < s->nvips; vi++) {
			fprintf(o, "%s{", fam[f].vip);
			vip_labels(o, &s->vips[vi]);
			fprintf(o, "} %llu\n", (unsigned long long)
				cnt_field(&s->vips[vi].cnt, (enum vfield)f));
		}
		head(o, fam[f].be, "counter", fam[f].help);
		for (uint32_t b = 0; b < s->nbe; b++) {
			fprintf(o, "%s{", fam[f].be);
			vip_labels(o, &s->vips[s->be[b].vip]);
			label(o, "backend", s->be[b].addr, false);
			fprintf(o, "} %llu\n", (unsigned long long)
				cnt_field(&s->be[b].cnt, (enum vfield)f));
		}
	}
	head(o, "xmbuf_lb_backend_up", "gauge",
	     "1 when the backend is up (health checks; 1 without checks)");
	for (uint32_t b = 0; b < s->nbe; b++) {
		fprintf(o, "xmbuf_lb_backend_up{");
		vip_labels(o, &s->vips[s->be[b].vip]);
		label(o, "backend", s->be[b].addr, false);
		fprintf(o, "} %d\n", !s->be[b].down);
	}
	head(o, "xmbuf_lb_backend_weight", "gauge",
	     "weight in the table now (0: down or drained)");
	for (uint32_t b = 0; b < s->nbe; b++) {
		fprintf(o, "xmbuf_lb_backend_weight{");
		vip_labels(o, &s->vips[s->be[b].vip]);
		label(o, "backend", s->be[b].addr, false);
		fprintf(o, "} %u\n", s->be[b].weight);
	}
	head(o, "xmbuf_lb_service_all_down", "gauge",
	     "1 when every backend is down (the last table is kept)");
	for (uint32_t vi = 0; vi < s->nvips; vi++) {
		fprintf(o, "xmbuf_lb_service_all_down{");
		vip_labels(o, &s->vips[vi]);
		fprintf(o, "} %d\n", s->vips[vi].all_down);
	}
}

static void drops(FILE *o, const struct lb_snap *s)
{
	const struct lb_path_stats *p = &s->t.p;
	const struct lb_losses *l = &s->loss;
	const struct {
		const char *reason;
		uint64_t v;
	} r[] = {
		{ "malformed", p->malformed },
		{ "not_ip", p->not_ip },
		{ "not_tcp_udp", p->not_tcp_udp },
		{ "no_service", p->no_service },
		{ "no_backend", p->no_backend },
		{ "frag_no_owner", p->frag_no_owner },
		{ "too_big_unanswered", p->too_big_dropped },
		{ "no_headroom", p->no_headroom },
		{ "tx_full", s->t.tx_full },
		{ "multi_buffer", s->t.multi_buffer },
		{ "rx_ring_full", l->rx_ring_full },
		{ "fill_ring_empty", l->fill_ring_empty },
		{ "rx_kernel_other", l->rx_other },
		{ "rx_port", l->rx_port },
		{ "tx_port", l->tx_port },
		{ "invalid_descs", l->invalid_descs },
		{ "no_socket", l->no_socket },
	};

	head(o, "xmbuf_lb_drops_total", "counter",
	     "packets lost, by where (their sum is the stats line's drop)");
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		fprintf(o, "xmbuf_lb_drops_total{");
		label(o, "reason", r[i].reason, true);
		fprintf(o, "} %llu\n", (unsigned long long)r[i].v);
	}
}

static void port(FILE *o, const struct lb_snap *s)
{
	const struct xm_port_stats *p = &s->port;
	const struct {
		const char *name, *type;
		uint64_t v;
	} m[] = {
		{ "rx_packets_total", "counter", p->rx_packets },
		{ "rx_bytes_total", "counter", p->rx_bytes },
		{ "rx_dropped_sw_total", "counter", p->rx_dropped_sw },
		{ "tx_packets_total", "counter", p->tx_packets },
		{ "tx_bytes_total", "counter", p->tx_bytes },
		{ "tx_dropped_total", "counter", p->tx_dropped },
		{ "tx_completions_total", "counter", p->tx_completions },
		{ "tx_wakeups_total", "counter", p->tx_wakeups },
		{ "fill_added_total", "counter", p->fill_added },
		{ "fill_starved_total", "counter", p->fill_starved },
		{ "rx_dropped_total", "counter", p->rx_dropped },
		{ "rx_invalid_descs_total", "counter", p->rx_invalid_descs },
		{ "tx_invalid_descs_total", "counter", p->tx_invalid_descs },
		{ "rx_ring_full_total", "counter", p->rx_ring_full },
		{ "rx_fill_ring_empty_descs_total", "counter",
		  p->rx_fill_ring_empty_descs },
		{ "tx_ring_empty_descs_total", "counter",
		  p->tx_ring_empty_descs },
		{ "frames_lent", "gauge", p->frames_lent },
		{ "xdp_seen_total", "counter", p->xdp_seen },
		{ "xdp_redirected_total", "counter", p->xdp_redirected },
		{ "xdp_passed_total", "counter", p->xdp_passed },
		{ "xdp_no_socket_total", "counter", p->xdp_no_socket },
	};
	char name[96];

	if (!s->have_port)
		return;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(name, sizeof(name), "xmbuf_port_%s", m[i].name);
		head(o, name, m[i].type, "xm_port_stats()");
		fprintf(o, "%s{", name);
		label(o, "iface", s->iface, true);
		fprintf(o, "} %llu\n", (unsigned long long)m[i].v);
	}
}

static void zones(FILE *o, const struct lb_snap *s)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
		{ "xmbuf_zone_limit", "gauge", "items the zone may have",
		  offsetof(struct xm_zone_stats, limit) },
		{ "xmbuf_zone_capacity", "gauge", "items carved",
		  offsetof(struct xm_zone_stats, capacity) },
		{ "xmbuf_zone_used", "gauge", "items held outside the zone",
		  offsetof(struct xm_zone_stats, used) },
		{ "xmbuf_zone_free", "gauge", "free items",
		  offsetof(struct xm_zone_stats, free) },
		{ "xmbuf_zone_cached", "gauge", "items in thread caches",
		  offsetof(struct xm_zone_stats, cached) },
		{ "xmbuf_zone_requests_total", "counter",
		  "allocation requests (items)",
		  offsetof(struct xm_zone_stats, requests) },
		{ "xmbuf_zone_failures_total", "counter", "failed requests",
		  offsetof(struct xm_zone_stats, failures) },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		head(o, m[i].name, m[i].type, m[i].help);
		for (uint32_t z = 0; z < s->nzones; z++) {
			uint64_t v;

			memcpy(&v, (const char *)&s->zones[z] + m[i].off,
			       sizeof(v));
			fprintf(o, "%s{", m[i].name);
			label(o, "zone", s->zones[z].name, true);
			fprintf(o, "} %llu\n", (unsigned long long)v);
		}
	}
}

void lb_metrics_format(FILE *o, const struct lb_snap *s)
{
	head(o, "xmbuf_lb_config_generation", "gauge",
	     "configuration generation in force (reloads, drains and "
	     "health changes each make one)");
	one(o, "xmbuf_lb_config_generation", s->generation);
	head(o, "xmbuf_lb_uptime_seconds", "gauge", "since the start");
	fprintf(o, "xmbuf_lb_uptime_seconds %.3f\n", s->uptime_s);
	head(o, "xmbuf_lb_reloads_total", "counter", "reloads done");
	one(o, "xmbuf_lb_reloads_total", s->reloads);
	head(o, "xmbuf_lb_reload_failures_total", "counter",
	     "reloads refused");
	one(o, "xmbuf_lb_reload_failures_total", s->reload_failures);
	head(o, "xmbuf_lb_all_down_total", "counter",
	     "times a service found every backend down (table kept)");
	one(o, "xmbuf_lb_all_down_total", s->all_down_events);
	head(o, "xmbuf_lb_health_transitions_total", "counter",
	     "backend state changes");
	one(o, "xmbuf_lb_health_transitions_total", s->health_transitions);
	head(o, "xmbuf_lb_ctl_requests_total", "counter",
	     "control socket commands");
	one(o, "xmbuf_lb_ctl_requests_total", s->ctl_requests);
	head(o, "xmbuf_lb_ctl_errors_total", "counter",
	     "control socket commands refused");
	one(o, "xmbuf_lb_ctl_errors_total", s->ctl_errors);
	head(o, "xmbuf_lb_rx_packets_total", "counter", "packets received");
	one(o, "xmbuf_lb_rx_packets_total", s->t.p.rx);
	head(o, "xmbuf_lb_forwarded_total", "counter",
	     "packets sent to a backend");
	one(o, "xmbuf_lb_forwarded_total", s->t.p.forwarded);
	head(o, "xmbuf_lb_icmp_too_big_sent_total", "counter",
	     "too-big replies sent");
	one(o, "xmbuf_lb_icmp_too_big_sent_total", s->t.p.icmp_sent);
	head(o, "xmbuf_lb_checksums_completed_total", "counter",
	     "TCP/UDP checksums a local sender left partial, finished");
	one(o, "xmbuf_lb_checksums_completed_total", s->t.p.csum_completed);
	head(o, "xmbuf_lb_dropped_total", "counter", "every loss, summed");
	one(o, "xmbuf_lb_dropped_total", lb_losses_total(&s->loss));
	drops(o, s);
	head(o, "xmbuf_lb_flows", "gauge", "connection-table entries");
	for (unsigned int w = 0; w < s->nworkers && s->worker_flows; w++)
		fprintf(o, "xmbuf_lb_flows{worker=\"%u\"} %llu\n", w,
			(unsigned long long)s->worker_flows[w]);
	head(o, "xmbuf_lb_flows_capacity", "gauge",
	     "connection-table entries, all workers");
	one(o, "xmbuf_lb_flows_capacity", s->t.lru_capacity);
	head(o, "xmbuf_lb_lru_evictions_total", "counter",
	     "flows pushed out of a full table");
	one(o, "xmbuf_lb_lru_evictions_total", s->t.lru.evictions);
	services(o, s);
	port(o, s);
	zones(o, s);
}

int lb_metrics_parse_addr(const char *s, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':'), *ps = s;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	snprintf(host, sizeof(host), "127.0.0.1");
	if (colon) {
		size_t hl = (size_t)(colon - s);

		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		ps = colon + 1;
		if (host[0] == '[') {
			if (hl < 3 || host[hl - 1] != ']')
				return -EINVAL;
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		} else if (strchr(host, ':')) {
			return -EINVAL;	/* IPv6 needs its brackets */
		}
	}
	if (*ps < '0' || *ps > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(ps, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -EINVAL;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	}
	return 0;
}

/* ------------------------------------------------------------ server */

struct lb_metrics {
	struct MHD_Daemon *d;
	lb_metrics_snap_fn *snap;
	void *ctx;
	atomic_uint_fast64_t requests;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
		MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned int code,
			    const char *msg)
{
	char *body = strdup(msg);

	return body ? reply(conn, code, "text/plain", body, strlen(body))
		    : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	struct lb_metrics *m = cls;
	struct lb_snap s;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int e;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_len)
		return MHD_NO;		/* no body expected: drop it */
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "GET /metrics only\n");
	if (strcmp(url, "/metrics"))
		return text(conn, MHD_HTTP_NOT_FOUND, "try /metrics\n");
	atomic_fetch_add(&m->requests, 1);
	memset(&s, 0, sizeof(s));
	e = m->snap(m->ctx, &s);
	if (e) {
		lb_snap_free(&s);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot read the balancer's state\n");
	}
	out = open_memstream(&body, &len);
	if (out)
		lb_metrics_format(out, &s);
	lb_snap_free(&s);
	if (out == NULL || fclose(out) != 0) {
		free(body);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "out of memory\n");
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; "
		     "charset=utf-8", body, len);
}

struct lb_metrics *lb_metrics_start(const struct sockaddr_storage *ss,
				    lb_metrics_snap_fn *snap, void *ctx,
				    char *err, size_t errlen)
{
	struct lb_metrics *m = calloc(1, sizeof(*m));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG;

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->snap = snap;
	m->ctx = ctx;
	atomic_init(&m->requests, 0);
	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)LB_METRICS_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)LB_METRICS_TIMEOUT_S,
				MHD_OPTION_END);
	if (m->d == NULL) {
		snprintf(err, errlen, "cannot serve /metrics there (address "
			 "in use, or not an address of this host?)");
		free(m);
		return NULL;
	}
	return m;
}

void lb_metrics_stop(struct lb_metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}

uint64_t lb_metrics_requests(const struct lb_metrics *m)
{
	return m ? atomic_load(&((struct lb_metrics *)m)->requests) : 0;
}

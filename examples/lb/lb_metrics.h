/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_metrics.h - /metrics in the Prometheus text format (version 0.0.4),
 * served by libmicrohttpd on the address --metrics names (loopback when
 * only a port is given; off unless asked).
 *
 *   GET /metrics  -->  snapshot (lb.c, under the control lock)
 *                 -->  lb_metrics_format() (pure)  -->  200 text/plain
 *   anything else -->  404 / 405
 *
 * Families: xmbuf_lb_packets_total, _bytes_total, _new_flows_total
 * {vip,port,proto}; xmbuf_lb_backend_packets_total, _bytes_total,
 * _new_flows_total, _backend_up, _backend_weight
 * {vip,port,proto,backend}; xmbuf_lb_drops_total{reason} (every loss:
 * lb_snapshot.h); xmbuf_lb_flows{worker}; xmbuf_lb_rx_packets_total,
 * _forwarded_total, _config_generation, _reloads_total, ...; the port's
 * counters as xmbuf_port_*{iface}; the zones' as xmbuf_zone_*{zone}.
 */
#ifndef LB_METRICS_H
#define LB_METRICS_H

#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lb_snapshot.h"

/** Writes every metric of s. */
void lb_metrics_format(FILE *out, const struct lb_snap *s);

/**
 * Parses --metrics: "PORT" (127.0.0.1), "ADDR:PORT", "[ADDR6]:PORT".
 * @return 0, or -EINVAL.
 */
int lb_metrics_parse_addr(const char *s, struct sockaddr_storage *ss,
			  socklen_t *len);

/*
 * Fills a snapshot for one scrape (the caller frees it with
 * lb_snap_free()).  @return 0 or -errno.
 */
typedef int lb_metrics_snap_fn(void *ctx, struct lb_snap *s);

struct lb_metrics;

/**
 * Listens on ss and serves /metrics from its own thread.
 * @return the server, or NULL with a message in err.
 */
struct lb_metrics *lb_metrics_start(const struct sockaddr_storage *ss,
				    lb_metrics_snap_fn *snap, void *ctx,
				    char *err, size_t errlen);
/** Stops serving; NULL is allowed. */
void lb_metrics_stop(struct lb_metrics *m);
/** Scrapes answered. */
uint64_t lb_metrics_requests(const struct lb_metrics *m);

#endif /* LB_METRICS_H */

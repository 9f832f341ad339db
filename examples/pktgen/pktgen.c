// SPDX-License-Identifier: BSD-2-Clause
/*
 * pktgen.c - xmbuf-pktgen: a traffic generator and loss/latency meter on
 * the public xmbuf API (xm_umem.h, xm_mbuf.h, xm_port.h, xm_pkt.h).
 *
 *   xmbuf-pktgen tx -i IF [...]          send (AF_XDP or live frames)
 *   xmbuf-pktgen tx -i IF --rx-iface IF2 send on IF, measure on IF2
 *   xmbuf-pktgen rx -i IF [...]          measure what arrives on IF
 *   xmbuf-pktgen rfc2544 -i IF --rx-iface IF2
 *                                        RFC 2544 throughput search, a
 *                                        setup per frame size
 *   xmbuf-pktgen plot FILE.json... -o OUT.svg
 *                                        the numbers as a picture
 *
 * Every command is one or more "runs" (pg_run): receive threads start
 * first, transmit threads send until the count, the duration or a signal
 * stops them, the queues drain, the receive threads stop and their meters
 * are merged.  When one process holds both ends it knows how many each
 * stream sent, so loss at the tail of a run counts too; a separate
 * receiver counts the gaps in the sequence numbers it saw.
 *
 *   pg_cli.c      the command line -> struct pg_args
 *   pktgen.c      main: templates, UMEM, ports (this file), then a command
 *   pg_tx.c       transmit queues and threads   pg_rx.c  receive queues
 *   pg_run.c      one run                       pg_report.c  its summary
 *   pg_rfc2544.c  the throughput search, a run per trial
 *   pg_plot.c     the plot command (pg_json.c reads what it plots)
 *   pure parts    pg_frame (frames), pg_sched (sizes, flows), pg_rate
 *                 (token bucket), pg_meter (loss, order, latency),
 *                 pg_pcap (file), pg_tuples (flow count), pg_resolve
 *                 (interface facts, destination MAC)
 * The parts know struct pg (pg_state.h) and nothing of this file.
 *
 * Output: a stats line once a second on stderr, the summary on stdout
 * (text, or one JSON object with --json).  Exit status 0 success, 1
 * runtime error, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xm_example.h"

#include "pg_cli.h"
#include "pg_plot.h"
#include "pg_report.h"
#include "pg_resolve.h"
#include "pg_rfc2544.h"
#include "pg_run.h"
#include "pg_rx.h"
#include "pg_state.h"
#include "pg_tx.h"

#define PG_PCAP_MAX_PKTS	65536

/* --------------------------------------------------------- templates */

/* The largest wire frame (no FCS) the MTU takes with tags VLAN tags. */
static uint32_t pg_wire_max(uint32_t mtu, unsigned int tags)
{
	return mtu + XM_PKT_ETH_HLEN + tags * XM_PKT_VLAN_HLEN;
}

/* 802.1Q / 802.1ad tags at the front of a frame (at most two). */
static unsigned int pg_frame_tags(const uint8_t *f, uint32_t len)
{
	unsigned int tags = 0;
	uint32_t off = 12;

	while (tags < 2 && off + 2 <= len) {
		uint16_t type = (uint16_t)(f[off] << 8 | f[off + 1]);

		if (type != XM_PKT_ETH_P_VLAN && type != XM_PKT_ETH_P_QINQ &&
		    type != XM_PKT_ETH_P_QINQ_OLD)
			break;
		tags++;
		off += 4;
	}
	return tags;
}

/*
 * The file's pace: each packet's offset from the first (never going
 * back: a file whose clock stepped back sends at once), and a pass's
 * length, the last offset and one mean gap more, so that a loop goes on
 * at the file's mean rate.  @return 0 or the exit status.
 */
static int pg_pcap_timing(struct pg *g)
{
	const struct pg_pcap *pc = &g->pcap;
	uint64_t t0 = pc->pc_pkts[0].pp_ts_ns, prev = 0;

	g->pcap_off = calloc(pc->pc_npkts, sizeof(*g->pcap_off));
	if (!g->pcap_off)
		return xm_ex_error("out of memory");
	for (uint32_t i = 0; i < pc->pc_npkts; i++) {
		uint64_t t = pc->pc_pkts[i].pp_ts_ns;
		uint64_t off = t > t0 ? t - t0 : 0;

		prev = g->pcap_off[i] = off > prev ? off : prev;
	}
	g->pcap_period = prev + (pc->pc_npkts > 1 ? prev / (pc->pc_npkts - 1) :
				 0);
	return 0;
}

/* The packets of --pcap as templates, each checked against the MTU.
 * @return 0 or the exit status. */
static int pg_traffic_pcap(struct pg *g, uint32_t mtu, uint32_t *l2max)
{
	const struct pg_args *a = g->a;
	char err[512];

	if (pg_pcap_load(a->pcap, PG_PCAP_MAX_PKTS,
			 a->engine == PG_ENGINE_LIVE ? XM_LIVE_MAX_FRAME :
			 PG_SIZE_MAX, &g->pcap, err, sizeof(err)))
		return xm_ex_error("bad capture file: %s", err);
	g->stamped = false;
	for (uint32_t i = 0; i < g->pcap.pc_npkts; i++) {
		const struct pg_pcap_pkt *p = &g->pcap.pc_pkts[i];
		uint32_t max = pg_wire_max(mtu, pg_frame_tags(p->pp_data,
							       p->pp_len));

		if (p->pp_len > max)
			return xm_ex_usage_error("%s: packet %u is %u bytes "
				"(a %u-byte frame with FCS): more than the MTU "
				"of %s (%u) takes", a->pcap, i + 1, p->pp_len,
				p->pp_len + PG_FCS_LEN, a->std.ifname, mtu);
	}
	g->ntmpl = g->pcap.pc_npkts;
	g->tmpl = calloc(g->ntmpl, sizeof(*g->tmpl));
	if (!g->tmpl)
		return xm_ex_error("out of memory");
	for (uint32_t i = 0; i < g->ntmpl; i++)
		g->tmpl[i] = (uint8_t *)g->pcap.pc_pkts[i].pp_data;
	*l2max = g->pcap.pc_max_len;
	return pg_pcap_timing(g);
}

/* The flows of the address and port ranges.  @return 0 or the exit
 * status. */
static int pg_traffic_flows(struct pg *g)
{
	const struct pg_args *a = g->a;
	uint32_t base[PG_FLOW_DIMS], count[PG_FLOW_DIMS];
	int rc;

	base[PG_FLOW_SRC] = ntohl(a->family == 4 ? a->src.lo.a_v4 :
				  a->src.lo.a_v6_32[3]);
	base[PG_FLOW_DST] = ntohl(a->family == 4 ? a->dst.lo.a_v4 :
				  a->dst.lo.a_v6_32[3]);
	base[PG_FLOW_SPORT] = a->sport.lo;
	base[PG_FLOW_DPORT] = a->dport.lo;
	count[PG_FLOW_SRC] = a->src.count;
	count[PG_FLOW_DST] = a->dst.count;
	count[PG_FLOW_SPORT] = a->sport.count;
	count[PG_FLOW_DPORT] = a->dport.count;
	if ((uint64_t)a->sport.lo + a->sport.count - 1 > 65535 ||
	    (uint64_t)a->dport.lo + a->dport.count - 1 > 65535)
		return xm_ex_usage_error("port range past 65535");
	rc = pg_flows_init(&g->flows, base, count, a->flows, a->flows_random,
			   a->seed);
	if (rc == -ERANGE)
		return xm_ex_usage_error("the address and port ranges hold "
			"fewer than the %u flows asked (or more than %u "
			"combinations)", a->flows, PG_FLOWS_MAX);
	if (rc)
		return xm_ex_error("out of memory");
	return 0;
}

/* --dst-mac, or the kernel's idea of the next hop.  @return 0 or the
 * exit status. */
static int pg_traffic_dst_mac(struct pg *g)
{
	struct pg_args *a = g->a;
	uint8_t *mac = g->spec.ts_dst_mac;
	const char *how = NULL;
	char err[256];

	if (a->dst_mac.given) {
		memcpy(mac, a->dst_mac.addr, 6);
		return 0;
	}
	if (pg_resolve_mac(a->std.ifname, a->family, &a->dst.lo, mac, &how, err,
			   sizeof(err)))
		return xm_ex_error("cannot resolve the destination MAC: %s",
				   err);
	if (!a->std.quiet)
		fprintf(stderr, "%s: destination MAC %02x:%02x:%02x:%02x:%02x:"
			"%02x from the %s\n", xm_ex_prog(), mac[0], mac[1],
			mac[2], mac[3], mac[4], mac[5], how);
	return 0;
}

/* Generated frames: the spec, the flows, one template per distinct
 * size.  @return 0 or the exit status. */
static int pg_traffic_generated(struct pg *g, uint32_t mtu, uint32_t *l2max)
{
	struct pg_args *a = g->a;
	struct pg_tmpl_spec *s = &g->spec;
	int rc;

	g->stamped = true;
	s->ts_vlan = a->vlan;
	s->ts_family = a->family;
	s->ts_src = a->src.lo;
	s->ts_dst = a->dst.lo;
	s->ts_proto = a->proto;
	s->ts_sport = a->sport.lo;
	s->ts_dport = a->dport.lo;
	memcpy(s->ts_src_mac, a->src_mac.addr, 6);
	/* sizes are said as the user gave them: frames with the FCS */
	for (uint32_t i = 0; i < a->sizes.sz_n; i++)
		if (a->sizes.sz_sizes[i] < pg_tmpl_min_size(s))
			return xm_ex_usage_error("frame size %u is below the %u "
				"bytes this frame needs (headers, the 18-byte "
				"stamp and the FCS)",
				a->sizes.sz_sizes[i] + PG_FCS_LEN,
				pg_tmpl_min_size(s) + PG_FCS_LEN);
	if (a->engine == PG_ENGINE_LIVE && a->sizes.sz_max > XM_LIVE_MAX_FRAME)
		return xm_ex_usage_error("the live engine sends frames of at "
			"most %u bytes with FCS (one page), not %u",
			XM_LIVE_MAX_FRAME + PG_FCS_LEN,
			a->sizes.sz_max + PG_FCS_LEN);
	rc = pg_traffic_flows(g);
	if (rc)
		return rc;
	/* exact: a 1518-byte frame fits an MTU of 1500, 1522 with a tag */
	if (a->engine == PG_ENGINE_AFXDP &&
	    a->sizes.sz_max > pg_wire_max(mtu, a->vlan >= 0))
		return xm_ex_usage_error("%u-byte frames (%u on the wire "
			"without FCS) do not fit the MTU of %s (%u): at most "
			"%u-byte frames%s", a->sizes.sz_max + PG_FCS_LEN,
			a->sizes.sz_max, a->std.ifname, mtu,
			pg_wire_max(mtu, a->vlan >= 0) + PG_FCS_LEN,
			a->vlan >= 0 ? " with the tag" : ", 4 more with --vlan");
	/* the checks above need no privilege and no network; the
	 * destination MAC comes last */
	rc = pg_traffic_dst_mac(g);
	if (rc)
		return rc;
	g->ntmpl = a->sizes.sz_n;
	g->tmpl = calloc(g->ntmpl, sizeof(*g->tmpl));
	if (!g->tmpl)
		return xm_ex_error("out of memory");
	for (uint32_t i = 0; i < g->ntmpl; i++) {
		uint32_t size = a->sizes.sz_sizes[i];

		g->tmpl[i] = malloc(size);
		if (!g->tmpl[i])
			return xm_ex_error("out of memory");
		rc = pg_tmpl_build(s, size, g->tmpl[i], size, &g->ly);
		if (rc)
			return xm_ex_error("cannot build a %u-byte frame: %s",
					   size, strerror(-rc));
	}
	*l2max = a->sizes.sz_max;
	return 0;
}

/* Mean wire bytes of what is sent. */
static double pg_mean_wire(const struct pg *g)
{
	const struct pg_args *a = g->a;

	if (!g->stamped)
		return (double)g->pcap.pc_bytes / g->pcap.pc_npkts;
	return (double)a->sizes.sz_cycle_bytes / a->sizes.sz_len;
}

/* -r resolved for what is sent (a percentage needs the link's speed).
 * @return 0 or the exit status. */
static int pg_traffic_rate(struct pg *g)
{
	const struct pg_args *a = g->a;
	int rc, err = pg_link_speed(a->std.ifname, &g->link_mbps);

	if (err)
		g->link_mbps = 0;
	rc = pg_rate_resolve(&a->rate, pg_mean_wire(g), g->link_mbps,
			     &g->rate);
	if (rc == -ENODEV)
		return xm_ex_usage_error("-r %s: %s reports no link speed (%s):"
			" give the rate in pps or bits per second", a->rate_arg,
			a->std.ifname, err == -ENODATA ? "the driver has none" :
			strerror(-err));
	if (rc)
		return xm_ex_usage_error("-r %s comes to less than one packet "
			"(or bit) per second", a->rate_arg);
	return 0;
}

/* Templates, flows and the layout of what tx and rfc2544 send; the UMEM
 * chunk size.  @return 0 or the exit status. */
static int pg_traffic_setup(struct pg *g)
{
	struct pg_args *a = g->a;
	struct xm_port_ifinfo ifi;
	uint32_t mtu, l2max = 0;
	int rc;

	rc = xm_port_ifinfo(a->std.ifname, &ifi);
	if (rc)
		return xm_ex_error("interface %s: %s", a->std.ifname,
				   strerror(-rc));
	mtu = ifi.mtu;
	if (!a->src_mac.given)
		memcpy(a->src_mac.addr, ifi.mac, 6);
	rc = a->pcap ? pg_traffic_pcap(g, mtu, &l2max) :
	     pg_traffic_generated(g, mtu, &l2max);
	if (rc)
		return rc;
	rc = pg_traffic_rate(g);
	if (rc)
		return rc;
	g->chunk = l2max > XM_MCLBYTES ? XM_MJUMPAGESIZE : XM_MCLBYTES;
	return 0;
}

/* rx only: the chunk that holds a frame of IF's MTU. */
static void pg_rx_chunk(struct pg *g)
{
	struct xm_port_ifinfo ifi;
	uint32_t mtu = xm_port_ifinfo(g->a->std.ifname, &ifi) ? 1500 : ifi.mtu;

	g->chunk = mtu + XM_PKT_ETH_HLEN > 3000 ? XM_MJUMPAGESIZE : XM_MCLBYTES;
}

/* ------------------------------------------------------ UMEM, ports */

/* The UMEM: every pool, every RX ring, with slack for caches. */
static int pg_umem_create(struct pg *g)
{
	const struct pg_args *a = g->a;
	uint64_t frames = 0, segs, rxq = 0, txq = 0, mbufs;
	bool fixed;

	if (a->cmd != PG_CMD_RX && a->engine == PG_ENGINE_AFXDP) {
		txq = a->std.nqueues ? (uint64_t)a->std.nqueues : 1;
		segs = g->stamped ?
		       (a->sizes.sz_max + g->chunk - 1) / g->chunk :
		       (g->pcap.pc_max_len + g->chunk - 1) / g->chunk;
		frames += txq * pg_tx_pool_size(g, &fixed) * segs;
	}
	if (a->cmd == PG_CMD_RX || a->rx_ifname) {
		const char *rif = a->cmd == PG_CMD_RX ? a->std.ifname :
				  a->rx_ifname;
		int nq = a->cmd == PG_CMD_RX ? a->std.nqueues : a->nrx_queues;
		struct xm_port_ifinfo ifi;

		if (nq == 0)
			nq = xm_port_ifinfo(rif, &ifi) ? 1 : (int)ifi.rx_queues;
		rxq = (uint64_t)nq;
		/* every ring full (fill 2x RX, RX) + bursts in hand */
		XM_OPTS(xm_port_frames_opts, fo,
			.nqueues = (uint32_t)nq,
			.rx_size = PG_RX_RING,
			.fill_size = 2 * PG_RX_RING,
			.held = PG_BURST_MAX,
			.flags = XM_PORT_F_RX_ONLY);
		frames += xm_port_frames_needed(&fo);
	}
	/* copy frames for the port, caches (two buckets per thread), the
	 * default reserve (1/32, at most 256) */
	frames += (txq + rxq + 1) * 256 + 1024;
	frames += frames / 31 + 256;
	mbufs = frames + txq * PG_TX_RING * 2 + 4096;
	XM_OPTS(xm_umem_opts, uo,
		.chunk_size = g->chunk,
		.nmbclusters = g->chunk == XM_MCLBYTES ? (uint32_t)frames : 1024,
		.nmbjumbop = g->chunk == XM_MCLBYTES ? 64 : (uint32_t)frames,
		.nmbjumbo9 = 16,
		.nmbjumbo16 = 16,
		.nmbufs = (uint32_t)(mbufs + frames + 2048));
	g->u = xm_umem_create(&uo);
	if (!g->u)
		return xm_ex_error("cannot create the UMEM (%llu frames of %u "
				   "bytes): %s", (unsigned long long)frames,
				   g->chunk, strerror(errno));
	return 0;
}

static int pg_ports_open(struct pg *g)
{
	const struct pg_args *a = g->a;
	static const uint32_t q0 = 0;

	if (a->cmd != PG_CMD_RX && a->engine == PG_ENGINE_AFXDP) {
		XM_OPTS(xm_port_opts, po,
			.queues = a->std.nqueues ? a->std.queues : &q0,
			.nqueues = a->std.nqueues ? (uint32_t)a->std.nqueues : 1,
			.mode = a->std.mode,
			.tx_size = PG_TX_RING,
			.comp_size = PG_TX_RING,
			.port_index = 0,
			.flags = XM_PORT_F_TX_ONLY,
			.tx_budget = a->tx_budget,
			.busy_poll_budget = a->std.busy_poll);
		g->txp = xm_port_open(g->u, a->std.ifname, &po);
		if (!g->txp)
			return xm_ex_error("cannot open an AF_XDP port on %s: %s",
					   a->std.ifname, strerror(errno));
		snprintf(g->tx_mode, sizeof(g->tx_mode), "%s",
			 xm_port_mode_name(xm_port_mode(g->txp)));
		g->tx_budget = xm_port_tx_budget(g->txp);
	} else if (a->cmd != PG_CMD_RX) {
		snprintf(g->tx_mode, sizeof(g->tx_mode), "live");
	}
	if (a->cmd == PG_CMD_RX || a->rx_ifname) {
		const char *rif = a->cmd == PG_CMD_RX ? a->std.ifname : a->rx_ifname;
		int nq = a->cmd == PG_CMD_RX ? a->std.nqueues : a->nrx_queues;

		XM_OPTS(xm_port_opts, po,
			.queues = nq ? (a->cmd == PG_CMD_RX ? a->std.queues :
					a->rx_queues) : NULL,
			.nqueues = (uint32_t)nq,
			.mode = a->std.mode,
			.rx_size = PG_RX_RING,
			.fill_size = 2 * PG_RX_RING,
			.port_index = 1,
			.flags = XM_PORT_F_RX_ONLY,
			.busy_poll_budget = a->std.busy_poll);
		g->rxp = xm_port_open(g->u, rif, &po);
		if (!g->rxp)
			return xm_ex_error("cannot open an AF_XDP port on %s: %s",
					   rif, strerror(errno));
		snprintf(g->rx_mode, sizeof(g->rx_mode), "%s",
			 xm_port_mode_name(xm_port_mode(g->rxp)));
	}
	return 0;
}

/* ------------------------------------------------------ open, close */

/*
 * Everything a command needs: the templates (or the rx chunk size), the
 * UMEM, the ports, the queues.  @return 0 or the exit status; what was
 * made is undone by pg_close() either way.
 */
static int pg_open(struct pg *g)
{
	const struct pg_args *a = g->a;
	int ret;

	g->ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (g->ncpus <= 0)
		g->ncpus = 1;
	if (a->cmd != PG_CMD_RX) {
		ret = pg_traffic_setup(g);
		if (ret)
			return ret;
	} else {
		pg_rx_chunk(g);
	}
	ret = pg_umem_create(g);
	if (!ret)
		ret = pg_ports_open(g);
	if (!ret && a->cmd != PG_CMD_RX && pg_tx_setup(g))
		ret = XM_EX_RUNTIME;
	if (!ret && g->rxp && pg_rx_setup(g))
		ret = XM_EX_RUNTIME;
	if (!ret && !a->std.quiet && a->cmd != PG_CMD_RX)
		fprintf(stderr, "%s: %s on %s: %s engine%s%s, %u queue(s)%s%s\n",
			xm_ex_prog(), a->cmd == PG_CMD_TX ? "tx" : "rfc2544",
			a->std.ifname, a->engine == PG_ENGINE_LIVE ? "live" : "afxdp",
			g->txp ? ", mode " : "", g->txp ? g->tx_mode : "",
			g->ntxq, g->rxp ? ", receiving on " : "",
			g->rxp ? a->rx_ifname : "");
	return ret;
}

/*
 * Undoes pg_open(), printing the summary of r (NULL: none) once the
 * ports are closed and every frame is back home.  @return ret, or
 * XM_EX_RUNTIME when the frame audit fails.
 */
static int pg_close(struct pg *g, const struct pg_result *r, int ret)
{
	uint64_t held = 0;
	int audit_err = 0;

	/* the ports first: closing reaps what is still in flight, whose
	 * release calls back into the pools */
	xm_port_close(g->txp);
	xm_port_close(g->rxp);
	g->txp = g->rxp = NULL;
	pg_tx_release(g);
	if (g->u) {
		xm_umem_cache_flush(g->u);
		audit_err = xm_umem_audit(g->u, &held);
	}
	if (r)
		pg_report_run(g, r, audit_err, held);
	if (g->u && (audit_err || held)) {
		xm_ex_error("frame audit failed: %llu frames not home",
			    (unsigned long long)held);
		ret = XM_EX_RUNTIME;
	}
	pg_rx_teardown(g);
	pg_tx_teardown(g);
	xm_umem_destroy(g->u);
	g->u = NULL;
	if (g->tmpl && g->stamped)
		for (uint32_t i = 0; i < g->ntmpl; i++)
			free(g->tmpl[i]);
	free(g->tmpl);
	g->tmpl = NULL;
	pg_flows_free(&g->flows);
	pg_pcap_free(&g->pcap);
	free(g->pcap_off);
	g->pcap_off = NULL;
	return ret;
}

/* -------------------------------------------------------------- main */

/*
 * rfc2544: a search per frame size of the schedule (one of the whole
 * mix with --imix), each on its own setup (templates, UMEM, ports), then
 * one report of them all.  @return the exit status.
 */
static int pg_rfc2544_all(struct pg_args *a, uint64_t t_start)
{
	struct pg_sizes all = a->sizes;
	unsigned int n = a->imix ? 1 : all.sz_n;
	struct pg_rfc2544 *rf = pg_rfc2544_new(a, n);
	int ret = XM_EX_OK;

	if (!rf)
		return xm_ex_error("out of memory");
	memset(&a->sizes, 0, sizeof(a->sizes));
	for (unsigned int i = 0; i < n && !xm_ex_stopping(); i++) {
		struct pg g = { .a = a, .t_start = t_start };

		if (a->imix)
			a->sizes = all;
		else if (pg_sizes_fixed(&a->sizes, all.sz_sizes[i]))
			ret = xm_ex_error("out of memory");
		if (!ret)
			ret = pg_open(&g);
		if (!ret && pg_rfc2544_size(&g, rf))
			ret = XM_EX_RUNTIME;
		ret = pg_close(&g, NULL, ret);
		if (a->imix)
			memset(&a->sizes, 0, sizeof(a->sizes));
		else
			pg_sizes_free(&a->sizes);
		if (ret)
			break;
	}
	a->sizes = all;
	if (!ret)
		ret = pg_rfc2544_report(rf);
	pg_rfc2544_free(rf);
	return ret;
}

/* tx or rx: one run, summed up once the ports are closed. */
static int pg_tx_rx(struct pg *g, struct pg_result *r)
{
	const struct pg_args *a = g->a;
	struct pg_run_opts o = {
		.count = a->cmd == PG_CMD_TX ? a->count : 0,
		.seconds = a->std.seconds,
		.rate = g->rate,
		.rx_count = a->cmd == PG_CMD_RX ? a->count : 0,
		.idle_s = a->idle_s,
		.stats_line = !a->std.quiet,
		.stream = a->json_stream,
		.interval_s = a->interval_s,
	};

	/* --pcap-loop N: every queue sends the file N times */
	if (a->cmd == PG_CMD_TX && a->pcap && a->pcap_loop)
		o.count = (uint64_t)a->pcap_loop * g->pcap.pc_npkts * g->ntxq;
	return pg_run(g, &o, r) ? XM_EX_RUNTIME : XM_EX_OK;
}

int main(int argc, char **argv)
{
	struct pg_args a;
	struct pg g = { .a = &a };
	struct pg_result r = {};
	bool ran = false;
	int ret, err;

	xm_ex_set_prog(argv[0]);
	g.t_start = xm_ex_now_ns();
	/* plot reads files and writes one: no table of the others */
	if (argc > 1 && !strcmp(argv[1], "plot"))
		return pg_plot_main(argc - 1, argv + 1);
	ret = pg_cli_parse(argc, argv, &a);
	if (ret >= 0)
		goto out_args;
	xm_ex_set_print(a.std.verbose, false);
	err = xm_ex_signals_install();
	if (err) {
		ret = xm_ex_error("cannot install signal handlers: %s",
				  strerror(-err));
		goto out_args;
	}
	if (a.cmd == PG_CMD_RFC2544) {
		ret = pg_rfc2544_all(&a, g.t_start);
		goto out_args;
	}
	ret = pg_open(&g);
	if (!ret) {
		ret = pg_tx_rx(&g, &r);
		ran = true;
	}
	ret = pg_close(&g, ran ? &r : NULL, ret);
	pg_result_free(&r);
out_args:
	pg_cli_free(&a);
	return ret;
}

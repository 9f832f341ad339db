/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_tx.c - the two transmit engines of xmbuf-pktgen.
 *
 * AF_XDP (default): each queue owns a pool of UMEM frames, built once
 * before the first packet (template bytes, flow fields, checksums), and
 * sends them over and over without copying a byte:
 *
 *   pool (npool slots, used in order)            port queue
 *   +------+------+------+-- ... --+             tx_burst()
 *   | slot | slot | slot |         |  the slot's  ------------> TX ring
 *   +------+------+------+-- ... --+  own mbuf,    completion: xm_free()
 *      ^ next: stamp (18 bytes),      re-armed     of it calls back
 *        flow fields if they change,               pg_slot_done(): the
 *        checksums by delta                        slot is free again
 *
 * How a slot reaches the port without a copy (--tx-ref): by default its
 * own headers, re-armed per packet over the frame as XM_EXT_EXTREF
 * storage marked XM_NOFREE (mbuf(9)'s M_NOFREE: the header is the
 * caller's), so the completion's free only calls pg_slot_done(); or, with
 * copym, a new header from xm_copym() sharing the frame's count, freed at
 * completion (measured at 64 bytes on veth: 12.7% of the sender's CPU in
 * user space with copym, 8.3% with its own headers).  A slot is rewritten
 * only while the port holds none of it, because every packet carries its
 * own sequence number and time.  The pool outlasts what can be in
 * flight (twice the TX ring in zero-copy mode; 1024 frames in copy mode,
 * where the kernel is done with a frame within the sendto() that sent
 * it); its length is a multiple of the size cycle (a slot keeps its size
 * forever) and, when that stays small, of the flow count too (a slot
 * keeps its flow and only the stamp changes).  pcap templates carry no
 * stamp: one frame per packet of the file, sent as xm_copym() references
 * (several may be in flight at once) without ever being written.
 *
 * KPI (pg_tx.h): pg_tx_pool_size, pg_tx_setup, pg_tx_release,
 * pg_tx_teardown, pg_tx_worker, pg_tx_streams.
 *
 * Live frames (--engine live): xm_live_send() hands the largest template
 * to the kernel with a repeat count; the library's program cuts each copy
 * to its size in the cycle, steps the flows and stamps it.  A call costs
 * a kernel page-pool teardown (~30 ms), so calls are big: rate limiting
 * is per call, in bursts of up to PG_LIVE_BURST_NS worth of frames.
 *
 * Rate: a token bucket per queue (pg_rate.h), in packets or bits (a
 * packet costs (wire bytes + 4) * 8 bits at L2, + 24 at L1); a queue
 * waits until a burst's worth is there, sleeping when the wait is long,
 * spinning (and reaping completions) when it is short.
 *
 * A file's own timing (--pcap-speed original or xN): packet s of the
 * endless replay is due at its time in the file, (s / packets) passes
 * of g->pcap_period plus its offset in the pass, divided by the speed,
 * from the moment the queue sent its first packet; a burst is what is
 * due, and the queue sleeps until the next one is.  Being late never
 * drops a packet: it goes out as soon as it can, and the ones after it
 * keep their own times.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/prctl.h>

#include "xm_example.h"

#include "pg_rate.h"
#include "pg_stamp.h"
#include "pg_tx.h"

#define PG_SLEEP_MIN_NS		30000	/* shorter waits spin */
#define PG_SLEEP_EARLY_NS	10000	/* wake this much before */
#define PG_LIVE_CALL_MAX	262144	/* frames per BPF_PROG_RUN, unlimited:
					 * ~100 ms, past the ~30 ms a call
					 * costs however small */
#define PG_LIVE_BURST_NS	50000000 /* a rate-limited live call: 50 ms */
#define PG_BURST_NS		50000	/* a rate-limited burst lasts <= this */
#define PG_PREFETCH_AHEAD	8	/* AF_XDP: slots prefetched ahead */
#define PG_TIMED_WAIT_MAX_NS	50000000 /* a timed replay's longest sleep */

/* ------------------------------------------------------------ frames */

/*
 * A frame of size bytes as an mbuf chain of chunk-size clusters (one
 * descriptor each), filled from bytes.  @return the chain or NULL.
 */
static struct xm_mbuf *pg_frame_alloc(struct pg *g, const uint8_t *bytes,
				      uint32_t size, struct xm_mbuf **last)
{
	struct xm_mbuf *head = NULL, *tail = NULL;
	uint32_t off = 0;

	while (off < size) {
		int flags = head ? 0 : XM_PKTHDR;
		struct xm_mbuf *m;
		uint32_t k;

		if (g->chunk == XM_MCLBYTES)
			m = xm_getcl(g->u, XM_NOWAIT, XM_MT_DATA, flags);
		else
			m = xm_getjcl(g->u, XM_NOWAIT, XM_MT_DATA, flags,
				      XM_MJUMPAGESIZE);
		if (!m) {
			xm_freem(head);
			return NULL;
		}
		k = size - off < g->chunk ? size - off : g->chunk;
		memcpy(m->m_data, bytes + off, k);
		m->m_len = (int32_t)k;
		if (tail)
			tail->m_next = m;
		else
			head = m;
		tail = m;
		off += k;
	}
	head->m_pkthdr.len = size;
	*last = tail;
	return head;
}

/*
 * PG_REF_OWN: the port frees each segment's header when its descriptor
 * completes; the headers are XM_NOFREE, so that only drops the EXTREF
 * storage's one reference and calls this.  Runs in the queue's thread
 * (completions are reaped by its own tx_burst / tx_complete calls).
 */
static void pg_slot_done(struct xm_mbuf *m)
{
	struct pg_slot *s = m->m_ext.ext_arg1;

	s->sl_inflight--;
}

/* Makes the slot's headers a packet again, each over its frame. */
static struct xm_mbuf *pg_slot_arm(struct pg *g, struct pg_slot *s)
{
	uint32_t left = s->sl_size;

	for (unsigned int i = 0; i < s->sl_nsegs; i++) {
		struct xm_mbuf *m = s->sl_seg[i];
		uint32_t k = left < g->chunk ? left : g->chunk;

		/* the last free left XM_EXT set and, under INVARIANTS,
		 * m_type "freed": start from a clean header of ours */
		m->m_flags = 0;
		m->m_type = XM_MT_DATA;
		xm_extadd(m, s->sl_frame[i], g->chunk, pg_slot_done, s, NULL,
			  XM_NOFREE, XM_EXT_EXTREF);
		m->m_len = (int32_t)k;
		m->m_nextpkt = NULL;
		m->m_next = i + 1 < s->sl_nsegs ? s->sl_seg[i + 1] : NULL;
		left -= k;
	}
	s->sl_m->m_flags |= XM_PKTHDR;
	s->sl_m->m_pkthdr.len = s->sl_size;
	s->sl_inflight = s->sl_nsegs;
	return s->sl_m;
}

/* PG_REF_OWN: headers and frames of size bytes, filled from bytes. */
static int pg_slot_own(struct pg *g, struct pg_slot *s, const uint8_t *bytes)
{
	struct xm_zone *z = xm_umem_zone(g->u, g->chunk == XM_MCLBYTES ?
					 XM_ZONE_CLUST : XM_ZONE_JUMBOP);
	uint32_t off = 0;

	s->sl_nsegs = (uint8_t)((s->sl_size + g->chunk - 1) / g->chunk);
	if (s->sl_nsegs > PG_MAX_SEGS)
		return -EINVAL;
	for (unsigned int i = 0; i < s->sl_nsegs; i++) {
		uint32_t k = s->sl_size - off < g->chunk ? s->sl_size - off :
			     g->chunk;

		s->sl_seg[i] = i ? xm_get(g->u, XM_NOWAIT, XM_MT_DATA) :
			       xm_gethdr(g->u, XM_NOWAIT, XM_MT_DATA);
		s->sl_frame[i] = xm_zone_alloc(z, XM_NOWAIT);
		if (!s->sl_seg[i] || !s->sl_frame[i])
			return -ENOBUFS;
		memcpy(s->sl_frame[i], bytes + off, k);
		off += k;
	}
	s->sl_hdr = (uint8_t *)s->sl_frame[0];
	s->sl_m = s->sl_seg[0];
	pg_slot_arm(g, s);
	s->sl_inflight = 0;
	return 0;
}

/* Frees what pg_slot_own() took; the port must be closed (no callback
 * may come later). */
static void pg_slot_own_free(struct pg *g, struct pg_slot *s)
{
	struct xm_zone *z = xm_umem_zone(g->u, g->chunk == XM_MCLBYTES ?
					 XM_ZONE_CLUST : XM_ZONE_JUMBOP);

	for (unsigned int i = 0; i < PG_MAX_SEGS; i++) {
		struct xm_mbuf *m = s->sl_seg[i];

		if (m) {
			/* a plain header again: no storage, freeable */
			m->m_flags = 0;
			m->m_type = XM_MT_DATA;
			m->m_next = NULL;
			xm_free(m);
		}
		if (s->sl_frame[i])
			xm_zone_free(z, s->sl_frame[i]);
		s->sl_seg[i] = NULL;
		s->sl_frame[i] = NULL;
	}
}

static uint64_t pg_lcm(uint64_t a, uint64_t b)
{
	uint64_t x = a, y = b;

	while (y) {
		uint64_t t = x % y;

		x = y;
		y = t;
	}
	return a / x * b;
}

uint32_t pg_tx_pool_size(const struct pg *g, bool *fixed_flows)
{
	const struct pg_args *a = g->a;
	uint64_t n, want;
	uint32_t segs;

	*fixed_flows = true;
	if (!g->stamped)
		return g->pcap.pc_npkts;
	segs = (a->sizes.sz_max + g->chunk - 1) / g->chunk;
	/*
	 * Zero-copy: a frame is the NIC's until its completion, and the TX
	 * ring's worth may be out.  Copy mode: the kernel is done with a
	 * frame within the sendto() that sent it, so a smaller pool stays
	 * in cache (measured: ~1% of the CPU less at 64 bytes on veth).
	 * Before the port is open (UMEM sizing), the larger.
	 */
	if (a->pool)
		want = a->pool;
	else if (g->txp && xm_port_mode(g->txp) != XM_PORT_MODE_ZEROCOPY)
		want = 1024 / segs;
	else
		want = 2 * PG_TX_RING / segs;
	if (want < 256)
		want = 256;
	n = (want + a->sizes.sz_len - 1) / a->sizes.sz_len * a->sizes.sz_len;
	/* a slot keeps its flow when the pool can be a multiple of the flow
	 * count without growing much */
	if (g->flows.fl_n > 1) {
		uint64_t l = pg_lcm(n, g->flows.fl_n);

		if (l <= 4 * n + 4096 && l <= 65536)
			n = l;
		else
			*fixed_flows = false;
	}
	return (uint32_t)n;
}

/* Builds queue q's pool.  @return 0 or -errno (message printed). */
static int pg_pool_build(struct pg *g, struct pg_txq *q)
{
	const struct pg_args *a = g->a;
	uint8_t *scratch;
	uint32_t n = pg_tx_pool_size(g, &q->fixed_flows);

	q->pool = calloc(n, sizeof(*q->pool));
	scratch = malloc(PG_SIZE_MAX + 64);
	if (!q->pool || !scratch) {
		free(scratch);
		return xm_ex_error("out of memory for the frame pool"), -ENOMEM;
	}
	q->npool = (uint32_t)n;
	/* a file's frames go out unchanged and may be in flight many times
	 * at once: shared references; stamped frames are one at a time */
	q->ref = g->stamped ? a->ref : PG_REF_COPYM;
	for (uint32_t j = 0; j < q->npool; j++) {
		struct pg_slot *s = &q->pool[j];
		const uint8_t *src;

		if (!g->stamped) {
			src = g->pcap.pc_pkts[j].pp_data;
			s->sl_size = g->pcap.pc_pkts[j].pp_len;
		} else {
			uint32_t idx = a->sizes.sz_cycle[j % a->sizes.sz_len];

			s->sl_size = a->sizes.sz_sizes[idx];
			memcpy(scratch, g->tmpl[idx], s->sl_size);
			s->sl_flow = 0;
			if (q->fixed_flows && g->flows.fl_n > 1) {
				s->sl_flow = pg_flows_index(&g->flows, j);
				pg_tmpl_set_flow(scratch, &g->ly, &g->flows,
						 s->sl_flow);
			}
			src = scratch;
		}
		if (q->ref == PG_REF_OWN) {
			if (pg_slot_own(g, s, src))
				s->sl_m = NULL;
		} else {
			s->sl_m = pg_frame_alloc(g, src, s->sl_size,
						 &s->sl_last);
		}
		if (!s->sl_m) {
			free(scratch);
			xm_ex_error("queue %u: cannot allocate frame %u of %u "
				    "for the pool: %s", q->qidx, j, q->npool,
				    strerror(errno));
			return -ENOBUFS;
		}
		s->sl_hdr = xm_mtod(s->sl_m, uint8_t *);
	}
	free(scratch);
	return 0;
}

static void pg_pool_free(struct pg *g, struct pg_txq *q)
{
	for (uint32_t j = 0; q->pool && j < q->npool; j++) {
		if (q->ref == PG_REF_OWN)
			pg_slot_own_free(g, &q->pool[j]);
		else
			xm_freem(q->pool[j].sl_m);
	}
	free(q->pool);
	q->pool = NULL;	/* npool stays: the summary reports it */
}

/* ------------------------------------------------------------- setup */

/*
 * The length fields the live program rewrites when it cuts a frame to
 * its size, and which checksums each one moves (see struct xm_live_len).
 */
static void pg_live_lens(const struct pg *g, struct xm_live_opts *lo)
{
	const struct pg_layout *ly = &g->ly;
	bool tcp = !ly->ly_udp;
	unsigned int n = 0;

	if (g->spec.ts_family == 4) {
		lo->lens[n].ll_off = ly->ly_l3_off + 2;
		lo->lens[n].ll_sub = (uint16_t)ly->ly_l3_off;
		lo->lens[n++].ll_flags = XM_LIVE_F_CSUM_IP |
					 (tcp ? XM_LIVE_F_CSUM_L4 : 0);
	} else {
		lo->lens[n].ll_off = ly->ly_l3_off + 4;
		lo->lens[n].ll_sub = (uint16_t)(ly->ly_l3_off +
						XM_PKT_IPV6_HLEN);
		lo->lens[n++].ll_flags = tcp ? XM_LIVE_F_CSUM_L4 : 0;
	}
	if (!tcp) {
		lo->lens[n].ll_off = ly->ly_l4_off + 4;
		lo->lens[n].ll_sub = (uint16_t)ly->ly_l4_off;
		lo->lens[n++].ll_flags = XM_LIVE_F_CSUM_L4_2X;
	}
	lo->nlens = n;
}

static int pg_live_open(struct pg *g)
{
	const struct pg_args *a = g->a;
	uint32_t *cycle = NULL;
	unsigned int nf = 0;

	XM_OPTS(xm_live_opts, lo, .batch_size = 64);
	if (g->stamped) {
		lo.stamp_off = g->ly.ly_stamp_off;
		lo.ip_csum_off = g->ly.ly_ip_csum_off;
		lo.l4_csum_off = g->ly.ly_l4_csum_off;
		lo.l4_udp = g->ly.ly_udp;
		lo.stream = a->stream;
		lo.nflows = g->flows.fl_n;
		lo.flow_order = g->flows.fl_perm;
		/* the same mixed radix as pg_flows: digits of count 1 are
		 * left out, which leaves every divisor unchanged */
		for (unsigned int d = 0; d < PG_FLOW_DIMS; d++) {
			struct xm_live_field *f = &lo.fields[nf];

			if (g->flows.fl_count[d] <= 1)
				continue;
			f->lf_off = g->ly.ly_field_off[d];
			f->lf_len = g->ly.ly_field_len[d];
			f->lf_base = g->flows.fl_base[d];
			f->lf_count = g->flows.fl_count[d];
			f->lf_flags = (g->ly.ly_field_csum[d] & PG_CSUM_IP ?
				       XM_LIVE_F_CSUM_IP : 0) |
				      (g->ly.ly_field_csum[d] & PG_CSUM_L4 ?
				       XM_LIVE_F_CSUM_L4 : 0);
			nf++;
		}
		lo.nfields = nf;
		if (a->sizes.sz_n > 1) {
			cycle = malloc(a->sizes.sz_len * sizeof(*cycle));
			if (!cycle)
				return xm_ex_error("out of memory"), -ENOMEM;
			for (uint32_t i = 0; i < a->sizes.sz_len; i++)
				cycle[i] = pg_sizes_at(&a->sizes, i);
			lo.size_cycle = cycle;
			lo.nsizes = a->sizes.sz_len;
			pg_live_lens(g, &lo);
		}
	}
	g->live = xm_live_open(a->std.ifname, &lo);
	if (!g->live) {
		int err = -errno;

		free(cycle);
		xm_ex_error("cannot load the live-frames engine on %s: %s",
			    a->std.ifname, strerror(-err));
		return err;
	}
	free(cycle);
	return 0;
}

int pg_tx_setup(struct pg *g)
{
	const struct pg_args *a = g->a;
	int err;

	g->ntxq = a->engine == PG_ENGINE_LIVE ?
		  (a->std.nqueues ? (unsigned int)a->std.nqueues : 1) :
		  xm_port_queue_count(g->txp);
	g->txq = calloc(g->ntxq, sizeof(*g->txq));
	if (!g->txq)
		return xm_ex_error("out of memory"), -ENOMEM;
	for (unsigned int i = 0; i < g->ntxq; i++) {
		struct pg_txq *q = &g->txq[i];

		q->g = g;
		q->qidx = i;
		q->stream = (uint16_t)(a->stream + i);
	}
	if (a->engine == PG_ENGINE_LIVE)
		return pg_live_open(g);
	for (unsigned int i = 0; i < g->ntxq; i++) {
		err = pg_pool_build(g, &g->txq[i]);
		if (err)
			return err;
	}
	return 0;
}

void pg_tx_release(struct pg *g)
{
	for (unsigned int i = 0; g->txq && i < g->ntxq; i++)
		pg_pool_free(g, &g->txq[i]);
	xm_live_close(g->live);
	g->live = NULL;
}

void pg_tx_teardown(struct pg *g)
{
	pg_tx_release(g);
	free(g->txq);
	g->txq = NULL;
	g->ntxq = 0;
}

int pg_tx_streams(struct pg *g, uint16_t *ids, uint64_t *next,
		  unsigned int max)
{
	unsigned int n = 0;

	if (!g->stamped)
		return 0;
	if (g->live) {
		uint64_t *f = calloc((size_t)g->ncpus, sizeof(*f));
		int nc;

		if (!f)
			return -ENOMEM;
		nc = xm_live_cpu_frames(g->live, f, (unsigned int)g->ncpus);
		if (nc < 0) {
			free(f);
			return nc;
		}
		for (int c = 0; c < nc && c < g->ncpus && n < max; c++) {
			ids[n] = (uint16_t)(g->a->stream + c);
			next[n++] = f[c];
		}
		free(f);
		return (int)n;
	}
	for (unsigned int i = 0; i < g->ntxq && n < max; i++) {
		ids[n] = g->txq[i].stream;
		next[n++] = g->txq[i].seq;
	}
	return (int)n;
}

/* ------------------------------------------------------------ pacing */

struct pg_pace {
	struct pg_rate pc_tb;		/* the bucket */
	bool pc_on;			/* rate-limited */
	bool pc_bits;			/* costs in bits */
	uint32_t pc_burst;		/* packets per burst */
};

static void pg_pace_init(struct pg_pace *pc, const struct pg_txq *q,
			 uint32_t max_burst, uint64_t mean_size,
			 uint64_t burst_ns)
{
	uint64_t pps, depth, unit;

	memset(pc, 0, sizeof(*pc));
	pc->pc_burst = max_burst;
	if (!q->rate)
		return;
	pc->pc_on = true;
	pc->pc_bits = q->rate_bits;
	unit = pc->pc_bits ? (mean_size + q->rate_overhead) * 8 : 1;
	pps = q->rate / unit;
	pc->pc_burst = pg_rate_burst(pps ? pps : 1, max_burst, burst_ns);
	/* room for 10 ms of stall (a preempted thread) and some bursts: a
	 * late wake-up is made up for, so the long-run rate is exact */
	depth = q->rate / 100;
	if (depth < 2 * (uint64_t)pc->pc_burst * unit * 4)
		depth = 2 * (uint64_t)pc->pc_burst * unit * 4;
	pg_rate_init(&pc->pc_tb, q->rate, depth, pc->pc_burst * unit,
		     xm_ex_now_ns());
}

/*
 * Waits ns, reaping completions while it spins.  Longer waits sleep (the
 * thread's timer slack is 1 ns, so a sleep ends within a few us of its
 * time); the bucket's depth makes up for a late wake-up.
 */
static void pg_wait(struct pg *g, struct pg_txq *q, uint64_t ns)
{
	if (ns > PG_SLEEP_MIN_NS) {
		struct timespec ts = {
			.tv_sec = (time_t)((ns - PG_SLEEP_EARLY_NS) /
					   PG_NS_PER_S),
			.tv_nsec = (long)((ns - PG_SLEEP_EARLY_NS) %
					  PG_NS_PER_S),
		};

		if (g->txp)
			xm_port_tx_complete(g->txp, q->qidx);
		nanosleep(&ts, NULL);
		return;
	}
	uint64_t end = xm_ex_now_ns() + ns;

	while (xm_ex_now_ns() < end)
		if (g->txp)
			xm_port_tx_complete(g->txp, q->qidx);
}

/* How many of n packets the queue's limit still allows: 0 once it is
 * reached. */
static uint32_t pg_tx_left(struct pg_txq *q, uint32_t n)
{
	uint64_t sent = atomic_load_explicit(&q->sent, memory_order_relaxed);

	if (!q->limit)
		return n;
	if (sent >= q->limit)
		return 0;
	return q->limit - sent < n ? (uint32_t)(q->limit - sent) : n;
}

/* n packets of bytes sent, the first of them at now. */
static void pg_tx_count(struct pg_txq *q, uint64_t now, uint64_t n,
			uint64_t bytes)
{
	if (!q->t_first)
		q->t_first = now;
	q->t_last = xm_ex_now_ns();
	atomic_fetch_add_explicit(&q->sent, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->bytes, bytes, memory_order_relaxed);
}

/* ------------------------------------------------------- AF_XDP engine */

/*
 * Stamps and hands the next n packets to the port.  @return packets the
 * port accepted (the rest are rolled back: same sequence next time).
 */
static uint32_t pg_afxdp_burst(struct pg *g, struct pg_txq *q, uint32_t n,
			       uint64_t now, uint64_t *bytes)
{
	struct xm_mbuf *pkts[PG_BURST_MAX];
	const struct pg_layout *ly = &g->ly;
	uint32_t built = 0, acc, pos = (uint32_t)(q->seq % q->npool);
	uint32_t ahead = pos + PG_PREFETCH_AHEAD;

	*bytes = 0;
	if (ahead >= q->npool)
		ahead %= q->npool;
	for (; built < n; built++) {
		uint64_t seq = q->seq + built;
		struct pg_slot *s = &q->pool[pos];
		struct pg_slot *sa = &q->pool[ahead];
		struct xm_mbuf *c;

		/*
		 * The stamp's read of the old bytes waits on the frame's
		 * line (a third of this function's samples): ask for it and
		 * the header a few packets ahead.  Measured at 64 bytes on
		 * veth: 0.5% of the sender's CPU less in user space, and the
		 * kernel's copy of the frame a little cheaper too.  pos
		 * walks the pool without a division per packet.
		 */
		__builtin_prefetch(sa->sl_hdr + ly->ly_stamp_off, 1);
		__builtin_prefetch(sa->sl_m, 1);
		if (++pos == q->npool)
			pos = 0;
		if (++ahead == q->npool)
			ahead = 0;

		if (q->ref == PG_REF_OWN ? s->sl_inflight != 0 :
		    xm_refcnt(s->sl_last) > 1) {
			/* still in flight: reap, then give up on the burst */
			xm_port_tx_complete(g->txp, q->qidx);
			if (q->ref == PG_REF_OWN ? s->sl_inflight != 0 :
			    xm_refcnt(s->sl_last) > 1)
				break;
		}
		if (g->stamped) {
			uint32_t d;

			if (!q->fixed_flows) {
				uint32_t k = pg_flows_index(&g->flows, seq);

				if (k != s->sl_flow) {
					pg_tmpl_set_flow(s->sl_hdr, ly,
							 &g->flows, k);
					s->sl_flow = k;
				}
			}
			d = pg_stamp_write(s->sl_hdr + ly->ly_stamp_off,
					   q->stream, seq & PG_SEQ_MASK, now);
			pg_csum_apply(s->sl_hdr + ly->ly_l4_csum_off, d,
				      ly->ly_udp);
		}
		if (q->ref == PG_REF_OWN) {
			c = pg_slot_arm(g, s);
		} else {
			c = xm_copym(s->sl_m, 0, XM_COPYALL, XM_NOWAIT);
			if (!c)
				break;
		}
		pkts[built] = c;
		*bytes += s->sl_size;
	}
	if (!built)
		return 0;
	acc = xm_port_tx_burst(g->txp, q->qidx, pkts, (uint16_t)built);
	for (uint32_t i = acc; i < built; i++) {
		struct pg_slot *s = &q->pool[(q->seq + i) % q->npool];

		*bytes -= s->sl_size;
		if (q->ref == PG_REF_OWN)
			s->sl_inflight = 0;	/* never handed over */
		else
			xm_freem(pkts[i]);
	}
	q->seq += acc;
	return acc;
}

static uint64_t pg_slot_cost(const struct pg_txq *q, uint64_t seq, bool bits)
{
	return bits ? ((uint64_t)q->pool[seq % q->npool].sl_size +
		       q->rate_overhead) * 8 : 1;
}

/* ns (from the queue's time 0) packet seq of a timed replay is due at. */
static uint64_t pg_pcap_due(const struct pg *g, const struct pg_txq *q,
			    uint64_t seq)
{
	uint32_t np = g->pcap.pc_npkts;
	uint64_t ft = (seq / np) * g->pcap_period + g->pcap_off[seq % np];

	return q->t_zero + (uint64_t)((double)ft / g->a->pcap_speed);
}

/*
 * Of the next n packets of a timed replay, how many are due at now; 0
 * with *wait the ns until the first is.
 */
static uint32_t pg_pcap_ready(const struct pg *g, struct pg_txq *q,
			      uint32_t n, uint64_t now, uint64_t *wait)
{
	uint32_t k = 0;

	if (!q->t_zero) {
		/* the first packet goes now: the file's clock starts here */
		q->t_zero = now;
		q->t_zero = now - (pg_pcap_due(g, q, q->seq) - now);
	}
	while (k < n && pg_pcap_due(g, q, q->seq + k) <= now)
		k++;
	if (!k)
		*wait = pg_pcap_due(g, q, q->seq) - now;
	return k;
}

static int pg_afxdp_run(struct pg *g, struct pg_txq *q)
{
	const struct pg_args *a = g->a;
	uint64_t mean = g->stamped ? a->sizes.sz_cycle_bytes / a->sizes.sz_len :
			g->pcap.pc_bytes / g->pcap.pc_npkts;
	bool timed = !g->stamped && a->pcap_speed > 0;
	struct pg_pace pc;
	uint64_t drain_end;

	pg_pace_init(&pc, q, a->std.burst, mean ? mean : 64, PG_BURST_NS);
	while (!atomic_load_explicit(&g->tx_stop, memory_order_relaxed)) {
		uint64_t now = xm_ex_now_ns(), bytes, wait = 0;
		uint32_t n = pg_tx_left(q, pc.pc_burst), acc;

		if (!n)
			break;
		if (timed) {
			n = pg_pcap_ready(g, q, n, now, &wait);
			if (!n) {
				/* a long gap in the file: wake to see a stop */
				pg_wait(g, q, wait < PG_TIMED_WAIT_MAX_NS ?
					wait : PG_TIMED_WAIT_MAX_NS);
				continue;
			}
		}
		if (pc.pc_on) {
			uint64_t avail = pg_rate_avail(&pc.pc_tb, now), cost = 0;
			uint32_t k = 0;

			while (k < n) {
				uint64_t c = pg_slot_cost(q, q->seq + k,
							  pc.pc_bits);

				if (cost + c > avail)
					break;
				cost += c;
				k++;
			}
			if (k < n) {
				uint64_t need = cost;

				for (uint32_t i = k; i < n; i++)
					need += pg_slot_cost(q, q->seq + i,
							     pc.pc_bits);
				pg_wait(g, q, pg_rate_wait_ns(&pc.pc_tb, need));
				continue;
			}
		}
		acc = pg_afxdp_burst(g, q, n, now, &bytes);
		if (acc) {
			if (pc.pc_on) {
				uint64_t cost = 0;

				for (uint32_t i = 0; i < acc; i++)
					cost += pg_slot_cost(q, q->seq - acc + i,
							     pc.pc_bits);
				pg_rate_spend(&pc.pc_tb, cost);
			}
			pg_tx_count(q, now, acc, bytes);
		} else {
			/* ring or pool full: let the kernel catch up */
			xm_port_tx_flush(g->txp, q->qidx);
		}
	}
	if (pc.pc_on)
		q->spilled = pg_rate_spilled(&pc.pc_tb);
	/* Push out what is queued so the frames come back and the receiver
	 * sees every packet counted as sent. */
	drain_end = xm_ex_now_ns() + 2 * PG_NS_PER_S;
	while (xm_port_tx_pending(g->txp, q->qidx) &&
	       xm_ex_now_ns() < drain_end) {
		if (xm_port_tx_flush(g->txp, q->qidx) == 0)
			usleep(200);
	}
	if (xm_port_tx_pending(g->txp, q->qidx))
		xm_ex_error("queue %u: %u frames still in flight after 2 s",
			    q->qidx, xm_port_tx_pending(g->txp, q->qidx));
	return 0;
}

/* -------------------------------------------------------- live engine */

/*
 * One template, the largest size, sent PG_LIVE_CALL_MAX frames a call
 * (the program cuts each frame to its size); rate-limited calls are
 * whatever the bucket allows in PG_LIVE_BURST_NS, since every call costs
 * the kernel's page-pool teardown (xm_port.h, "Live frames").
 */
static int pg_live_run(struct pg *g, struct pg_txq *q)
{
	const struct pg_args *a = g->a;
	uint32_t big = 0, size = a->sizes.sz_max;
	uint64_t mean = a->sizes.sz_cycle_bytes / a->sizes.sz_len;
	struct pg_pace pc;
	int err = 0;

	for (uint32_t i = 0; i < a->sizes.sz_n; i++)
		if (a->sizes.sz_sizes[i] == size)
			big = i;
	pg_pace_init(&pc, q, PG_LIVE_CALL_MAX, mean, PG_LIVE_BURST_NS);
	while (!atomic_load_explicit(&g->tx_stop, memory_order_relaxed)) {
		uint32_t n = pg_tx_left(q, pc.pc_burst);
		uint64_t now = xm_ex_now_ns();

		if (!n)
			break;
		if (pc.pc_on) {
			uint64_t unit = pc.pc_bits ?
					(mean + q->rate_overhead) * 8 : 1;
			uint64_t avail = pg_rate_avail(&pc.pc_tb, now);

			if (avail < n * unit) {
				pg_wait(g, q, pg_rate_wait_ns(&pc.pc_tb,
							      n * unit));
				continue;
			}
			pg_rate_spend(&pc.pc_tb, n * unit);
		}
		err = xm_live_send(g->live, g->tmpl[big], size, n);
		if (err) {
			xm_ex_error("live frames on %s: %s", a->std.ifname,
				    strerror(-err));
			break;
		}
		/* the size mix is exact over whole cycles; a call's bytes are
		 * counted at the mean */
		pg_tx_count(q, now, n, (uint64_t)n * mean);
	}
	if (pc.pc_on)
		q->spilled = pg_rate_spilled(&pc.pc_tb);
	return err;
}

int pg_tx_worker(void *arg)
{
	struct pg_txq *q = arg;
	struct pg *g = q->g;
	int err;

	/* precise sleeps for the rate limiter */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	err = g->live ? pg_live_run(g, q) : pg_afxdp_run(g, q);
	xm_umem_cache_flush(g->u);
	atomic_store_explicit(&q->done, true, memory_order_release);
	return err;
}

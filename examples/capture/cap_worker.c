// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_worker.c - xmbuf-capture's queue worker: receive a batch, stamp it
 * on the wall clock, run the expression, build the records and write
 * them under the output lock, hand the packets to --tap, free the frames
 * once their bytes are in the file; and the counters the live line, the
 * summary and the pcapng statistics block read (see capture.c for the
 * model, cap_run.h for the state).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cap_run.h"

/* ---------------------------------------------------------------- time */

uint64_t cap_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall clock minus CLOCK_MONOTONIC, read between two monotonic reads. */
int64_t cap_clock_offset(void)
{
	uint64_t m1 = cap_clock_ns(CLOCK_MONOTONIC);
	uint64_t r = cap_clock_ns(CLOCK_REALTIME);
	uint64_t m2 = cap_clock_ns(CLOCK_MONOTONIC);

	return (int64_t)r - (int64_t)(m1 + (m2 - m1) / 2);
}

static inline bool near(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(a - b);

	return d > -CAP_STAMP_WINDOW_NS && d < CAP_STAMP_WINDOW_NS;
}

/* A packet's receive time on the wall clock. */
static inline uint64_t pkt_time(struct cap_worker *w, const struct xm_mbuf *m,
				uint64_t mono, uint64_t real)
{
	if (m->m_flags & XM_TSTMP) {
		uint64_t ts = m->m_pkthdr.rcv_tstamp;

		if (near(ts, mono))
			return ts + (uint64_t)w->clock_off;
		if (near(ts, real))
			return ts;
	}
	atomic_fetch_add_explicit(&w->n.sw_stamps, 1, memory_order_relaxed);
	return real;
}

/* -------------------------------------------------------------- worker */

static inline bool pkt_matches(struct cap_worker *w, struct xm_mbuf *m,
			       uint32_t wirelen)
{
	struct capture *c = w->c;
	struct pcap_pkthdr h = { .len = wirelen };
	const uint8_t *data = xm_mtod(m, const uint8_t *);

	if (!c->have_prog)
		return true;
	if (m->m_next) {
		/* the expression may look past the first descriptor */
		uint32_t len = m->m_pkthdr.len < CAP_LINEAR_MAX ?
			       m->m_pkthdr.len : CAP_LINEAR_MAX;

		if (xm_copydata(m, 0, (int)len, w->linear) != 0)
			return false;
		data = w->linear;
		h.caplen = len;
	} else {
		h.caplen = (uint32_t)m->m_len;
	}
	return pcap_offline_filter(&c->prog, &h, data) != 0;
}

/* Writes the batch (under the output lock) and frees what it held. */
static void flush_batch(struct cap_worker *w, struct xm_mbuf **held,
			unsigned int *nheld, uint64_t real)
{
	struct capture *c = w->c;
	int err;

	if (w->batch->nrec) {
		pthread_mutex_lock(&c->out_lock);
		err = cap_out_write(c->out, w->batch, real);
		pthread_mutex_unlock(&c->out_lock);
		/* ENOSPC: counted, retried later; ECANCELED: the stream took
		 * nothing until a stop's grace ended, counted */
		if (err && err != -ENOSPC && err != -ECANCELED) {
			int zero = 0;

			atomic_compare_exchange_strong(&c->fatal, &zero, err);
			xm_ex_stop();
		}
	}
	/* the bytes are in the file (or counted lost): frames go home */
	xm_freem_bulk(held, *nheld);
	*nheld = 0;
	cap_batch_init(w->batch, w->batch->format);
}

/* Hands packets to the tap's TX ring; a full ring is kicked once. */
static void tap_send(struct cap_worker *w, struct xm_mbuf **pkts, uint16_t n)
{
	uint16_t sent = xm_ex_tx_or_drop(w->c->tap, w->qidx, pkts, n);

	if (sent < n)
		atomic_fetch_add_explicit(&w->n.tap_dropped, n - sent,
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.tap_tx, sent, memory_order_relaxed);
}

/* Without -w: the batch's lines go to stdout, whole, under the output
 * lock (one writer at a time, lines never interleaved). */
static void flush_text(struct cap_worker *w, uint64_t lines)
{
	struct capture *c = w->c;
	bool ok;

	if (!w->text_len)
		return;
	pthread_mutex_lock(&c->out_lock);
	ok = fwrite(w->text, 1, w->text_len, stdout) == w->text_len &&
	     fflush(stdout) == 0;
	pthread_mutex_unlock(&c->out_lock);
	atomic_fetch_add_explicit(ok ? &w->n.printed : &w->n.print_dropped,
				  lines, memory_order_relaxed);
	if (!ok) {
		int zero = 0;

		/* a reader that went away ends the capture, as -w - does */
		atomic_compare_exchange_strong(&c->fatal, &zero, -EPIPE);
		xm_ex_stop();
	}
	w->text_len = 0;
}

/* Without -w: the packet's line into the batch's text. */
static void add_text(struct cap_worker *w, struct xm_mbuf *m,
		     const struct cap_pkt_meta *pm, const struct cap_pkt_ext *x)
{
	const uint8_t *data = xm_mtod(m, const uint8_t *);
	uint32_t len = (uint32_t)m->m_len;

	if (m->m_next) {
		/* the headers may straddle the mbufs of a chain */
		len = pm->caplen < CAP_LINEAR_MAX ? pm->caplen : CAP_LINEAR_MAX;
		if (xm_copydata(m, 0, (int)len, w->linear) != 0)
			len = (uint32_t)m->m_len;
		else
			data = w->linear;
	}
	cap_text_line(w->text, &w->text_len,
		      CAP_BATCH_PKTS * CAP_TEXT_LINE_MAX, pm->ts_ns, data, len,
		      pm->wirelen,
		      x && w->c->a->dirs == (CAP_DIR_IN | CAP_DIR_OUT) ?
		      x->dir : 0, x ? x->verdict : UINT32_MAX);
}

void cap_worker_process(struct cap_worker *w, struct xm_mbuf **pkts,
			unsigned int n, const struct cap_pkt_ext *ext)
{
	struct xm_mbuf *held[CAP_BATCH_PKTS];
	struct xm_mbuf *tx[CAP_BATCH_PKTS];
	struct capture *c = w->c;
	const struct cap_args *a = c->a;
	uint64_t mono = cap_clock_ns(CLOCK_MONOTONIC);
	uint64_t real = cap_clock_ns(CLOCK_REALTIME);
	unsigned int nheld = 0, nfree = 0;
	uint16_t ntx = 0;
	uint64_t bytes = 0, accepted = 0, filtered = 0, after = 0, lines = 0;
	bool last_slot = false;
	struct xm_mbuf *drop[CAP_BATCH_PKTS];

	if (!w->first_ns)
		w->first_ns = mono;
	w->last_ns = mono;
	if (mono - w->clock_checked >= CAP_CLOCK_RECHECK_NS) {
		int64_t off = cap_clock_offset();

		/* a step of the wall clock (settimeofday), not sampling
		 * noise, which would reorder stamps across bursts */
		if (off - w->clock_off > CAP_CLOCK_STEP_NS ||
		    w->clock_off - off > CAP_CLOCK_STEP_NS)
			w->clock_off = off;
		w->clock_checked = mono;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];
		const struct cap_pkt_ext *x = ext ? &ext[i] : NULL;
		uint32_t wirelen = x ? x->wirelen : m->m_pkthdr.len;
		struct cap_pkt_meta pm = { 0 };
		struct iovec seg[CAP_SEGS_MAX];
		unsigned int nseg = 0;
		uint32_t left;
		int err;

		bytes += wirelen;
		if (!pkt_matches(w, m, wirelen)) {
			filtered++;
			if (c->tap)
				tx[ntx++] = m;
			else
				drop[nfree++] = m;
			continue;
		}
		accepted++;
		if (a->count) {
			uint64_t slot = atomic_fetch_add_explicit(
				&c->claimed, 1, memory_order_relaxed);

			if (slot >= a->count) {
				after++;
				if (c->tap)
					tx[ntx++] = m;
				else
					drop[nfree++] = m;
				continue;
			}
			if (slot + 1 == a->count)
				last_slot = true;
		}
		if (c->tap) {
			struct xm_mbuf *ref = xm_copym(m, 0, XM_COPYALL,
						       XM_NOWAIT);

			if (ref)
				tx[ntx++] = ref;
			else
				atomic_fetch_add_explicit(&w->n.tap_dropped, 1,
							  memory_order_relaxed);
		}
		pm.ts_ns = pkt_time(w, m, mono, real);
		pm.wirelen = wirelen;
		pm.caplen = m->m_pkthdr.len < a->snaplen ? m->m_pkthdr.len :
							   a->snaplen;
		if (x) {
			/* a copy: its direction, and its verdict at an XDP
			 * program's exit */
			pm.has_flags = true;
			pm.flags = x->dir == CAP_DIR_OUT ?
				   CAP_NG_FLAG_OUTBOUND : CAP_NG_FLAG_INBOUND;
			pm.has_verdict = x->verdict != UINT32_MAX;
			pm.verdict = x->verdict;
		} else {
			pm.queue = m->m_pkthdr.rcvqueue;
			pm.has_queue = true;
			pm.hash = m->m_pkthdr.flowid;
			pm.has_hash = (m->m_flags & XM_FLOWID) != 0;
		}
		if (!c->out) {
			add_text(w, m, &pm, x);
			lines++;
			drop[nfree++] = m;
			continue;
		}
		left = pm.caplen;
		for (struct xm_mbuf *s = m; s && left && nseg < CAP_SEGS_MAX;
		     s = s->m_next) {
			uint32_t l = (uint32_t)s->m_len < left ?
				     (uint32_t)s->m_len : left;

			seg[nseg].iov_base = s->m_data;
			seg[nseg].iov_len = l;
			left -= l;
			nseg++;
		}
		if (left)
			pm.caplen -= left;	/* more descriptors than we map */
		err = cap_batch_add(w->batch, &pm, seg, nseg);
		if (err == -ENOSPC) {
			flush_batch(w, held, &nheld, real);
			err = cap_batch_add(w->batch, &pm, seg, nseg);
		}
		if (err) {
			/* cannot happen for a sane chain; never leak it */
			drop[nfree++] = m;
			continue;
		}
		held[nheld++] = m;
	}
	if (c->tap)
		tap_send(w, tx, ntx);
	if (c->out)
		flush_batch(w, held, &nheld, real);
	else
		flush_text(w, lines);
	if (nfree)
		xm_freem_bulk(drop, nfree);
	atomic_fetch_add_explicit(&w->n.rx, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.rx_bytes, bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.accepted, accepted,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.filtered, filtered,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.after_count, after,
				  memory_order_relaxed);
	if (last_slot)
		xm_ex_stop();
}

int cap_worker_main(void *arg)
{
	struct cap_worker *w = arg;
	struct capture *c = w->c;
	struct xm_mbuf *pkts[CAP_BATCH_PKTS];
	unsigned int q = w->qidx;
	uint64_t spin_end = 0;

	w->clock_off = c->clock_off;
	w->clock_checked = cap_clock_ns(CLOCK_MONOTONIC);
	while (!xm_ex_stopping()) {
		unsigned int n = 0;
		uint16_t got;
		uint64_t now;

		/* gather up to a batch while the ring keeps giving */
		do {
			uint16_t want = CAP_BATCH_PKTS - n < CAP_BURST ?
					(uint16_t)(CAP_BATCH_PKTS - n) : CAP_BURST;

			got = xm_port_rx_burst(c->in, q, pkts + n, want);
			n += got;
			if (got < want)
				break;
		} while (n < CAP_BATCH_PKTS);
		if (!n) {
			if (c->tap && xm_port_tx_pending(c->tap, q))
				xm_port_tx_flush(c->tap, q);
			if (c->a->ex.busy_poll)
				continue;
			/*
			 * A sleeper on the socket costs the receive path a
			 * wake-up (an IPI when it runs on another CPU) for
			 * every NAPI poll that lands packets (see the top of
			 * this file).  So while traffic flows the worker
			 * looks again instead, and yields each time, so that
			 * whatever else wants this CPU (a NAPI thread) runs
			 * first; only a ring empty for CAP_SPIN_NS sleeps.
			 */
			now = xm_ex_now_ns();
			if (!spin_end) {
				spin_end = now + CAP_SPIN_NS;
			} else if (now >= spin_end) {
				xm_port_poll(c->in, q, CAP_POLL_MS);
				spin_end = 0;
				continue;
			}
			sched_yield();
			continue;
		}
		spin_end = 0;
		cap_worker_process(w, pkts, n, NULL);
		if (c->tap)
			xm_port_tx_complete(c->tap, q);
	}
	/* let what was queued leave, so its frames come home */
	if (c->tap)
		xm_ex_tx_drain(c->tap, q, CAP_DRAIN_NS);
	xm_umem_cache_flush(c->u);
	return 0;
}

/* ---------------------------------------------------------- statistics */

void cap_sum_workers(const struct capture *c, struct cap_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < c->nworkers; i++) {
		const struct cap_counters *n = &c->workers[i].n;

#define SUM(f) t->f += atomic_load_explicit(&n->f, memory_order_relaxed)
		SUM(rx);
		SUM(rx_bytes);
		SUM(accepted);
		SUM(filtered);
		SUM(after_count);
		SUM(sw_stamps);
		SUM(tap_tx);
		SUM(tap_dropped);
		SUM(printed);
		SUM(print_dropped);
#undef SUM
		if (c->workers[i].first_ns &&
		    (!t->first_ns || c->workers[i].first_ns < t->first_ns))
			t->first_ns = c->workers[i].first_ns;
		if (c->workers[i].last_ns > t->last_ns)
			t->last_ns = c->workers[i].last_ns;
	}
}

int cap_port_stats(struct capture *c, struct xm_port_stats *st)
{
	int err;

	pthread_mutex_lock(&c->stats_lock);
	err = xm_port_stats(c->in, st);
	pthread_mutex_unlock(&c->stats_lock);
	if (err)
		memset(st, 0, sizeof(*st));
	return err;
}

/*
 * The kernel counts a frame lost to an empty fill ring twice: in
 * rx_fill_ring_empty_descs and in rx_dropped (xsk_buff_alloc failing in
 * __xsk_rcv); "other" is what rx_dropped holds beyond that (frames too
 * long for a chunk), so that every drop is counted once.
 */
uint64_t cap_kernel_drops_other(const struct xm_port_stats *st)
{
	return st->rx_dropped > st->rx_fill_ring_empty_descs ?
	       st->rx_dropped - st->rx_fill_ring_empty_descs : 0;
}

uint64_t cap_kernel_drops(const struct xm_port_stats *st)
{
	return st->rx_ring_full + st->rx_fill_ring_empty_descs +
	       cap_kernel_drops_other(st);
}

/* The ISB of a closing file (called with out_lock held). */
void cap_fill_isb(void *arg, struct cap_isb *isb)
{
	struct capture *c = arg;
	struct xm_port_stats st;
	struct cap_totals t;

	cap_sum_workers(c, &t);
	if (c->path != CAP_PATH_INLINE) {
		struct cap_kstats ks;

		cap_passive_stats(c, &ks);
		isb->start_ns = c->start_real_ns;
		isb->ifrecv = ks.seen_in + ks.seen_out;
		isb->ifdrop = ks.lost_in + ks.lost_out + ks.copy_err +
			      ks.nombuf;
		isb->filteraccept = t.accepted;
		snprintf(c->isb_comment, sizeof(c->isb_comment),
			 "xmbuf-capture %s (%s): seen %llu in, %llu out; not "
			 "copied (ring buffer full) %llu in, %llu out; copy "
			 "errors %llu; no mbuf %llu; filtered in user space "
			 "%llu; after -c %llu; every packet went on to the "
			 "host unchanged", c->mode_name, c->hook_name,
			 (unsigned long long)ks.seen_in,
			 (unsigned long long)ks.seen_out,
			 (unsigned long long)ks.lost_in,
			 (unsigned long long)ks.lost_out,
			 (unsigned long long)ks.copy_err,
			 (unsigned long long)ks.nombuf,
			 (unsigned long long)t.filtered,
			 (unsigned long long)t.after_count);
		isb->comment = c->isb_comment;
		return;
	}
	cap_port_stats(c, &st);
	isb->start_ns = c->start_real_ns;
	isb->ifrecv = st.xdp_seen;
	/* every packet the program saw and the capture did not get (with
	 * --queues, those of the other queues count too, as in ifrecv) */
	isb->ifdrop = cap_kernel_drops(&st) + st.xdp_no_socket + st.rx_dropped_sw;
	isb->filteraccept = t.accepted;
	snprintf(c->isb_comment, sizeof(c->isb_comment),
		 "xmbuf-capture: received %llu; dropped: rx_ring_full "
		 "%llu, fill_ring_empty %llu, kernel other %llu, no socket "
		 "bound (to the stack) %llu, port %llu; filtered: in the "
		 "kernel (to the stack) %llu, in user space %llu; not written: "
		 "%llu (osdrop: disk full, errors, blocked at the stop), after "
		 "-c %llu",
		 (unsigned long long)t.rx,
		 (unsigned long long)st.rx_ring_full,
		 (unsigned long long)st.rx_fill_ring_empty_descs,
		 (unsigned long long)cap_kernel_drops_other(&st),
		 (unsigned long long)st.xdp_no_socket,
		 (unsigned long long)st.rx_dropped_sw,
		 (unsigned long long)(c->rules_pushed ? st.xdp_passed : 0),
		 (unsigned long long)t.filtered,
		 (unsigned long long)isb->osdrop,
		 (unsigned long long)t.after_count);
	isb->comment = c->isb_comment;
}

void cap_out_message(void *arg, const char *msg)
{
	(void)arg;
	xm_ex_error("%s", msg);
}

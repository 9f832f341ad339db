// SPDX-License-Identifier: BSD-2-Clause
/*
 * capture.c - xmbuf-capture: line-rate packet capture to pcap/pcapng on
 * the AF_XDP port layer, in tcpdump's habits.
 *
 *   -i IF, every queue (or --queues)            -w FILE (rotated) or -w -
 *   XDP: rules (filter subset) ---no match---> kernel stack
 *     | match
 *     v
 *   queue q socket --rx_burst--> worker q: libpcap filter (full
 *   (one thread each)             expression), snaplen, record headers
 *                                   |  iovecs into the UMEM frames
 *                                   v
 *                       lock; writev(file); unlock  (cap_out.c)
 *                                   |
 *                       xm_freem_bulk: frames back to the fill ring
 *   --tap IF2: every packet also leaves IF2 by tx_burst, as an xm_copym
 *   reference to the same frame (freed when both writer and TX are done).
 *
 * The write path copies only small packets: a record's header and
 * trailer are built in the batch (cap_pcap.c), the bytes of a packet of
 * up to CAP_BATCH_COPY_MAX bytes are copied between them (cheaper than
 * one more iovec for writev), and larger packets are written from the
 * frames they arrived in, so a frame goes back to the fill ring only
 * after writev has returned with its bytes in the file.  One lock
 * serializes the queues' batches into one file; each batch is one
 * writev of up to 256 packets.
 *
 * An idle worker sleeps in poll(), but only once its ring has stayed
 * empty for CAP_SPIN_NS: a sleeper costs the receive path a wake-up for
 * every NAPI poll that lands packets: on veth, where the receive path
 * runs on the sender's CPU, the sender made 1.6 Mpps with a sleeping
 * worker and 2.1 Mpps with this one.  While it looks again it yields,
 * so a NAPI thread sharing its CPU runs first.
 *
 * Timestamps come from the XDP metadata (XM_TSTMP): the driver's stamp,
 * or bpf_ktime_get_ns() (CLOCK_MONOTONIC), moved onto the wall clock by
 * an offset measured at start and re-checked once a second; a stamp on
 * neither clock is replaced by the time of the burst (counted).
 *
 * Counts, and where they go: received (rx_burst), written (in a file),
 * dropped by the kernel (XDP_STATISTICS: RX ring full, fill ring empty,
 * other), filtered in the kernel (passed to the stack) and in user
 * space, not written (disk full, write errors), after -c.  pcapng files
 * end with an interface statistics block holding them.
 *
 * Stopping: SIGINT or SIGTERM (or -c, --duration) ends the run; a
 * worker whose output is blocked (-w - to a reader that stopped reading,
 * a FIFO) gives its write up half a second after it sees the stop, at a
 * record boundary, and counts the rest as "blocked at the stop"
 * (cap_out.h): the capture exits within a second, the file the reader
 * has is valid, the XDP program comes off.
 *
 * -Z USER: every capability goes after the interface is set up
 * (cap_privs.h); the program is then attached as a bpf_link, which the
 * kernel takes off when the process exits, however it exits (SIGKILL
 * too).  Without -Z it is attached by netlink and taken off at exit; a
 * capture killed by SIGKILL leaves it, and the next start on the
 * interface replaces it (userspace/xdp.c).
 *
 * Exit: 0 done (count, duration, signal; packets given up at the stop
 * of a blocked stream are counted, not an error); 1 runtime error
 * (interface, file, a write error, packets lost to a full disk);
 * 2 usage error (options, filter syntax, a -Z id out of range or root
 * under another name than "root").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "xm_example.h"
#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "cap_filter.h"
#include "cap_out.h"
#include "cap_pcap.h"
#include "cap_privs.h"
#include "cap_rotate.h"

#define CAP_BURST		64	/* packets per rx_burst */
#define CAP_SEGS_MAX		64	/* descriptors of one packet */
#define CAP_LINEAR_MAX		65536	/* filter scratch for chains */
#define CAP_MAX_SECONDS		(365.0 * 86400)
#define CAP_POLL_MS		50	/* idle wait in poll() */
#define CAP_LOCK_WAIT_MS	50	/* the main loop's wait for the output */
#define CAP_SPIN_NS		200000ull /* an empty ring is looked at again
					 * (yielding the CPU) this long
					 * before the worker sleeps */
#define CAP_DRAIN_NS		1000000000ull
#define CAP_CLOCK_RECHECK_NS	1000000000ull
#define CAP_CLOCK_STEP_NS	1000000ll	/* re-measured offset adopted
						 * when it moved this much */
#define CAP_STAMP_WINDOW_NS	(3600ll * 1000000000ll)
#define CAP_RX_RING_DEFAULT	16384	/* 32 MiB of 2 KiB frames waiting */
#define CAP_RX_RING_MIN		256
#define CAP_RX_RING_MAX		(1u << 21) /* the fill ring, twice this, is
					 * at the port's ring limit */
#define CAP_BUFFER_KIB_MAX	(CAP_RX_RING_MAX / 1024 * XM_MCLBYTES) /* -B:
					 * 4 GiB */
#define CAP_TX_RING		2048
#define CAP_MB			1000000ull	/* tcpdump's -C unit */

struct capture;

/* Counters a worker writes and others read (relaxed atomics). */
struct cap_counters {
	_Atomic uint64_t rx;		/* packets received */
	_Atomic uint64_t rx_bytes;	/* their length on the wire */
	_Atomic uint64_t accepted;	/* matched the expression */
	_Atomic uint64_t filtered;	/* rejected by the expression */
	_Atomic uint64_t after_count;	/* matched after -c was reached */
	_Atomic uint64_t sw_stamps;	/* no usable XDP stamp */
	_Atomic uint64_t tap_tx;	/* handed to the tap's TX ring */
	_Atomic uint64_t tap_dropped;	/* tap TX ring full / no header */
};

struct cap_worker {
	struct capture *c;		/* program state */
	unsigned int qidx;		/* queue index in the port */
	int cpu;			/* pinned to, or -1 */
	pthread_t thread;		/* its thread */
	bool started;			/* thread was created */
	int err;			/* -errno the worker stopped on */
	int64_t clock_off;		/* wall clock - CLOCK_MONOTONIC, ns */
	uint64_t clock_checked;		/* monotonic ns of the last check */
	uint64_t first_ns;		/* monotonic, first burst (0: none) */
	uint64_t last_ns;		/* monotonic, last burst */
	struct cap_batch *batch;	/* records being built */
	uint8_t *linear;		/* a chain made flat for the filter */
	struct cap_counters n;		/* its counters */
} __attribute__((aligned(64)));

struct cap_args {
	const char *ifname;		/* -i */
	const char *path;		/* -w */
	const char *tap;		/* --tap */
	const char *user;		/* -Z */
	char *expr;			/* the filter, or NULL */
	uint64_t count;			/* -c, 0: no limit */
	uint64_t rotate_bytes;		/* -C */
	uint32_t rotate_secs;		/* -G */
	uint32_t ring_files;		/* -W */
	uint32_t snaplen;		/* -s */
	uint32_t buffer_kib;		/* -B */
	enum cap_format format;		/* --pcap, --nano, --pcapng */
	uint32_t queues[XM_PORT_MAX_QUEUES]; /* --queues */
	int nqueues;			/* 0: all */
	uint32_t cpus[CPU_SETSIZE];	/* --cpus */
	int ncpus;			/* 0: not pinned */
	uint32_t mode;			/* --mode */
	double seconds;			/* --duration */
	bool busy;			/* --busy-poll */
	bool json;			/* --json */
	bool quiet;			/* --quiet */
	bool verbose;			/* -v */
};

struct capture {
	struct cap_args *a;		/* the command line */
	struct xm_umem *u;		/* the one UMEM */
	struct xm_port *in;		/* -i */
	struct xm_port *tap;		/* --tap, or NULL */
	struct cap_worker *workers;	/* one per queue */
	unsigned int nworkers;		/* queues */
	struct bpf_program prog;	/* compiled expression */
	bool have_prog;			/* prog is set */
	struct cap_filter_rules rules;	/* what was pushed */
	bool rules_pushed;
	struct cap_out *out;		/* the file(s) */
	pthread_mutex_t out_lock;	/* cap_out and its ISB callback */
	pthread_mutex_t stats_lock;	/* xm_port_stats on in/tap */
	_Atomic uint64_t claimed;	/* -c slots taken */
	_Atomic int fatal;		/* -errno of the output, 0 */
	int64_t clock_off;		/* at start */
	uint64_t start_real_ns;		/* wall clock at start */
	char descr[128];		/* if_description */
	char hostinfo[200];		/* shb_os */
	char isb_comment[512];		/* storage for the ISB callback */
	char mode_name[16];		/* bound mode, kept past close */
	bool drop_privs;		/* -Z as root: switch after open */
	uint32_t rx_ring;		/* RX ring per queue, frames (-B) */
};

static FILE *cap_summary_out;			/* stdout, or stderr with -w - */

/* ---------------------------------------------------------------- time */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall clock minus CLOCK_MONOTONIC, read between two monotonic reads. */
static int64_t clock_offset(void)
{
	uint64_t m1 = clock_ns(CLOCK_MONOTONIC);
	uint64_t r = clock_ns(CLOCK_REALTIME);
	uint64_t m2 = clock_ns(CLOCK_MONOTONIC);

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

static inline bool pkt_matches(struct cap_worker *w, struct xm_mbuf *m)
{
	struct capture *c = w->c;
	struct pcap_pkthdr h = { .len = m->m_pkthdr.len };
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
	struct capture *c = w->c;
	uint16_t sent;

	if (!n)
		return;
	sent = xm_port_tx_burst(c->tap, w->qidx, pkts, n);
	if (sent < n) {
		xm_port_tx_flush(c->tap, w->qidx);
		sent += xm_port_tx_burst(c->tap, w->qidx, pkts + sent,
					 n - sent);
	}
	if (sent < n) {
		xm_freem_bulk(pkts + sent, n - sent);
		atomic_fetch_add_explicit(&w->n.tap_dropped, n - sent,
					  memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&w->n.tap_tx, sent, memory_order_relaxed);
}

static void process(struct cap_worker *w, struct xm_mbuf **pkts,
		    unsigned int n, struct xm_mbuf **held,
		    struct xm_mbuf **tx)
{
	struct capture *c = w->c;
	const struct cap_args *a = c->a;
	uint64_t mono = clock_ns(CLOCK_MONOTONIC);
	uint64_t real = clock_ns(CLOCK_REALTIME);
	unsigned int nheld = 0, nfree = 0;
	uint16_t ntx = 0;
	uint64_t bytes = 0, accepted = 0, filtered = 0, after = 0;
	bool last_slot = false;
	struct xm_mbuf *drop[CAP_BATCH_PKTS];

	if (!w->first_ns)
		w->first_ns = mono;
	w->last_ns = mono;
	if (mono - w->clock_checked >= CAP_CLOCK_RECHECK_NS) {
		int64_t off = clock_offset();

		/* a step of the wall clock (settimeofday), not sampling
		 * noise, which would reorder stamps across bursts */
		if (off - w->clock_off > CAP_CLOCK_STEP_NS ||
		    w->clock_off - off > CAP_CLOCK_STEP_NS)
			w->clock_off = off;
		w->clock_checked = mono;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];
		struct cap_pkt_meta pm;
		struct iovec seg[CAP_SEGS_MAX];
		unsigned int nseg = 0;
		uint32_t left;
		int err;

		bytes += m->m_pkthdr.len;
		if (!pkt_matches(w, m)) {
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
		pm.wirelen = m->m_pkthdr.len;
		pm.caplen = pm.wirelen < a->snaplen ? pm.wirelen : a->snaplen;
		pm.queue = m->m_pkthdr.rcvqueue;
		pm.has_queue = true;
		pm.hash = m->m_pkthdr.flowid;
		pm.has_hash = (m->m_flags & XM_FLOWID) != 0;
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
	flush_batch(w, held, &nheld, real);
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

static void *worker_main(void *arg)
{
	struct cap_worker *w = arg;
	struct capture *c = w->c;
	struct xm_mbuf *pkts[CAP_BATCH_PKTS];
	struct xm_mbuf *held[CAP_BATCH_PKTS];
	struct xm_mbuf *tx[CAP_BATCH_PKTS];
	unsigned int q = w->qidx;
	uint64_t drain_end, spin_end = 0;

	w->err = xm_ex_worker_pin(w->cpu, "", q);
	if (w->err) {
		xm_ex_stop();
		return NULL;
	}
	w->clock_off = c->clock_off;
	w->clock_checked = clock_ns(CLOCK_MONOTONIC);
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
			if (c->a->busy)
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
		process(w, pkts, n, held, tx);
		if (c->tap)
			xm_port_tx_complete(c->tap, q);
	}
	if (c->tap) {
		/* let what was queued leave, so its frames come home */
		drain_end = xm_ex_now_ns() + CAP_DRAIN_NS;
		while (xm_port_tx_pending(c->tap, q) &&
		       xm_ex_now_ns() < drain_end) {
			if (xm_port_tx_flush(c->tap, q) == 0)
				usleep(1000);
		}
	}
	xm_umem_cache_flush(c->u);
	return NULL;
}

/* ---------------------------------------------------------- statistics */

/* The workers' counters summed (see struct cap_counters). */
struct cap_totals {
	uint64_t rx;			/* received */
	uint64_t rx_bytes;		/* their length on the wire */
	uint64_t accepted;		/* matched the expression */
	uint64_t filtered;		/* rejected by it in user space */
	uint64_t after_count;		/* matched after -c */
	uint64_t sw_stamps;		/* stamped with the burst's time */
	uint64_t tap_tx;		/* handed to the tap */
	uint64_t tap_dropped;		/* not forwarded */
	uint64_t first_ns;		/* first burst, monotonic (after join) */
	uint64_t last_ns;		/* last burst */
};

static void sum_workers(const struct capture *c, struct cap_totals *t)
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
#undef SUM
		if (c->workers[i].first_ns &&
		    (!t->first_ns || c->workers[i].first_ns < t->first_ns))
			t->first_ns = c->workers[i].first_ns;
		if (c->workers[i].last_ns > t->last_ns)
			t->last_ns = c->workers[i].last_ns;
	}
}

static int port_stats(struct capture *c, struct xm_port_stats *st)
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
static uint64_t kernel_drops_other(const struct xm_port_stats *st)
{
	return st->rx_dropped > st->rx_fill_ring_empty_descs ?
	       st->rx_dropped - st->rx_fill_ring_empty_descs : 0;
}

static uint64_t kernel_drops(const struct xm_port_stats *st)
{
	return st->rx_ring_full + st->rx_fill_ring_empty_descs +
	       kernel_drops_other(st);
}

/* The ISB of a closing file (called with out_lock held). */
static void fill_isb(void *arg, struct cap_isb *isb)
{
	struct capture *c = arg;
	struct xm_port_stats st;
	struct cap_totals t;

	port_stats(c, &st);
	sum_workers(c, &t);
	isb->start_ns = c->start_real_ns;
	isb->ifrecv = st.xdp_seen;
	/* every packet the program saw and the capture did not get (with
	 * --queues, those of the other queues count too, as in ifrecv) */
	isb->ifdrop = kernel_drops(&st) + st.xdp_no_socket + st.rx_dropped_sw;
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
		 (unsigned long long)kernel_drops_other(&st),
		 (unsigned long long)st.xdp_no_socket,
		 (unsigned long long)st.rx_dropped_sw,
		 (unsigned long long)(c->rules_pushed ? st.xdp_passed : 0),
		 (unsigned long long)t.filtered,
		 (unsigned long long)isb->osdrop,
		 (unsigned long long)t.after_count);
	isb->comment = c->isb_comment;
}

static void out_message(void *arg, const char *msg)
{
	(void)arg;
	xm_ex_error("%s", msg);
}

/* ------------------------------------------------------------ options */

static void usage(FILE *out)
{
	fprintf(out,
"usage: %s -i IF -w FILE [-c COUNT] [-s SNAPLEN] [--pcap] [-C MB]\n"
"       [-G SECONDS] [-W N] [-Z USER] [--tap IF2] [--json] [expression]\n"
"Captures packets from every RX queue of IF through AF_XDP into one\n"
"pcapng (default) or pcap file, written from the frames they arrived in.\n"
"\n"
"  -i, --interface IF    capture interface (required)\n"
"  -w FILE               output file; '-' streams to stdout (pcap unless\n"
"                        --pcapng); a strftime pattern with -G\n"
"  -c COUNT              stop after COUNT packets written\n"
"  -s, --snapshot-length SNAPLEN\n"
"                        bytes kept per packet (0: %u, the default)\n"
"      --pcap            classic pcap, microsecond stamps\n"
"      --nano            classic pcap, nanosecond stamps\n"
"      --pcapng          pcapng (the default for files)\n"
"  -C MB                 new file before one would pass MB x 1,000,000\n"
"                        bytes (suffix k, m or g: KiB, MiB, GiB)\n"
"  -G SECONDS            new file every SECONDS, aligned to the clock\n"
"  -W N                  with -C: names FILE0..FILE<N-1> reused in turn;\n"
"                        with -G: keep the newest N files\n"
"  -Z, --relinquish-privileges USER\n"
"                        switch to USER after opening IF, keeping no\n"
"                        capability (files are created as USER; the XDP\n"
"                        program is a bpf_link that comes off at exit);\n"
"                        uid 0 only as '-Z root'\n"
"      --tap IF2         also send every packet out of IF2, the same\n"
"                        frame (the filter selects what is written, not\n"
"                        what is forwarded)\n"
"      --json            summary as one JSON object\n"
"  expression            tcpdump filter; its simple part runs in the XDP\n"
"                        program, packets it rejects go to the stack\n"
"\n"
"  -B, --buffer-size KiB  RX ring per queue: what may wait for the\n"
"                        writer, in 2 KiB frames rounded up to a power\n"
"                        of two (default %u, at most %u KiB);\n"
"                        the UMEM takes about three times that\n"
"      --queues LIST     queue ids, e.g. 0 or 0-3 (default: all)\n"
"      --cpus LIST       pin the queue threads to these CPUs\n"
"      --mode MODE       auto, zero-copy, copy or skb (default auto)\n"
"      --duration SEC    stop after SEC seconds\n"
"      --busy-poll       never sleep (default: an empty ring is looked\n"
"                        at again for 200 us, yielding the CPU, then\n"
"                        the worker sleeps in poll())\n"
"      --quiet           no live statistics\n"
"  -v, --verbose         library debug messages\n"
"  -h, --help            this text\n"
"\n"
"Live statistics once a second on stderr; the summary on stdout (stderr\n"
"with -w -).  Exit status: 0 success, 1 runtime error, 2 usage error.\n",
		xm_ex_prog(), CAP_SNAPLEN_MAX,
		CAP_RX_RING_DEFAULT * XM_MCLBYTES / 1024,
		CAP_BUFFER_KIB_MAX);
}

/* -C: a count of 1,000,000 bytes, or with k/m/g binary units. */
static bool parse_size(const char *s, uint64_t *bytes)
{
	char num[32];
	size_t len = strlen(s);
	uint64_t v, unit = CAP_MB;

	if (!len || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K':
		unit = 1024;
		break;
	case 'm': case 'M':
		unit = 1024 * 1024;
		break;
	case 'g': case 'G':
		unit = 1024ull * 1024 * 1024;
		break;
	default:
		break;
	}
	if (unit != CAP_MB)
		num[len - 1] = '\0';
	if (!xm_ex_parse_u64(num, 1, UINT64_MAX / unit, &v))
		return false;
	*bytes = v * unit;
	return true;
}

enum {
	OPT_PCAP = 256,
	OPT_NANO,
	OPT_PCAPNG,
	OPT_TAP,
	OPT_JSON,
	OPT_QUEUES,
	OPT_CPUS,
	OPT_MODE,
	OPT_DURATION,
	OPT_BUSY,
	OPT_QUIET,
	OPT_TSPREC,
};

/* @return -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct cap_args *a)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "snapshot-length", required_argument, NULL, 's' },
		{ "relinquish-privileges", required_argument, NULL, 'Z' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "pcap", no_argument, NULL, OPT_PCAP },
		{ "nano", no_argument, NULL, OPT_NANO },
		{ "time-stamp-precision", required_argument, NULL,
		  OPT_TSPREC },
		{ "pcapng", no_argument, NULL, OPT_PCAPNG },
		{ "tap", required_argument, NULL, OPT_TAP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "busy-poll", no_argument, NULL, OPT_BUSY },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool nano = false, pcap = false, pcapng = false;
	size_t elen = 0;
	int opt;

	memset(a, 0, sizeof(*a));
	a->snaplen = CAP_SNAPLEN_MAX;
	/* "+": options end at the first word of the expression, as in
	 * tcpdump, so an expression may begin with "not" or a "-"less word */
	while ((opt = getopt_long(argc, argv, "+i:w:c:s:C:G:W:Z:B:vh", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			a->ifname = optarg;
			break;
		case 'w':
			a->path = optarg;
			break;
		case 'c':
			if (!xm_ex_parse_u64(optarg, 1, UINT64_MAX, &a->count))
				return xm_ex_usage_error(
					"invalid packet count '%s'", optarg);
			break;
		case 's':
			if (!xm_ex_parse_u32(optarg, 0, UINT32_MAX, &a->snaplen))
				return xm_ex_usage_error(
					"invalid snapshot length '%s'", optarg);
			/* tcpdump: 0 and anything too large mean the maximum */
			if (a->snaplen == 0 || a->snaplen > CAP_SNAPLEN_MAX)
				a->snaplen = CAP_SNAPLEN_MAX;
			break;
		case 'C':
			if (!parse_size(optarg, &a->rotate_bytes))
				return xm_ex_usage_error(
					"invalid file size '%s'", optarg);
			break;
		case 'G':
			if (!xm_ex_parse_u32(optarg, 1, 366 * 86400,
					     &a->rotate_secs))
				return xm_ex_usage_error(
					"invalid rotation period '%s'", optarg);
			break;
		case 'W':
			if (!xm_ex_parse_u32(optarg, 1, CAP_ROTATE_MAX_FILES,
					     &a->ring_files))
				return xm_ex_usage_error(
					"invalid file count '%s'", optarg);
			break;
		case 'Z':
			a->user = optarg;
			break;
		case 'B':
			/* below the smallest ring it is rounded up */
			if (!xm_ex_parse_u32(optarg, 64, CAP_BUFFER_KIB_MAX,
					     &a->buffer_kib))
				return xm_ex_usage_error(
					"invalid buffer size '%s' (KiB, 64 .. "
					"%u)", optarg,
					CAP_BUFFER_KIB_MAX);
			break;
		case OPT_PCAP:
			pcap = true;
			break;
		case OPT_NANO:
			nano = true;
			break;
		case OPT_TSPREC:
			if (!strcmp(optarg, "nano"))
				nano = true;
			else if (strcmp(optarg, "micro"))
				return xm_ex_usage_error(
					"invalid time stamp precision '%s' "
					"(micro, nano)", optarg);
			break;
		case OPT_PCAPNG:
			pcapng = true;
			break;
		case OPT_TAP:
			a->tap = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_QUEUES:
			if (xm_ex_opt_queues(optarg, a->queues, &a->nqueues))
				return XM_EX_USAGE;
			break;
		case OPT_CPUS:
			if (xm_ex_opt_cpus(optarg, a->cpus, CPU_SETSIZE,
					   &a->ncpus))
				return XM_EX_USAGE;
			break;
		case OPT_MODE:
			if (xm_ex_opt_mode(optarg, &a->mode))
				return XM_EX_USAGE;
			break;
		case OPT_DURATION:
			if (!xm_ex_parse_seconds(optarg, CAP_MAX_SECONDS,
						 &a->seconds))
				return xm_ex_usage_error(
					"invalid duration '%s'", optarg);
			break;
		case OPT_BUSY:
			a->busy = true;
			break;
		case OPT_QUIET:
			a->quiet = true;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return XM_EX_OK;
		default:
			return xm_ex_usage_error("invalid option");
		}
	}
	if (!a->ifname)
		return xm_ex_usage_error("-i IF is required");
	if (!a->path || !*a->path)
		return xm_ex_usage_error("-w FILE is required");
	if (pcapng && (pcap || nano))
		return xm_ex_usage_error("--pcapng and --pcap/--nano exclude "
					 "each other");
	if (nano)
		a->format = CAP_FMT_PCAP_NS;
	else if (pcap)
		a->format = CAP_FMT_PCAP_US;
	else if (pcapng || strcmp(a->path, "-"))
		a->format = CAP_FMT_PCAPNG;
	else
		a->format = CAP_FMT_PCAP_US;	/* -w - streams pcap */
	if (!strcmp(a->path, "-") && (a->rotate_bytes || a->rotate_secs ||
				      a->ring_files))
		return xm_ex_usage_error("-C, -G and -W need a file, not '-w -'");
	if (a->ring_files && !a->rotate_bytes && !a->rotate_secs)
		return xm_ex_usage_error("-W needs -C or -G");
	if (a->tap && !strcmp(a->tap, a->ifname))
		return xm_ex_usage_error("--tap needs an interface other than "
					 "-i");
	/* the expression: every remaining word, joined as tcpdump does */
	for (int i = optind; i < argc; i++)
		elen += strlen(argv[i]) + 1;
	if (elen) {
		a->expr = calloc(1, elen);
		if (!a->expr)
			return xm_ex_error("out of memory");
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(a->expr, " ");
			strcat(a->expr, argv[i]);
		}
	}
	return -1;
}

/* ------------------------------------------------------------- summary */

/* Everything the summary reports, gathered before the ports close. */
struct cap_result {
	double seconds;			/* run time */
	struct cap_totals t;		/* worker counters */
	struct xm_port_stats st;	/* -i */
	struct xm_port_stats tap_st;	/* --tap */
	bool have_st;			/* st was read */
	bool have_tap_st;		/* tap_st was read */
	struct cap_out_stats out;	/* the writer's counters */
	bool have_out;			/* the output was opened */
	char first_file[PATH_MAX];	/* names, kept past close */
	char last_file[PATH_MAX];
	int audit_err;			/* xm_umem_audit() */
	uint64_t audit_held;		/* frames not home after close */
	int worker_err;			/* first worker error */
	int fatal;			/* -errno that stopped the output */
	bool multi_buffer;		/* bound with XDP_USE_SG */
	unsigned int queues;		/* sockets (threads) */
};

static const char *stop_reason(const struct capture *c,
			       const struct cap_result *r)
{
	if (r->fatal)
		return r->fatal == -EPIPE ? "output closed" : "output error";
	if (r->worker_err)
		return "error";
	if (xm_ex_stop_signal_name())
		return xm_ex_stop_signal_name();
	if (c->a->count && r->out.packets + r->out.unwritten_full +
	    r->out.unwritten_error >= c->a->count)
		return "count";
	return "duration";
}

static const char *format_name(enum cap_format f)
{
	return f == CAP_FMT_PCAPNG ? "pcapng" :
	       f == CAP_FMT_PCAP_NS ? "pcap-ns" : "pcap";
}

static void print_summary(const struct capture *c, const struct cap_result *r)
{
	const struct cap_args *a = c->a;
	const struct xm_port_stats *st = &r->st;
	FILE *out = cap_summary_out;
	double mpps = r->seconds > 0 ? (double)r->t.rx / r->seconds / 1e6 : 0;
	double wmbps = r->seconds > 0 ?
		       (double)r->out.bytes * 8 / r->seconds / 1e6 : 0;
	/* from the first burst to the last: the rate traffic came at */
	double active = r->t.last_ns > r->t.first_ns ?
			(double)(r->t.last_ns - r->t.first_ns) / 1e9 : 0;
	double amps = active > 0 ? (double)r->t.rx / active / 1e6 : 0;
	uint64_t kfilt = c->rules_pushed ? st->xdp_passed : 0;

	if (a->json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, out);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "iface", a->ifname);
		xm_ex_json_str(&j, "tap", a->tap);
		xm_ex_json_str(&j, "mode", c->mode_name);
		xm_ex_json_bool(&j, "multi_buffer", r->multi_buffer);
		xm_ex_json_u64(&j, "queues", r->queues);
		xm_ex_json_str(&j, "format", format_name(a->format));
		xm_ex_json_u64(&j, "snaplen", a->snaplen);
		xm_ex_json_u64(&j, "rx_ring", c->rx_ring);
		xm_ex_json_str(&j, "filter", a->expr);
		xm_ex_json_u64(&j, "kernel_rules",
			       c->rules_pushed ? c->rules.nrules : 0);
		xm_ex_json_str(&j, "first_file", r->first_file);
		xm_ex_json_str(&j, "last_file", r->last_file);
		xm_ex_json_u64(&j, "files", r->out.files);
		xm_ex_json_double(&j, "duration_s", r->seconds);
		xm_ex_json_str(&j, "stopped_by", stop_reason(c, r));
		xm_ex_json_u64(&j, "uid", getuid());
		xm_ex_json_u64(&j, "received", r->t.rx);
		xm_ex_json_u64(&j, "received_bytes", r->t.rx_bytes);
		xm_ex_json_u64(&j, "accepted", r->t.accepted);
		xm_ex_json_u64(&j, "written", r->out.packets);
		xm_ex_json_u64(&j, "written_bytes", r->out.bytes);
		xm_ex_json_u64(&j, "dropped_ring_full", st->rx_ring_full);
		xm_ex_json_u64(&j, "dropped_fill_empty",
			       st->rx_fill_ring_empty_descs);
		xm_ex_json_u64(&j, "dropped_kernel_other",
			       kernel_drops_other(st));
		xm_ex_json_u64(&j, "dropped_port", st->rx_dropped_sw);
		xm_ex_json_u64(&j, "filtered_kernel", kfilt);
		xm_ex_json_u64(&j, "filtered_user", r->t.filtered);
		xm_ex_json_u64(&j, "unwritten_disk_full",
			       r->out.unwritten_full);
		xm_ex_json_u64(&j, "unwritten_error", r->out.unwritten_error);
		xm_ex_json_u64(&j, "unwritten_blocked_at_stop",
			       r->out.unwritten_stopped);
		xm_ex_json_u64(&j, "after_count", r->t.after_count);
		xm_ex_json_u64(&j, "sw_timestamps", r->t.sw_stamps);
		xm_ex_json_u64(&j, "tap_forwarded", r->t.tap_tx);
		xm_ex_json_u64(&j, "tap_dropped", r->t.tap_dropped);
		xm_ex_json_double(&j, "rx_mpps", mpps);
		xm_ex_json_double(&j, "active_s", active);
		xm_ex_json_double(&j, "active_mpps", amps);
		xm_ex_json_double(&j, "write_mbps", wmbps);
		xm_ex_json_object(&j, "kernel");
		xm_ex_json_u64(&j, "xdp_seen", st->xdp_seen);
		xm_ex_json_u64(&j, "xdp_redirected", st->xdp_redirected);
		xm_ex_json_u64(&j, "xdp_passed", st->xdp_passed);
		xm_ex_json_u64(&j, "xdp_no_socket", st->xdp_no_socket);
		xm_ex_json_u64(&j, "fill_starved", st->fill_starved);
		xm_ex_json_close(&j);
		if (r->have_tap_st) {
			xm_ex_json_object(&j, "tap_port");
			xm_ex_json_u64(&j, "tx_packets", r->tap_st.tx_packets);
			xm_ex_json_u64(&j, "tx_completions",
				       r->tap_st.tx_completions);
			xm_ex_json_u64(&j, "tx_copied", r->tap_st.tx_copied);
			xm_ex_json_u64(&j, "tx_dropped", r->tap_st.tx_dropped);
			xm_ex_json_close(&j);
		}
		xm_ex_json_object(&j, "audit");
		xm_ex_json_bool(&j, "ok", r->audit_err == 0 &&
				r->audit_held == 0);
		xm_ex_json_u64(&j, "held", r->audit_held);
		xm_ex_json_close(&j);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	fprintf(out, "%s: %s, %u queue(s), mode %s%s, %.2f s, stopped by %s\n",
		xm_ex_prog(), a->ifname, r->queues, c->mode_name,
		r->multi_buffer ? " (multi-buffer)" : "", r->seconds,
		stop_reason(c, r));
	fprintf(out, "  %llu packets received (%.3f Mpps while traffic "
		"lasted), %llu written (%llu bytes) to %llu %s file(s), "
		"last %s\n", (unsigned long long)r->t.rx, amps,
		(unsigned long long)r->out.packets,
		(unsigned long long)r->out.bytes,
		(unsigned long long)r->out.files, format_name(a->format),
		r->last_file);
	fprintf(out, "  dropped by the kernel: %llu (RX ring full %llu, fill "
		"ring empty %llu, other %llu)\n",
		(unsigned long long)kernel_drops(st),
		(unsigned long long)st->rx_ring_full,
		(unsigned long long)st->rx_fill_ring_empty_descs,
		(unsigned long long)kernel_drops_other(st));
	fprintf(out, "  filtered: %llu in the kernel (%u rule(s), to the "
		"stack), %llu in user space\n", (unsigned long long)kfilt,
		c->rules_pushed ? c->rules.nrules : 0,
		(unsigned long long)r->t.filtered);
	fprintf(out, "  not written: %llu disk full, %llu write error, %llu "
		"output blocked at the stop, %llu after -c\n",
		(unsigned long long)r->out.unwritten_full,
		(unsigned long long)r->out.unwritten_error,
		(unsigned long long)r->out.unwritten_stopped,
		(unsigned long long)r->t.after_count);
	if (a->tap)
		fprintf(out, "  tap %s: %llu forwarded, %llu dropped\n", a->tap,
			(unsigned long long)r->t.tap_tx,
			(unsigned long long)r->t.tap_dropped);
	fprintf(out, "  audit: %s, %llu frames held after close\n",
		r->audit_err == 0 && r->audit_held == 0 ? "ok" : "FAILED",
		(unsigned long long)r->audit_held);
}

/* ---------------------------------------------------------------- main */

/* Takes m, waiting CAP_LOCK_WAIT_MS at most.  @return 0 or an errno. */
static int lock_briefly(pthread_mutex_t *m)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += CAP_LOCK_WAIT_MS * 1000000l;
	if (ts.tv_nsec >= 1000000000l) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000l;
	}
	return pthread_mutex_timedlock(m, &ts);
}

/* Frames the UMEM needs: every ring of every queue full, plus slack. */
static uint32_t frames_needed(unsigned int nqueues, uint32_t fill, uint32_t rx,
			      bool tap)
{
	uint64_t per = (uint64_t)fill + rx + 8 * CAP_BATCH_PKTS + 256;

	if (tap)
		per += 2 * CAP_TX_RING;
	per = per * nqueues + 1024;
	return per > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)per;
}

static int compile_filter(struct capture *c)
{
	pcap_t *p;
	int ret = -1;

	if (!c->a->expr)
		return -1;
	p = pcap_open_dead(DLT_EN10MB, (int)c->a->snaplen);
	if (!p)
		return xm_ex_error("cannot set up libpcap");
	/* the interface's netmask, for "ip broadcast" (as tcpdump) */
	if (pcap_compile(p, &c->prog, c->a->expr, 1,
			 cap_filter_netmask(c->a->ifname)) != 0) {
		ret = xm_ex_usage_error("invalid filter expression '%s': %s",
					c->a->expr, pcap_geterr(p));
	} else {
		c->have_prog = true;
	}
	pcap_close(p);
	return ret;
}

/* Pushes the expressible part of the filter into the XDP program. */
static void push_rules(struct capture *c)
{
	char desc[128];

	if (!c->a->expr || c->tap)
		return;
	cap_filter_translate(c->a->expr, &c->rules);
	if (c->rules.all) {
		if (!c->a->quiet)
			fprintf(stderr, "%s: kernel filter: none (%s); the "
				"expression runs in user space\n",
				xm_ex_prog(), c->rules.why);
		return;
	}
	{
		/* The whole set in one step; if the port refuses it, the
		 * port keeps steering everything (its state since open). */
		int err = xm_port_rule_replace(c->in, c->rules.rules,
					       c->rules.nrules);

		if (err < 0) {
			xm_ex_error("cannot push the %u rule(s) into the XDP "
				    "program (%s); filtering in user space only",
				    c->rules.nrules, strerror(-err));
			return;
		}
	}
	c->rules_pushed = true;
	if (!c->a->quiet) {
		fprintf(stderr, "%s: kernel filter: %u rule(s):", xm_ex_prog(),
			c->rules.nrules);
		for (unsigned int i = 0; i < c->rules.nrules; i++)
			fprintf(stderr, "%s %s", i ? " |" : "",
				cap_filter_rule_str(&c->rules.rules[i], desc,
						    sizeof(desc)));
		fputc('\n', stderr);
	}
}

static int open_ports(struct capture *c)
{
	const struct cap_args *a = c->a;
	uint32_t rx = CAP_RX_RING_DEFAULT, fill;
	unsigned int nq;

	/* -B: what may wait in the RX ring for the writer (tcpdump's
	 * kernel buffer); the fill ring is twice that, the port's rule */
	if (a->buffer_kib) {
		uint64_t frames = (uint64_t)a->buffer_kib * 1024 / XM_MCLBYTES;

		rx = CAP_RX_RING_MIN;
		while (rx < frames && rx < CAP_RX_RING_MAX)
			rx <<= 1;
	}
	fill = 2 * rx;
	c->rx_ring = rx;
	nq = xm_ex_queues_for(a->ifname, a->nqueues);
	/*
	 * After -Z the process can no longer write vm.nr_hugepages, so the
	 * umem could not give back pages it reserved there: use hugepages
	 * only when the pool already has them.
	 */
	c->u = xm_ex_umem_create(frames_needed(nq, fill, rx, a->tap != NULL),
				 a->user ? XM_UMEM_F_NO_RESERVE_HUGEPAGES : 0);
	if (!c->u)
		return XM_EX_RUNTIME;
	XM_OPTS(xm_port_opts, pin,
		.queues = a->nqueues ? a->queues : NULL,
		.nqueues = (uint32_t)a->nqueues,
		.mode = a->mode,
		.rx_size = rx,
		.fill_size = fill,
		.port_index = 0,
		/* -Z: a bpf_link, so that the program comes off at exit
		 * with no capability left (cap_privs.h) */
		.flags = XM_PORT_F_RX_ONLY |
			 (c->drop_privs ? XM_PORT_F_XDP_LINK : 0));
	c->in = xm_port_open(c->u, a->ifname, &pin);
	if (!c->in)
		return xm_ex_error("cannot capture on '%s': %s", a->ifname,
				   strerror(errno));
	c->nworkers = xm_port_queue_count(c->in);
	snprintf(c->mode_name, sizeof(c->mode_name), "%s",
		 xm_port_mode_name(xm_port_mode(c->in)));
	if (a->tap) {
		uint32_t qids[XM_PORT_MAX_QUEUES];

		for (unsigned int i = 0; i < c->nworkers; i++)
			qids[i] = xm_port_queue_id(c->in, i);
		XM_OPTS(xm_port_opts, pt,
			.queues = qids,
			.nqueues = c->nworkers,
			.mode = a->mode,
			.tx_size = CAP_TX_RING,
			.port_index = 1,
			.flags = XM_PORT_F_TX_ONLY);
		c->tap = xm_port_open(c->u, a->tap, &pt);
		if (!c->tap)
			return xm_ex_error("cannot open tap interface '%s': %s",
					   a->tap, strerror(errno));
	}
	return 0;
}

static void describe(struct capture *c)
{
	struct utsname un;

	snprintf(c->descr, sizeof(c->descr),
		 "%s: AF_XDP, %u queue(s), %s mode", c->a->ifname, c->nworkers,
		 c->mode_name);
	if (uname(&un) == 0)
		snprintf(c->hostinfo, sizeof(c->hostinfo), "%s %s %s",
			 un.sysname, un.release, un.machine);
}

int main(int argc, char **argv)
{
	static const struct xm_ex_stat_col cols[] = {
		{ "rx", XM_EX_STAT_RATE },
		{ "written", XM_EX_STAT_RATE },
		{ "out", XM_EX_STAT_BITS },
		{ "kdrop", XM_EX_STAT_COUNT },
		{ "filtered", XM_EX_STAT_COUNT },
		{ "unwritten", XM_EX_STAT_COUNT },
	};
	struct cap_args a;
	struct capture c = { .a = &a };
	struct cap_result r = {};
	struct cap_user user = { 0 };
	struct cap_out_stats live_out = { 0 };	/* as of the last look */
	struct xm_ex_stats stats;
	uint64_t t0, deadline = 0;
	int ret, err;

	xm_ex_set_prog(argv[0]);
	cap_summary_out = stdout;
	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (!strcmp(a.path, "-"))
		cap_summary_out = stderr;
	xm_ex_set_print(a.verbose, false);
	err = xm_ex_signals_install();
	if (err)
		return xm_ex_error("cannot install signal handlers: %s",
				   strerror(-err));
	/* a file-size limit shows up as EFBIG, handled as a full disk */
	signal(SIGXFSZ, SIG_IGN);
	pthread_mutex_init(&c.out_lock, NULL);
	pthread_mutex_init(&c.stats_lock, NULL);

	/* Everything that can be checked without touching the interface. */
	ret = compile_filter(&c);
	if (ret >= 0)
		goto out_args;
	if (if_nametoindex(a.ifname) == 0) {
		ret = xm_ex_error("unknown interface '%s'", a.ifname);
		goto out_filter;
	}
	if (a.tap && if_nametoindex(a.tap) == 0) {
		ret = xm_ex_error("unknown tap interface '%s'", a.tap);
		goto out_filter;
	}
	if (a.user) {
		err = cap_user_lookup(a.user, &user);
		if (err == -ERANGE) {
			ret = xm_ex_usage_error("invalid user id '%s' (0 .. %u)",
						a.user, (unsigned int)-2);
			goto out_filter;
		} else if (err == -EPERM) {
			ret = xm_ex_usage_error("user '%s' is uid 0: -Z root "
						"keeps root (with no "
						"capability), by that name "
						"only", a.user);
			goto out_filter;
		} else if (err) {
			ret = xm_ex_error("unknown user '%s'", a.user);
			goto out_filter;
		}
		c.drop_privs = geteuid() == 0;
	}

	ret = open_ports(&c);
	if (ret)
		goto out_ports;
	push_rules(&c);
	describe(&c);
	r.multi_buffer = xm_port_multi_buffer(c.in);
	r.queues = c.nworkers;

	/* As tcpdump: the user switch comes before any output file, and
	 * only root switches (anyone else has nothing to give up). */
	if (a.user && !c.drop_privs && !a.quiet) {
		fprintf(stderr, "%s: not running as root: -Z %s ignored\n",
			xm_ex_prog(), a.user);
	} else if (c.drop_privs) {
		char why[256];

		err = cap_drop_privileges(&user, why, sizeof(why));
		if (err) {
			ret = xm_ex_error("cannot switch to user '%s': %s",
					  user.name, why);
			goto out_ports;
		}
	}

	c.clock_off = clock_offset();
	c.start_real_ns = clock_ns(CLOCK_REALTIME);
	{
		struct cap_out_opts oo = {
			.path = a.path,
			.info = {
				.format = a.format,
				.snaplen = a.snaplen,
				.linktype = CAP_LINKTYPE_ETHERNET,
				.ifname = a.ifname,
				.ifdescr = c.descr,
				.filter = a.expr,
				.os = c.hostinfo[0] ? c.hostinfo : NULL,
				.appl = "xmbuf-capture",
			},
			.rotate_bytes = a.rotate_bytes,
			.rotate_secs = a.rotate_secs,
			.ring_files = a.ring_files,
			.isb_fn = fill_isb,
			.isb_arg = &c,
			.msg_fn = out_message,
			/* a stream whose reader stalls must not hold the
			 * stop up (cap_out.h) */
			.stop_fn = xm_ex_stopping,
		};

		err = cap_out_open(&c.out, &oo, c.start_real_ns);
		if (err) {
			ret = XM_EX_RUNTIME;
			goto out_ports;
		}
	}
	snprintf(r.first_file, sizeof(r.first_file), "%s",
		 cap_out_current(c.out));

	c.workers = calloc(c.nworkers, sizeof(*c.workers));
	if (!c.workers) {
		ret = xm_ex_error("out of memory");
		goto out_file;
	}
	for (unsigned int i = 0; i < c.nworkers; i++) {
		struct cap_worker *w = &c.workers[i];

		w->batch = malloc(sizeof(*w->batch));
		w->linear = malloc(CAP_LINEAR_MAX);
		if (!w->batch || !w->linear) {
			ret = xm_ex_error("out of memory");
			goto out_workers;
		}
		cap_batch_init(w->batch, a.format);
	}
	if (!a.quiet)
		fprintf(stderr, "%s: capturing on %s, %u queue(s), mode %s%s, "
			"to %s (%s, snaplen %u)\n", xm_ex_prog(), a.ifname,
			c.nworkers, c.mode_name,
			r.multi_buffer ? " (multi-buffer)" : "",
			cap_out_current(c.out), format_name(a.format),
			a.snaplen);

	t0 = xm_ex_now_ns();
	if (a.seconds > 0)
		deadline = t0 + (uint64_t)(a.seconds * 1e9);
	xm_ex_stats_init(&stats, cols, 6, 0, a.quiet ? NULL : stderr);
	for (unsigned int i = 0; i < c.nworkers; i++) {
		struct cap_worker *w = &c.workers[i];

		w->c = &c;
		w->qidx = i;
		w->cpu = a.ncpus ? (int)a.cpus[i % (unsigned int)a.ncpus] : -1;
		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			xm_ex_error("cannot start queue thread %u: %s", i,
				    strerror(err));
			r.worker_err = -err;
			xm_ex_stop();
			break;
		}
		w->started = true;
	}

	while (!xm_ex_stopping()) {
		uint64_t now = xm_ex_now_ns();

		if (deadline && now >= deadline) {
			xm_ex_stop();
			break;
		}
		/*
		 * Never wait long for the output lock here: a worker may
		 * hold it in a write to a stream whose reader does not
		 * read, and only this loop ends --duration.  A lock still
		 * busy means a worker is writing, and its write rotates as
		 * due; the live figures wait for the next round.
		 */
		err = 0;
		if (lock_briefly(&c.out_lock) == 0) {
			err = cap_out_tick(c.out, clock_ns(CLOCK_REALTIME));
			cap_out_stats(c.out, &live_out);
			pthread_mutex_unlock(&c.out_lock);
		}
		if (err) {
			int zero = 0;

			atomic_compare_exchange_strong(&c.fatal, &zero, err);
			xm_ex_stop();
			break;
		}
		if (xm_ex_stats_due(&stats, now)) {
			const struct cap_out_stats *os = &live_out;
			struct xm_port_stats st;
			struct cap_totals t;
			uint64_t v[6];

			port_stats(&c, &st);
			sum_workers(&c, &t);
			v[0] = t.rx;
			v[1] = os->packets;
			v[2] = os->bytes;
			v[3] = kernel_drops(&st);
			v[4] = t.filtered + (c.rules_pushed ? st.xdp_passed : 0);
			v[5] = os->unwritten_full + os->unwritten_error +
			       os->unwritten_stopped;
			xm_ex_stats_print(&stats, v, now);
		}
		usleep(deadline && deadline - now < 50000000ull ?
		       (useconds_t)((deadline - now) / 1000) + 1 : 50000);
	}
	r.seconds = (double)(xm_ex_now_ns() - t0) / 1e9;

out_workers:
	for (unsigned int i = 0; i < c.nworkers; i++) {
		if (!c.workers || !c.workers[i].started)
			continue;
		pthread_join(c.workers[i].thread, NULL);
		if (c.workers[i].err && !r.worker_err)
			r.worker_err = c.workers[i].err;
	}
	if (c.workers) {
		sum_workers(&c, &r.t);
		r.have_st = port_stats(&c, &r.st) == 0;
		if (c.tap)
			r.have_tap_st = xm_port_stats(c.tap, &r.tap_st) == 0;
	}
out_file:
	r.fatal = atomic_load(&c.fatal);
	cap_out_stats(c.out, &r.out);
	r.have_out = true;
	snprintf(r.last_file, sizeof(r.last_file), "%s",
		 cap_out_current(c.out));
	pthread_mutex_lock(&c.out_lock);
	err = cap_out_close(c.out, clock_ns(CLOCK_REALTIME));
	pthread_mutex_unlock(&c.out_lock);
	c.out = NULL;
	if (err && !r.fatal)
		r.fatal = err;
out_ports:
	xm_port_close(c.tap);
	xm_port_close(c.in);
	if (c.workers && r.have_out) {
		xm_umem_cache_flush(c.u);
		r.audit_err = xm_umem_audit(c.u, &r.audit_held);
		print_summary(&c, &r);
		if (r.audit_err || r.audit_held) {
			xm_ex_error("frame audit failed: %llu frames not home",
				    (unsigned long long)r.audit_held);
			ret = XM_EX_RUNTIME;
		} else if (r.worker_err) {
			ret = XM_EX_RUNTIME;
		} else if (r.fatal && r.fatal != -EPIPE) {
			ret = XM_EX_RUNTIME;
		} else if (r.out.unwritten_full || r.out.unwritten_error) {
			xm_ex_error("%llu packets were not written",
				    (unsigned long long)(r.out.unwritten_full +
							 r.out.unwritten_error));
			ret = XM_EX_RUNTIME;
		} else {
			ret = XM_EX_OK;
		}
	}
	if (c.workers) {
		for (unsigned int i = 0; i < c.nworkers; i++) {
			free(c.workers[i].batch);
			free(c.workers[i].linear);
		}
		free(c.workers);
	}
	xm_umem_destroy(c.u);
out_filter:
	if (c.have_prog)
		pcap_freecode(&c.prog);
out_args:
	free(a.expr);
	pthread_mutex_destroy(&c.out_lock);
	pthread_mutex_destroy(&c.stats_lock);
	return ret;
}

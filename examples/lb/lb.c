// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb.c - xmbuf-lb: an L4 load balancer (direct server return) on the
 * mbuf layer, in the manner of Katran, Cilium's XDP balancer, GLB
 * Director and Google's Maglev.
 *
 *   client --> [IF] XDP steering: VIP traffic --> AF_XDP queue q
 *                    everything else --> kernel stack (XDP_PASS)
 *
 *   worker q: rx_burst --> lb_path_process() per frame --> tx_burst (IF)
 *             frame in = frame out: the outer IP (and UDP/GUE) header is
 *             written into the frame's headroom, the Ethernet header moved
 *             in front of it, the mbuf's m_data moved back; no copy.
 *
 *   backend: decapsulates (examples/decap/, `xmbuf-decap`) and answers
 *            the client directly from the VIP.
 *
 * Threads: one worker per queue owns its RX/TX rings, its connection
 * table (lb_lru) and its counters.  The main thread prints statistics
 * once a second, and on SIGHUP reloads the configuration:
 *
 *   parse + build new (lb_config_load, against the running one)
 *     bad: message naming the line; the running configuration stays
 *     good: publish the pointer (release); each worker picks it up at its
 *           next burst and says so (seen_gen); once all have, the old
 *           one's counters are folded into the new one and it is freed.
 *
 * Established flows survive a reload because the connection table
 * remembers backends by stable identity, not by index (lb_config.c).
 *
 * At exit (SIGINT, SIGTERM, SIGQUIT, or -d): workers drain what they
 * queued, the port closes, and the UMEM is audited: every frame must be
 * home.
 * Exit status: 0 success, 1 runtime error (bad configuration included),
 * 2 usage error.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xm_example.h"
#include "xm_mbuf.h"
#include "xm_pkt.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "lb_config.h"
#include "lb_lru.h"
#include "lb_maglev.h"
#include "lb_path.h"

#define LB_BURST_DEFAULT	64
#define LB_BURST_MAX		256
#define LB_DRAIN_NS		1000000000ull	/* wait for TX at exit */
#define LB_QUIESCE_NS		5000000000ull	/* wait for workers on reload */

struct lb;

/* Counters of the worker loop itself (lb_path has the decisions'). */
struct lb_wcounters {
	_Atomic uint64_t tx;		/* frames accepted by tx_burst */
	_Atomic uint64_t tx_full;	/* dropped: TX ring full after a kick */
	_Atomic uint64_t multi_buffer;	/* dropped: packet in several frames */
	_Atomic uint64_t busy_cycles;	/* in loops that moved packets */
	_Atomic uint32_t headroom_min;	/* least leading space seen in an RX
					 * frame (the outer header goes there) */
};

struct lb_worker {
	struct lb *lb;			/* the program */
	unsigned int qidx;		/* queue index in the port */
	struct lb_path path;		/* decision state: LRU, counters */
	_Atomic uint32_t seen_gen;	/* config generation in use */
	struct lb_wcounters c;		/* loop counters */
} __attribute__((aligned(64)));

struct lb {
	struct xm_umem *u;		/* the one UMEM */
	struct xm_port *port;		/* IF */
	struct lb_worker *workers;	/* one per queue */
	unsigned int nworkers;
	_Atomic(struct lb_config *) cur; /* configuration in force */
	const char *config_path;	/* -c */
	uint16_t burst;			/* frames per rx_burst */
	bool use_poll;			/* sleep in poll() when idle */
	uint8_t mac[6];			/* IF's MAC */
	uint64_t reloads;		/* successful reloads */
	uint64_t reload_failures;	/* refused reloads */
	uint64_t rule_failures;		/* steering updates that failed */
};

static volatile sig_atomic_t reload_requested;

static void on_sighup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* ---------------------------------------------------------------- worker */

static uint64_t now_ns(void)
{
	return xm_ex_now_ns();
}

/*
 * Runs a burst through the decision and compacts the frames to send into
 * pkts[].  DPDK's pipelining without its ceremony, so that the burst's
 * cache misses overlap instead of coming one after the other:
 *
 *   1. parse, hash, prefetch the connection-table bucket; prefetch for
 *      writing the next frames' first lines (the kernel just wrote them
 *      on another CPU) and each frame's headroom line (the outer headers
 *      go there; nothing has touched it since the frame last left);
 *   2. read the buckets, prefetch the entries they name;
 *   3. decide and encapsulate, by then from cache.
 *
 * Measured on the lb benchmark (60000 flows, examples/lb/README.md): the
 * entry prefetch took the table lookup from ~32 to ~15 ns a packet, the
 * headroom prefetch the outer checksum from ~24 to ~5 ns (it was the
 * store into a cold line, not the arithmetic).
 * @return frames to send.
 */
static uint16_t lb_burst(struct lb_worker *w, const struct lb_config *cfg,
			 struct xm_mbuf **pkts, uint16_t n, uint64_t t)
{
	struct lb_pkt k[LB_BURST_MAX];
	bool go[LB_BURST_MAX];
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];

		/* The next frames' first lines, which the kernel just wrote
		 * on another CPU; for writing, since the Ethernet header
		 * moves. */
		if (i + 2 < n)
			lb_prefetchw(pkts[i + 2]->m_data);
		/* The outer headers go into the headroom, a line the kernel's
		 * copy did not touch and no one has for a long while: start
		 * taking it for writing now, not at the encapsulation. */
		lb_prefetchw(m->m_data - LB_MAX_OVERHEAD);
		if (__builtin_expect(m->m_next != NULL, 0)) {
			/* Jumbo frames: the outer header must go in front of
			 * the first segment and TX would need multi-buffer;
			 * the balancer runs with multi-buffer off. */
			atomic_fetch_add_explicit(&w->c.multi_buffer, 1,
						  memory_order_relaxed);
			go[i] = false;
			continue;
		}
		go[i] = lb_path_classify(&w->path, cfg, xm_mtod(m, uint8_t *),
					 (uint32_t)m->m_len, &k[i]);
	}
	/* The buckets have arrived by now: fetch the entries they name. */
	for (uint16_t i = 0; i < n; i++)
		if (go[i])
			lb_lru_prefetch_entry(w->path.p_lru, k[i].k_hash);
	for (uint16_t i = 0; i < n; i++) {
		struct xm_mbuf *m = pkts[i];
		/* xm_leadingspace() and xm_trailingspace() with one
		 * xm_writable() between them, not one each (callgrind: -30
		 * instructions a packet) */
		bool wr = xm_writable(m);
		char *start = xm_start(m);
		uint32_t room = wr ? (uint32_t)(m->m_data - start) : 0;
		uint32_t tail = wr ? (uint32_t)(start + xm_size(m) -
						m->m_data - m->m_len) : 0;
		struct lb_result r;

		if (__builtin_expect(room < atomic_load_explicit(
				&w->c.headroom_min, memory_order_relaxed), 0))
			atomic_store_explicit(&w->c.headroom_min, room,
					      memory_order_relaxed);
		if (!go[i] ||
		    lb_path_decide(&w->path, cfg, xm_mtod(m, uint8_t *),
				   (uint32_t)m->m_len, room, tail, t, &k[i],
				   &r) == LB_DROP) {
			xm_freem(m);
			continue;
		}
		m->m_data += r.r_off;
		m->m_len = (int32_t)r.r_len;
		m->m_pkthdr.len = r.r_len;
		pkts[kept++] = m;
	}
	return kept;
}

/* A queue's loop (the launcher pinned the thread). */
static int worker_main(void *arg)
{
	struct lb_worker *w = arg;
	struct lb *lb = w->lb;
	struct xm_mbuf *pkts[LB_BURST_MAX];
	unsigned int q = w->qidx;

	while (!xm_ex_stopping()) {
		/*
		 * The configuration is read once per burst; saying which one
		 * we use here, before the burst, tells the main thread we are
		 * done with any older one (see reload()).
		 */
		const struct lb_config *cfg =
			atomic_load_explicit(&lb->cur, memory_order_acquire);
		uint64_t c0 = xm_ex_cycles();
		uint16_t n, sent;

		atomic_store_explicit(&w->seen_gen, cfg->c_gen,
				      memory_order_release);
		n = xm_port_rx_burst(lb->port, q, pkts, lb->burst);
		if (!n) {
			if (xm_port_tx_pending(lb->port, q))
				xm_port_tx_flush(lb->port, q);
			if (lb->use_poll)
				xm_port_poll(lb->port, q, 100);
			continue;
		}
		n = lb_burst(w, cfg, pkts, n, now_ns());
		if (!n)
			goto busy;
		sent = xm_ex_tx_or_drop(lb->port, q, pkts, n);
		if (sent < n)
			atomic_fetch_add_explicit(&w->c.tx_full, n - sent,
						  memory_order_relaxed);
		atomic_fetch_add_explicit(&w->c.tx, sent, memory_order_relaxed);
		xm_port_tx_complete(lb->port, q);
busy:
		/* Busy time as xmbuf-fwd and testpmd count it: only loops
		 * that moved packets, from the RX call to the completions. */
		atomic_fetch_add_explicit(&w->c.busy_cycles,
					  xm_ex_cycles() - c0,
					  memory_order_relaxed);
	}

	xm_ex_tx_drain(lb->port, q, LB_DRAIN_NS);
	/* A stopped worker uses no configuration any more. */
	atomic_store_explicit(&w->seen_gen, UINT32_MAX, memory_order_release);
	xm_umem_cache_flush(lb->u);
	return 0;
}

/* ------------------------------------------------------------- steering */

/*
 * The configuration's steering rules, as one set that replaces the one in
 * force in a single step (xm_port_rule_replace()): no packet ever meets
 * a partial set.  On failure the set in force stays.
 */
static int install_rules(struct lb *lb, const struct lb_config *c)
{
	struct xm_port_rule pr[LB_MAX_RULES];

	memset(pr, 0, sizeof(pr));
	for (uint32_t i = 0; i < c->c_nrules; i++) {
		const struct lb_rule *r = &c->c_rules[i];

		pr[i].match = XM_RULE_M_DST | XM_RULE_M_PROTO;
		pr[i].family = r->r_family == 4 ? AF_INET : AF_INET6;
		pr[i].ip_proto = r->r_proto;
		pr[i].dst_len = r->r_family == 4 ? 32 : 128;
		memcpy(pr[i].dst, r->r_addr.a_v6, 16);
		if (r->r_port) {
			pr[i].match |= XM_RULE_M_DST_PORT;
			pr[i].dst_port = r->r_port;
		}
	}
	return xm_port_rule_replace(lb->port, pr, c->c_nrules);
}

static bool same_rules(const struct lb_config *a, const struct lb_config *b)
{
	return a->c_nrules == b->c_nrules &&
	       !memcmp(a->c_rules, b->c_rules,
		       a->c_nrules * sizeof(a->c_rules[0]));
}

/* --------------------------------------------------------------- reload */

/*
 * SIGHUP: parse and build the file against the running configuration;
 * switch the steering rules to it (one step); publish it; wait until
 * every worker has moved to it; fold the old one's counters in and free
 * it.  A bad file, or rules the port refuses, change nothing.
 */
static void reload(struct lb *lb)
{
	struct lb_config *old = atomic_load(&lb->cur), *c;
	char err[LB_ERRLEN];
	uint64_t deadline;
	bool quiet;

	c = lb_config_load(lb->config_path, old, lb->nworkers, err,
			   sizeof(err));
	if (c == NULL) {
		lb->reload_failures++;
		xm_ex_error("reload refused: %s; the running configuration "
			    "(generation %u) stays", err, old->c_gen);
		return;
	}
	if (!same_rules(old, c)) {
		/*
		 * Rules first, then the configuration: a packet of a service
		 * just added may meet the old configuration for a burst
		 * (counted as no_service), but no packet for no service is
		 * ever steered here: the port swaps the whole set at once.
		 */
		int e = install_rules(lb, c);

		if (e) {
			lb->rule_failures++;
			lb->reload_failures++;
			xm_ex_error("reload refused: cannot install the steering "
				    "rules: %s; the running configuration "
				    "(generation %u) and its rules stay",
				    strerror(-e), old->c_gen);
			lb_config_free(c);
			return;
		}
	}
	atomic_store_explicit(&lb->cur, c, memory_order_release);

	deadline = now_ns() + LB_QUIESCE_NS;
	do {
		quiet = true;
		for (unsigned int i = 0; i < lb->nworkers; i++) {
			uint32_t g = atomic_load_explicit(
				&lb->workers[i].seen_gen, memory_order_acquire);

			if (g != UINT32_MAX && g < c->c_gen)
				quiet = false;
		}
		if (!quiet)
			usleep(1000);
	} while (!quiet && now_ns() < deadline);
	if (!quiet) {
		/* A worker stuck for seconds: leaking the old one is safer
		 * than freeing what it may still read. */
		xm_ex_error("reload: a worker still uses generation %u; not "
			    "freeing it", old->c_gen);
	} else {
		lb_config_carry_stats(c, old);
		lb_config_free(old);
	}
	lb->reloads++;
	fprintf(stderr, "%s: reloaded %s: generation %u, %u service(s), %u "
		"backend(s)\n", xm_ex_prog(), lb->config_path, c->c_gen,
		c->c_nvips, c->c_nbackends);
}

/* ----------------------------------------------------------- statistics */

/* Every worker's counters summed (main thread). */
struct lb_totals {
	struct lb_path_stats p;		/* decisions, summed */
	uint64_t tx;			/* accepted by tx_burst */
	uint64_t tx_full;		/* dropped: TX ring full */
	uint64_t multi_buffer;		/* dropped: chains */
	uint64_t busy_cycles;		/* in loops that moved packets */
	uint32_t headroom_min;		/* least RX headroom seen */
	uint64_t flows;			/* entries in the tables */
	uint64_t lru_capacity;		/* entries, all tables */
	struct lb_lru_stats lru;	/* summed */
};

static void sum_totals(const struct lb *lb, struct lb_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->headroom_min = UINT32_MAX;
	for (unsigned int i = 0; i < lb->nworkers; i++) {
		const struct lb_worker *w = &lb->workers[i];
		struct lb_path_stats ps;
		struct lb_lru_stats ls;
		uint32_t hr;
		uint64_t *dst = (uint64_t *)&t->p;
		const uint64_t *src = (const uint64_t *)&ps;

		lb_path_stats_read(&w->path, &ps);
		for (size_t k = 0; k < sizeof(ps) / sizeof(uint64_t); k++)
			dst[k] += src[k];
		t->tx += atomic_load_explicit(&w->c.tx, memory_order_relaxed);
		t->tx_full += atomic_load_explicit(&w->c.tx_full,
						   memory_order_relaxed);
		t->multi_buffer += atomic_load_explicit(&w->c.multi_buffer,
							memory_order_relaxed);
		t->busy_cycles += atomic_load_explicit(&w->c.busy_cycles,
						       memory_order_relaxed);
		hr = atomic_load_explicit(&w->c.headroom_min,
					  memory_order_relaxed);
		if (hr < t->headroom_min)
			t->headroom_min = hr;
		if (w->path.p_lru) {
			lb_lru_stats(w->path.p_lru, &ls);
			t->lru.hits += ls.hits;
			t->lru.misses += ls.misses;
			t->lru.inserts += ls.inserts;
			t->lru.evictions += ls.evictions;
			t->lru.removals += ls.removals;
			t->flows += ls.inserts - ls.evictions - ls.removals;
			t->lru_capacity += lb_lru_capacity(w->path.p_lru);
		}
	}
}

static uint64_t drops_of(const struct lb_totals *t)
{
	const struct lb_path_stats *p = &t->p;

	return p->malformed + p->not_ip + p->not_tcp_udp + p->no_service +
	       p->no_backend + p->frag_no_owner + p->too_big_dropped +
	       p->no_headroom + t->tx_full + t->multi_buffer;
}

/* Per-service and per-backend lines under the headline. */
static void print_detail(const struct lb_config *c, FILE *out)
{
	char name[80], h[4][16];

	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		struct lb_cnt t;

		lb_config_slot_total(c, vi, &t);
		fprintf(out, "  vip %-28s pkts %-7s bytes %-7s new %-7s miss %s\n",
			lb_vip_name(v, name, sizeof(name)),
			xm_ex_human(t.packets, h[0], sizeof(h[0])),
			xm_ex_human(t.bytes, h[1], sizeof(h[1])),
			xm_ex_human(t.new_flows, h[2], sizeof(h[2])),
			xm_ex_human(t.lru_misses, h[3], sizeof(h[3])));
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			const struct lb_backend *be = &v->v_be[b];

			lb_config_slot_total(c, c->c_nvips + be->be_stat, &t);
			fprintf(out, "    backend %-22s w %-5u pkts %-7s bytes "
				"%-7s new %-7s miss %s\n",
				lb_addr_name(be->be_family, &be->be_addr, name,
					     sizeof(name)), be->be_weight,
				xm_ex_human(t.packets, h[0], sizeof(h[0])),
				xm_ex_human(t.bytes, h[1], sizeof(h[1])),
				xm_ex_human(t.new_flows, h[2], sizeof(h[2])),
				xm_ex_human(t.lru_misses, h[3], sizeof(h[3])));
		}
	}
}

static void json_cnt(struct xm_ex_json *j, const struct lb_cnt *t)
{
	xm_ex_json_u64(j, "packets", t->packets);
	xm_ex_json_u64(j, "bytes", t->bytes);
	xm_ex_json_u64(j, "new_flows", t->new_flows);
	xm_ex_json_u64(j, "lru_misses", t->lru_misses);
}

static void json_services(struct xm_ex_json *j, const struct lb_config *c)
{
	char name[80];

	xm_ex_json_array(j, "vips");
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		struct lb_cnt t;

		xm_ex_json_object(j, NULL);
		xm_ex_json_str(j, "vip", lb_vip_name(v, name, sizeof(name)));
		lb_config_slot_total(c, vi, &t);
		json_cnt(j, &t);
		xm_ex_json_array(j, "backends");
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			const struct lb_backend *be = &v->v_be[b];

			xm_ex_json_object(j, NULL);
			xm_ex_json_str(j, "addr", lb_addr_name(be->be_family,
				       &be->be_addr, name, sizeof(name)));
			xm_ex_json_u64(j, "weight", be->be_weight);
			lb_config_slot_total(c, c->c_nvips + be->be_stat, &t);
			json_cnt(j, &t);
			xm_ex_json_close(j);
		}
		xm_ex_json_close(j);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

/* Everything the summary reports, gathered before the port closes. */
struct lb_result_sum {
	struct lb_totals t;		/* counters at the end */
	struct xm_port_stats st;	/* port */
	bool have_st;			/* xm_port_stats() succeeded */
	double seconds;			/* run time */
	int audit_err;			/* xm_umem_audit() */
	uint64_t audit_held;		/* frames not home after close */
	int worker_err;			/* first worker error */
	char mode[16];			/* mode bound, kept past close */
};

static void print_summary(const struct lb *lb, const char *ifname, bool json,
			  const struct lb_result_sum *r)
{
	const struct lb_config *c = atomic_load(&lb->cur);
	const struct lb_path_stats *p = &r->t.p;
	const char *stop = xm_ex_stop_signal_name() ?
			   xm_ex_stop_signal_name() :
			   r->worker_err ? "error" : "duration";
	bool audit_ok = r->audit_err == 0 && r->audit_held == 0;

	if (json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, stdout);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "iface", ifname);
		xm_ex_json_str(&j, "config", lb->config_path);
		xm_ex_json_u64(&j, "generation", c->c_gen);
		xm_ex_json_u64(&j, "reloads", lb->reloads);
		xm_ex_json_u64(&j, "reload_failures", lb->reload_failures);
		xm_ex_json_u64(&j, "rule_failures", lb->rule_failures);
		xm_ex_json_str(&j, "mode", r->mode);
		xm_ex_json_u64(&j, "queues", lb->nworkers);
		xm_ex_json_double(&j, "duration_s", r->seconds);
		xm_ex_json_str(&j, "stopped_by", stop);
		xm_ex_json_u64(&j, "rx_packets", p->rx);
		xm_ex_json_u64(&j, "forwarded", p->forwarded);
		xm_ex_json_u64(&j, "icmp_too_big_sent", p->icmp_sent);
		xm_ex_json_u64(&j, "tx_packets", r->t.tx);
		xm_ex_json_double(&j, "rx_mpps", r->seconds > 0 ?
				  (double)p->rx / r->seconds / 1e6 : 0);
		xm_ex_json_u64(&j, "busy_cycles", r->t.busy_cycles);
		xm_ex_json_double(&j, "busy_cycles_per_packet", p->rx ?
				  (double)r->t.busy_cycles / (double)p->rx : 0);
		xm_ex_json_object(&j, "dropped");
		xm_ex_json_u64(&j, "total", drops_of(&r->t));
		xm_ex_json_u64(&j, "malformed", p->malformed);
		xm_ex_json_u64(&j, "not_ip", p->not_ip);
		xm_ex_json_u64(&j, "not_tcp_udp", p->not_tcp_udp);
		xm_ex_json_u64(&j, "no_service", p->no_service);
		xm_ex_json_u64(&j, "no_backend", p->no_backend);
		xm_ex_json_u64(&j, "frag_no_owner", p->frag_no_owner);
		xm_ex_json_u64(&j, "too_big_unanswered", p->too_big_dropped);
		xm_ex_json_u64(&j, "no_headroom", p->no_headroom);
		xm_ex_json_u64(&j, "tx_full", r->t.tx_full);
		xm_ex_json_u64(&j, "multi_buffer", r->t.multi_buffer);
		xm_ex_json_close(&j);
		xm_ex_json_object(&j, "malformed");
		for (int k = 1; k < XM_PKT_ERR_MAX; k++)
			if (p->malformed_why[k])
				xm_ex_json_u64(&j, xm_pkt_strerror(k),
					       p->malformed_why[k]);
		xm_ex_json_close(&j);
		xm_ex_json_u64(&j, "fragments", p->frags);
		xm_ex_json_u64(&j, "too_big", p->too_big);
		xm_ex_json_u64(&j, "rescheduled", p->rescheduled);
		/* What AF_XDP left in front of the packets (UINT32_MAX: no
		 * packet seen). */
		xm_ex_json_u64(&j, "headroom_min", r->t.headroom_min);
		xm_ex_json_object(&j, "lru");
		xm_ex_json_u64(&j, "flows", r->t.flows);
		xm_ex_json_u64(&j, "capacity", r->t.lru_capacity);
		xm_ex_json_u64(&j, "hits", r->t.lru.hits);
		xm_ex_json_u64(&j, "misses", r->t.lru.misses);
		xm_ex_json_u64(&j, "evictions", r->t.lru.evictions);
		xm_ex_json_u64(&j, "pin_refused_source", p->pin_refused_source);
		xm_ex_json_u64(&j, "pin_refused_table", p->pin_refused_table);
		xm_ex_json_close(&j);
		json_services(&j, c);
		if (r->have_st) {
			xm_ex_json_object(&j, "port");
			xm_ex_json_u64(&j, "rx_packets", r->st.rx_packets);
			xm_ex_json_u64(&j, "tx_packets", r->st.tx_packets);
			xm_ex_json_u64(&j, "tx_dropped", r->st.tx_dropped);
			xm_ex_json_u64(&j, "tx_completions",
				       r->st.tx_completions);
			xm_ex_json_u64(&j, "tx_wakeups", r->st.tx_wakeups);
			xm_ex_json_u64(&j, "fill_starved", r->st.fill_starved);
			xm_ex_json_u64(&j, "rx_fill_ring_empty_descs",
				       r->st.rx_fill_ring_empty_descs);
			xm_ex_json_u64(&j, "rx_dropped", r->st.rx_dropped);
			xm_ex_json_u64(&j, "rx_ring_full", r->st.rx_ring_full);
			xm_ex_json_u64(&j, "xdp_redirected",
				       r->st.xdp_redirected);
			xm_ex_json_u64(&j, "xdp_passed", r->st.xdp_passed);
			xm_ex_json_close(&j);
		}
		xm_ex_json_object(&j, "audit");
		xm_ex_json_bool(&j, "ok", audit_ok);
		xm_ex_json_u64(&j, "held", r->audit_held);
		xm_ex_json_close(&j);
		xm_ex_json_zones(&j, "zones", lb->u);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	printf("%s: %s, %s, %u queue(s), %.2f s, stopped by %s, generation "
	       "%u (%llu reload(s), %llu refused)\n", xm_ex_prog(), ifname,
	       r->mode, lb->nworkers, r->seconds, stop, c->c_gen,
	       (unsigned long long)lb->reloads,
	       (unsigned long long)lb->reload_failures);
	printf("  rx %llu, forwarded %llu, too-big replies %llu, dropped %llu "
	       "(malformed %llu, no service %llu, no backend %llu, too big "
	       "%llu, tx full %llu)\n", (unsigned long long)p->rx,
	       (unsigned long long)p->forwarded,
	       (unsigned long long)p->icmp_sent,
	       (unsigned long long)drops_of(&r->t),
	       (unsigned long long)p->malformed,
	       (unsigned long long)p->no_service,
	       (unsigned long long)p->no_backend,
	       (unsigned long long)p->too_big_dropped,
	       (unsigned long long)r->t.tx_full);
	printf("  flows %llu of %llu, evictions %llu, not pinned %llu (source "
	       "budget) %llu (table budget), fragments %llu\n",
	       (unsigned long long)r->t.flows,
	       (unsigned long long)r->t.lru_capacity,
	       (unsigned long long)r->t.lru.evictions,
	       (unsigned long long)p->pin_refused_source,
	       (unsigned long long)p->pin_refused_table,
	       (unsigned long long)p->frags);
	printf("  busy: %.1f cycles/packet\n", p->rx ?
	       (double)r->t.busy_cycles / (double)p->rx : 0);
	print_detail(c, stdout);
	printf("  audit: %s, %llu frames held after close\n",
	       audit_ok ? "ok" : "FAILED", (unsigned long long)r->audit_held);
}

/* ------------------------------------------------------------------ main */

struct lb_args {
	struct xm_ex_args ex;		/* -i, -q, -d, -C, -m, -b, -p, -F, -j,
					 * -Q, -v */
	const char *config;		/* -c */
	bool check;			/* -t */
};

/* @return -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct lb_args *a)
{
	const struct xm_ex_opt opts[] = {
		XM_EX_STD(XM_EX_O_IFACE, 0, NULL),
		{ .name = "config", .letter = 'c', .arg = XM_EX_ARG_STR,
		  .dest = &a->config, .metavar = "CONFIG",
		  .flags = XM_EX_F_REQUIRED,
		  .help = "configuration (required)" },
		XM_EX_STD(XM_EX_O_QUEUES, 0, NULL),
		{ .name = "check", .letter = 't', .arg = XM_EX_ARG_NONE,
		  .dest = &a->check,
		  .help = "validate CONFIG, print the tables' shares, exit" },
		XM_EX_STD(XM_EX_O_DURATION, 0, NULL),
		XM_EX_STD(XM_EX_O_CPUS, 'C', NULL),
		XM_EX_STD(XM_EX_O_MODE, 0, NULL),
		{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_BURST,
		  .hi = LB_BURST_MAX,
		  .help = "frames per burst, 1.." XM_EX_STR(LB_BURST_MAX)
			  " (default " XM_EX_STR(LB_BURST_DEFAULT) ")" },
		XM_EX_STD(XM_EX_O_POLL, 0, NULL),
		XM_EX_STD(XM_EX_O_BUSY_POLL, 0, NULL),
		XM_EX_STD(XM_EX_O_FRAMES, 0, NULL),
		XM_EX_STD(XM_EX_O_JSON, 0, NULL),
		XM_EX_STD(XM_EX_O_QUIET, 0, NULL),
		XM_EX_STD(XM_EX_O_VERBOSE, 0, NULL),
		XM_EX_OPTS_END
	};
	const struct xm_ex_cli cli = {
		.tool = "lb",
		.synopsis = "-i IF -c CONFIG [-q QUEUES] [--json] [options]\n"
			    "       xmbuf-lb -c CONFIG --check",
		.description =
"Balances the services of CONFIG over their backends (Maglev hashing,\n"
"connection tables, IPIP/GUE direct server return).  Traffic that is for\n"
"no service goes on to the kernel.  SIGHUP reloads CONFIG; SIGINT,\n"
"SIGTERM or SIGQUIT stops.  CONFIG's format: examples/lb/README.md.\n",
		.epilogue =
"Exit status: 0 success, 1 runtime or configuration error, 2 usage error.\n",
		.opts = opts,
		.args = &a->ex,
	};
	int ret;

	memset(a, 0, sizeof(*a));
	a->ex.burst = LB_BURST_DEFAULT;
	ret = xm_ex_opts_parse(&cli, argc, argv, NULL);
	if (ret >= 0)
		return ret;
	if (!a->ex.ifname && !a->check)
		return xm_ex_usage_error("-i IF is required");
	return -1;
}

/* --check: what the configuration means, table share per backend. */
static int check_config(const char *path)
{
	char err[LB_ERRLEN], name[80];
	struct lb_config *c = lb_config_load(path, NULL, 1, err, sizeof(err));

	if (c == NULL)
		return xm_ex_error("%s", err);
	printf("%s: ok: %u service(s), %u backend(s), table-size %u, "
	       "lru-size %u, encap %s, %u steering rule(s), key %s\n", path,
	       c->c_nvips, c->c_nbackends, c->c_table_size, c->c_lru_size,
	       c->c_encap == LB_ENCAP_IPIP ? "ipip" :
	       c->c_encap == LB_ENCAP_GUE ? "gue" : "gue-direct", c->c_nrules,
	       c->c_key_set ? "configured" : "random");
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		uint64_t wsum = 0;

		printf("  vip %s (line %u)\n", lb_vip_name(v, name, sizeof(name)),
		       v->v_line);
		for (uint32_t b = 0; b < v->v_nbe; b++)
			wsum += v->v_be[b].be_weight;
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			const struct lb_backend *be = &v->v_be[b];
			uint32_t slots = 0;

			for (uint32_t s = 0; s < c->c_table_size; s++)
				slots += v->v_table[s] == b;
			printf("    backend %s weight %u: %u slots (%.2f%%, "
			       "weight share %.2f%%)\n",
			       lb_addr_name(be->be_family, &be->be_addr, name,
					    sizeof(name)), be->be_weight, slots,
			       100.0 * slots / c->c_table_size,
			       wsum ? 100.0 * be->be_weight / (double)wsum : 0);
		}
	}
	lb_config_free(c);
	return XM_EX_OK;
}

/*
 * Frames the UMEM needs: every ring of every queue full (sized for rings
 * of 2048, fill 4096: twice the port's default, the headroom the
 * balancer always had), two bursts and the cache buckets per queue, the
 * reserve.  Without -q, 4 queues.
 */
static uint32_t frames_needed(unsigned int nqueues)
{
	XM_OPTS(xm_port_frames_opts, fo,
		.nqueues = nqueues,
		.rx_size = 2048,
		.tx_size = 2048,
		.held = 2 * LB_BURST_MAX + 128,
		.reserve = 1024);

	return xm_port_frames_needed(&fo);
}

/* The stats line: rx, fwd, icmp, drop, flows. */
static void sample(void *ctx, uint64_t *v)
{
	struct lb_totals t;

	sum_totals(ctx, &t);
	v[0] = t.p.rx;
	v[1] = t.p.forwarded;
	v[2] = t.p.icmp_sent;
	v[3] = drops_of(&t);
	v[4] = t.flows;
}

/* After it, each service's backends. */
static void sample_detail(void *ctx)
{
	struct lb *lb = ctx;

	print_detail(atomic_load(&lb->cur), stderr);
}

/* Each round: a SIGHUP since the last one reloads the configuration. */
static int tick(void *ctx, uint64_t now_ns)
{
	(void)now_ns;
	if (reload_requested) {
		reload_requested = 0;
		reload(ctx);
	}
	return 0;
}

/*
 * The port: no metadata, since the balancer reads neither the timestamp
 * nor the hash (it hashes the 5-tuple itself).  It lends no more frames
 * than the RX ring holds: when the balancer is slower than its input,
 * the kernel then drops at the empty fill ring, before copying the
 * packet, instead of copying it and dropping it at the full RX ring (as
 * xmbuf-fwd does, see examples/fwd/fwd.c).  It steers nothing until the
 * configuration's rules are in.  @return 0 or the exit status.
 */
static int open_port(struct lb *lb, const struct lb_args *a)
{
	XM_OPTS(xm_port_opts, po,
		.queues = a->ex.nqueues ? a->ex.queues : NULL,
		.nqueues = (uint32_t)a->ex.nqueues,
		.mode = a->ex.mode,
		.multi_buffer = XM_PORT_MB_OFF,
		.flags = XM_PORT_F_NO_METADATA | XM_PORT_F_LEND_RX_RING |
			 XM_PORT_F_STEER_NONE,
		.busy_poll_budget = a->ex.busy_poll);

	lb->port = xm_port_open(lb->u, a->ex.ifname, &po);
	if (!lb->port)
		return xm_ex_error("cannot open port on '%s': %s",
				   a->ex.ifname, strerror(errno));
	lb->nworkers = xm_port_queue_count(lb->port);
	return 0;
}

/* Each worker's decision state: its connection table, the MAC, the MTU. */
static int init_workers(struct lb *lb, const struct lb_config *c)
{
	lb->workers = calloc(lb->nworkers, sizeof(*lb->workers));
	if (!lb->workers)
		return xm_ex_error("out of memory");
	for (unsigned int i = 0; i < lb->nworkers; i++) {
		struct lb_worker *w = &lb->workers[i];

		w->lb = lb;
		w->qidx = i;
		w->path.p_worker = i;
		w->path.p_if_mtu = xm_port_mtu(lb->port);
		memcpy(w->path.p_mac, lb->mac, 6);
		w->path.p_lru = lb_lru_create(c->c_lru_size, &c->c_sipkey);
		if (!w->path.p_lru)
			return xm_ex_error("cannot create a connection table "
					   "of %u flows: %s", c->c_lru_size,
					   strerror(errno));
		atomic_init(&w->seen_gen, c->c_gen);
		atomic_init(&w->c.headroom_min, UINT32_MAX);
	}
	return 0;
}

/* Runs the workers until a stop or -d, then closes the port and audits. */
static int balance(struct lb *lb, const struct lb_args *a,
		   struct lb_result_sum *r)
{
	static const struct xm_ex_stat_col cols[] = {
		{ "rx", XM_EX_STAT_RATE },
		{ "fwd", XM_EX_STAT_RATE },
		{ "icmp", XM_EX_STAT_COUNT },
		{ "drop", XM_EX_STAT_COUNT },
		{ "flows", XM_EX_STAT_GAUGE },
	};
	struct xm_ex_run run = {
		.fn = worker_main,
		.args = lb->workers,
		.stride = sizeof(*lb->workers),
		.nworkers = lb->nworkers,
		.opts = &a->ex,
		.cols = cols,
		.ncols = 5,
		.sample = sample,
		.after_line = sample_detail,
		.tick = tick,
		.ctx = lb,
	};

	r->worker_err = xm_ex_run(&run);
	r->seconds = xm_ex_run_seconds(&run);
	sum_totals(lb, &r->t);
	r->have_st = xm_port_stats(lb->port, &r->st) == 0;
	xm_port_close(lb->port);
	lb->port = NULL;
	xm_umem_cache_flush(lb->u);
	r->audit_err = xm_umem_audit(lb->u, &r->audit_held);
	print_summary(lb, a->ex.ifname, a->ex.json, r);
	if (r->audit_err || r->audit_held) {
		xm_ex_error("frame audit failed: %llu frames not home",
			    (unsigned long long)r->audit_held);
		return XM_EX_RUNTIME;
	}
	return r->worker_err ? XM_EX_RUNTIME : XM_EX_OK;
}

int main(int argc, char **argv)
{
	struct lb_args a;
	struct lb lb = {};
	struct lb_result_sum r = {};
	struct xm_port_ifinfo ifi;
	struct lb_config *c;
	struct sigaction sa;
	char err[LB_ERRLEN];
	int ret, e;

	xm_ex_set_prog(argv[0]);
	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	xm_ex_set_print(a.ex.verbose, false);
	if (a.check)
		return check_config(a.config);

	/* A bad configuration is reported before the interface is touched;
	 * it is built once the number of workers is known. */
	c = lb_config_read(a.config, NULL, err, sizeof(err));
	if (c == NULL)
		return xm_ex_error("%s", err);

	e = xm_ex_signals_install();
	if (e) {
		lb_config_free(c);
		return xm_ex_error("cannot install signal handlers: %s",
				   strerror(-e));
	}
	/* SIGHUP reloads here (tick()), where the other tools stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sighup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);

	lb.config_path = a.config;
	lb.burst = (uint16_t)a.ex.burst;
	lb.use_poll = a.ex.poll;
	e = xm_port_ifinfo(a.ex.ifname, &ifi);
	if (e) {
		lb_config_free(c);
		return xm_ex_error("cannot read the MAC address of '%s': %s",
				   a.ex.ifname, strerror(-e));
	}
	memcpy(lb.mac, ifi.mac, 6);

	lb.u = xm_ex_umem_create(a.ex.frames ? a.ex.frames :
		frames_needed(a.ex.nqueues ? (unsigned int)a.ex.nqueues : 4),
		0);
	if (!lb.u) {
		lb_config_free(c);
		return XM_EX_RUNTIME;
	}
	ret = open_port(&lb, &a);
	if (ret) {
		lb_config_free(c);
		goto out_umem;
	}
	snprintf(r.mode, sizeof(r.mode), "%s",
		 xm_port_mode_name(xm_port_mode(lb.port)));

	/* As many counter sets as workers. */
	e = lb_config_build(c, NULL, lb.nworkers, err, sizeof(err));
	if (e) {
		ret = xm_ex_error("%s", err);
		lb_config_free(c);
		goto out_port;
	}
	atomic_init(&lb.cur, c);
	e = install_rules(&lb, c);
	if (e) {
		ret = xm_ex_error("cannot install the steering rules on '%s': %s",
				  a.ex.ifname, strerror(-e));
		goto out_config;
	}
	ret = init_workers(&lb, c);
	if (ret)
		goto out_workers;

	if (!a.ex.quiet)
		fprintf(stderr, "%s: %s, %u queue(s), mode %s, %u service(s), "
			"%u backend(s), %u steering rule(s)\n", xm_ex_prog(),
			a.ex.ifname, lb.nworkers, r.mode, c->c_nvips,
			c->c_nbackends, c->c_nrules);
	ret = balance(&lb, &a, &r);

out_workers:
	if (lb.workers)
		for (unsigned int i = 0; i < lb.nworkers; i++)
			lb_lru_destroy(lb.workers[i].path.p_lru);
	free(lb.workers);
out_config:
	lb_config_free(atomic_load(&lb.cur));
out_port:
	xm_port_close(lb.port);
out_umem:
	xm_umem_destroy(lb.u);
	return ret;
}

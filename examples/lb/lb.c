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
 * Operations (issue 13): a health-check thread (lb_health.c), a control
 * socket thread (lb_ctl.c) and a /metrics server (lb_metrics.c).  A
 * drain, an undrain or a health change makes a new generation the way a
 * reload does (lb_state.h).  Everything but the workers that reads or
 * replaces the configuration in force holds lb->lock: the main thread's
 * reload and stats, the control socket, the scrapes, so a configuration
 * is freed only when no reader holds it.
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

#include "lb_bird.h"
#include "lb_config.h"
#include "lb_ctl.h"
#include "lb_health.h"
#include "lb_key.h"
#include "lb_lru.h"
#include "lb_maglev.h"
#include "lb_metrics.h"
#include "lb_notify.h"
#include "lb_path.h"
#include "lb_snapshot.h"
#include "lb_state.h"

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
	/* operations (under lock, but the counters the workers write) */
	pthread_mutex_t lock;		/* cur's readers and replacers */
	const char *ifname;		/* -i */
	uint64_t t0_ns;			/* start */
	struct lb_health_mon *hm;	/* NULL: no service has checks */
	uint64_t health_seen;		/* transitions acted on */
	struct lb_drains drains;	/* ctl drain, until a reload */
	uint64_t all_down_events;	/* services found all down */
	struct lb_ctl *ctl;		/* control socket, or NULL */
	struct lb_metrics *metrics;	/* /metrics, or NULL */
	/* systemd and BGP */
	bool ready_sent;		/* READY=1 told (lb_notify.c) */
	bool bird_on;			/* --bird-routes: BIRD announces */
	bool host_drained;		/* ctl drain-host: every VIP withdrawn
					 * (under lock) */
	uint64_t bird_next_ns;		/* next look at the announce set */
	struct lb_bird bird;		/* lb_bird.c; its device's state under
					 * lock, the rest the main thread's */
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
static bool health_down(void *ctx, uint32_t be_id)
{
	return lb_health_down(ctx, be_id);
}

/* Says which services lost or got back their last backend (c against
 * old), and counts the former. */
static void note_all_down(struct lb *lb, const struct lb_config *old,
			  const struct lb_config *c)
{
	char name[80];

	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		int o = old ? lb_config_vip(old, v->v_family, &v->v_addr,
					    v->v_proto, v->v_port) : -1;
		bool was = o >= 0 && old->c_vips[o].v_all_down;

		if (v->v_all_down && !was) {
			lb->all_down_events++;
			xm_ex_error("service %s: every backend is down; keeping "
				    "the last table (a try is better than a "
				    "drop)", lb_vip_name(v, name, sizeof(name)));
		} else if (!v->v_all_down && was) {
			fprintf(stderr, "%s: service %s: a backend is up "
				"again\n", xm_ex_prog(),
				lb_vip_name(v, name, sizeof(name)));
		}
	}
}

/*
 * Applies the drains and the health states to c (parsed, not built) and
 * builds it against the configuration in force.  @return 0, or -errno
 * with err set (c is the caller's to free).
 */
static int prepare(struct lb *lb, struct lb_config *c, char *err,
		   size_t errlen)
{
	lb_state_apply(c, atomic_load(&lb->cur), &lb->drains,
		       lb->hm ? health_down : NULL, lb->hm);
	return lb_config_build(c, atomic_load(&lb->cur), lb->nworkers, err,
			       errlen);
}

/*
 * Runs c (built against the one in force): its steering rules, then the
 * pointer; waits for every worker to move to it; folds the old one's
 * counters in and frees it.  Called with lb->lock held.  @return 0, or
 * -errno (c freed, the old one stays) with err set.
 */
static int publish(struct lb *lb, struct lb_config *c, char *err,
		   size_t errlen)
{
	struct lb_config *old = atomic_load(&lb->cur);
	uint64_t deadline;
	bool quiet;

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
			snprintf(err, errlen, "cannot install the steering "
				 "rules: %s", strerror(-e));
			lb_config_free(c);
			return e;
		}
	}
	note_all_down(lb, old, c);
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
	return 0;
}

/*
 * SIGHUP or `ctl reload` (lb->lock held): the file, parsed against the
 * running configuration, drains cleared, health states kept by backend.
 * @return 0, or -errno with msg saying why it was refused.
 */
static int reload(struct lb *lb, char *msg, size_t msglen)
{
	struct lb_config *old = atomic_load(&lb->cur), *c;
	char err[LB_ERRLEN];
	struct lb_drains kept = lb->drains;
	int e;

	lb_notify_reloading();
	c = lb_config_read(lb->config_path, old, err, sizeof(err));
	if (c != NULL) {
		/* A drain lasts until the next reload (said at drain time). */
		memset(&lb->drains, 0, sizeof(lb->drains));
		e = prepare(lb, c, err, sizeof(err));
		if (e)
			lb_config_free(c);
		else
			e = publish(lb, c, err, sizeof(err));
	} else {
		e = -(errno ? errno : EINVAL);
	}
	if (e) {
		lb->drains = kept;
		lb->reload_failures++;
		snprintf(msg, msglen, "reload refused: %s; the running "
			 "configuration (generation %u) stays", err,
			 old->c_gen);
		xm_ex_error("%s", msg);
		lb_notify_ready("reload refused; generation %u stays (%u "
				"service(s))", old->c_gen, old->c_nvips);
		return e;
	}
	c = atomic_load(&lb->cur);
	if (lb->hm && lb_health_sync(lb->hm, c))
		xm_ex_error("reload: cannot update the health checks (out of "
			    "memory); the previous targets stay");
	lb->reloads++;
	snprintf(msg, msglen, "reloaded %s: generation %u, %u service(s), %u "
		 "backend(s)%s", lb->config_path, c->c_gen, c->c_nvips,
		 c->c_nbackends, kept.d_n ? "; drains cleared" : "");
	fprintf(stderr, "%s: %s\n", xm_ex_prog(), msg);
	lb_notify_ready("balancing %u service(s), generation %u", c->c_nvips,
			c->c_gen);
	return 0;
}

/* True when a and b (same pool) would give the same tables and flags. */
static bool same_state(const struct lb_config *a, const struct lb_config *b)
{
	for (uint32_t vi = 0; vi < a->c_nvips; vi++) {
		const struct lb_vip *x = &a->c_vips[vi], *y = &b->c_vips[vi];

		if (x->v_all_down != y->v_all_down)
			return false;
		for (uint32_t i = 0; i < x->v_nbe; i++)
			if (x->v_be[i].be_weight != y->v_be[i].be_weight ||
			    x->v_be[i].be_down != y->v_be[i].be_down ||
			    x->v_be[i].be_drained != y->v_be[i].be_drained ||
			    x->v_be[i].be_reset != y->v_be[i].be_reset)
				return false;
	}
	return true;
}

/*
 * The running configuration again with the drains and health states of
 * now (lb->lock held), published when anything changed.
 * @return 0 (published or nothing to do), or -errno with err set.
 */
static int refresh(struct lb *lb, char *err, size_t errlen)
{
	struct lb_config *cur = atomic_load(&lb->cur);
	struct lb_config *c = lb_config_clone(cur);
	int e;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	lb_state_apply(c, cur, &lb->drains, lb->hm ? health_down : NULL,
		       lb->hm);
	if (same_state(cur, c)) {
		lb_config_free(c);
		return 0;
	}
	e = lb_config_build(c, cur, lb->nworkers, err, errlen);
	if (e) {
		lb_config_free(c);
		return e;
	}
	return publish(lb, c, err, errlen);
}

/* ----------------------------------------------------------- statistics */

/* Every worker's counters summed (struct lb_totals: lb_snapshot.h). */
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
			xm_ex_json_str(j, "state", be->be_drained ? "drained" :
				       be->be_down ? "down" : "up");
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
	struct lb_losses loss;		/* every loss, from t and st */
	uint64_t health_transitions;	/* operations, at the end */
	uint64_t ctl_requests, ctl_errors, metrics_requests;
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
		/* Every loss (lb_snapshot.h): the path's below, the port's
		 * under "port_losses". */
		xm_ex_json_u64(&j, "total", lb_losses_total(&r->loss));
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
		xm_ex_json_object(&j, "port_losses");
		xm_ex_json_u64(&j, "rx_ring_full", r->loss.rx_ring_full);
		xm_ex_json_u64(&j, "fill_ring_empty", r->loss.fill_ring_empty);
		xm_ex_json_u64(&j, "rx_other", r->loss.rx_other);
		xm_ex_json_u64(&j, "rx_port", r->loss.rx_port);
		xm_ex_json_u64(&j, "tx_port", r->loss.tx_port);
		xm_ex_json_u64(&j, "invalid_descs", r->loss.invalid_descs);
		xm_ex_json_u64(&j, "no_socket", r->loss.no_socket);
		xm_ex_json_close(&j);
		xm_ex_json_close(&j);
		xm_ex_json_object(&j, "operations");
		xm_ex_json_u64(&j, "all_down_events", lb->all_down_events);
		xm_ex_json_u64(&j, "health_transitions", r->health_transitions);
		xm_ex_json_u64(&j, "ctl_requests", r->ctl_requests);
		xm_ex_json_u64(&j, "ctl_errors", r->ctl_errors);
		xm_ex_json_u64(&j, "metrics_requests", r->metrics_requests);
		xm_ex_json_close(&j);
		xm_ex_json_object(&j, "malformed");
		for (int k = 1; k < XM_PKT_ERR_MAX; k++)
			if (p->malformed_why[k])
				xm_ex_json_u64(&j, xm_pkt_strerror(k),
					       p->malformed_why[k]);
		xm_ex_json_close(&j);
		xm_ex_json_u64(&j, "fragments", p->frags);
		xm_ex_json_u64(&j, "csum_completed", p->csum_completed);
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
		if (lb->bird_on) {
			/* What was announced last, and how BIRD was told. */
			xm_ex_json_object(&j, "bgp");
			xm_ex_json_str(&j, "device", lb->bird.b_tun);
			xm_ex_json_u64(&j, "announced", lb->bird.b_announced);
			xm_ex_json_u64(&j, "addresses", lb->bird.b_addresses);
			xm_ex_json_u64(&j, "configures",
				       lb->bird.b_configures);
			xm_ex_json_u64(&j, "configure_failures",
				       lb->bird.b_configure_failures);
			xm_ex_json_bool(&j, "host_drained", lb->host_drained);
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
	       "%llu, tx full %llu, port %llu)\n", (unsigned long long)p->rx,
	       (unsigned long long)p->forwarded,
	       (unsigned long long)p->icmp_sent,
	       (unsigned long long)lb_losses_total(&r->loss),
	       (unsigned long long)p->malformed,
	       (unsigned long long)p->no_service,
	       (unsigned long long)p->no_backend,
	       (unsigned long long)p->too_big_dropped,
	       (unsigned long long)r->t.tx_full,
	       (unsigned long long)(lb_losses_total(&r->loss) - r->loss.path));
	printf("  flows %llu of %llu, evictions %llu, not pinned %llu (source "
	       "budget) %llu (table budget), fragments %llu, checksums "
	       "completed %llu\n",
	       (unsigned long long)r->t.flows,
	       (unsigned long long)r->t.lru_capacity,
	       (unsigned long long)r->t.lru.evictions,
	       (unsigned long long)p->pin_refused_source,
	       (unsigned long long)p->pin_refused_table,
	       (unsigned long long)p->frags,
	       (unsigned long long)p->csum_completed);
	printf("  busy: %.1f cycles/packet\n", p->rx ?
	       (double)r->t.busy_cycles / (double)p->rx : 0);
	print_detail(c, stdout);
	printf("  audit: %s, %llu frames held after close\n",
	       audit_ok ? "ok" : "FAILED", (unsigned long long)r->audit_held);
}

/* ----------------------------------------------------------- operations */

/* A snapshot for the control socket and /metrics; lb->lock held. */
static int take_snapshot(struct lb *lb, struct lb_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->iface = lb->ifname;
	s->config = lb->config_path;
	s->uptime_s = (double)(now_ns() - lb->t0_ns) / 1e9;
	s->nworkers = lb->nworkers;
	s->reloads = lb->reloads;
	s->reload_failures = lb->reload_failures;
	s->rule_failures = lb->rule_failures;
	s->all_down_events = lb->all_down_events;
	s->health_transitions = lb->hm ? lb_health_transitions(lb->hm) : 0;
	s->drains = lb->drains.d_n;
	s->ctl_requests = lb_ctl_requests(lb->ctl);
	s->ctl_errors = lb_ctl_errors(lb->ctl);
	s->metrics_requests = lb_metrics_requests(lb->metrics);
	sum_totals(lb, &s->t);
	s->worker_flows = calloc(lb->nworkers, sizeof(uint64_t));
	if (s->worker_flows == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < lb->nworkers; i++) {
		struct lb_lru_stats ls;

		lb_lru_stats(lb->workers[i].path.p_lru, &ls);
		s->worker_flows[i] = ls.inserts - ls.evictions - ls.removals;
	}
	s->have_port = lb->port && xm_port_stats(lb->port, &s->port) == 0;
	lb_losses_fill(&s->loss, &s->t, s->have_port ? &s->port : NULL);
	return lb_snap_config(s, atomic_load(&lb->cur), lb->hm, lb->u);
}

static int metrics_snap(void *ctx, struct lb_snap *s)
{
	struct lb *lb = ctx;
	int e;

	pthread_mutex_lock(&lb->lock);
	e = take_snapshot(lb, s);
	pthread_mutex_unlock(&lb->lock);
	return e;
}

/* 'flows [VIP]': what the walk of each worker's table found. */
struct flow_walk {
	const struct lb_config *c;
	int vip;			/* only this service; -1: all */
	unsigned int worker;
	struct lb_ctl_flow *f;
	unsigned int n;
	bool truncated;
};

static void flow_one(void *arg, const struct lb_lru_entry *e)
{
	struct flow_walk *w = arg;
	const struct lb_flow *f = &e->e_flow;
	uint8_t fam = f->f_flags & LB_FLOW_V6 ? 6 : 4;
	const struct lb_idmap *im;
	struct lb_ctl_flow *o;
	union xm_pkt_addr a;
	char addr[INET6_ADDRSTRLEN];
	int vi;

	memcpy(&a, f->f_dst, sizeof(a));
	vi = f->f_flags & LB_FLOW_FRAG ?
	     lb_config_frag_vip(w->c, fam, &a, f->f_proto) :
	     lb_config_vip(w->c, fam, &a, f->f_proto, f->f_dport);
	if (vi < 0 || (w->vip >= 0 && vi != w->vip))
		return;
	if (w->n == LB_CTL_FLOWS_MAX) {
		w->truncated = true;
		return;
	}
	o = &w->f[w->n++];
	lb_vip_name(&w->c->c_vips[vi], o->vip, sizeof(o->vip));
	memcpy(&a, f->f_src, sizeof(a));
	lb_addr_name(fam, &a, addr, sizeof(addr));
	snprintf(o->client, sizeof(o->client), fam == 4 ? "%s:%u" : "[%s]:%u",
		 addr, f->f_sport);
	im = lb_config_backend_by_id(w->c, e->e_backend_id);
	if (im)
		lb_addr_name(w->c->c_vips[im->im_vip].v_be[im->im_be].be_family,
			     &w->c->c_vips[im->im_vip].v_be[im->im_be].be_addr,
			     o->backend, sizeof(o->backend));
	else
		snprintf(o->backend, sizeof(o->backend), "?");
	o->worker = w->worker;
}

static int ctl_flows(struct lb *lb, const struct lb_ctl_cmd *cmd, FILE *out,
		     char *err, size_t errlen)
{
	struct flow_walk w = { .c = atomic_load(&lb->cur), .vip = -1 };

	if (cmd->arg[0]) {
		for (uint32_t vi = 0; vi < w.c->c_nvips && w.vip < 0; vi++) {
			char name[80];

			lb_vip_name(&w.c->c_vips[vi], name, sizeof(name));
			if (!strcmp(name, cmd->arg))
				w.vip = (int)vi;
		}
		if (w.vip < 0) {
			snprintf(err, errlen, "no service '%s' (as 'services' "
				 "names them: 198.18.2.1:80/tcp)", cmd->arg);
			return -ENOENT;
		}
	}
	w.f = calloc(LB_CTL_FLOWS_MAX, sizeof(*w.f));
	if (w.f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < lb->nworkers && !w.truncated; i++) {
		w.worker = i;
		/* Entries of other services count toward the walk's bound
		 * too: it is what keeps the walk of a full table short. */
		lb_lru_walk(lb->workers[i].path.p_lru, flow_one, &w,
			    4 * LB_CTL_FLOWS_MAX);
	}
	lb_ctl_format_flows(out, cmd->json, w.f, w.n, w.truncated);
	free(w.f);
	return 0;
}

static int ctl_drain(struct lb *lb, const struct lb_ctl_cmd *cmd, FILE *out,
		     char *err, size_t errlen)
{
	bool drain = cmd->verb == LB_CTL_DRAIN;
	char msg[LB_ERRLEN + 64];
	union xm_pkt_addr a;
	unsigned int nbe;
	uint8_t fam;
	int e;

	if (!lb_state_parse_addr(cmd->arg, &fam, &a)) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address",
			 cmd->arg);
		return -EINVAL;
	}
	nbe = lb_config_count_addr(atomic_load(&lb->cur), fam, &a);
	if (nbe == 0) {
		snprintf(err, errlen, "no backend %s in the configuration",
			 cmd->arg);
		return -ENOENT;
	}
	e = drain ? lb_drains_add(&lb->drains, fam, &a) :
		    lb_drains_del(&lb->drains, fam, &a);
	if (e) {
		snprintf(err, errlen, e == -EEXIST ? "%s is drained already" :
			 e == -ENOENT ? "%s is not drained" :
			 "%s: too many drains at once", cmd->arg);
		return e;
	}
	e = refresh(lb, err, errlen);
	if (e) {
		if (drain)
			lb_drains_del(&lb->drains, fam, &a);
		else
			lb_drains_add(&lb->drains, fam, &a);
		return e;
	}
	snprintf(msg, sizeof(msg), drain ? "drained %s (%u backend(s)): "
		 "weight 0, established flows stay; until undrain or the "
		 "next reload (generation %u)" : "undrained %s (%u "
		 "backend(s)): its weight is back (generation %u)", cmd->arg,
		 nbe, atomic_load(&lb->cur)->c_gen);
	fprintf(stderr, "%s: %s\n", xm_ex_prog(), msg);
	lb_ctl_format_result(out, cmd->json, msg);
	return 0;
}

/* ------------------------------------------------------------------ BGP */

#define LB_BIRD_EVERY_NS	100000000ull	/* announce set looked at */

/* A VIP address is announced while one of its services can serve
 * (lb_config_vip_healthy(): a backend up, weighted, not drained). */
static bool bird_service_up(void *ctx, const struct lb_config *c,
			    uint32_t vi)
{
	(void)ctx;
	return lb_config_vip_healthy(c, c->c_vips[vi].v_family,
				     &c->c_vips[vi].v_addr);
}

/*
 * The announce set against the configuration in force (whoever made the
 * last generation: a reload, a health change, a drain), BIRD told when
 * it changed, the device up once BIRD has the files as they are (a route
 * must never lead to a stale set) unless the host is drained.  Main
 * thread, from tick(); birdc runs without the lock.
 */
static void bird_tick(struct lb *lb, uint64_t now)
{
	struct lb_bird *b = &lb->bird;
	char err[LB_ERRLEN];
	int r;

	if (!lb->bird_on)
		return;
	if (now >= lb->bird_next_ns) {
		lb->bird_next_ns = now + LB_BIRD_EVERY_NS;
		pthread_mutex_lock(&lb->lock);
		r = lb_bird_set(b, atomic_load(&lb->cur), bird_service_up,
				NULL, err, sizeof(err));
		pthread_mutex_unlock(&lb->lock);
		if (r)
			xm_ex_error("%s", err);
	}
	r = lb_bird_poll(b, now);
	if (r > 0) {
		fprintf(stderr, "%s: bird: %u of %u VIP address(es) in %s, "
			"BIRD reconfigured\n", xm_ex_prog(), b->b_announced,
			b->b_addresses, b->b_routes4);
	} else if (r < 0 && !b->b_failing) {
		b->b_failing = true;
		xm_ex_error("bird: birdc -s %s configure: %s (trying again "
			    "each second)", b->b_sock, b->b_msg);
	}
	pthread_mutex_lock(&lb->lock);
	if (!b->b_pending && !b->b_up && !lb->host_drained) {
		r = lb_bird_updown(b, true);
		if (r)
			xm_ex_error("bird: cannot bring %s up: %s", b->b_tun,
				    strerror(-r));
		else
			fprintf(stderr, "%s: bird: %s up: announcing\n",
				xm_ex_prog(), b->b_tun);
	}
	pthread_mutex_unlock(&lb->lock);
}

/* ctl drain-host / undrain-host (lb->lock held): the device down
 * withdraws every VIP at once; up announces the set again. */
static int ctl_drain_host(struct lb *lb, const struct lb_ctl_cmd *cmd,
			  FILE *out, char *err, size_t errlen)
{
	bool drain = cmd->verb == LB_CTL_DRAIN_HOST;
	char msg[160];
	int e;

	if (!lb->bird_on) {
		snprintf(err, errlen, "nothing is announced here (no "
			 "--bird-routes)");
		return -ENOTSUP;
	}
	if (drain == lb->host_drained) {
		snprintf(err, errlen, "the host is %s already",
			 drain ? "drained" : "not drained");
		return -EALREADY;
	}
	lb->host_drained = drain;
	/* Undrained: the main thread brings the device up once BIRD has
	 * the files as they are (bird_tick()). */
	e = drain ? lb_bird_updown(&lb->bird, false) : 0;
	if (e) {
		lb->host_drained = false;
		snprintf(err, errlen, "cannot bring %s down: %s",
			 lb->bird.b_tun, strerror(-e));
		return e;
	}
	snprintf(msg, sizeof(msg), drain ? "host drained: %s down, every VIP "
		 "withdrawn; established flows stay while the routers send "
		 "them; until undrain-host" : "host undrained: %s up again, "
		 "the VIPs that can be served are announced", lb->bird.b_tun);
	fprintf(stderr, "%s: %s\n", xm_ex_prog(), msg);
	lb_ctl_format_result(out, cmd->json, msg);
	return 0;
}

/* The control socket's commands (its thread); each under lb->lock. */
static int ctl_run(void *ctx, const struct lb_ctl_cmd *cmd, FILE *out,
		   char *err, size_t errlen)
{
	struct lb *lb = ctx;
	char msg[LB_ERRLEN + 128];
	struct lb_snap s;
	int e = 0;

	pthread_mutex_lock(&lb->lock);
	switch (cmd->verb) {
	case LB_CTL_STATUS:
	case LB_CTL_SERVICES:
	case LB_CTL_BACKENDS:
		e = take_snapshot(lb, &s);
		if (e)
			snprintf(err, errlen, "out of memory");
		else
			lb_ctl_format(out, cmd, &s);
		lb_snap_free(&s);
		break;
	case LB_CTL_FLOWS:
		e = ctl_flows(lb, cmd, out, err, errlen);
		break;
	case LB_CTL_DRAIN:
	case LB_CTL_UNDRAIN:
		e = ctl_drain(lb, cmd, out, err, errlen);
		break;
	case LB_CTL_DRAIN_HOST:
	case LB_CTL_UNDRAIN_HOST:
		e = ctl_drain_host(lb, cmd, out, err, errlen);
		break;
	case LB_CTL_RELOAD:
		e = reload(lb, msg, sizeof(msg));
		if (e)
			snprintf(err, errlen, "%s", msg);
		else
			lb_ctl_format_result(out, cmd->json, msg);
		break;
	case LB_CTL_HELP:
		lb_ctl_format_help(out, cmd->json);
		break;
	}
	pthread_mutex_unlock(&lb->lock);
	return e;
}

static int start_threads(struct lb *lb, const char *ctl_path,
			 const char *metrics, bool quiet);

/*
 * The threads around the workers: health checks when a service has
 * them, the control socket (unless --ctl none), /metrics when asked.
 * @return 0 or the exit status.
 */
static int start_operations(struct lb *lb, const char *ctl_path,
			    const char *metrics, bool quiet)
{
	sigset_t all, old;
	int ret;

	/* Signals stay the main thread's: it is the one that sleeps in
	 * the run loop and acts on them; the threads started here inherit
	 * the blocked set. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = start_threads(lb, ctl_path, metrics, quiet);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int start_threads(struct lb *lb, const char *ctl_path,
			 const char *metrics, bool quiet)
{
	const struct lb_config *c = atomic_load(&lb->cur);
	char path[108], err[LB_ERRLEN];
	bool checks = false;

	for (uint32_t vi = 0; vi < c->c_nvips; vi++)
		checks |= c->c_vips[vi].v_health.h_kind != LB_HEALTH_NONE;
	/* Started even without checks: a reload may add some. */
	lb->hm = lb_health_start();
	if (lb->hm == NULL)
		return xm_ex_error("cannot start the health checks: %s",
				   strerror(errno));
	if (lb_health_sync(lb->hm, c))
		return xm_ex_error("cannot start the health checks: out of "
				   "memory");
	if (checks && !quiet)
		fprintf(stderr, "%s: health checks on; a backend starts up "
			"and goes down after 'fall' failed checks\n",
			xm_ex_prog());
	if (ctl_path == NULL) {
		snprintf(path, sizeof(path), LB_CTL_DIR "/%s.sock",
			 lb->ifname);
	}
	if (!ctl_path || strcmp(ctl_path, "none")) {
		lb->ctl = lb_ctl_start(ctl_path ? ctl_path : path, ctl_run, lb,
				       err, sizeof(err));
		/*
		 * The default path is the interface's name, and interfaces
		 * of one name live in other network namespaces: another
		 * balancer there may hold it.  Asked for by name, the path
		 * is required; by default, it is not worth not balancing.
		 */
		if (lb->ctl == NULL && (ctl_path || errno != EADDRINUSE))
			return xm_ex_error("control socket: %s (--ctl PATH "
					   "for another, --ctl none for "
					   "none)", err);
		if (lb->ctl == NULL)
			xm_ex_error("control socket: %s; running without one "
				    "(--ctl PATH for another)", err);
	}
	if (metrics) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (lb_metrics_parse_addr(metrics, &ss, &sl))
			return xm_ex_usage_error("--metrics takes PORT, "
						 "ADDR:PORT or [ADDR6]:PORT");
		lb->metrics = lb_metrics_start(&ss, metrics_snap, lb, err,
					       sizeof(err));
		if (lb->metrics == NULL)
			return xm_ex_error("--metrics %s: %s", metrics, err);
	}
	return 0;
}

/* Before the port closes: nothing may ask about it any more. */
static void stop_operations(struct lb *lb, struct lb_result_sum *r)
{
	r->ctl_requests = lb_ctl_requests(lb->ctl);
	r->ctl_errors = lb_ctl_errors(lb->ctl);
	r->metrics_requests = lb_metrics_requests(lb->metrics);
	lb_metrics_stop(lb->metrics);
	lb->metrics = NULL;
	lb_ctl_stop(lb->ctl);
	lb->ctl = NULL;
	if (lb->hm)
		r->health_transitions = lb_health_transitions(lb->hm);
	lb_health_stop(lb->hm);
	lb->hm = NULL;
}

/* ------------------------------------------------------------------ main */

struct lb_args {
	struct xm_ex_args ex;		/* -i, -q, -d, --cpus, -m, -b, -p, -F, -j,
					 * -Q, -v */
	const char *config;		/* -c */
	bool check;			/* -t */
	const char *ctl;		/* --ctl PATH (NULL: the default) */
	const char *metrics;		/* --metrics ADDR:PORT */
	const char *state_dir;		/* --state-dir: the kept key */
	const char *bird_routes;	/* --bird-routes FILE */
	const char *bird_sock;		/* --birdc-socket SOCK */
	const char *bird_dev;		/* --bird-device NAME */
	const char *birdc;		/* --birdc PROGRAM */
	bool stats;			/* --stats: live lines under systemd */
	bool quiet;			/* -Q as given (the start line) */
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
		XM_EX_STD_WAS(XM_EX_O_CPUS, 0, 'C', NULL),
		XM_EX_STD(XM_EX_O_MODE, 0, NULL),
		{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_BURST,
		  .hi = LB_BURST_MAX,
		  .help = "frames per burst, 1.." XM_EX_STR(LB_BURST_MAX)
			  " (default " XM_EX_STR(LB_BURST_DEFAULT) ")" },
		XM_EX_STD(XM_EX_O_POLL, 0, NULL),
		XM_EX_STD(XM_EX_O_BUSY_POLL, 0, NULL),
		XM_EX_STD(XM_EX_O_FRAMES, 0, NULL),
		XM_EX_STD(XM_EX_O_JSON, 0, NULL),
		XM_EX_STD(XM_EX_O_QUIET, 0, "no live stats line (the default "
			  "under systemd:\nNOTIFY_SOCKET set)"),
		{ .name = "stats", .arg = XM_EX_ARG_NONE, .dest = &a->stats,
		  .help = "the live stats line even under systemd" },
		{ .name = "state-dir", .arg = XM_EX_ARG_STR,
		  .dest = &a->state_dir, .metavar = "DIR",
		  .help = "where the key is kept when CONFIG has no key\n"
			  "line (default " LB_STATE_DIR_DEFAULT ")" },
		XM_EX_STD(XM_EX_O_VERBOSE, 0, NULL),
		{ .name = "ctl", .arg = XM_EX_ARG_STR, .dest = &a->ctl,
		  .metavar = "PATH",
		  .help = "control socket (default " LB_CTL_DIR "/IF.sock; "
			  "'none': no socket);\n`xmbuf-lb ctl` talks to it" },
		{ .name = "metrics", .arg = XM_EX_ARG_STR, .dest = &a->metrics,
		  .metavar = "ADDR:PORT",
		  .help = "serve Prometheus /metrics there (PORT alone: on "
			  "127.0.0.1; off by default)" },
		{ .arg = XM_EX_ARG_TEXT, .help = "\nBGP through BIRD 2 "
		  "(examples/lb/README.md, examples/lb/bird/):" },
		{ .name = "bird-routes", .arg = XM_EX_ARG_STR,
		  .dest = &a->bird_routes, .metavar = "FILE",
		  .help = "announce the VIPs it can serve: static routes\n"
			  "in FILE (IPv6: FILE.v6) for BIRD to include,\n"
			  "via a device that goes with the process" },
		{ .name = "birdc-socket", .arg = XM_EX_ARG_STR,
		  .dest = &a->bird_sock, .metavar = "SOCK",
		  .help = "BIRD's control socket (default "
			  LB_BIRD_SOCK_DEFAULT ")" },
		{ .name = "bird-device", .arg = XM_EX_ARG_STR,
		  .dest = &a->bird_dev, .metavar = "NAME",
		  .help = "the routes' device (default xlb-IF)" },
		{ .name = "birdc", .arg = XM_EX_ARG_STR, .dest = &a->birdc,
		  .metavar = "PROGRAM", .help = "birdc to run (default birdc)" },
		{ .arg = XM_EX_ARG_TEXT, .help = "" },
		XM_EX_OPTS_END
	};
	const struct xm_ex_cli cli = {
		.tool = "lb",
		.synopsis = "-i IF -c CONFIG [-q QUEUES] [--json] [options]\n"
			    "       xmbuf-lb -c CONFIG --check\n"
			    "       xmbuf-lb ctl [--ctl PATH | -i IF] COMMAND "
			    "[ARG] [--json]",
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
	a->state_dir = LB_STATE_DIR_DEFAULT;
	a->bird_sock = LB_BIRD_SOCK_DEFAULT;
	a->birdc = "birdc";
	ret = xm_ex_opts_parse(&cli, argc, argv, NULL);
	if (ret >= 0)
		return ret;
	if (a->stats && a->ex.quiet)
		return xm_ex_usage_error("--stats and -Q contradict each "
					 "other");
	/* The journal is not a metrics store: no line a second under a
	 * service manager unless asked for. */
	a->quiet = a->ex.quiet;
	if (lb_notify_supervised() && !a->stats)
		a->ex.quiet = true;
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
	       c->c_key_set ? "configured" : "kept in the state directory");
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

/* The stats line: rx, fwd, icmp, drop (every loss, the port's too),
 * flows. */
static void sample(void *ctx, uint64_t *v)
{
	struct lb *lb = ctx;
	struct xm_port_stats st;
	struct lb_losses l;
	struct lb_totals t;
	bool have;

	sum_totals(lb, &t);
	pthread_mutex_lock(&lb->lock);
	have = xm_port_stats(lb->port, &st) == 0;
	pthread_mutex_unlock(&lb->lock);
	lb_losses_fill(&l, &t, have ? &st : NULL);
	v[0] = t.p.rx;
	v[1] = t.p.forwarded;
	v[2] = t.p.icmp_sent;
	v[3] = lb_losses_total(&l);
	v[4] = t.flows;
}

/* After it, each service's backends. */
static void sample_detail(void *ctx)
{
	struct lb *lb = ctx;

	pthread_mutex_lock(&lb->lock);
	print_detail(atomic_load(&lb->cur), stderr);
	pthread_mutex_unlock(&lb->lock);
}

/*
 * Each round: a SIGHUP since the last one reloads the configuration; a
 * health change since the last one makes a generation without (or with)
 * the backend; the announce set follows.  The first round runs once
 * every worker thread is started: the moment to tell a service manager
 * that traffic is balanced.
 */
static int tick(void *ctx, uint64_t now_ns)
{
	struct lb *lb = ctx;
	char msg[LB_ERRLEN + 128];

	if (!lb->ready_sent) {
		const struct lb_config *c = atomic_load(&lb->cur);

		lb_notify_ready("balancing %u service(s), generation %u",
				c->c_nvips, c->c_gen);
		lb->ready_sent = true;
	}
	if (reload_requested) {
		reload_requested = 0;
		pthread_mutex_lock(&lb->lock);
		reload(lb, msg, sizeof(msg));
		pthread_mutex_unlock(&lb->lock);
	}
	if (lb->hm && lb_health_transitions(lb->hm) != lb->health_seen) {
		lb->health_seen = lb_health_transitions(lb->hm);
		pthread_mutex_lock(&lb->lock);
		if (refresh(lb, msg, sizeof(msg)))
			xm_ex_error("health: cannot update the tables: %s; "
				    "they stay as they are", msg);
		pthread_mutex_unlock(&lb->lock);
	}
	bird_tick(lb, now_ns);
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

/*
 * Without a key line, the key kept in the state directory (drawn there
 * at the first start, lb_key.c) replaces the parse's random one, so a
 * restart moves no flow; said at every start.  @return 0 or the exit
 * status.
 */
static int use_kept_key(struct lb_config *c, const char *dir)
{
	char err[LB_ERRLEN], path[4200];
	bool created;
	int e;

	if (c->c_key_set)
		return 0;
	e = lb_key_state(dir, c->c_key, &created, path, sizeof(path), err,
			 sizeof(err));
	if (e)
		return xm_ex_error("no key line in the configuration, and no "
				   "kept key: %s", err);
	lb_sipkey_init(&c->c_sipkey, c->c_key);
	fprintf(stderr, "%s: no key line: using the key kept in %s (%s, mode "
		"0600); restarts keep every flow on its backend\n",
		xm_ex_prog(), path, created ? "drawn now" :
		"from an earlier start");
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
	lb_notify_stopping();
	/* The routes go before the port: the routers move the traffic
	 * away while the program is still attached. */
	if (lb->bird_on) {
		pthread_mutex_lock(&lb->lock);
		lb_bird_close(&lb->bird);
		pthread_mutex_unlock(&lb->lock);
	}
	r->seconds = xm_ex_run_seconds(&run);
	stop_operations(lb, r);
	sum_totals(lb, &r->t);
	r->have_st = xm_port_stats(lb->port, &r->st) == 0;
	lb_losses_fill(&r->loss, &r->t, r->have_st ? &r->st : NULL);
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
	/* `xmbuf-lb ctl ...`: the control socket's client (lb_ctl_client.c). */
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return lb_ctl_client_main(argc - 1, argv + 1);
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
	ret = use_kept_key(c, a.state_dir);
	if (ret) {
		lb_config_free(c);
		return ret;
	}

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
	lb.ifname = a.ex.ifname;
	lb.t0_ns = now_ns();
	pthread_mutex_init(&lb.lock, NULL);
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
	/* Before the line that says it runs: the socket answers by then. */
	ret = start_operations(&lb, a.ctl, a.metrics, a.quiet);
	if (ret) {
		stop_operations(&lb, &r);
		goto out_workers;
	}
	if (a.bird_routes) {
		char dev[IF_NAMESIZE];

		snprintf(dev, sizeof(dev), "xlb-%s", a.ex.ifname);
		e = lb_bird_open(&lb.bird, a.bird_routes, a.bird_sock, a.birdc,
				 a.bird_dev ? a.bird_dev : dev, err,
				 sizeof(err));
		if (e) {
			ret = xm_ex_error("%s", err);
			stop_operations(&lb, &r);
			goto out_workers;
		}
		lb.bird_on = true;
	}

	if (!a.quiet)
		fprintf(stderr, "%s: %s, %u queue(s), mode %s, %u service(s), "
			"%u backend(s), %u steering rule(s)\n", xm_ex_prog(),
			a.ex.ifname, lb.nworkers, r.mode, c->c_nvips,
			c->c_nbackends, c->c_nrules);
	ret = balance(&lb, &a, &r);

out_workers:
	if (lb.bird_on)
		lb_bird_close(&lb.bird);
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

// SPDX-License-Identifier: BSD-2-Clause
/*
 * bench_cost.c - bench-cost, the program the cost benchmark runs under
 * valgrind's callgrind (tests/bench/cost.sh): a fixed number of full
 * bursts of one data path, each one inside a function named cost_burst_*
 * that callgrind counts (--toggle-collect=cost_burst_*), so the count is
 * user-space instructions per packet, exact and independent of the
 * machine's load.
 *
 *   -m xm-rxdrop   xm_port_rx_burst + xm_freem per packet (bursts of 64)
 *   -m xm-fwd      xm_port_rx_burst, MAC swap, xm_port_tx_burst,
 *                  xm_port_tx_complete (xmbuf-fwd's loop)
 *   -m raw-rxdrop  libxdp's rings only: RX addresses straight back to the
 *                  fill ring (peer-raw-rxdrop's loop)
 *   -m raw-fwd     libxdp's rings only: xdpsock's l2fwd (RX, MAC swap,
 *                  TX, completions back to the fill ring)
 *
 * Only full bursts are counted: before each one the program waits,
 * outside the counted function, until the RX ring holds a whole burst.
 * An empty poll costs a few instructions but how many of them a run
 * makes depends on timing (the source's pauses, the machine's load); a
 * full burst costs the same whenever it comes.  Under valgrind the
 * receiver runs at a fraction of the source's rate, so the ring is
 * nearly always full anyway.
 *
 * Output (stdout, "key value"): mode, bursts, packets (counted inside
 * the bursts), tx_packets (fwd modes), rescues (times the wait serviced
 * the port out of the count; 0 in a clean run).  "ready on" on stderr once bound.
 * Exit: 0 on success, 1 on a runtime error or when the source stops
 * before the bursts are done (timeout), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"
/* White box: the RX ring's fill level, read before a burst to wait for
 * a full one (nothing is consumed). */
#include "xm_port_int.h"

#include "bench_util.h"

#define COST_BURST		64
#define COST_RING		2048
#define COST_FRAME		2048
#define COST_WAIT_S		60	/* for a burst, at most */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static inline void swap_macs(uint8_t *eth)
{
	uint8_t tmp[6];

	memcpy(tmp, eth, 6);
	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, tmp, 6);
}

/* ------------------------------------------------------------ xmbuf */

/* The counted functions: noinline, so callgrind sees each call. */
__attribute__((noinline)) uint16_t cost_burst_xm_rxdrop(struct xm_port *p)
{
	struct xm_mbuf *pkts[COST_BURST];
	uint16_t n = xm_port_rx_burst(p, 0, pkts, COST_BURST);

	for (uint16_t i = 0; i < n; i++)
		xm_freem(pkts[i]);
	return n;
}

/* xmbuf-fwd's worker loop (examples/fwd/fwd.c), one burst of it. */
__attribute__((noinline)) uint16_t cost_burst_xm_fwd(struct xm_port *p,
						     uint64_t *tx)
{
	struct xm_mbuf *pkts[COST_BURST];
	uint16_t n = xm_port_rx_burst(p, 0, pkts, COST_BURST), sent;

	for (uint16_t i = 0; i < n; i++)
		swap_macs(xm_mtod(pkts[i], uint8_t *));
	sent = xm_port_tx_burst(p, 0, pkts, n);
	if (sent < n) {
		xm_port_tx_flush(p, 0);
		sent += xm_port_tx_burst(p, 0, pkts + sent, n - sent);
	}
	if (sent < n)
		xm_freem_bulk(pkts + sent, n - sent);
	xm_port_tx_complete(p, 0);
	*tx += sent;
	return n;
}

/*
 * The RX ring's fill level, with the cached producer index brought up to
 * date: a burst reads only the cached index while it shows anything at
 * all, so without this a "full" ring could still give a partial burst.
 */
static uint32_t xm_rx_level(struct xm_port *p)
{
	struct xm_ring *r = &p->p_q[0].q_rx;

	r->r_cached_prod = xm_load_acquire(r->r_producer);
	return r->r_cached_prod - r->r_cached_cons;
}


/* -------------------------------------------------------------- raw */

struct raw {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	void *buf;
	size_t buf_size;
};

static void raw_close(struct raw *r)
{
	if (r->xsk)
		xsk_socket__delete(r->xsk);
	if (r->umem)
		xsk_umem__delete(r->umem);
	if (r->buf)
		munmap(r->buf, r->buf_size);
}

/* The same for libxdp's ring (xsk_cons_nb_avail() refreshes only at 0). */
static uint32_t raw_rx_level(struct raw *r)
{
	r->rx.cached_prod = __atomic_load_n(r->rx.producer, __ATOMIC_ACQUIRE);
	return r->rx.cached_prod - r->rx.cached_cons;
}

/* @return 0 or -errno, with a message printed. */
static int raw_open(struct raw *r, const char *ifname, bool fwd)
{
	struct xsk_umem_config ucfg = {
		.fill_size = COST_RING * 2,
		.comp_size = COST_RING,
		.frame_size = COST_FRAME,
	};
	struct xsk_socket_config scfg = {
		.rx_size = COST_RING,
		.tx_size = COST_RING,
		.xdp_flags = XDP_FLAGS_DRV_MODE,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	uint32_t idx = 0;
	int err;

	/* fill ring, RX ring, TX ring and completion ring all full */
	r->buf_size = (size_t)COST_RING * 5 * COST_FRAME;
	r->buf = mmap(NULL, r->buf_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		err = -errno;
		fprintf(stderr, "bench-cost: mmap: %s\n", strerror(-err));
		return err;
	}
	err = xsk_umem__create(&r->umem, r->buf, r->buf_size, &r->fq, &r->cq,
			       &ucfg);
	if (err) {
		r->umem = NULL;
		fprintf(stderr, "bench-cost: xsk_umem__create: %s\n",
			strerror(-err));
		return err;
	}
	err = xsk_socket__create(&r->xsk, ifname, 0, r->umem, &r->rx,
				 fwd ? &r->tx : NULL, &scfg);
	if (err) {
		r->xsk = NULL;
		fprintf(stderr, "bench-cost: xsk_socket__create(%s): %s\n",
			ifname, strerror(-err));
		return err;
	}
	if (xsk_ring_prod__reserve(&r->fq, ucfg.fill_size, &idx) !=
	    ucfg.fill_size)
		return -ENOSPC;
	for (uint32_t i = 0; i < ucfg.fill_size; i++)
		*xsk_ring_prod__fill_addr(&r->fq, idx + i) =
			(uint64_t)i * COST_FRAME;
	xsk_ring_prod__submit(&r->fq, ucfg.fill_size);
	return 0;
}

static inline void raw_wake_fill(struct raw *r)
{
	if (xsk_ring_prod__needs_wakeup(&r->fq))
		recvfrom(xsk_socket__fd(r->xsk), NULL, 0, MSG_DONTWAIT, NULL,
			 NULL);
}

/* peer-raw-rxdrop's batch: every RX address straight to the fill ring. */
__attribute__((noinline)) uint32_t cost_burst_raw_rxdrop(struct raw *r)
{
	uint32_t idx_rx = 0, idx_fq = 0, n;

	n = xsk_ring_cons__peek(&r->rx, COST_BURST, &idx_rx);
	if (!n)
		return 0;
	while (xsk_ring_prod__reserve(&r->fq, n, &idx_fq) != n) {
		raw_wake_fill(r);
		if (stop_requested)
			return 0;
	}
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&r->fq, idx_fq + i) =
			xsk_ring_cons__rx_desc(&r->rx, idx_rx + i)->addr;
	xsk_ring_prod__submit(&r->fq, n);
	xsk_ring_cons__release(&r->rx, n);
	return n;
}

/* xdpsock's l2fwd completion step: sent frames back to the fill ring. */
static inline void raw_complete(struct raw *r)
{
	uint32_t idx_cq = 0, idx_fq = 0, n;

	if (xsk_ring_prod__needs_wakeup(&r->tx))
		sendto(xsk_socket__fd(r->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	/* every completion there is: the fill ring gets its frames back
	 * from nowhere else */
	n = xsk_ring_cons__peek(&r->cq, COST_RING, &idx_cq);
	if (!n)
		return;
	while (xsk_ring_prod__reserve(&r->fq, n, &idx_fq) != n) {
		raw_wake_fill(r);
		if (stop_requested)
			return;
	}
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&r->fq, idx_fq + i) =
			*xsk_ring_cons__comp_addr(&r->cq, idx_cq + i);
	xsk_ring_prod__submit(&r->fq, n);
	xsk_ring_cons__release(&r->cq, n);
}

/* xdpsock's l2fwd: RX, MAC swap in place, TX, completions. */
__attribute__((noinline)) uint32_t cost_burst_raw_fwd(struct raw *r,
						      uint64_t *tx)
{
	uint32_t idx_rx = 0, idx_tx = 0, n;

	raw_complete(r);
	n = xsk_ring_cons__peek(&r->rx, COST_BURST, &idx_rx);
	if (!n)
		return 0;
	while (xsk_ring_prod__reserve(&r->tx, n, &idx_tx) != n) {
		raw_complete(r);
		if (stop_requested)
			return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&r->rx, idx_rx + i);
		struct xdp_desc *t = xsk_ring_prod__tx_desc(&r->tx, idx_tx + i);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);

		swap_macs(xsk_umem__get_data(r->buf, addr));
		t->addr = d->addr;
		t->len = d->len;
		t->options = 0;
	}
	xsk_ring_prod__submit(&r->tx, n);
	xsk_ring_cons__release(&r->rx, n);
	*tx += n;
	return n;
}

/* ------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
"usage: bench-cost -i IF -m MODE [-n BURSTS] [-c CPU]\n"
"Full bursts of one data path, for callgrind (tests/bench/cost.sh).\n"
"  -i, --iface IF       interface, queue 0 (required)\n"
"  -m, --mode MODE      xm-rxdrop, xm-fwd, raw-rxdrop or raw-fwd\n"
"  -n, --bursts N       bursts of %d to count (default 2000)\n"
"  -c, --cpu CPU        pin to CPU\n"
"  -h, --help           this text\n", COST_BURST);
}

enum cost_mode { XM_RXDROP, XM_FWD, RAW_RXDROP, RAW_FWD };

/*
 * Waits for a full burst in the RX ring, doing nothing else: every refill,
 * kick and reap happens inside the counted bursts, where the packets'
 * own code does it.  Each mode's frames come back without help (xmbuf's
 * zone holds more than its rings can take; the raw l2fwd reaps every
 * completion in each burst), so a full burst always comes while the
 * source sends.  Only after a second without one is the port serviced
 * out of the count (refill, flush, reap), which *rescues counts: the
 * run then says so.
 * @return false at a stop or after COST_WAIT_S.
 */
static bool wait_burst(struct xm_port *p, struct raw *r, uint64_t *rescues)
{
	uint64_t t0 = bench_now_ns(), now;
	uint64_t deadline = t0 + (uint64_t)COST_WAIT_S * 1000000000;
	uint64_t rescue_at = t0 + 1000000000;
	unsigned int spins = 0;

	while (!stop_requested) {
		uint32_t level = p ? xm_rx_level(p) : raw_rx_level(r);

		if (level >= COST_BURST)
			return true;
		if (++spins % 1024)
			continue;
		now = bench_now_ns();
		if (now > deadline)
			break;
		if (now < rescue_at)
			continue;
		(*rescues)++;
		rescue_at = now + 1000000000;
		if (p) {
			xm_port_refill(p, 0);
			if (xm_port_tx_pending(p, 0))
				xm_port_tx_flush(p, 0);
		} else if (r->tx.ring) {
			raw_complete(r);
		} else {
			raw_wake_fill(r);
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "bursts", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = {
		[XM_RXDROP] = "xm-rxdrop", [XM_FWD] = "xm-fwd",
		[RAW_RXDROP] = "raw-rxdrop", [RAW_FWD] = "raw-fwd",
	};
	unsigned long bursts = 2000, v;
	int mode = -1, opt, ret = 0;
	const char *ifname = NULL;
	uint64_t packets = 0, tx = 0, done = 0, held = 0, rescues = 0;
	struct xm_umem *u = NULL;
	struct xm_port *p = NULL;
	struct raw r = {};
	long cpu = -1;

	while ((opt = getopt_long(argc, argv, "i:m:n:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			for (int i = 0; i < 4; i++)
				if (strcmp(optarg, names[i]) == 0)
					mode = i;
			if (mode < 0)
				goto bad;
			break;
		case 'n':
			if (!bench_parse_ulong(optarg, 1, 10000000, &bursts))
				goto bad;
			break;
		case 'c':
			if (!bench_parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			cpu = (long)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || mode < 0 || optind != argc)
		goto bad;
	if (!if_nametoindex(ifname)) {
		fprintf(stderr, "bench-cost: no interface '%s'\n", ifname);
		return 1;
	}
	if (bench_pin_or_report("bench-cost", cpu))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (mode == XM_RXDROP || mode == XM_FWD) {
		uint32_t qid = 0;

		XM_OPTS(xm_umem_opts, uo,
			.nmbclusters = COST_RING * 6 + 1024,
			.nmbjumbop = 16, .nmbjumbo9 = 16, .nmbjumbo16 = 16);
		u = xm_umem_create(&uo);
		if (!u) {
			fprintf(stderr, "bench-cost: xm_umem_create: %s\n",
				strerror(errno));
			return 1;
		}
		XM_OPTS(xm_port_opts, po,
			.queues = &qid, .nqueues = 1,
			.mode = XM_PORT_MODE_COPY,
			.rx_size = COST_RING, .tx_size = COST_RING,
			.fill_size = COST_RING * 2,
			.flags = XM_PORT_F_NO_METADATA |
				 (mode == XM_RXDROP ? XM_PORT_F_RX_ONLY : 0));
		p = xm_port_open(u, ifname, &po);
		if (!p) {
			fprintf(stderr, "bench-cost: xm_port_open(%s): %s\n",
				ifname, strerror(errno));
			ret = 1;
			goto out;
		}
	} else if (raw_open(&r, ifname, mode == RAW_FWD)) {
		ret = 1;
		goto out;
	}
	fprintf(stderr, "bench-cost: ready on %s (%s)\n", ifname, names[mode]);

	while (done < bursts) {
		if (!wait_burst(p, &r, &rescues)) {
			fprintf(stderr, "bench-cost: %s after %llu of %lu "
				"bursts\n", stop_requested ? "stopped" :
				"no full burst for " "60 s",
				(unsigned long long)done, bursts);
			ret = 1;
			break;
		}
		switch (mode) {
		case XM_RXDROP:
			packets += cost_burst_xm_rxdrop(p);
			break;
		case XM_FWD:
			packets += cost_burst_xm_fwd(p, &tx);
			break;
		case RAW_RXDROP:
			packets += cost_burst_raw_rxdrop(&r);
			break;
		default:
			packets += cost_burst_raw_fwd(&r, &tx);
			break;
		}
		done++;
	}

out:
	if (p)
		xm_port_close(p);
	if (u) {
		xm_umem_cache_flush(u);
		if (xm_umem_audit(u, &held) || held) {
			fprintf(stderr, "bench-cost: audit: %llu frames held\n",
				(unsigned long long)held);
			ret = 1;
		}
		xm_umem_destroy(u);
	}
	raw_close(&r);
	printf("mode %s\n", names[mode]);
	printf("bursts %llu\n", (unsigned long long)done);
	printf("packets %llu\n", (unsigned long long)packets);
	printf("tx_packets %llu\n", (unsigned long long)tx);
	printf("rescues %llu\n", (unsigned long long)rescues);
	return ret;

bad:
	fprintf(stderr, "bench-cost: bad arguments\n");
	usage(stderr);
	return 2;
}

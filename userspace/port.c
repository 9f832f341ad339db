/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port.c - AF_XDP ports: socket setup and teardown (registration, ring
 * mmap, bind and its fallbacks, open and close).  The data path (fill,
 * RX, TX, completion) is in port_io.c, control (accessors, statistics,
 * rules) in port_ctl.c, the XDP program in xdp.c, what a failed open says
 * in port_diag.c; xm_port_int.h holds the state they share.
 *
 * One UMEM registration serves every socket of the process: the first
 * socket registers the xm_umem region (XDP_UMEM_REG) and binds with the
 * mode flags; every later socket, on any queue of any interface, binds
 * with XDP_SHARED_UMEM and its own fill and completion rings, so a frame
 * received on one port is transmitted on another as it is.
 *
 *   xm_umem region (one registration)
 *   +----------------------------------------------------------+
 *   | chunk | chunk | chunk | ...   frames of the chunk-size zone |
 *   +----------------------------------------------------------+
 *      ^ fill ring: frames lent to the kernel (bit set in q_lent)
 *      | RX ring:   frames back, wrapped by xm_rxframe() -> mbufs
 *      | TX ring:   frames of the application's chains, each one's
 *      |            mbuf reference parked in q_fifo until completion
 *      v completion ring: the parked reference is dropped (xm_free)
 *
 * The kernel binds mode, need_wakeup and multi-buffer per registration
 * (a shared socket inherits them; it may not name its own).  A socket
 * wanting different flags (zero-copy on a NIC beside copy mode on a veth)
 * gets a second registration of the same region: frames keep the same
 * offsets, so forwarding between the two stays copy-free.
 *
 * Frame conservation: a frame on a fill ring, in the kernel or on an RX
 * ring not yet read is recorded in the socket's q_lent bitmap; one on the
 * TX path has its entry in q_fifo.  Closing a socket returns both sets to
 * the zone, after the kernel has let go of the socket.
 *
 * Official port KPI (xm_port.h): xm_port_open, xm_port_close.
 * Hidden (tests): _xm_port_registrations.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "xm_port_int.h"

/*
 * Above this MTU the program must be an xdp.frags build to attach at all
 * (veth's single-buffer limit is about 3500 bytes, some drivers' 3 KiB).
 */
#define XM_PORT_FRAGS_MTU	3000
/* Wire bytes beyond the MTU a frame may carry: Ethernet + one VLAN tag. */
#define XM_PORT_L2_OVERHEAD	18
/*
 * How long open waits for a queue a closed socket has not yet let go: the
 * kernel lets go from a workqueue item under rtnl_lock, which namespace
 * teardown elsewhere on the machine can hold for seconds.
 */
#define XM_PORT_BUSY_MS		5000

/* ------------------------------------------------------ registrations */

struct xm_umem_reg {
	struct xm_umem *ur_umem;
	bool ur_zc;			/* bound zero-copy */
	bool ur_need_wakeup;
	bool ur_sg;
	struct xm_port_queue *ur_socks;	/* members; the first shares */
	struct xm_umem_reg *ur_next;
};

/* Registrations and open ports: touched by open and close only. */
static pthread_mutex_t xm_port_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xm_umem_reg *xm_regs;
static struct xm_port *xm_ports;

/* ---------------------------------------------------------------- rings */

static int xm_ring_map(int fd, const struct xdp_ring_offset *off,
		       uint32_t entries, size_t entry_size, off_t pgoff,
		       struct xm_ring *r)
{
	size_t len = off->desc + entries * entry_size;
	void *map;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (map == MAP_FAILED)
		return -errno;
	r->r_map = map;
	r->r_map_len = len;
	r->r_size = entries;
	r->r_mask = entries - 1;
	r->r_producer = (uint32_t *)((char *)map + off->producer);
	r->r_consumer = (uint32_t *)((char *)map + off->consumer);
	r->r_flags = (uint32_t *)((char *)map + off->flags);
	r->r_ring = (char *)map + off->desc;
	r->r_cached_prod = *r->r_producer;
	r->r_cached_cons = *r->r_consumer;
	return 0;
}

static void xm_ring_unmap(struct xm_ring *r)
{
	if (r->r_map)
		munmap(r->r_map, r->r_map_len);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ helpers */

static bool xm_is_pow2(uint32_t v)
{
	return v && (v & (v - 1)) == 0;
}

static uint64_t xm_thread_netns(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) != 0)
		return 0;
	return st.st_ino;
}

/* -------------------------------------------------------------- sockets */

/*
 * Sizes q's rings on socket fd (a fill and a completion ring for every
 * socket, RX and TX as the port has them) and maps them.  *step names
 * what failed; the caller unmaps what was mapped.  @return 0 or -errno.
 */
static int xm_sock_rings(struct xm_port *p, struct xm_port_queue *q, int fd,
			 enum xm_sock_step *step)
{
	struct xdp_mmap_offsets off;
	socklen_t optlen;
	int err;

	/* every socket has its own fill and completion ring */
	*step = XM_STEP_FILL_RING;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &p->p_fill_size,
		       sizeof(p->p_fill_size)))
		return -errno;
	*step = XM_STEP_COMP_RING;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &p->p_comp_size,
		       sizeof(p->p_comp_size)))
		return -errno;
	*step = XM_STEP_RX_RING;
	if (p->p_rx && setsockopt(fd, SOL_XDP, XDP_RX_RING, &p->p_rx_size,
				  sizeof(p->p_rx_size)))
		return -errno;
	*step = XM_STEP_TX_RING;
	if (p->p_tx && setsockopt(fd, SOL_XDP, XDP_TX_RING, &p->p_tx_size,
				  sizeof(p->p_tx_size)))
		return -errno;
	*step = XM_STEP_OFFSETS;
	optlen = sizeof(off);
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen))
		return -errno;
	*step = XM_STEP_MMAP_FILL;
	err = xm_ring_map(fd, &off.fr, p->p_fill_size, sizeof(uint64_t),
			  (off_t)XDP_UMEM_PGOFF_FILL_RING, &q->q_fill);
	if (err == 0) {
		*step = XM_STEP_MMAP_COMP;
		err = xm_ring_map(fd, &off.cr, p->p_comp_size,
				  sizeof(uint64_t),
				  (off_t)XDP_UMEM_PGOFF_COMPLETION_RING,
				  &q->q_comp);
	}
	if (err == 0 && p->p_rx) {
		*step = XM_STEP_MMAP_RX;
		err = xm_ring_map(fd, &off.rx, p->p_rx_size,
				  sizeof(struct xdp_desc), XDP_PGOFF_RX_RING,
				  &q->q_rx);
	}
	if (err == 0 && p->p_tx) {
		*step = XM_STEP_MMAP_TX;
		err = xm_ring_map(fd, &off.tx, p->p_tx_size,
				  sizeof(struct xdp_desc), XDP_PGOFF_TX_RING,
				  &q->q_tx);
	}
	return err;
}

/*
 * Creates and binds q's socket, zero-copy or copy, joining a compatible
 * registration when there is one.  *step names what failed.
 */
static int xm_sock_open(struct xm_port *p, struct xm_port_queue *q, bool zc,
			enum xm_sock_step *step)
{
	struct sockaddr_xdp sxdp;
	struct xm_umem_reg *reg;
	struct xdp_options xo;
	socklen_t optlen;
	int fd, err;

	for (reg = xm_regs; reg; reg = reg->ur_next)
		if (reg->ur_umem == p->p_umem && reg->ur_zc == zc &&
		    reg->ur_need_wakeup == p->p_need_wakeup &&
		    (reg->ur_sg || !p->p_sg))
			break;

	*step = XM_STEP_SOCKET;
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	q->q_fd = fd;
	if (reg == NULL) {
		struct xdp_umem_reg mr = {
			.addr = (uint64_t)(uintptr_t)p->p_base,
			.len = p->p_nchunks * p->p_chunk,
			.chunk_size = p->p_chunk,
			.headroom = 0,
			.flags = 0,
		};

		/* the kernel pins every page of the region here */
		*step = XM_STEP_UMEM_REG;
		if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)))
			goto out_errno;
	}
	err = xm_sock_rings(p, q, fd, step);
	if (err)
		goto out_unmap;

	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = (uint32_t)p->p_ifindex;
	sxdp.sxdp_queue_id = q->q_queue_id;
	if (reg) {
		/* the kernel takes mode flags from the registration */
		sxdp.sxdp_flags = XDP_SHARED_UMEM;
		sxdp.sxdp_shared_umem_fd = (uint32_t)reg->ur_socks->q_fd;
	} else {
		sxdp.sxdp_flags = zc ? XDP_ZEROCOPY : XDP_COPY;
		if (p->p_need_wakeup)
			sxdp.sxdp_flags |= XDP_USE_NEED_WAKEUP;
		if (p->p_sg)
			sxdp.sxdp_flags |= XDP_USE_SG;
	}
	*step = XM_STEP_BIND;
	if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
		err = -errno;
		goto out_unmap;
	}
	*step = XM_STEP_ZC_CHECK;
	memset(&xo, 0, sizeof(xo));
	optlen = sizeof(xo);
	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &xo, &optlen) == 0 &&
	    !!(xo.flags & XDP_OPTIONS_ZEROCOPY) != zc) {
		err = -EOPNOTSUPP;
		goto out_unmap;
	}

	*step = XM_STEP_TX_BUDGET;
	if (p->p_tx && !zc && p->p_tx_budget > XM_PORT_TX_BUDGET_MIN &&
	    setsockopt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &p->p_tx_budget,
		       sizeof(p->p_tx_budget))) {
		err = -errno;
		/*
		 * Before 6.18 the option is unknown (ENOPROTOOPT): the kernel
		 * sends its fixed 32 per sendto(), which works, only with
		 * more system calls.  Anything else is a kernel that refused
		 * a value in the range it documents: the caller's value is
		 * an error, the default falls back.
		 */
		if (err != -ENOPROTOOPT && p->p_tx_budget_set)
			goto out_unmap;
		xm_pr_info("%s: queue %u: copy-mode TX budget %u not taken "
			   "(XDP_MAX_TX_SKB_BUDGET: %s): the kernel sends %u "
			   "per sendto()\n", p->p_name, q->q_queue_id,
			   p->p_tx_budget, xm_errname(err),
			   XM_PORT_TX_BUDGET_MIN);
		p->p_tx_budget = XM_PORT_TX_BUDGET_MIN;
	}

	if (reg == NULL) {
		*step = XM_STEP_ALLOC;
		reg = calloc(1, sizeof(*reg));
		if (reg == NULL) {
			err = -ENOMEM;
			goto out_unmap;
		}
		reg->ur_umem = p->p_umem;
		reg->ur_zc = zc;
		reg->ur_need_wakeup = p->p_need_wakeup;
		reg->ur_sg = p->p_sg;
		reg->ur_next = xm_regs;
		xm_regs = reg;
	}
	q->q_reg = reg;
	q->q_reg_next = reg->ur_socks;
	reg->ur_socks = q;

	return 0;

out_errno:
	err = -errno;
out_unmap:
	xm_ring_unmap(&q->q_rx);
	xm_ring_unmap(&q->q_tx);
	xm_ring_unmap(&q->q_fill);
	xm_ring_unmap(&q->q_comp);
	close(fd);
	q->q_fd = -1;
	return err;
}

/*
 * A queue's previous socket, closed a moment ago, still holds it until
 * the kernel's deferred pool release runs (a workqueue item after the
 * last close): bind says EBUSY meanwhile.  Retry for a bounded time;
 * a socket that really owns the queue outlasts it.
 */
static int xm_sock_open_retry(struct xm_port *p, struct xm_port_queue *q,
			      bool zc, enum xm_sock_step *step)
{
	struct timespec t0, t;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		err = xm_sock_open(p, q, zc, step);
		if (err != -EBUSY || *step != XM_STEP_BIND)
			return err;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > XM_PORT_BUSY_MS)
			return err;
		usleep(2000);
	}
}

static int xm_sock_busy_poll(struct xm_port *p, struct xm_port_queue *q,
			     const struct xm_port_opts *opts)
{
	uint32_t usecs = XM_OPTS_GET(opts, busy_poll_usecs, 0);
	uint32_t budget = XM_OPTS_GET(opts, busy_poll_budget, 0);
	int one = 1;

	if (p->p_flags & XM_PORT_F_PREFER_BUSY_POLL &&
	    setsockopt(q->q_fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one,
		       sizeof(one)))
		return -errno;
	if (usecs && setsockopt(q->q_fd, SOL_SOCKET, SO_BUSY_POLL, &usecs,
				sizeof(usecs)))
		return -errno;
	if (budget && setsockopt(q->q_fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET,
				 &budget, sizeof(budget)))
		return -errno;
	return 0;
}

static void xm_queue_close(struct xm_port *p, struct xm_port_queue *q)
{
	if (q->q_fd >= 0 && p->p_tx)
		_xm_port_tx_drain(p, q);
	xm_freem(q->q_part_head);
	q->q_part_head = q->q_part_tail = NULL;

	if (q->q_reg) {
		struct xm_umem_reg *reg = q->q_reg;
		struct xm_port_queue **pp;

		for (pp = &reg->ur_socks; *pp; pp = &(*pp)->q_reg_next) {
			if (*pp == q) {
				*pp = q->q_reg_next;
				break;
			}
		}
		if (reg->ur_socks == NULL) {
			struct xm_umem_reg **rp;

			for (rp = &xm_regs; *rp; rp = &(*rp)->ur_next) {
				if (*rp == reg) {
					*rp = reg->ur_next;
					break;
				}
			}
			free(reg);
		}
		q->q_reg = NULL;
	}
	/* the ring mappings hold the socket open: unmap, then close */
	xm_ring_unmap(&q->q_rx);
	xm_ring_unmap(&q->q_tx);
	xm_ring_unmap(&q->q_fill);
	xm_ring_unmap(&q->q_comp);
	if (q->q_fd >= 0) {
		close(q->q_fd);
		q->q_fd = -1;
		/*
		 * XXX: a zero-copy driver lets go of its frames when the
		 * pool is torn down from a workqueue after the last close
		 * (xp_put_pool() -> xp_release_deferred() -> xp_clear_dev():
		 * ndo_bpf(XDP_SETUP_XSK_POOL, NULL)); no event says when.
		 * Give it a grace period before the frames are reused.
		 * Reaping the completion ring instead would not do: TX in
		 * flight was already reaped above, bounded by
		 * XM_PORT_DRAIN_MS, while the socket was open; what is at
		 * risk here are the fill-ring frames the NIC may still DMA
		 * into, which come back on no ring, and the rings are
		 * unmapped by now (the kernel frees them in that work
		 * item).  The one observable end is the queue's pool slot
		 * clearing right after the driver let go: a copy-mode bind
		 * of a scratch socket to the queue stops failing with
		 * EBUSY.  Needs a real NIC to verify.
		 */
		if (p->p_mode == XM_PORT_MODE_ZEROCOPY)
			usleep(100 * 1000);
	}
	_xm_port_queue_reclaim(p, q);
	free(q->q_lent);
	q->q_lent = NULL;
	free(q->q_fifo);
	q->q_fifo = NULL;
}

/* ------------------------------------------------------------ open/close */

static void xm_port_unlist(struct xm_port *p)
{
	for (struct xm_port **pp = &xm_ports; *pp; pp = &(*pp)->p_next) {
		if (*pp == p) {
			*pp = p->p_next;
			break;
		}
	}
}

static void xm_port_free(struct xm_port *p)
{
	if (p->p_has_prog)
		_xm_xdp_detach(&p->p_xdp);
	p->p_has_prog = false;
	pthread_mutex_lock(&xm_port_lock);
	for (unsigned int i = 0; i < p->p_nq; i++)
		xm_queue_close(p, &p->p_q[i]);
	xm_port_unlist(p);
	pthread_mutex_unlock(&xm_port_lock);
	free(p->p_q);
	free(p);
}

void xm_port_close(struct xm_port *p)
{
	if (p == NULL)
		return;
	xm_port_free(p);
}

static bool xm_fallback_ok(int err)
{
	return err != -EPERM && err != -EACCES && err != -EBUSY &&
	       err != -ENODEV && err != -ENOMEM;
}

/* Ring sizes and the copy-mode TX budget, checked.  @return 0 or -EINVAL. */
static int xm_port_setup_rings(struct xm_port *p, const char *ifname,
			       const struct xm_port_opts *opts)
{
	p->p_rx_size = XM_OPTS_GET(opts, rx_size, 0);
	p->p_tx_size = XM_OPTS_GET(opts, tx_size, 0);
	p->p_fill_size = XM_OPTS_GET(opts, fill_size, 0);
	p->p_comp_size = XM_OPTS_GET(opts, comp_size, 0);
	if (!p->p_rx_size)
		p->p_rx_size = XM_PORT_DEF_RX_SIZE;
	if (!p->p_tx_size)
		p->p_tx_size = XM_PORT_DEF_TX_SIZE;
	if (!p->p_fill_size)
		p->p_fill_size = p->p_rx ? 2 * p->p_rx_size :
				 XM_PORT_FILL_BATCH;
	if (!p->p_comp_size)
		p->p_comp_size = p->p_tx_size;
	{
		const struct { const char *n; uint32_t v; } rs[] = {
			{ "rx_size", p->p_rx_size },
			{ "tx_size", p->p_tx_size },
			{ "fill_size", p->p_fill_size },
			{ "comp_size", p->p_comp_size },
		};

		for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			if (!xm_is_pow2(rs[i].v) || rs[i].v > XM_PORT_RING_MAX) {
				xm_pr_warn("%s: %s %u is not a power of two "
					   "up to %u\n", ifname, rs[i].n,
					   rs[i].v, XM_PORT_RING_MAX);
				return -EINVAL;
			}
		}
	}
	if (p->p_rx && p->p_fill_size < 2 * p->p_rx_size) {
		xm_pr_warn("%s: fill_size %u is less than twice rx_size %u\n",
			   ifname, p->p_fill_size, p->p_rx_size);
		return -EINVAL;
	}
	if (p->p_comp_size < p->p_tx_size) {
		xm_pr_warn("%s: comp_size %u is less than tx_size %u\n",
			   ifname, p->p_comp_size, p->p_tx_size);
		return -EINVAL;
	}
	p->p_tx_budget = XM_OPTS_GET(opts, tx_budget, 0);
	p->p_tx_budget_set = p->p_tx_budget != 0;
	if (p->p_tx_budget_set && !p->p_tx) {
		xm_pr_warn("%s: tx_budget %u on an RX_ONLY port\n", ifname,
			   p->p_tx_budget);
		return -EINVAL;
	}
	if (p->p_tx_budget_set && (p->p_tx_budget < XM_PORT_TX_BUDGET_MIN ||
				   p->p_tx_budget > p->p_tx_size)) {
		/* the kernel's own range (EACCES outside it) */
		xm_pr_warn("%s: tx_budget %u is outside %u .. tx_size %u\n",
			   ifname, p->p_tx_budget, XM_PORT_TX_BUDGET_MIN,
			   p->p_tx_size);
		return -EINVAL;
	}
	if (!p->p_tx_budget_set)
		p->p_tx_budget = p->p_tx_size;
	return 0;
}

/*
 * The queues to open: want[0..nwant) when given, else every one of the
 * devq the interface has; each in range and named once.  @return 0 or
 * -EINVAL.
 */
static int xm_port_setup_queues(const char *ifname, const uint32_t *want,
				uint32_t nwant, uint32_t devq,
				uint32_t *queues, uint32_t *nq)
{
	if (want == NULL && nwant) {
		xm_pr_warn("%s: nqueues %u without a queues array\n", ifname,
			   nwant);
		return -EINVAL;
	}
	if (want == NULL)
		nwant = devq;
	if (nwant == 0 || nwant > XM_PORT_MAX_QUEUES) {
		xm_pr_warn("%s: %u queues requested (1 to %d)\n", ifname,
			   nwant, XM_PORT_MAX_QUEUES);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < nwant; i++) {
		uint32_t qid = want ? want[i] : i;

		if (qid >= devq || qid >= XM_XDP_MAX_QUEUES) {
			xm_pr_warn("%s: queue %u out of range (%s has %u "
				   "queue%s)\n", ifname, qid, ifname, devq,
				   devq == 1 ? "" : "s");
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (queues[j] == qid) {
				xm_pr_warn("%s: queue %u given twice\n",
					   ifname, qid);
				return -EINVAL;
			}
		}
		queues[i] = qid;
	}
	*nq = nwant;
	return 0;
}

/* Checks options and interface; fills p.  @return 0 or -errno. */
static int xm_port_setup(struct xm_port *p, struct xm_umem *u,
			 const char *ifname, const struct xm_port_opts *opts,
			 uint32_t *queues, uint32_t *nq)
{
	const uint32_t known = XM_PORT_F_NO_NEED_WAKEUP |
			       XM_PORT_F_PREFER_BUSY_POLL |
			       XM_PORT_F_NO_METADATA | XM_PORT_F_NO_XDP_PROG |
			       XM_PORT_F_TX_ONLY | XM_PORT_F_RX_ONLY |
			       XM_PORT_F_LEND_RX_RING | XM_PORT_F_STEER_NONE |
			       XM_PORT_F_XDP_LINK;
	const uint32_t *want = XM_OPTS_GET(opts, queues, NULL);
	uint32_t nwant = XM_OPTS_GET(opts, nqueues, 0);
	uint32_t mode = XM_OPTS_GET(opts, mode, XM_PORT_MODE_AUTO);
	uint32_t mb = XM_OPTS_GET(opts, multi_buffer, XM_PORT_MB_AUTO);
	struct xm_port_ifinfo ifi;
	uint32_t devq = 1, chunk;
	int err;

	p->p_flags = XM_OPTS_GET(opts, flags, 0);
	if (p->p_flags & ~known) {
		xm_pr_warn("%s: unknown flags 0x%x\n", ifname,
			   p->p_flags & ~known);
		return -EINVAL;
	}
	if ((p->p_flags & XM_PORT_F_TX_ONLY) &&
	    (p->p_flags & XM_PORT_F_RX_ONLY)) {
		xm_pr_warn("%s: TX_ONLY and RX_ONLY together\n", ifname);
		return -EINVAL;
	}
	if (mode > XM_PORT_MODE_SKB || mb > XM_PORT_MB_OFF) {
		xm_pr_warn("%s: bad mode %u or multi_buffer %u\n", ifname,
			   mode, mb);
		return -EINVAL;
	}
	p->p_rx = !(p->p_flags & XM_PORT_F_TX_ONLY);
	p->p_tx = !(p->p_flags & XM_PORT_F_RX_ONLY);
	p->p_need_wakeup = !(p->p_flags & XM_PORT_F_NO_NEED_WAKEUP);
	p->p_index = XM_OPTS_GET(opts, port_index, 0);
	p->p_mode = (enum xm_port_mode)mode;

	err = xm_port_setup_rings(p, ifname, opts);
	if (err)
		return err;

	chunk = xm_umem_chunk_size(u);
	if (chunk != XM_MCLBYTES && chunk != XM_MJUMPAGESIZE) {
		xm_pr_warn("%s: UMEM chunk size %u not supported (2048 or "
			   "4096)\n", ifname, chunk);
		return -EINVAL;
	}
	p->p_umem = u;
	p->p_chunk = chunk;
	p->p_chunk_shift = (uint32_t)__builtin_ctz(chunk);
	p->p_zone = xm_umem_zone(u, chunk == XM_MCLBYTES ? XM_ZONE_CLUST :
				 XM_ZONE_JUMBOP);
	if (p->p_zone == NULL || xm_zone_size(p->p_zone) != chunk) {
		xm_pr_warn("%s: no frame zone of the chunk size %u\n", ifname,
			   chunk);
		return -EINVAL;
	}
	p->p_base = xm_umem_base(u);
	p->p_nchunks = xm_umem_size(u) / chunk;

	p->p_ifindex = (int)if_nametoindex(ifname);
	if (p->p_ifindex == 0) {
		xm_pr_warn("%s: no such interface (%s)\n", ifname,
			   xm_errname(ENODEV));
		return -ENODEV;
	}
	snprintf(p->p_name, sizeof(p->p_name), "%s", ifname);
	err = xm_port_ifinfo(ifname, &ifi);
	if (err) {
		xm_pr_warn("%s: cannot read MTU: %s\n", ifname, strerror(-err));
		return err;
	}
	p->p_mtu = ifi.mtu;
	devq = ifi.rx_queues;

	err = xm_port_setup_queues(ifname, want, nwant, devq, queues, nq);
	if (err)
		return err;

	/* multi-buffer when a full-size frame does not fit one chunk */
	if (mb == XM_PORT_MB_ON)
		p->p_sg = true;
	else if (mb == XM_PORT_MB_AUTO)
		p->p_sg = p->p_mtu + XM_PORT_L2_OVERHEAD >
			  chunk - XM_PORT_XDP_HEADROOM;
	p->p_meta = !(p->p_flags & XM_PORT_F_NO_METADATA);
	return 0;
}

/* Attaches the program; AUTO falls back from native to SKB mode. */
static int xm_port_prog(struct xm_port *p)
{
	bool frags = p->p_sg || p->p_mtu > XM_PORT_FRAGS_MTU;
	bool skb = p->p_mode == XM_PORT_MODE_SKB;
	bool all = !(p->p_flags & XM_PORT_F_STEER_NONE);
	bool link = (p->p_flags & XM_PORT_F_XDP_LINK) != 0;
	int err;

	err = _xm_xdp_attach(&p->p_xdp, p->p_ifindex, p->p_name, frags, skb,
			     p->p_meta, all, link);
	if (err && p->p_mode == XM_PORT_MODE_AUTO && xm_fallback_ok(err)) {
		xm_pr_warn("%s: native XDP not available (%s), using SKB "
			   "mode\n", p->p_name, xm_errname(err));
		skb = true;
		err = _xm_xdp_attach(&p->p_xdp, p->p_ifindex, p->p_name,
				     frags, skb, p->p_meta, all, link);
	}
	if (err)
		return err;
	p->p_has_prog = true;
	if (skb)
		p->p_mode = XM_PORT_MODE_SKB;
	return 0;
}

/* Opens every socket; the first decides the mode. */
static int xm_port_sockets(struct xm_port *p, const uint32_t *queues,
			   const struct xm_port_opts *opts)
{
	enum xm_sock_step step = XM_STEP_SOCKET;
	bool zc;
	int err;

	/* zero-copy needs native XDP; SKB mode is a copy mode */
	zc = p->p_mode == XM_PORT_MODE_AUTO ||
	     p->p_mode == XM_PORT_MODE_ZEROCOPY;
	for (unsigned int i = 0; i < p->p_nq; i++) {
		struct xm_port_queue *q = &p->p_q[i];

		q->q_queue_id = queues[i];
		err = xm_sock_open_retry(p, q, zc, &step);
		/*
		 * Only the bind (and the mode it gave) depend on zero-copy:
		 * anything failing before it, the UMEM registration above
		 * all, fails the same in copy mode and is reported as such.
		 */
		if (err && i == 0 && zc && p->p_mode == XM_PORT_MODE_AUTO &&
		    (step == XM_STEP_BIND || step == XM_STEP_ZC_CHECK) &&
		    xm_fallback_ok(err)) {
			xm_pr_info("%s: zero-copy not supported (%s), using "
				   "copy mode\n", p->p_name, xm_errname(err));
			zc = false;
			p->p_mode = XM_PORT_MODE_COPY;
			err = xm_sock_open_retry(p, q, zc, &step);
		}
		if (err) {
			_xm_port_sock_report(p, q, zc, step, err);
			return err;
		}
		if (zc && p->p_mode == XM_PORT_MODE_AUTO)
			p->p_mode = XM_PORT_MODE_ZEROCOPY;
		err = xm_sock_busy_poll(p, q, opts);
		if (err) {
			xm_pr_warn("%s: queue %u: busy-poll options: %s\n",
				   p->p_name, q->q_queue_id, strerror(-err));
			return err;
		}
	}
	if (p->p_mode == XM_PORT_MODE_AUTO)
		p->p_mode = XM_PORT_MODE_COPY;
	/*
	 * In copy mode the kernel takes a fill frame and copies the packet
	 * into it before it looks at the RX ring; when that is full the copy
	 * is thrown away and the frame goes to the pool's free list, on the
	 * receiving CPU, for every dropped packet.  Lending no more than the
	 * RX ring holds makes the overload drop happen at the fill ring,
	 * before the copy (port benchmark, fwd on veth: the source CPU,
	 * which runs that receive path, sent 4.6 Mpps into xmbuf-fwd with
	 * the fill ring stocked, 8.2-9.2 with this, 8.5 into testpmd).
	 */
	p->p_lend_max = (p->p_flags & XM_PORT_F_LEND_RX_RING) &&
			p->p_mode != XM_PORT_MODE_ZEROCOPY ? p->p_rx_size :
			UINT32_MAX;
	return 0;
}

struct xm_port *xm_port_open(struct xm_umem *u, const char *ifname,
			     const struct xm_port_opts *opts)
{
	uint32_t queues[XM_PORT_MAX_QUEUES];
	struct xm_port *p;
	uint32_t nq = 0;
	int err;

	if (u == NULL || ifname == NULL || ifname[0] == '\0' ||
	    strlen(ifname) >= IF_NAMESIZE) {
		xm_pr_warn("xm_port_open: %s\n", u == NULL ? "no umem" :
			   "bad interface name");
		errno = EINVAL;
		return NULL;
	}
	if (!XM_OPTS_VALID(opts, xm_port_opts)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p->p_xdp.x_prog_fd = -1;
	err = xm_port_setup(p, u, ifname, opts, queues, &nq);
	if (err)
		goto out_free;
	p->p_netns = xm_thread_netns();

	pthread_mutex_lock(&xm_port_lock);
	for (struct xm_port *o = xm_ports; o; o = o->p_next) {
		if (o->p_ifindex == p->p_ifindex && o->p_netns == p->p_netns) {
			pthread_mutex_unlock(&xm_port_lock);
			xm_pr_warn("%s: already has a port in this process\n",
				   ifname);
			err = -EBUSY;
			goto out_free;
		}
	}
	p->p_next = xm_ports;
	xm_ports = p;
	pthread_mutex_unlock(&xm_port_lock);

	p->p_q = calloc(nq, sizeof(*p->p_q));
	if (p->p_q == NULL) {
		err = -ENOMEM;
		goto out_close;
	}
	for (uint32_t i = 0; i < nq; i++) {
		struct xm_port_queue *q = &p->p_q[i];
		uint32_t fifo = 1;

		q->q_fd = -1;
		q->q_idx = i;
		q->q_port = p;
		while (fifo < p->p_tx_size + p->p_comp_size)
			fifo <<= 1;
		q->q_fifo = calloc(fifo, sizeof(*q->q_fifo));
		q->q_fifo_mask = fifo - 1;
		q->q_lent = calloc((p->p_nchunks + 63) / 64, sizeof(uint64_t));
		p->p_nq = i + 1;
		if (q->q_fifo == NULL || q->q_lent == NULL) {
			err = -ENOMEM;
			goto out_close;
		}
	}

	if (p->p_rx && !(p->p_flags & XM_PORT_F_NO_XDP_PROG)) {
		err = xm_port_prog(p);
		if (err)
			goto out_close;
	} else if (p->p_mode == XM_PORT_MODE_SKB) {
		p->p_mode = XM_PORT_MODE_COPY;	/* no program to run generic */
	}

	pthread_mutex_lock(&xm_port_lock);
	err = xm_port_sockets(p, queues, opts);
	pthread_mutex_unlock(&xm_port_lock);
	if (err)
		goto out_close;

	for (unsigned int i = 0; i < p->p_nq; i++) {
		struct xm_port_queue *q = &p->p_q[i];

		if (p->p_has_prog) {
			err = _xm_xdp_set_socket(&p->p_xdp, q->q_queue_id,
						 q->q_fd);
			if (err) {
				xm_pr_warn("%s: queue %u: cannot enter the "
					   "socket in the xskmap: %s\n",
					   ifname, q->q_queue_id,
					   strerror(-err));
				goto out_close;
			}
		}
		if (p->p_rx && xm_port_refill(p, i) == 0)
			xm_pr_warn("%s: queue %u: no frames for the fill ring "
				   "(zone %s exhausted)\n", ifname,
				   q->q_queue_id, xm_zone_name(p->p_zone));
	}
	xm_pr_debug("%s: port open, %u queue%s, %s mode%s%s, TX budget %u\n",
		    ifname, p->p_nq, p->p_nq == 1 ? "" : "s",
		    xm_port_mode_name(p->p_mode),
		    p->p_sg ? ", multi-buffer" : "",
		    p->p_need_wakeup ? ", need_wakeup" : "",
		    xm_port_tx_budget(p));
	return p;

out_close:
	xm_port_free(p);
	errno = -err;
	return NULL;
out_free:
	free(p);
	errno = -err;
	return NULL;
}

/* ---------------------------------------------------------- test hooks */

unsigned int _xm_port_registrations(const struct xm_umem *u)
{
	unsigned int n = 0;

	pthread_mutex_lock(&xm_port_lock);
	for (struct xm_umem_reg *r = xm_regs; r; r = r->ur_next)
		n += r->ur_umem == u;
	pthread_mutex_unlock(&xm_port_lock);
	return n;
}

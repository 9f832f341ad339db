/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_port_int.h - private state of the port layer, shared by port.c
 * (sockets: setup, bind, close), port_io.c (rings, bursts), port_ctl.c
 * (accessors, statistics, rules), port_diag.c (failed opens, in words)
 * and xdp.c (the XDP program: load, attach, rules, counters).  Not
 * installed; not for applications.
 *
 *   struct xm_port
 *   +----------------------------------------------+
 *   | p_q[]: one struct xm_port_queue per socket   |---> rings (mmap'd)
 *   | p_xdp: the program attached to the interface |---> maps (fds)
 *   | p_umem, p_zone (chunk-size frame zone)       |
 *   +----------------------------------------------+
 *
 * A queue's rings are driven by one thread; nothing in struct
 * xm_port_queue is shared with another thread except through the kernel.
 */
#ifndef XM_PORT_INT_H
#define XM_PORT_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <linux/types.h>

#include "xm_common_int.h"
#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "../bpf/xm_redirect_shared.h"
#include "xdp_rule_int.h"

/*
 * What Debian 12's 6.1 uapi headers lack (the kernel here is 6.18).
 * Values are the kernel ABI; defining them here changes nothing on a
 * newer libc.
 */
#ifndef XDP_USE_SG
#define XDP_USE_SG		(1 << 4)	/* bind: multi-buffer */
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD		(1 << 0)	/* desc: packet continues */
#endif
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)	/* prog load: dev-bound */
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET	9	/* sockopt: copy-mode TX batch */
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL	69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET	70
#endif

#ifndef AF_XDP
#define AF_XDP			44
#endif
#ifndef SOL_XDP
#define SOL_XDP			283
#endif

/*
 * struct xdp_statistics as newer kernels may grow it: asked for with a
 * larger optlen, the kernel fills what it knows and says how much.
 */
struct xm_xdp_statistics {
	__u64 rx_dropped;
	__u64 rx_invalid_descs;
	__u64 tx_invalid_descs;
	__u64 rx_ring_full;
	__u64 rx_fill_ring_empty_descs;
	__u64 tx_ring_empty_descs;
	__u64 spare[8];			/* room for fields yet to come */
};

/* Defaults and limits. */
#define XM_PORT_DEF_RX_SIZE	1024
#define XM_PORT_DEF_TX_SIZE	1024
/* The kernel sets no small bound on an xsk ring (it is vmalloc'd: memory
 * is the limit); this one keeps a ring's own memory sane (a 4M-entry
 * fill ring is 32 MiB) while letting a capture wait on millions of
 * frames, as tcpdump waits on a large -B. */
#define XM_PORT_RING_MAX	(1U << 22)
#define XM_PORT_FILL_BATCH	64	/* frames per refill step */
#define XM_PORT_STASH		128	/* completed frames a queue keeps
					 * for its next refill (port_io.c) */
#define XM_PORT_MAX_SEGS	16	/* descriptors per TX packet; the
					 * kernel takes MAX_SKB_FRAGS + 1 */
#define XM_PORT_XDP_HEADROOM	256	/* XDP_PACKET_HEADROOM */

/* One AF_XDP ring as this side sees it (libxdp's xsk_ring_prod/cons). */
struct xm_ring {
	uint32_t r_cached_prod;		/* producer index, our copy */
	uint32_t r_cached_cons;		/* consumer index, our copy */
	uint32_t r_mask;		/* entries - 1 */
	uint32_t r_size;		/* entries */
	uint32_t *r_producer;		/* shared with the kernel */
	uint32_t *r_consumer;		/* shared with the kernel */
	uint32_t *r_flags;		/* XDP_RING_NEED_WAKEUP */
	void *r_ring;			/* descriptors or addresses */
	void *r_map;			/* the mmap */
	size_t r_map_len;
};

/*
 * The ring index arithmetic, as libxdp's xsk_cons_nb_avail() and
 * xsk_prod_nb_free() do it: indices are free-running 32-bit counters, so
 * differences are right across the wrap; the shared words are read only
 * when the cached copies show too little.  Here rather than in port.c so
 * that a unit test can drive a ring in memory (tests/unit/test_port_ring.c).
 */
static inline uint32_t xm_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void xm_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Entries the kernel has produced and we have not consumed. */
static inline uint32_t xm_cons_avail(struct xm_ring *r)
{
	uint32_t n = r->r_cached_prod - r->r_cached_cons;

	if (n == 0) {
		r->r_cached_prod = xm_load_acquire(r->r_producer);
		n = r->r_cached_prod - r->r_cached_cons;
	}
	return n;
}

static inline void xm_cons_release(struct xm_ring *r)
{
	/* descriptors are read before the kernel may reuse their slots */
	xm_store_release(r->r_consumer, r->r_cached_cons);
}

/* Free slots for us to produce into, refreshed when fewer than want. */
static inline uint32_t xm_prod_free(struct xm_ring *r, uint32_t want)
{
	uint32_t n = r->r_size - (r->r_cached_prod - r->r_cached_cons);

	if (n < want) {
		r->r_cached_cons = xm_load_acquire(r->r_consumer);
		n = r->r_size - (r->r_cached_prod - r->r_cached_cons);
	}
	return n;
}

static inline void xm_prod_submit(struct xm_ring *r)
{
	/* everything written to the ring before the kernel sees it */
	xm_store_release(r->r_producer, r->r_cached_prod);
}

/* A TX descriptor awaiting its completion: what to release then. */
enum xm_txent_kind {
	XM_TXENT_NONE = 0,		/* nothing (not the mbuf's last piece) */
	XM_TXENT_MBUF,			/* xm_free() this mbuf */
	XM_TXENT_FRAME,			/* xm_zone_free() this frame */
};
struct xm_txent {
	uint64_t te_addr;		/* descriptor address */
	void *te_obj;			/* mbuf or frame */
	uint8_t te_kind;		/* enum xm_txent_kind */
	uint8_t te_done;		/* completed out of order */
};

struct xm_umem_reg;

/* One socket: one queue of the interface. */
struct xm_port_queue {
	/* RX side, touched by every rx_burst */
	struct xm_ring q_rx;
	struct xm_ring q_fill;
	struct xm_mbuf *q_part_head;	/* multi-buffer packet in progress */
	struct xm_mbuf *q_part_tail;
	uint32_t q_part_len;
	uint32_t q_part_segs;
	uint64_t *q_lent;		/* bitmap by chunk: frame is the
					 * kernel's (fill ring, RX path) */
	uint32_t q_lent_cnt;		/* bits set */
	uint32_t q_stash_cnt;		/* frames in q_stash */
	void *q_stash[XM_PORT_STASH];	/* completed frames of the port's
					 * zone, idle, not lent, not in the
					 * zone: the next refill's first */
	/* TX side */
	struct xm_ring q_tx;
	struct xm_ring q_comp;
	struct xm_txent *q_fifo;	/* in flight, submission order */
	uint32_t q_fifo_head;		/* oldest in flight */
	uint32_t q_fifo_tail;		/* next free */
	uint32_t q_fifo_mask;
	uint32_t q_fifo_ooo;		/* entries completed out of order,
					 * not yet released */
	/* identity */
	int q_fd;
	uint32_t q_queue_id;		/* interface queue id */
	unsigned int q_idx;		/* index in the port */
	struct xm_port *q_port;
	struct xm_umem_reg *q_reg;	/* registration this socket shares */
	struct xm_port_queue *q_reg_next; /* next socket of q_reg */
	/* counters (this queue's thread only) */
	uint64_t q_rx_packets;
	uint64_t q_rx_bytes;
	uint64_t q_rx_descs;
	uint64_t q_rx_dropped_sw;
	uint64_t q_tx_packets;
	uint64_t q_tx_bytes;
	uint64_t q_tx_descs;
	uint64_t q_tx_copied;
	uint64_t q_tx_dropped;
	uint64_t q_tx_completions;
	uint64_t q_tx_wakeups;
	uint64_t q_fill_added;
	uint64_t q_fill_recycled;	/* of q_fill_added: from completions */
	uint64_t q_fill_starved;
	uint64_t q_fill_reserve;
	uint64_t q_rx_wakeups;
};

/* The XDP program of one interface (xdp.c). */
struct xm_xdp {
	int x_ifindex;
	char x_ifname[IF_NAMESIZE];
	struct xdp_program *x_xprog;	/* libxdp handle when libxdp attached */
	struct bpf_object *x_obj;	/* our object when we attached */
	int x_prog_fd;
	uint32_t x_prog_id;
	uint32_t x_attach_flags;	/* XDP_FLAGS_*_MODE we attached with */
	bool x_attached;
	int x_link_fd;			/* bpf_link (XM_PORT_F_XDP_LINK), or -1 */
	bool x_multi;			/* a libxdp dispatcher component */
	bool x_kfuncs;			/* the dev-bound kfunc build */
	bool x_frags;			/* an xdp.frags build */
	bool x_skb;			/* generic (SKB) mode */
	int x_xsks_fd;
	int x_rules_fd;			/* xm_rules: the array of maps */
	int x_config_fd;
	int x_stats_fd;
	uint32_t x_cfg_flags;		/* XM_XDP_CFG_* */
	struct xm_xdp_ruleset x_set;	/* the rule set in force (published
					 * last), or to publish at attach */
};

struct xm_port {
	struct xm_umem *p_umem;
	struct xm_zone *p_zone;		/* chunk-size frame zone */
	uint32_t p_chunk;		/* chunk size */
	uint32_t p_chunk_shift;
	uint64_t p_nchunks;		/* region size / chunk */
	char *p_base;			/* region base */
	unsigned int p_nq;
	struct xm_port_queue *p_q;	/* p_nq sockets */
	struct xm_xdp p_xdp;
	bool p_has_prog;
	enum xm_port_mode p_mode;	/* bound */
	bool p_need_wakeup;
	bool p_busy_poll;		/* busy_poll_budget: RX and TX drive
					 * the NAPI (recvfrom/sendto) */
	bool p_sg;
	bool p_meta;			/* program writes metadata */
	uint32_t p_lend_max;		/* frames lent per queue (fill ring
					 * + RX ring) at most; see xm_fill */
	bool p_rx;			/* has RX rings */
	bool p_tx;			/* has a TX ring */
	uint32_t p_mtu;
	uint16_t p_index;
	uint32_t p_flags;		/* XM_PORT_F_* */
	uint32_t p_rx_size;
	uint32_t p_tx_size;
	uint32_t p_fill_size;
	uint32_t p_comp_size;
	uint32_t p_tx_budget;		/* copy-mode descriptors per sendto():
					 * asked for at setup, what the
					 * kernel took after open (0: ZC) */
	bool p_tx_budget_set;		/* tx_budget given by the caller */
	uint32_t p_rx_desc_cap;		/* tests (INVARIANTS builds):
					 * descriptors per rx_burst, 0 all */
	int p_ifindex;
	uint64_t p_netns;		/* inode of the netns it was opened in */
	char p_name[IF_NAMESIZE];
	struct xm_port *p_next;		/* process-wide list of open ports */
};

/* strerrorname_np() of err or -err: "EBUSY"; "?" when it has none. */
static inline const char *xm_errname(int err)
{
	const char *s = strerrorname_np(err < 0 ? -err : err);

	return s ? s : "?";
}

/* The system calls that make a socket, in order: what failed, by name. */
enum xm_sock_step {
	XM_STEP_SOCKET,
	XM_STEP_UMEM_REG,
	XM_STEP_FILL_RING,
	XM_STEP_COMP_RING,
	XM_STEP_RX_RING,
	XM_STEP_TX_RING,
	XM_STEP_OFFSETS,
	XM_STEP_MMAP_FILL,
	XM_STEP_MMAP_COMP,
	XM_STEP_MMAP_RX,
	XM_STEP_MMAP_TX,
	XM_STEP_BIND,
	XM_STEP_ZC_CHECK,
	XM_STEP_TX_BUDGET,
	XM_STEP_ALLOC,
};

/* port_diag.c, for port.c: names the socket, the system call and the
 * cause of a failed open, at WARN level. */
XM_HIDDEN void _xm_port_sock_report(const struct xm_port *p,
				    const struct xm_port_queue *q, bool zc,
				    enum xm_sock_step step, int err);

/* mbuf.c's wrap of one-descriptor packets off the RX ring */
#include "xm_rxframe_int.h"
_Static_assert(sizeof(struct xm_rxdesc) == sizeof(struct xdp_desc) &&
	       offsetof(struct xm_rxdesc, len) ==
	       offsetof(struct xdp_desc, len), "xm_rxdesc is xdp_desc");

/* port_io.c, for port.c: the data path's part of closing a queue */
/* Lets q's queued TX go out and reaps it, for XM_PORT_DRAIN_MS at most. */
XM_HIDDEN void _xm_port_tx_drain(struct xm_port *p, struct xm_port_queue *q);
/* Takes back every frame q lent or has in flight; q's socket is closed. */
XM_HIDDEN void _xm_port_queue_reclaim(struct xm_port *p,
				      struct xm_port_queue *q);

/*
 * Tests: caps the descriptors one rx_burst consumes (0: no cap), so a test
 * can make a multi-buffer packet straddle bursts.  INVARIANTS builds only
 * (what the tests link): elsewhere the setter does not exist, so nothing
 * can believe it capped, and xm_rx_desc_cap() costs the burst nothing.
 */
#ifdef INVARIANTS
XM_HIDDEN void _xm_port_set_rx_desc_cap(struct xm_port *p, uint32_t cap);

static inline uint32_t xm_rx_desc_cap(const struct xm_port *p, uint32_t avail)
{
	if (xm_unlikely(p->p_rx_desc_cap) && avail > p->p_rx_desc_cap)
		return p->p_rx_desc_cap;
	return avail;
}
#else
static inline uint32_t xm_rx_desc_cap(const struct xm_port *p, uint32_t avail)
{
	(void)p;
	return avail;
}
#endif

/*
 * port_ctl.c, for tests: choices the port made that an application set
 * itself (flags) or cannot act on.  False for NULL.
 */
/* True when the sockets use need_wakeup. */
XM_HIDDEN bool _xm_port_need_wakeup(const struct xm_port *p);
/* True when an XDP program of ours is attached (not NO_XDP_PROG). */
XM_HIDDEN bool _xm_port_has_prog(const struct xm_port *p);
/* True when the program runs as a libxdp dispatcher component, false for
 * libxdp's single-program fallback (or no program). */
XM_HIDDEN bool _xm_port_prog_multi(const struct xm_port *p);

/* port.c, for tests */
/* UMEM registrations (kernel XDP_UMEM_REG) currently alive for u. */
XM_HIDDEN unsigned int _xm_port_registrations(const struct xm_umem *u);

/* xdp.c */
/*
 * Loads and attaches the redirect program (frags build when frags, kfunc
 * build when meta and possible), replacing one left by a dead process.
 * skb selects generic mode; steer_all starts with the "everything" rule
 * set, else with an empty one; link attaches through a bpf_link, which
 * goes away with its last descriptor.  @return 0 or -errno, after a
 * message.
 */
XM_HIDDEN int _xm_xdp_attach(struct xm_xdp *x, int ifindex, const char *ifname,
			     bool frags, bool skb, bool meta, bool steer_all,
			     bool link);
/* Detaches (only if still ours) and closes everything. */
XM_HIDDEN void _xm_xdp_detach(struct xm_xdp *x);
/* Puts socket fd into xskmap at queue_id. @return 0 or -errno. */
XM_HIDDEN int _xm_xdp_set_socket(struct xm_xdp *x, uint32_t queue_id, int fd);
/*
 * Rule set changes, each published in one step (xdp.c); on failure the
 * set in force stays.  add returns the rule's index or -errno.
 */
XM_HIDDEN int _xm_xdp_rule_add(struct xm_xdp *x, const struct xm_port_rule *r);
XM_HIDDEN int _xm_xdp_rule_replace(struct xm_xdp *x,
				   const struct xm_port_rule *rules,
				   unsigned int n);
XM_HIDDEN int _xm_xdp_rule_clear(struct xm_xdp *x);

XM_HIDDEN int _xm_xdp_rule_all(struct xm_xdp *x);
/* Sums the per-CPU counters into st (xdp_* fields). */
XM_HIDDEN int _xm_xdp_stats(struct xm_xdp *x, struct xm_port_stats *st);
/* Mounts bpffs at /sys/fs/bpf when nothing is there. */
XM_HIDDEN void _xm_xdp_bpffs(void);

#endif /* XM_PORT_INT_H */

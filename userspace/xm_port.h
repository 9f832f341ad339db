/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file
 * xm_port.h - the AF_XDP port layer (public KPI of the port half of
 * userspace/): packets in and out of a network interface as mbufs.
 *
 * A port is one interface and a set of its queues, one AF_XDP socket per
 * queue.  Every socket of the process, on every queue of every port, shares
 * the one UMEM of the xm_umem region (XDP_SHARED_UMEM), each with its own
 * fill and completion ring, so a frame received on one port can be
 * transmitted on another without a copy.  (The kernel fixes zero-copy,
 * need_wakeup and multi-buffer per registration: a port that needs other
 * values, zero-copy on a NIC beside copy mode on a veth, registers the
 * same region a second time; frame offsets stay the same.)
 *
 *            XDP program (bpf/xm_redirect.bpf.c), one per interface
 *   NIC rx q --> rules match? --yes--> xskmap[rx_queue] --> socket q
 *                     |                    (no socket: XDP_PASS)
 *                     +--no--> XDP_PASS (kernel stack)
 *
 *   socket q:  fill ring   <-- frames from the chunk-size zone (refill)
 *              RX ring     --> xm_port_rx_burst(): mbufs wrapping frames
 *              TX ring     <-- xm_port_tx_burst(): chains as descriptors
 *              completion  --> the in-flight reference is dropped
 *
 * Frames given to the kernel (fill ring, RX/TX rings in flight) stay
 * "held" in the zone audit; after xm_port_close() every one of them is
 * back in its zone.
 *
 * Threading: one thread owns each queue (its rings are single-producer,
 * single-consumer).  Different queues of a port may be driven by different
 * threads.  Open, close, rules and statistics may be called from any
 * thread, but not concurrently with each other on the same port.
 *
 * Namespaces and fork: a port lives in the network namespace of the
 * thread that opened it.  A child process made with fork() must not use
 * its parent's ports; it creates its own umem and ports (the region is
 * MADV_DONTFORK: the child has no mapping of its parent's, see xm_umem.h).
 */
#ifndef XM_PORT_H
#define XM_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xm_umem.h"
#include "xm_mbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xm_port;

/* Socket / attach mode (xm_port_opts.mode and xm_port_mode()). */
enum xm_port_mode {
	XM_PORT_MODE_AUTO = 0,	/* zero-copy, else copy, else SKB; each
				 * fallback reported once, by name */
	XM_PORT_MODE_ZEROCOPY,	/* native XDP, zero-copy socket; strict */
	XM_PORT_MODE_COPY,	/* native XDP, copy-mode socket; strict */
	XM_PORT_MODE_SKB,	/* generic (SKB) XDP, copy-mode socket */
};

/* Multi-buffer (XDP_USE_SG, xdp.frags program) (xm_port_opts.multi_buffer). */
enum xm_port_multi_buffer {
	XM_PORT_MB_AUTO = 0,	/* on when MTU + 18 (Ethernet, one VLAN
				 * tag) exceeds a chunk less the 256-byte
				 * XDP headroom */
	XM_PORT_MB_ON,
	XM_PORT_MB_OFF,		/* packets larger than a chunk are dropped */
};

/* xm_port_opts.flags */
#define XM_PORT_F_NO_NEED_WAKEUP 0x0001 /* do not bind XDP_USE_NEED_WAKEUP
					 * (the driver never sleeps waiting
					 * for a wakeup; default: on) */
#define XM_PORT_F_PREFER_BUSY_POLL 0x0002 /* SO_PREFER_BUSY_POLL */
#define XM_PORT_F_NO_METADATA	0x0004	/* the program writes no metadata
					 * (no timestamp or RSS hash) */
#define XM_PORT_F_NO_XDP_PROG	0x0008	/* load no program: the caller
					 * steers into the sockets itself
					 * (see xm_port_fd()) */
#define XM_PORT_F_TX_ONLY	0x0010	/* no RX ring, no program, nothing
					 * lent to the fill ring */
#define XM_PORT_F_RX_ONLY	0x0020	/* no TX ring */
#define XM_PORT_F_LEND_RX_RING	0x0040	/* copy and SKB mode: lend the
					 * kernel at most rx_size frames
					 * (fill + RX ring), so that a full
					 * RX ring finds the fill ring empty
					 * and the kernel drops before it
					 * copies (xsk_buff_alloc fails:
					 * rx_fill_ring_empty_descs, not
					 * rx_ring_full); no effect in
					 * zero-copy mode */
#define XM_PORT_F_STEER_NONE	0x0080	/* open with an empty rule set:
					 * nothing reaches the sockets
					 * until rules are installed
					 * (default: everything) */
#define XM_PORT_F_XDP_LINK	0x0100	/* attach the program through a
					 * bpf_link, which the kernel takes
					 * off when its last descriptor
					 * closes: at any exit, SIGKILL
					 * included, with no privilege
					 * needed (a process that drops
					 * CAP_NET_ADMIN); a fork()ed child
					 * holds it too.  EBUSY where
					 * another program, a libxdp
					 * dispatcher included, is attached
					 * (a link cannot join one) */

#define XM_PORT_MAX_QUEUES	64	/* queues per port */
#define XM_PORT_MAX_RULES	16	/* steering rules per interface */

/*
 * Open options.  Build with XM_OPTS(xm_port_opts, name, .field = v);
 * zero means "the default" for every field.
 */
struct xm_port_opts {
	size_t sz;			/* sizeof(struct xm_port_opts) */
	const uint32_t *queues;		/* queue ids to open (default: all
					 * RX queues of the interface) */
	uint32_t nqueues;		/* entries in queues */
	uint32_t mode;			/* enum xm_port_mode */
	uint32_t rx_size;		/* RX ring, power of two (1024) */
	uint32_t tx_size;		/* TX ring, power of two (1024) */
	uint32_t fill_size;		/* fill ring, power of two, at least
					 * 2 * rx_size (2 * rx_size) */
	uint32_t comp_size;		/* completion ring, power of two, at
					 * least tx_size (tx_size) */
	uint32_t busy_poll_usecs;	/* SO_BUSY_POLL; 0: off (with
					 * busy_poll_budget: 20) */
	uint32_t busy_poll_budget;	/* preferred busy polling, as DPDK's
					 * busy_budget: SO_PREFER_BUSY_POLL,
					 * SO_BUSY_POLL (busy_poll_usecs)
					 * and SO_BUSY_POLL_BUDGET (this) on
					 * every socket, and the RX and TX
					 * paths drive the NAPI themselves
					 * (see "Busy polling" below);
					 * 0: off */
	uint32_t multi_buffer;		/* enum xm_port_multi_buffer */
	uint16_t port_index;		/* written to m_pkthdr.rcvport */
	uint32_t flags;			/* XM_PORT_F_* */
	uint32_t tx_budget;		/* copy and SKB mode: descriptors
					 * the kernel sends per sendto()
					 * (XDP_MAX_TX_SKB_BUDGET, Linux
					 * 6.18+), XM_PORT_TX_BUDGET_MIN
					 * .. tx_size (tx_size); see
					 * xm_port_tx_budget() */
};
#define xm_port_opts__last_field tx_budget

/*
 * Busy polling.  With busy_poll_budget set, each socket asks the kernel to
 * let the application run the queue's NAPI (SO_PREFER_BUSY_POLL), and
 * every xm_port_rx_burst() calls recvfrom(MSG_DONTWAIT) and every
 * xm_port_tx_burst() that queued something calls sendto(MSG_DONTWAIT),
 * need_wakeup or not: each such call polls the NAPI for up to
 * busy_poll_budget packets on the caller's CPU (SO_BUSY_POLL_BUDGET) for
 * up to busy_poll_usecs (SO_BUSY_POLL).  For the interrupts to stay off
 * while the application polls, set the interface's napi_defer_hard_irqs
 * and gro_flush_timeout, e.g.
 *   echo 2 > /sys/class/net/IF/napi_defer_hard_irqs
 *   echo 200000 > /sys/class/net/IF/gro_flush_timeout
 * (the kernel's Documentation/networking/napi.rst, "preferred busy
 * polling"); without them the interrupt path goes on running the NAPI as
 * well.  Raising SO_BUSY_POLL or the budget above the system's defaults
 * needs CAP_NET_ADMIN (EPERM from xm_port_open otherwise).
 */
#define XM_PORT_BUSY_POLL_USECS	20	/* SO_BUSY_POLL when only the
					 * budget is given */

/* The kernel's copy-mode TX budget: its default and the least it takes. */
#define XM_PORT_TX_BUDGET_MIN	32

/**
 * @brief **xm_port_open()** opens an AF_XDP port on an interface.
 * @param u the umem whose region every frame comes from; the port takes
 * frames from the zone whose item size equals the chunk size (zone_clust
 * at 2048, zone_jumbop at 4096).  u must outlive the port.
 * @param ifname the interface, in the calling thread's network namespace.
 * @param opts options, or NULL for every default.
 * @return the port, or NULL with errno set, after a message naming the
 * interface and the cause (through the print sink): ENODEV unknown
 * interface, EINVAL queue out of range / ring size not a power of two /
 * tx_budget outside XM_PORT_TX_BUDGET_MIN .. tx_size (or set on an
 * RX_ONLY port) / bad option, EOPNOTSUPP a strict mode the interface
 * cannot do, EPERM no CAP_NET_ADMIN / XDP not permitted, EBUSY the
 * interface already has a port in this process or a live xmbuf program
 * of another process;
 * from the UMEM registration (XDP_UMEM_REG, which pins the whole region):
 * EFAULT / ENOMEM a page of the region could not be faulted in and
 * pinned, ENOBUFS RLIMIT_MEMLOCK too low.  The message names the system
 * call that failed.  Only a failed bind falls back from zero-copy to copy
 * mode (XM_PORT_MODE_AUTO).
 * On failure nothing is left attached and every frame is back home.
 *
 * Loads and attaches bpf/xm_redirect (the xdp.frags build when the MTU
 * needs multi-buffer) through libxdp, replacing one left by a process that
 * died (recognised by program name) atomically.  The steering rule set
 * starts as "everything" (xm_port_rule_all()): everything arriving on
 * the opened queues is redirected; with XM_PORT_F_STEER_NONE it starts
 * empty and nothing is.
 */
XM_API struct xm_port *xm_port_open(struct xm_umem *u, const char *ifname,
				    const struct xm_port_opts *opts);

/**
 * @brief **xm_port_close()** closes every socket, detaches the program,
 * reaps outstanding completions and returns every frame lent to the
 * kernel to its zone.  Packets already handed to the application stay
 * valid and are freed with xm_freem() as usual.  NULL is allowed.
 */
XM_API void xm_port_close(struct xm_port *p);

/**
 * @brief **xm_port_rx_burst()** receives up to n packets from queue qidx.
 * @param qidx queue index in the port, 0 .. xm_port_queue_count() - 1
 * (not the interface's queue id).
 * @return the number of packets stored in pkts[] (0 when none).
 *
 * Each packet is an mbuf chain wrapping its UMEM frames without a copy
 * (XM_EXT_RXFRAME); multi-buffer packets are chained through m_next with
 * the packet header on the first mbuf, and a packet whose descriptors
 * straddle two calls is completed by the later one.  m_pkthdr carries len,
 * rcvport, rcvqueue (the interface queue id), nsegs, and when the program
 * provided them rcv_tstamp (XM_TSTMP: nanoseconds, the driver's clock when
 * it stamps, else CLOCK_MONOTONIC) and flowid/rsstype (XM_FLOWID, the
 * driver's RSS hash, XM_RSSTYPE_*).
 * The caller owns the packets and frees them with xm_freem().  The fill
 * ring is topped up below its watermark in batches.
 */
XM_API uint16_t xm_port_rx_burst(struct xm_port *p, unsigned int qidx,
				 struct xm_mbuf **pkts, uint16_t n);

/*
 * m_pkthdr.rsstype values set by xm_port_rx_burst() with XM_FLOWID (the
 * driver's enum xdp_rss_hash_type, folded into FreeBSD's M_HASHTYPE
 * spirit: what the hash covers).
 */
#define XM_RSSTYPE_NONE		0	/* no hash */
#define XM_RSSTYPE_OPAQUE	1	/* hash of unknown input (L2) */
#define XM_RSSTYPE_IPV4		2	/* IPv4 addresses */
#define XM_RSSTYPE_IPV6		3	/* IPv6 addresses */
#define XM_RSSTYPE_TCP_IPV4	4	/* IPv4 addresses and TCP ports */
#define XM_RSSTYPE_UDP_IPV4	5
#define XM_RSSTYPE_TCP_IPV6	6
#define XM_RSSTYPE_UDP_IPV6	7
#define XM_RSSTYPE_L4_OTHER	8	/* addresses and another L4 header */

/**
 * @brief **xm_port_tx_burst()** queues up to n packets for transmission on
 * queue qidx.
 * @return the number of packets accepted, taken from the front of pkts[].
 *
 * Takes ownership of the packets it accepts; the rest stay the caller's
 * (a full TX ring takes what fits).  Each UMEM segment of a chain becomes
 * a descriptor (XDP_PKT_CONTD on all but the last), a segment longer than
 * the chunk size is split into chunk-size descriptors, a segment outside
 * the UMEM (inline bytes, a caller's buffer) is copied into a fresh frame.
 * A frame in flight keeps its reference until the completion ring returns
 * it.  A packet that cannot be sent at all (chain longer than the kernel's
 * segment limit without multi-buffer, no frame for a copy) is dropped,
 * counted in tx_dropped, and counted as accepted.  The kernel is kicked
 * (sendto) when need_wakeup asks for it.  Completions are reaped on every
 * call; an application that stops sending calls xm_port_tx_flush() until
 * xm_port_tx_pending() is 0 (xm_port_close() does it, within bounds).
 */
XM_API uint16_t xm_port_tx_burst(struct xm_port *p, unsigned int qidx,
				 struct xm_mbuf **pkts, uint16_t n);

/**
 * @brief **xm_port_tx_flush()** kicks the kernel to send what is queued on
 * qidx (when need_wakeup asks, or always without need_wakeup) and reaps
 * the completion ring.
 * @return the number of completions reaped (>= 0); negative error code
 * (-EINVAL bad qidx) otherwise.
 */
XM_API int xm_port_tx_flush(struct xm_port *p, unsigned int qidx);

/**
 * @brief **xm_port_tx_complete()** reaps the completion ring of qidx only
 * (no system call), dropping the in-flight references of sent frames.
 * @return the number of completions reaped; -EINVAL bad qidx.
 */
XM_API int xm_port_tx_complete(struct xm_port *p, unsigned int qidx);

/**
 * @brief **xm_port_tx_pending()** frames of qidx still held by the kernel
 * for transmission (in the TX ring or awaiting completion).
 */
XM_API uint32_t xm_port_tx_pending(struct xm_port *p, unsigned int qidx);

/**
 * @brief **xm_port_refill()** tops up the fill ring of qidx (rx_burst does
 * this itself; for applications that wait in poll()).
 * @return frames added; -EINVAL bad qidx.
 */
XM_API int xm_port_refill(struct xm_port *p, unsigned int qidx);

/**
 * @brief **xm_port_poll()** waits until qidx has received packets, with
 * poll(2) (which also wakes the driver when need_wakeup is on).
 * @param timeout_ms as poll(2): -1 forever, 0 no wait.
 * @return 1 when packets are waiting, 0 on timeout; negative error code
 * (-EINTR, -EINVAL) otherwise.
 */
XM_API int xm_port_poll(struct xm_port *p, unsigned int qidx, int timeout_ms);

/** The socket descriptor of qidx (for epoll, or a caller's own xskmap);
 * -EINVAL bad qidx.  Owned by the port. */
XM_API int xm_port_fd(const struct xm_port *p, unsigned int qidx);
/** Queues (sockets) of the port. */
XM_API unsigned int xm_port_queue_count(const struct xm_port *p);
/** Interface queue id of qidx, or UINT32_MAX for a bad qidx. */
XM_API uint32_t xm_port_queue_id(const struct xm_port *p, unsigned int qidx);
/** Interface index of the port's interface. */
XM_API int xm_port_ifindex(const struct xm_port *p);
/** Name of the port's interface, as given to xm_port_open(). */
XM_API const char *xm_port_name(const struct xm_port *p);
/** The mode actually bound: ZEROCOPY, COPY or SKB (never AUTO). */
XM_API enum xm_port_mode xm_port_mode(const struct xm_port *p);
/** "auto", "zero-copy", "copy", "skb". */
XM_API const char *xm_port_mode_name(enum xm_port_mode mode);
/** True when the sockets were bound with XDP_USE_SG (multi-buffer). */
XM_API bool xm_port_multi_buffer(const struct xm_port *p);
/** The interface MTU seen at open. */
XM_API uint32_t xm_port_mtu(const struct xm_port *p);
/**
 * @brief **xm_port_tx_budget()** is how many TX descriptors the kernel
 * turns into packets per sendto() kick of a copy-mode (COPY, SKB) socket.
 * @return xm_port_opts.tx_budget (default: tx_size), set at open with
 * XDP_MAX_TX_SKB_BUDGET; XM_PORT_TX_BUDGET_MIN (the kernel's fixed
 * batch) on a kernel without that option (before 6.18), which open
 * reports at info level and otherwise ignores; 0 in zero-copy mode (the
 * driver's NAPI budget applies) or without a TX ring.
 *
 * In copy mode every kick is a system call that builds, sends and frees
 * one skb per descriptor, up to the budget; the rest waits for the next
 * kick.  The default, the whole ring, lets one kick send everything
 * queued.  Measured on veth at 64 bytes (tests/bench/pktgen.sh), the
 * budget moves the peak rate by less than the noise between rounds: the
 * per-skb work, not the system call, is the cost.  The socket option
 * cannot be read back (no getsockopt).
 */
XM_API uint32_t xm_port_tx_budget(const struct xm_port *p);
/** The umem the port was opened on. */
XM_API struct xm_umem *xm_port_umem(const struct xm_port *p);
/** Port index written to m_pkthdr.rcvport. */
XM_API uint16_t xm_port_index(const struct xm_port *p);

/* Statistics: xm_port_stats() sums every queue, one call returns all. */
struct xm_port_stats {
	/* software counters, this port's sockets */
	uint64_t rx_packets;		/* packets returned by rx_burst */
	uint64_t rx_bytes;		/* their bytes */
	uint64_t rx_descs;		/* RX descriptors consumed */
	uint64_t rx_dropped_sw;		/* packets dropped by the port (no
					 * header, bad descriptor chain) */
	uint64_t tx_packets;		/* packets accepted by tx_burst */
	uint64_t tx_bytes;		/* their bytes */
	uint64_t tx_descs;		/* TX descriptors produced */
	uint64_t tx_copied;		/* segments copied into a frame */
	uint64_t tx_dropped;		/* packets accepted but not sendable */
	uint64_t tx_completions;	/* completion entries reaped */
	uint64_t tx_wakeups;		/* sendto() kicks */
	uint64_t fill_added;		/* frames put on fill rings */
	uint64_t fill_starved;		/* refills that found the zone empty
					 * even with the reserve */
	uint64_t fill_reserve;		/* refills that dipped into the
					 * emergency reserve */
	/* XDP_STATISTICS (kernel), summed over the sockets */
	uint64_t rx_dropped;		/* dropped for other reasons */
	uint64_t rx_invalid_descs;	/* invalid fill descriptors */
	uint64_t tx_invalid_descs;	/* invalid TX descriptors */
	uint64_t rx_ring_full;		/* dropped: RX ring full */
	uint64_t rx_fill_ring_empty_descs; /* fill ring was empty */
	uint64_t tx_ring_empty_descs;	/* TX ring was empty at a kick */
	/* ring occupancy now (entries), summed over the sockets */
	uint32_t rx_ring_used;
	uint32_t fill_ring_used;
	uint32_t tx_ring_used;
	uint32_t comp_ring_used;
	uint64_t frames_lent;		/* frames the kernel holds: fill ring,
					 * RX path and TX in flight */
	/* XDP program per-CPU counters, summed over CPUs (interface-wide) */
	uint64_t xdp_seen;		/* packets the program saw */
	uint64_t xdp_redirected;	/* matched and redirected to a socket */
	uint64_t xdp_passed;		/* matched no rule: XDP_PASS */
	uint64_t xdp_meta_failed;	/* bpf_xdp_adjust_meta refused */
	uint64_t xdp_rule_hits[XM_PORT_MAX_RULES]; /* hits per rule index */
	uint64_t xdp_no_socket;		/* matched, but no socket on that
					 * queue: passed to the stack */
	uint64_t rx_wakeups;		/* poll() calls made for the driver */
	uint64_t fill_recycled;		/* of fill_added: TX completions of
					 * the port's own frames put back on
					 * the fill ring without the zone */
};

/**
 * @brief **xm_port_stats()** fills *st with every counter of the port.
 * @return 0, on success; negative error code (-EINVAL) otherwise.
 */
XM_API int xm_port_stats(struct xm_port *p, struct xm_port_stats *st);
/** Same for one queue (the XDP program counters stay interface-wide). */
XM_API int xm_port_queue_stats(struct xm_port *p, unsigned int qidx,
			       struct xm_port_stats *st);

/*
 * Steering rules.  Rules are tried in order, first match wins; a packet
 * matching a rule is redirected to the socket of its RX queue (or passed
 * to the stack when that queue has none), a packet matching none is passed
 * to the stack.  A set with no rules steers nothing; steering everything
 * is a state of its own (xm_port_rule_all(), the state after open), never
 * the absence of rules.  Each change of the set (add, replace, clear,
 * all) takes effect in one step: the program sees the old set or the new
 * one, never a mixture, and a change that fails leaves the old set in
 * force.  Each field below is compared only when its XM_RULE_M_* bit is
 * set in match (a rule with match 0 matches every packet); the packet
 * may carry up to two tags (0x8100, 0x88a8, 0x9100), the vlan_id being the
 * outer one's.  A field the program cannot read (a header cut short,
 * IPv4 IHL < 5, an IPv6 extension header cut short or more than four of
 * them) passes its test: what cannot be parsed goes to the sockets, and
 * the application decides (bpf/xm_redirect_match.h).
 */
#define XM_RULE_M_PROTO		0x01	/* ip_proto (IPv4 protocol, IPv6
					 * next header) */
#define XM_RULE_M_DST_PORT	0x02	/* dst_port (UDP, TCP, SCTP) */
#define XM_RULE_M_VLAN		0x04	/* vlan_id (0: untagged only) */
#define XM_RULE_M_SRC		0x08	/* src/src_len of family */
#define XM_RULE_M_DST		0x10	/* dst/dst_len of family */
#define XM_RULE_M_FAMILY	0x20	/* IPv4 or IPv6 only (family) */
#define XM_RULE_M_SRC_PORT	0x40	/* src_port (UDP, TCP, SCTP) */

struct xm_port_rule {
	uint32_t match;			/* XM_RULE_M_* */
	uint8_t family;			/* AF_INET or AF_INET6 (with SRC,
					 * DST or FAMILY) */
	uint8_t ip_proto;		/* IPPROTO_UDP, ... */
	uint16_t dst_port;		/* host byte order */
	uint16_t vlan_id;		/* 0..4095 */
	uint8_t src_len;		/* prefix length: 0..32 or 0..128 */
	uint8_t dst_len;		/* prefix length */
	uint8_t src[16];		/* network byte order: first 4 bytes
					 * for AF_INET */
	uint8_t dst[16];		/* network byte order */
	uint16_t src_port;		/* host byte order */
};

/**
 * @brief **xm_port_rule_add()** appends a steering rule.  In the
 * "everything" state (after open), the first rule added starts a set of
 * its own: from then on only what it matches is steered.
 * @return the rule's index (>= 0, its slot in xdp_rule_hits); negative
 * error code otherwise: -EINVAL malformed rule, -ENOSPC table full,
 * -EOPNOTSUPP the port has no program of ours; the set in force is then
 * unchanged.
 *
 * Rules belong to the interface's program; a process opens at most one
 * port per interface (a second xm_port_open() on it fails with EBUSY), so
 * they are the port's own.
 */
XM_API int xm_port_rule_add(struct xm_port *p, const struct xm_port_rule *r);
/**
 * @brief **xm_port_rule_replace()** replaces the whole rule set with
 * rules[0 .. n), in one step: the set is checked and built aside, then
 * published at once, so no packet meets a partial set.  n = 0 steers
 * nothing.  Rule i counts in xdp_rule_hits[i].
 * @return 0, on success; negative error code otherwise (-EINVAL a
 * malformed rule, -ENOSPC n above XM_PORT_MAX_RULES, -EOPNOTSUPP no
 * program of ours, or the kernel's), and then the set in force stays.
 */
XM_API int xm_port_rule_replace(struct xm_port *p,
				const struct xm_port_rule *rules,
				unsigned int n);
/**
 * @brief **xm_port_rule_clear()** removes every rule: nothing is steered
 * to the sockets any more (xm_port_rule_all() steers everything).
 * @return 0, on success; negative error code otherwise.
 */
XM_API int xm_port_rule_clear(struct xm_port *p);
/**
 * @brief **xm_port_rule_all()** steers every packet to the sockets (the
 * state after xm_port_open()), replacing any rules in one step.
 * @return 0, on success; negative error code otherwise.
 */
XM_API int xm_port_rule_all(struct xm_port *p);
/** Rules installed (0 in the "everything" state). */
XM_API unsigned int xm_port_rule_count(const struct xm_port *p);
/** True in the "everything" state. */
XM_API bool xm_port_rule_steers_all(const struct xm_port *p);

/* ------------------------------------------- before a port: the interface */

/* What an interface is, as xm_port_open() will find it. */
struct xm_port_ifinfo {
	int ifindex;			/* if_nametoindex() */
	uint32_t mtu;			/* SIOCGIFMTU */
	uint32_t rx_queues;		/* RX queues as xm_port_open() counts
					 * them (the larger of the ethtool
					 * rx and combined channels; 1 for a
					 * device without channels): what a
					 * port opens by default */
	uint8_t mac[6];			/* SIOCGIFHWADDR (zero where the
					 * device has no address) */
};

/**
 * @brief **xm_port_ifinfo()** queries an interface before any port is
 * opened on it, for sizing the UMEM, building frames or a message.
 * @param ifname the interface, in the calling thread's network namespace
 * (the ioctls answer for it; sysfs would not after a bare setns()).
 * @return 0, or -ENODEV for an unknown or malformed name (empty, longer
 * than IF_NAMESIZE - 1, or with a '/'), or another -errno of socket()
 * or the ioctls; *info is written only on success.
 */
XM_API int xm_port_ifinfo(const char *ifname, struct xm_port_ifinfo *info);

/*
 * What a UMEM must hold so that every ring of every queue of a port can
 * be full at once while the application holds its bursts: build with
 * XM_OPTS(xm_port_frames_opts, name, ...).  Ring sizes as in struct
 * xm_port_opts, zero for xm_port_open()'s default (rx 1024, fill twice
 * rx, tx 1024, completion as tx); XM_PORT_F_RX_ONLY counts no TX or
 * completion ring, XM_PORT_F_TX_ONLY no RX or fill ring.
 */
struct xm_port_frames_opts {
	size_t sz;			/* sizeof(struct xm_port_frames_opts) */
	uint32_t nqueues;		/* queues (sockets) of the port */
	uint32_t rx_size;		/* RX ring */
	uint32_t fill_size;		/* fill ring */
	uint32_t tx_size;		/* TX ring */
	uint32_t comp_size;		/* completion ring */
	uint32_t held;			/* per queue: frames the application
					 * holds at once (bursts in hand,
					 * the thread's cache buckets) */
	uint32_t reserve;		/* once: frames beyond the queues
					 * (the zones' reserve, other users) */
	uint32_t flags;			/* XM_PORT_F_RX_ONLY, _TX_ONLY */
};
#define xm_port_frames_opts__last_field flags

/**
 * @brief **xm_port_frames_needed()** is the frames (xm_umem_opts
 * nmbclusters) that let a port's rings be full at once:
 *   nqueues * (rx + fill + tx + comp + held) + reserve,
 * with the rings a port opened with the same sizes and flags has.
 * @return that count, at most UINT32_MAX / 2 (a larger need saturates
 * there: no UMEM that large can be made); 0 for NULL opts.
 */
XM_API uint32_t xm_port_frames_needed(const struct xm_port_frames_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* XM_PORT_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_run.h - xmbuf-capture's run: the state its queue workers, its
 * setup and its main share (capture.c has the model).
 *
 *   cap_opts.c    the command line (struct cap_args)
 *   cap_setup.c   filter, path, UMEM and ports, kernel rules, the run
 *                 itself (workers by the examples' launcher, the output's
 *                 tick)
 *   cap_worker.c  a queue's loop: receive, filter, stamp, write, tap;
 *                 the counters and the pcapng statistics block
 *   cap_passive.c the copying paths (passive tcx, --at-xdp): programs,
 *                 the ring buffer's worker
 *   cap_text.c    without -w: a line per packet (tcpdump -n -q)
 *   cap_iface.c   does the interface carry host traffic (the default
 *                 path), -D
 *   capture.c     main and the summary
 */
#ifndef CAP_RUN_H
#define CAP_RUN_H

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "xm_example.h"
#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"

#include "cap_copy.h"
#include "cap_filter.h"
#include "cap_iface.h"
#include "cap_opts.h"
#include "cap_out.h"
#include "cap_pcap.h"

#define CAP_BURST		64	/* packets per rx_burst */
#define CAP_SEGS_MAX		64	/* descriptors of one packet */
#define CAP_LINEAR_MAX		65536	/* filter scratch for chains */
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
#define CAP_TX_RING		2048

struct capture;

/* The capture path (cap_setup.c chooses it, capture.c has the model). */
enum cap_path {
	CAP_PATH_INLINE,		/* AF_XDP, consuming */
	CAP_PATH_PASSIVE,		/* tcx copies, the host keeps all */
	CAP_PATH_AT_XDP,		/* fentry/fexit on the XDP program */
};

/* What a copying path knows of a packet beyond its bytes. */
struct cap_pkt_ext {
	uint32_t wirelen;		/* length of the frame */
	uint32_t dir;			/* CAP_DIR_IN or CAP_DIR_OUT */
	uint32_t verdict;		/* XDP action at exit, or ~0 */
};


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
	_Atomic uint64_t printed;	/* without -w: lines on stdout */
	_Atomic uint64_t print_dropped;	/* without -w: lines not written */
};

struct cap_worker {
	struct capture *c;		/* program state */
	unsigned int qidx;		/* queue index in the port */
	int64_t clock_off;		/* wall clock - CLOCK_MONOTONIC, ns */
	uint64_t clock_checked;		/* monotonic ns of the last check */
	uint64_t first_ns;		/* monotonic, first burst (0: none) */
	uint64_t last_ns;		/* monotonic, last burst */
	struct cap_batch *batch;	/* records being built */
	uint8_t *linear;		/* a chain made flat for the filter */
	char *text;			/* without -w: the batch's lines */
	size_t text_len;
	struct cap_counters n;		/* its counters */
} __attribute__((aligned(64)));

struct capture {
	struct cap_args *a;		/* the command line */
	enum cap_path path;		/* chosen at start */
	char path_why[160];		/* why (the banner) */
	const char *hook_name;		/* copying paths: "tcx", ... */
	char xdp_target[160];		/* --at-xdp: "func (id N)" */
	struct cap_copy *cp;		/* copying paths' programs */
	struct cap_passive *pv;		/* ... and their worker's batch */
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
	char descr[384];		/* if_description */
	char hostinfo[200];		/* shb_os */
	char isb_comment[512];		/* storage for the ISB callback */
	char mode_name[16];		/* bound mode, kept past close */
	bool drop_privs;		/* -Z as root: switch after open */
	uint32_t rx_ring;		/* RX ring per queue, frames (-B) */
	struct cap_out_stats live_out;	/* the output's, as of the last
					 * look (the main thread's) */
};

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
	uint64_t printed;		/* without -w: lines */
	uint64_t print_dropped;		/* without -w: lines lost */
	uint64_t first_ns;		/* first burst, monotonic (after join) */
	uint64_t last_ns;		/* last burst */
};

/* ------------------------------------------------------- cap_worker.c */

/** A clock's time in nanoseconds. */
uint64_t cap_clock_ns(clockid_t id);
/** Wall clock minus CLOCK_MONOTONIC, read between two monotonic reads. */
int64_t cap_clock_offset(void);
/** Worker w's loop until a stop (the launcher's fn).  @return 0. */
int cap_worker_main(void *w);
/**
 * Filters, stamps, writes and frees packets pkts[0 .. n) (at most
 * CAP_BATCH_PKTS); ext (NULL on the inline path) has their wire length,
 * direction and verdict.
 */
void cap_worker_process(struct cap_worker *w, struct xm_mbuf **pkts,
			unsigned int n, const struct cap_pkt_ext *ext);
/** The workers' counters summed. */
void cap_sum_workers(const struct capture *c, struct cap_totals *t);
/** The port's statistics (zeroed on failure).  @return 0 or -errno. */
int cap_port_stats(struct capture *c, struct xm_port_stats *st);
/** Drops in the kernel, each counted once (see cap_worker.c). */
uint64_t cap_kernel_drops(const struct xm_port_stats *st);
/** Of those, neither RX ring full nor fill ring empty. */
uint64_t cap_kernel_drops_other(const struct xm_port_stats *st);
/** cap_out's ISB callback (with out_lock held). */
void cap_fill_isb(void *arg, struct cap_isb *isb);
/** cap_out's message callback. */
void cap_out_message(void *arg, const char *msg);

/* ------------------------------------------------------ cap_passive.c */

/** The copying path's UMEM, programs (c->path) and worker state.
 *  @return 0 or the exit status. */
int cap_passive_open(struct capture *c);
/** The ring buffer's worker (the launcher's fn).  @return 0. */
int cap_passive_worker_main(void *w);
/** Detaches every program (their counters kept). */
void cap_passive_close(struct capture *c);
/** Frees what cap_passive_open made but the UMEM. */
void cap_passive_free(struct capture *c);
/** The copying path's counters (zero before open).  @return 0. */
int cap_passive_stats(struct capture *c, struct cap_kstats *ks);

/* --------------------------------------------------------- cap_text.c */

/**
 * Appends to buf (at *len, at most cap bytes) tcpdump -n -q's line for
 * a frame: time, addresses, protocol, length.  @return 0, or -ENOSPC
 * (nothing appended).
 */
int cap_text_line(char *buf, size_t *len, size_t cap, uint64_t ts_ns,
		  const uint8_t *p, uint32_t caplen, uint32_t wirelen,
		  uint32_t dir, uint32_t verdict);
#define CAP_TEXT_LINE_MAX	256	/* one line, at most */

/* -------------------------------------------------------- cap_setup.c */

/** Chooses the path from the options and the interface (the banner's
 *  why).  @return -1 to go on, else the exit status. */
int cap_choose_path(struct capture *c);

/** Compiles the expression.  @return -1 to go on, else the status. */
int cap_compile_filter(struct capture *c);
/** UMEM, -i's port and --tap's.  @return 0 or the exit status. */
int cap_open_ports(struct capture *c);
/** Pushes the expressible part of the filter into the XDP program. */
void cap_push_rules(struct capture *c);
/** The interface description and host information for pcapng. */
void cap_describe(struct capture *c);
/** The file or stream (-w).  @return 0 or the exit status. */
int cap_open_output(struct capture *c);

/* What the run leaves for the summary. */
struct cap_run_result {
	double seconds;			/* run time */
	int worker_err;			/* first worker error */
};

/**
 * Runs the queue workers until a stop, --duration, -c or an output
 * error, with the live statistics; joins them.  @return 0, or the exit
 * status when they could not be set up.
 */
int cap_run(struct capture *c, struct cap_run_result *r);

#endif /* CAP_RUN_H */

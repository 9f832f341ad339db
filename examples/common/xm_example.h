/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_example.h - what every xmbuf example needs and none should write
 * twice: exit codes, option parsing, signal handling, the once-a-second
 * stats line on stderr and the --json summary on stdout.
 *
 * The examples' contract, shared by all of them:
 *
 *   exit 0  success (ran to the end, or stopped by SIGINT, SIGTERM,
 *           SIGHUP or SIGQUIT: every stop signal tears down the same way)
 *   exit 1  runtime error (a message on stderr says what failed)
 *   exit 2  usage error (a message and "try --help" on stderr)
 *
 *   stderr  live statistics once a second, warnings, errors
 *   stdout  the final summary: text, or one JSON object with --json
 *
 * Only public xmbuf headers and libc are used here; the library never
 * prints, so the example decides what its user sees.
 *
 * The runtime has three rooms: this header (names, messages, parsing of
 * one value, signals, the stats line, JSON), xm_ex_opts.h (the command
 * line as a table) and xm_ex_run.h (the worker launcher).  A tool
 * includes this header only.
 */
#ifndef XM_EXAMPLE_H
#define XM_EXAMPLE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xm_mbuf.h"
#include "xm_port.h"
#include "xm_umem.h"
#include "xm_ex_opts.h"	/* the command line from a table */
#include "xm_ex_run.h"	/* the worker launcher */

#define XM_EX_OK		0
#define XM_EX_RUNTIME		1
#define XM_EX_USAGE		2

/* ---------------------------------------------------------------- names */

/** Sets the program name used in messages (call first in main()). */
void xm_ex_set_prog(const char *argv0);
/** The program name ("xmbuf-fwd"). */
const char *xm_ex_prog(void);

/** "prog: message\n" on stderr.  @return XM_EX_RUNTIME. */
int xm_ex_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** "prog: message\nTry 'prog --help'.\n" on stderr.  @return XM_EX_USAGE. */
int xm_ex_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/**
 * Routes the library's messages to stderr: warnings only, unless
 * verbose (-v), which adds XM_PRINT_INFO and XM_PRINT_DEBUG.  quiet (-Q)
 * changes nothing here: it is about the stats line, and warnings stay.
 */
void xm_ex_set_print(bool verbose, bool quiet);

/* -------------------------------------------------------------- parsing */

/** Parses a decimal (or 0x hex) integer in [lo, hi]; no sign, no junk. */
bool xm_ex_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
bool xm_ex_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
/** Seconds, as a positive decimal ("2", "0.5"), at most max_s. */
bool xm_ex_parse_seconds(const char *s, double max_s, double *out);
/**
 * A list of integers in [lo, hi]: "3", "0,2", "0-3", "0,4-6".  No
 * duplicates; at most max entries.  @return the count, or -1 on error.
 */
int xm_ex_parse_list(const char *s, uint32_t lo, uint32_t hi, uint32_t *out,
		     unsigned int max);
/** "aa:bb:cc:dd:ee:ff". */
bool xm_ex_parse_mac(const char *s, uint8_t mac[6]);
/**
 * A port mode (enum xm_port_mode) by name: auto, zero-copy (or zc), copy,
 * skb.  @return 0, or -EINVAL for any other name.
 */
int xm_ex_parse_mode(const char *s, uint32_t *mode);

/*
 * The datapath options every port-opening example spells the same way
 * (-q/--queues, --cpus, -m/--mode, -F/--frames): each parses optarg and,
 * when it is wrong, prints the same usage error in every example.
 * @return 0, or XM_EX_USAGE after the message.
 */
/** Queue ids in [0, 4095], at most XM_PORT_MAX_QUEUES of them. */
int xm_ex_opt_queues(const char *arg, uint32_t *queues, int *nqueues);
/** CPU ids in [0, CPU_SETSIZE), at most max of them. */
int xm_ex_opt_cpus(const char *arg, uint32_t *cpus, unsigned int max,
		   int *ncpus);
/** A port mode, see xm_ex_parse_mode(). */
int xm_ex_opt_mode(const char *arg, uint32_t *mode);
/** UMEM cluster frames, 1024..2^24. */
int xm_ex_opt_frames(const char *arg, uint32_t *frames);

/**
 * RX queues of an interface in the calling thread's network namespace,
 * counted as xm_port_open() counts them (ethtool channels; 1 without
 * them): what a port opens by default.  @return the count, or -errno
 * (-ENODEV).
 */
int xm_ex_if_rx_queues(const char *ifname);
/**
 * The queues a port on ifname will open: nqueues when the user gave a
 * list (nqueues > 0), else all of the interface's RX queues, within
 * [1, XM_PORT_MAX_QUEUES] (an unknown interface counts 1 and is left
 * for xm_port_open() to report).  For sizing the UMEM before the port.
 */
unsigned int xm_ex_queues_for(const char *ifname, int nqueues);
/**
 * A UMEM of nclusters 2 KiB clusters plus the examples' usual few jumbo
 * clusters (64 page-size, 16 of 9 KiB and of 16 KiB), created with the
 * XM_UMEM_F_* flags given.  On failure prints "cannot create the UMEM:
 * ..." and returns NULL (errno set).
 */
struct xm_umem *xm_ex_umem_create(uint32_t nclusters, uint32_t flags);

/**
 * Opens a second port on ifname on the queue ids of `like` (a forwarder's
 * or a tap's output, one socket per input queue): opts as for
 * xm_port_open() with .queues and .nqueues replaced.
 * @return the port, or NULL with errno set.
 */
struct xm_port *xm_ex_port_open_peer(struct xm_umem *u, const char *ifname,
				     const struct xm_port *like,
				     struct xm_port_opts *opts);
/**
 * Sends n packets on queue q; a full TX ring is kicked and tried once
 * more, and what still does not fit is freed (testpmd without
 * --tx-retry).  @return the packets sent; n minus it were dropped.
 */
uint16_t xm_ex_tx_or_drop(struct xm_port *p, unsigned int q,
			  struct xm_mbuf **pkts, uint16_t n);
/**
 * A worker's end: lets what it queued on q leave, for max_ns at most,
 * so that the frames come home by completion.
 */
void xm_ex_tx_drain(struct xm_port *p, unsigned int q, uint64_t max_ns);

/** Pins the calling thread to one CPU.  @return 0 or -errno. */
int xm_ex_pin_cpu(unsigned int cpu);
/**
 * A queue worker's start: pins the calling thread to cpu (nothing when
 * cpu < 0) and on failure prints "<role>queue Q: cannot pin to CPU C:
 * ..." (role: "", "RX ", "TX ").  @return 0 or -errno.
 */
int xm_ex_worker_pin(int cpu, const char *role, unsigned int q);
/** Monotonic clock in nanoseconds. */
uint64_t xm_ex_now_ns(void);
/**
 * A cheap cycle counter for "busy cycles per packet" (testpmd's
 * --record-core-cycles): the TSC on x86, nanoseconds elsewhere.
 */
static inline uint64_t xm_ex_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return xm_ex_now_ns();
#endif
}

/* -------------------------------------------------------------- signals */

/**
 * Installs handlers for the stop signals, SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT (and ignores SIGPIPE): the first one asks the loops to stop
 * (xm_ex_stopping()), and the tool tears down as at the end of its run
 * and exits 0.  A second SIGINT, SIGTERM or SIGQUIT while stopping
 * restores the default action and re-raises, so a stuck teardown can
 * still be interrupted; a second SIGHUP does not (a hangup is delivered
 * by the terminal and again by the shell).  SIGHUP ignored at start
 * (nohup) stays ignored.  A tool with another use for a signal (xmbuf-lb:
 * SIGHUP reloads) installs its own handler afterwards.
 * @return 0 or -errno.
 */
int xm_ex_signals_install(void);
/**
 * Fills set with the stop signals, for a thread that must not take them
 * (block them around pthread_create(): the thread inherits the mask).
 */
void xm_ex_stop_sigset(sigset_t *set);
/** True once a stop signal arrived or xm_ex_stop() was called. */
bool xm_ex_stopping(void);
/** Asks every loop to stop (e.g. when the duration is over). */
void xm_ex_stop(void);
/** The signal that asked to stop, 0 if none. */
int xm_ex_stop_signal(void);
/** Its name ("SIGHUP") for a summary's stopped_by; NULL if none. */
const char *xm_ex_stop_signal_name(void);

/* ----------------------------------------------------------- stats line */

#define XM_EX_STATS_MAX		16

/* Kind of a column of the live stats line. */
enum xm_ex_stat_kind {
	XM_EX_STAT_RATE,	/* counter: rate over the interval + total */
	XM_EX_STAT_COUNT,	/* counter: total only (drops, errors) */
	XM_EX_STAT_GAUGE,	/* value now (ring occupancy, ...) */
	XM_EX_STAT_BITS,	/* counter of bytes: bit rate over the
				 * interval ("tx 1.02Gbps") */
};

struct xm_ex_stat_col {
	const char *name;		/* column label */
	enum xm_ex_stat_kind kind;	/* how to print it */
};

/*
 * The once-a-second line:
 *   xmbuf-fwd  3.0s  rx 2.31Mpps (6.93M)  tx 2.30Mpps (6.90M)  drop 0
 * Columns are fixed at init; each call hands the current values.
 */
struct xm_ex_stats {
	const struct xm_ex_stat_col *cols;	/* ncols columns */
	unsigned int ncols;			/* at most XM_EX_STATS_MAX */
	uint64_t prev[XM_EX_STATS_MAX];		/* values at the last line */
	uint64_t t_start;			/* ns, at init */
	uint64_t t_last;			/* ns, at the last line */
	uint64_t interval_ns;			/* between lines */
	FILE *out;				/* stderr, or NULL: silent */
};

/** @param out where lines go (stderr; NULL for none). */
void xm_ex_stats_init(struct xm_ex_stats *s, const struct xm_ex_stat_col *cols,
		      unsigned int ncols, uint64_t interval_ns, FILE *out);
/** True when an interval has passed since the last line. */
bool xm_ex_stats_due(const struct xm_ex_stats *s, uint64_t now_ns);
/** Prints one line for values[ncols] and starts a new interval. */
void xm_ex_stats_print(struct xm_ex_stats *s, const uint64_t *values,
		       uint64_t now_ns);
/** Seconds since xm_ex_stats_init(). */
double xm_ex_stats_elapsed(const struct xm_ex_stats *s, uint64_t now_ns);

/** "1.23M", "456k", "789": a count scaled for a person to read. */
const char *xm_ex_human(uint64_t v, char *buf, size_t len);

/* ----------------------------------------------------------------- JSON */

#define XM_EX_JSON_DEPTH	8

/*
 * A streaming JSON writer for the --json summary: one object on one
 * line, keys in the order written.  Nesting through begin/end; values
 * inside an array are written with a NULL key.  Non-finite doubles are
 * written as null (JSON has no NaN).
 */
struct xm_ex_json {
	FILE *out;				/* destination */
	unsigned int depth;			/* open containers */
	bool first[XM_EX_JSON_DEPTH];		/* no member written yet */
	bool is_array[XM_EX_JSON_DEPTH];	/* container is an array */
	bool error;				/* misuse (depth, key) seen */
};

/** Opens the top-level object. */
void xm_ex_json_begin(struct xm_ex_json *j, FILE *out);
/** Closes the top-level object and ends the line.  @return 0, or -EINVAL
 * when the writer was misused, or -EIO when the stream failed. */
int xm_ex_json_end(struct xm_ex_json *j);
void xm_ex_json_object(struct xm_ex_json *j, const char *key);
void xm_ex_json_array(struct xm_ex_json *j, const char *key);
/** Closes the innermost object or array. */
void xm_ex_json_close(struct xm_ex_json *j);
void xm_ex_json_u64(struct xm_ex_json *j, const char *key, uint64_t v);
void xm_ex_json_i64(struct xm_ex_json *j, const char *key, int64_t v);
void xm_ex_json_double(struct xm_ex_json *j, const char *key, double v);
void xm_ex_json_bool(struct xm_ex_json *j, const char *key, bool v);
/** Escapes quotes, backslashes and control characters. */
void xm_ex_json_str(struct xm_ex_json *j, const char *key, const char *v);

/** Writes every zone's xm_zone_stats as an array under key. */
void xm_ex_json_zones(struct xm_ex_json *j, const char *key,
		      struct xm_umem *u);

#endif /* XM_EXAMPLE_H */

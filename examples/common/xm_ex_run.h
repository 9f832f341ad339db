/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_ex_run.h - the tools' one worker launcher: N queue workers, each
 * pinned (round robin over a CPU list) before its body runs, a main
 * thread that ends the run at the deadline, calls the tool once a round
 * (about 20 times a second) and prints the live stats line once a
 * second, and the join.
 *
 *   main thread                          worker i (its own thread)
 *   xm_ex_run_start()  -- pthread_create -->  pin to --cpus, in turn
 *   xm_ex_run_loop():                         fn(arg_i): the tool's loop,
 *     until xm_ex_stopping() or deadline        until xm_ex_stopping()
 *     tick(ctx, now)   (lb: reload; capture: rotate the file)
 *     sample(ctx, v) -> the stats line, once a second
 *   xm_ex_run_join()   <-- returns ------
 *
 * Stopping is the examples' one mechanism (xm_example.h): a stop signal
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT, with nohup and the second-signal
 * escalation as xm_ex_signals_install() has them), the deadline, a
 * worker's error, or the tool calling xm_ex_stop(); the loop and the
 * workers poll xm_ex_stopping().  A tool with another use for a signal
 * (lb: SIGHUP reloads) installs it after xm_ex_signals_install() and
 * does the work in tick.
 *
 * The launcher owns no packet state: worker i's argument is
 * args + i * stride, the tool's own per-queue struct.
 */
#ifndef XM_EX_RUN_H
#define XM_EX_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xm_ex_args;
struct xm_ex_stat_col;

/* A worker's thread (the launcher's, one per worker). */
struct xm_ex_worker {
	struct xm_ex_run *run;		/* its run */
	void *arg;			/* the tool's per-worker state */
	unsigned int idx;		/* 0 .. nworkers - 1 */
	int cpu;			/* pinned to, or -1 */
	pthread_t thread;		/* its thread */
	bool started;			/* the thread was created */
	int err;			/* 0, or -errno: pinning or fn failed */
};

struct xm_ex_run {
	/* --- set by the tool */
	/*
	 * The worker's body, run after pinning: returns when
	 * xm_ex_stopping() (or at its own end).  @return 0, or -errno:
	 * the run stops.
	 */
	int (*fn)(void *arg);
	void *args;			/* worker i gets args + i * stride */
	size_t stride;			/* sizeof the tool's worker struct */
	unsigned int nworkers;		/* how many */
	const char *role;		/* "" or "RX " / "TX ": messages say
					 * "<role>queue Q: cannot pin ..." */
	const uint32_t *cpus;		/* pin worker i to cpus[i % ncpus] */
	int ncpus;			/* 0: not pinned */
	double seconds;			/* run time, 0: until a stop */
	bool quiet;			/* no stats line */
	/* the shared options: when set, --cpus, --duration and --quiet
	 * stand for the four fields above (a tool with two kinds of
	 * workers, pktgen's RX and TX, sets those itself) */
	const struct xm_ex_args *opts;
	/* the live stats line (ncols 0: none) */
	const struct xm_ex_stat_col *cols;
	unsigned int ncols;
	/* its values, once a second (values[ncols]) */
	void (*sample)(void *ctx, uint64_t *values);
	/* after each stats line (lb: the services' detail) */
	void (*after_line)(void *ctx);
	/* each round of the loop; nonzero stops the run */
	int (*tick)(void *ctx, uint64_t now_ns);
	void *ctx;			/* for sample and tick */

	/* --- the launcher's */
	struct xm_ex_worker *w;		/* nworkers of them */
	uint64_t t0_ns;			/* when xm_ex_run_start() began */
	uint64_t end_ns;		/* when the loop ended */
	int err;			/* the first error: a thread that
					 * did not start, or a worker's */
};

/**
 * Starts the workers.  A thread that cannot be created stops the run
 * (the ones started keep going until they see it); run->err says why.
 * @return 0, or -ENOMEM (no worker started), or the creation's -errno.
 */
int xm_ex_run_start(struct xm_ex_run *run);
/**
 * The main thread's loop: until a stop or the deadline, calls tick and,
 * once a second unless quiet, prints the stats line.  Ends with
 * xm_ex_stop() so that every worker sees the end.
 */
void xm_ex_run_loop(struct xm_ex_run *run);
/**
 * Joins the workers that started and frees the launcher's state.
 * @return run->err: 0, or the first error.
 */
int xm_ex_run_join(struct xm_ex_run *run);
/** start, loop, join.  @return as xm_ex_run_join(). */
int xm_ex_run(struct xm_ex_run *run);
/** Seconds from the start to the loop's end (or to now, if running). */
double xm_ex_run_seconds(const struct xm_ex_run *run);

#endif /* XM_EX_RUN_H */

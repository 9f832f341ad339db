// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_ex_run.c - the tools' worker launcher (see xm_ex_run.h for the
 * model).  Each worker thread pins itself before the tool's body runs,
 * so a failed pin is reported by the queue it concerns and stops the run
 * before that queue moved a packet.  The main thread sleeps between
 * rounds no longer than 50 ms, and no longer than the time left to the
 * deadline, so -d ends within a millisecond of its time and a stop
 * signal (which interrupts the sleep: the handlers have no SA_RESTART)
 * at once.
 *
 * KPI: xm_ex_run_start, xm_ex_run_loop, xm_ex_run_join, xm_ex_run,
 *      xm_ex_run_seconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xm_example.h"

#define XM_EX_ROUND_NS		50000000ull	/* the loop's longest sleep */

static void *worker_thread(void *arg)
{
	struct xm_ex_worker *w = arg;
	struct xm_ex_run *run = w->run;
	int err;

	err = xm_ex_worker_pin(w->cpu, run->role ? run->role : "", w->idx);
	if (!err)
		err = run->fn(w->arg);
	if (err) {
		w->err = err;
		xm_ex_stop();
	}
	return NULL;
}

/* The shared options, when given, stand for the run's own fields. */
static void take_opts(struct xm_ex_run *run)
{
	const struct xm_ex_args *o = run->opts;

	if (!o)
		return;
	run->cpus = o->cpus;
	run->ncpus = o->ncpus;
	run->seconds = o->seconds;
	run->quiet = o->quiet;
}

int xm_ex_run_start(struct xm_ex_run *run)
{
	take_opts(run);
	run->err = 0;
	run->end_ns = 0;
	run->t0_ns = xm_ex_now_ns();
	run->w = calloc(run->nworkers ? run->nworkers : 1, sizeof(*run->w));
	if (!run->w) {
		run->err = -ENOMEM;
		xm_ex_error("out of memory");
		xm_ex_stop();
		return run->err;
	}
	for (unsigned int i = 0; i < run->nworkers; i++) {
		struct xm_ex_worker *w = &run->w[i];
		int err;

		w->run = run;
		w->idx = i;
		w->arg = (char *)run->args + i * run->stride;
		w->cpu = run->ncpus > 0 ?
			 (int)run->cpus[i % (unsigned int)run->ncpus] : -1;
		err = pthread_create(&w->thread, NULL, worker_thread, w);
		if (err) {
			xm_ex_error("cannot start worker %u: %s", i,
				    strerror(err));
			run->err = -err;
			xm_ex_stop();
			return run->err;
		}
		w->started = true;
	}
	return 0;
}

void xm_ex_run_loop(struct xm_ex_run *run)
{
	uint64_t deadline = 0, values[XM_EX_STATS_MAX];
	struct xm_ex_stats stats;
	unsigned int ncols = run->ncols < XM_EX_STATS_MAX ? run->ncols :
			     XM_EX_STATS_MAX;
	bool quiet;

	take_opts(run);
	quiet = run->quiet || !ncols || !run->sample;
	if (run->seconds > 0)
		deadline = run->t0_ns + (uint64_t)(run->seconds * 1e9);
	xm_ex_stats_init(&stats, run->cols, ncols, 0, quiet ? NULL : stderr);
	while (!xm_ex_stopping()) {
		uint64_t now = xm_ex_now_ns();

		if (deadline && now >= deadline)
			break;
		if (run->tick && run->tick(run->ctx, now))
			break;
		if (stats.out && xm_ex_stats_due(&stats, now)) {
			memset(values, 0, sizeof(values));
			run->sample(run->ctx, values);
			xm_ex_stats_print(&stats, values, now);
			if (run->after_line)
				run->after_line(run->ctx);
		}
		usleep(deadline && deadline - now < XM_EX_ROUND_NS ?
		       (useconds_t)((deadline - now) / 1000) + 1 :
		       (useconds_t)(XM_EX_ROUND_NS / 1000));
	}
	xm_ex_stop();
	run->end_ns = xm_ex_now_ns();
}

int xm_ex_run_join(struct xm_ex_run *run)
{
	if (!run->w)
		return run->err;
	for (unsigned int i = 0; i < run->nworkers; i++) {
		if (!run->w[i].started)
			continue;
		pthread_join(run->w[i].thread, NULL);
		if (run->w[i].err && !run->err)
			run->err = run->w[i].err;
	}
	if (!run->end_ns)
		run->end_ns = xm_ex_now_ns();
	free(run->w);
	run->w = NULL;
	return run->err;
}

int xm_ex_run(struct xm_ex_run *run)
{
	xm_ex_run_start(run);
	xm_ex_run_loop(run);
	return xm_ex_run_join(run);
}

double xm_ex_run_seconds(const struct xm_ex_run *run)
{
	uint64_t end = run->end_ns ? run->end_ns : xm_ex_now_ns();

	return (double)(end - run->t0_ns) / 1e9;
}

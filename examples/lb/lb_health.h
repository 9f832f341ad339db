/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_health.h - health checks of the backends, from the balancer host's
 * own stack (not through the data path), in a thread of their own that
 * never touches a worker.
 *
 *   main thread                        health thread
 *   lb_health_sync(c) -- targets -->   every interval, per backend of a
 *   (each new generation)              service with a 'health' line:
 *                                        non-blocking connect (tcp), then
 *                                        GET PATH, status line (http);
 *                                        timeout, then rise/fall:
 *   lb_health_transitions() <-- count --  a state change, logged once:
 *   changed: lb_state_apply() with        "198.18.1.12:80 down: connect
 *   lb_health_down(), a new generation     timeout 3/3 (198.18.2.1:80/tcp)"
 *
 * A backend starts up (as HAProxy's servers do): a reload or a start
 * moves no flow before the checks have a say; fall failures in a row
 * take it down, rise successes in a row bring it back.  State is kept by
 * the backend's stable id, so a reload that keeps the backend and its
 * service's check keeps its state too.
 *
 * At most LB_HEALTH_INFLIGHT checks run at once; the others wait their
 * turn (a late check, never a skipped one).
 */
#ifndef LB_HEALTH_H
#define LB_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "lb_config.h"

#define LB_HEALTH_INFLIGHT	256	/* checks in progress at once */
#define LB_HEALTH_REASON	64	/* bytes of a reason */
#define LB_HEALTH_RESP_MAX	512	/* bytes read for the status line */

/* One backend's state machine (pure: lb_health_step()). */
struct lb_hstate {
	bool hs_up;			/* state in force */
	uint32_t hs_ok_run;		/* successes in a row */
	uint32_t hs_fail_run;		/* failures in a row */
};

/* What the control socket and /metrics show of a backend. */
struct lb_health_info {
	bool hi_up;			/* state */
	uint64_t hi_checks;		/* checks finished */
	uint64_t hi_failures;		/* ... that failed */
	uint64_t hi_transitions;	/* state changes */
	char hi_reason[LB_HEALTH_REASON]; /* last result ("connect ok",
					 * "connect: Connection refused") */
};

struct lb_health_mon;

/**
 * Feeds one result to s.  @return true when the state changed (up after
 * rise successes in a row, down after fall failures in a row).
 */
bool lb_health_step(struct lb_hstate *s, bool ok, uint32_t rise,
		    uint32_t fall);

/**
 * The status code of an HTTP response's first line ("HTTP/1.1 200 OK").
 * @return 100..599; -EAGAIN when the line is not complete yet (len
 * bytes); -EINVAL when it is not a status line.
 */
int lb_health_http_status(const char *buf, size_t len);

/**
 * Starts the monitor and its thread, with no targets.
 * @return the monitor, or NULL with errno.
 */
struct lb_health_mon *lb_health_start(void);
/** Stops the thread, closes every check, frees; NULL is allowed. */
void lb_health_stop(struct lb_health_mon *m);

/**
 * Checks the backends of c (built) from now on: every backend of every
 * service with a health check.  A backend whose id and check stay keeps
 * its state and its turn; any other starts up, checked soon.
 * @return 0, or -ENOMEM (the previous targets stay).
 */
int lb_health_sync(struct lb_health_mon *m, const struct lb_config *c);

/** Is backend be_id down?  (false: up, or not checked) */
bool lb_health_down(struct lb_health_mon *m, uint32_t be_id);
/** The backend's info.  @return false when be_id is not checked. */
bool lb_health_info(struct lb_health_mon *m, uint32_t be_id,
		    struct lb_health_info *out);
/** State changes so far (the main thread compares it between rounds). */
uint64_t lb_health_transitions(struct lb_health_mon *m);

#endif /* LB_HEALTH_H */

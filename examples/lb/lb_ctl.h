/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_ctl.h - xmbuf-lb's control socket: a Unix stream socket (mode 0600)
 * that answers a fixed set of commands, one per connection, in the
 * manner of `birdc` and `ipvsadm -Ln`:
 *
 *   client: "backends --json\n"  -->  server: "ok\n" + body, close
 *                                     or "error: why\n", close
 *
 *   status                 generation, uptime, file, every loss
 *   services               each service: health, backends up, counters
 *   backends               each backend: state, weight, health, flows,
 *                          packets, bytes
 *   flows [VIP]            connection-table entries (LB_CTL_FLOWS_MAX)
 *   drain ADDR / undrain ADDR   weight 0 until the next reload
 *   drain-host / undrain-host   every VIP withdrawn from BGP, or
 *                          announced again (--bird-routes)
 *   reload                 as SIGHUP
 *   help
 *
 * Any command takes --json.  The socket never runs anything else:
 * commands are words from that list, a line is at most LB_CTL_LINE_MAX
 * bytes, and garbage, an oversize line, or a line that never ends
 * (LB_CTL_READ_MS) gets an error line and the connection closed; each
 * is counted, and the balancer goes on.  One thread serves up to
 * LB_CTL_CONNS connections at once (poll), so a client that stalls
 * delays no other for longer than its time limit.
 */
#ifndef LB_CTL_H
#define LB_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lb_snapshot.h"

#define LB_CTL_LINE_MAX		256	/* bytes of a command, newline in */
#define LB_CTL_ARG_MAX		64	/* bytes of its argument */
#define LB_CTL_CONNS		8	/* connections served at once */
#define LB_CTL_READ_MS		2000	/* for the whole command line */
#define LB_CTL_WRITE_MS		2000	/* for the reply */
#define LB_CTL_FLOWS_MAX	1000	/* entries 'flows' lists */
#define LB_CTL_DIR		"/run/xmbuf-lb"

enum lb_ctl_verb {
	LB_CTL_STATUS = 0,
	LB_CTL_SERVICES,
	LB_CTL_BACKENDS,
	LB_CTL_FLOWS,
	LB_CTL_DRAIN,
	LB_CTL_UNDRAIN,
	LB_CTL_RELOAD,
	LB_CTL_HELP,
	LB_CTL_DRAIN_HOST,
	LB_CTL_UNDRAIN_HOST,
};

struct lb_ctl_cmd {
	enum lb_ctl_verb verb;
	char arg[LB_CTL_ARG_MAX];	/* VIP (flows), ADDR (drain); "" */
	bool json;			/* --json */
};

/* One connection-table entry, as 'flows' lists it. */
struct lb_ctl_flow {
	char vip[80];			/* service */
	char client[64];		/* "198.18.1.1:40000" */
	char backend[INET6_ADDRSTRLEN];	/* "?" when it left */
	unsigned int worker;
};

/**
 * Parses one command line (without its newline).
 * @return 0, or -EINVAL with a message in err.
 */
int lb_ctl_parse(const char *line, size_t len, struct lb_ctl_cmd *cmd,
		 char *err, size_t errlen);

/** Writes the reply body of status, services or backends for s. */
void lb_ctl_format(FILE *out, const struct lb_ctl_cmd *cmd,
		   const struct lb_snap *s);
/** Writes the reply body of flows: n entries, truncated when more. */
void lb_ctl_format_flows(FILE *out, bool json, const struct lb_ctl_flow *f,
			 unsigned int n, bool truncated);
/** Writes a one-line result ("drained ...") as text or {"result": ..}. */
void lb_ctl_format_result(FILE *out, bool json, const char *msg);
/** Writes the command list. */
void lb_ctl_format_help(FILE *out, bool json);

/*
 * What the server asks the balancer to do: run cmd, writing the body to
 * out.  @return 0, or -errno with a message in err (the client gets
 * "error: <err>").
 */
typedef int lb_ctl_run_fn(void *ctx, const struct lb_ctl_cmd *cmd, FILE *out,
			  char *err, size_t errlen);

struct lb_ctl;

/**
 * Creates the socket at path (its directory too, if missing; a stale
 * socket left by a balancer that died is replaced, a live one is not)
 * and starts serving it.  @return the server, or NULL with a message in
 * err and errno (EADDRINUSE: a live balancer answers there).
 */
struct lb_ctl *lb_ctl_start(const char *path, lb_ctl_run_fn *run, void *ctx,
			    char *err, size_t errlen);
/** Stops serving, removes the socket; NULL is allowed. */
void lb_ctl_stop(struct lb_ctl *s);
/** Commands answered, and those answered with an error. */
uint64_t lb_ctl_requests(const struct lb_ctl *s);
uint64_t lb_ctl_errors(const struct lb_ctl *s);

/** The client: `xmbuf-lb ctl ...` (lb_ctl_client.c).  @return status. */
int lb_ctl_client_main(int argc, char **argv);

#endif /* LB_CTL_H */

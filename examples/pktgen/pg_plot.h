/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_plot.h - `xmbuf-pktgen plot FILE.json... -o OUT.svg`: what runs
 * wrote with --json-stream (a line per interval) and --json (rfc2544's
 * results) drawn as one SVG file, written here in plain C:
 *
 *   rate over time       tx and rx packets per second, a line per file
 *   latency over time    p50 and p99 of each interval, a line per file
 *   RFC 2544 table       per frame size: throughput (pps, L2 and L1
 *                        Mbit/s), trials, latency p50 and p99
 *
 * A file may hold any number of JSON values (JSON lines or one object);
 * values of no known kind are skipped, a value that does not parse is an
 * error naming the file and the byte.
 */
#ifndef PG_PLOT_H
#define PG_PLOT_H

#include <stddef.h>
#include <stdio.h>

struct pg_plot;

struct pg_plot *pg_plot_new(void);
void pg_plot_free(struct pg_plot *p);
/**
 * Adds the values of one file's text (name labels its lines).
 * @return 0; -EINVAL (err says where), -ENOMEM.
 */
int pg_plot_add(struct pg_plot *p, const char *name, const char *text,
		size_t len, char *err, size_t errlen);
/** Interval points and table rows added so far. */
size_t pg_plot_points(const struct pg_plot *p);
size_t pg_plot_rows(const struct pg_plot *p);
/** The SVG.  @return 0 or -EIO. */
int pg_plot_write(const struct pg_plot *p, FILE *out);

/** The plot command (argv[0] is "plot").  @return the exit status. */
int pg_plot_main(int argc, char **argv);

#endif /* PG_PLOT_H */

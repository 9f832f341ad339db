/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_opts.h - xmbuf-capture's command line, in tcpdump's habits: its
 * letters (-i -w -c -s -C -G -W -Z -B), the examples' shared options by
 * their long names only (tcpdump's -d, -q, -Q mean other things), and
 * the filter expression as the words after the options.
 */
#ifndef CAP_OPTS_H
#define CAP_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "xm_example.h"

#include "cap_pcap.h"

#define CAP_RX_RING_DEFAULT	16384	/* 32 MiB of 2 KiB frames waiting */
#define CAP_RX_RING_MIN		256
#define CAP_RX_RING_MAX		(1u << 21) /* the fill ring, twice this, is
					 * at the port's ring limit */
#define CAP_BUFFER_KIB_MAX	(CAP_RX_RING_MAX / 1024 * XM_MCLBYTES) /* -B:
					 * 4 GiB */
#define CAP_MB			1000000ull	/* tcpdump's -C unit */

struct cap_args {
	struct xm_ex_args ex;		/* -i, --queues, --cpus, --mode,
					 * --duration, --busy-poll, --json,
					 * --quiet, -v */
	const char *path;		/* -w */
	const char *tap;		/* --tap */
	const char *user;		/* -Z */
	char *expr;			/* the filter, or NULL (malloc'd) */
	uint64_t count;			/* -c, 0: no limit */
	uint64_t rotate_bytes;		/* -C */
	uint32_t rotate_secs;		/* -G */
	uint32_t ring_files;		/* -W */
	uint32_t snaplen;		/* -s */
	uint32_t buffer_kib;		/* -B */
	enum cap_format format;		/* --pcap, --nano, --pcapng */
};

/**
 * Parses the command line into a (the expression joined from the words
 * after the options, as tcpdump does; free it with free(a->expr)).
 * @return -1 to go on, else the exit status.
 */
int cap_parse_args(int argc, char **argv, struct cap_args *a);

/** "pcapng", "pcap-ns" or "pcap". */
const char *cap_format_name(enum cap_format f);

#endif /* CAP_OPTS_H */

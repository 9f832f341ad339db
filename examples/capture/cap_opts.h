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

#define CAP_DIR_IN		1	/* -Q: received (= XM_CAP_DIR_IN) */
#define CAP_DIR_OUT		2	/* transmitted (= XM_CAP_DIR_OUT) */

enum cap_at_xdp {			/* --at-xdp */
	CAP_AT_XDP_NONE,
	CAP_AT_XDP_ENTRY,		/* fentry: the frame as it came in */
	CAP_AT_XDP_EXIT,		/* fexit: as it leaves, with the verdict */
};

struct cap_args {
	struct xm_ex_args ex;		/* -i, --queues, --cpus, --mode,
					 * --duration, --busy-poll, --json,
					 * --quiet, -v */
	const char *path;		/* -w, or NULL: a line per packet on
					 * stdout (tcpdump -n -q) */
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
	uint32_t dirs;			/* -Q: CAP_DIR_* */
	bool dirs_given;		/* -Q was given */
	bool inline_path;		/* --inline */
	bool force;			/* --force */
	uint32_t at_xdp;		/* --at-xdp: enum cap_at_xdp */
	bool list;			/* -D */
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

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_ex_opts.h - the tools' command lines as tables: one entry per
 * option (long name, short letter, argument kind, destination, metavar,
 * help), from which getopt_long()'s short string and long array, the
 * --help text, --version and the hidden --list-options are generated.
 *
 * The options every tool spells the same way (interface, queues, cpus,
 * duration, mode, burst, poll, frames, json, quiet, verbose, help,
 * version) are defined once, in xm_ex_opts.c, with their values in
 * struct xm_ex_args.  A tool's table names each one it takes with
 * XM_EX_STD(), in the place its --help lists it, and may change the
 * letter, the help text or the upper bound there; its own options are
 * ordinary entries writing to its own variables:
 *
 *	const struct xm_ex_opt opts[] = {
 *		XM_EX_STD_REQUIRED(XM_EX_O_IFACE, 0,
 *				   "input interface (required)"),
 *		{ .name = "out", .letter = 'o', .arg = XM_EX_ARG_STR,
 *		  .dest = &a->out, .metavar = "IF2",
 *		  .help = "output interface (default: IF)" },
 *		XM_EX_STD(XM_EX_O_CPUS, 0, NULL),
 *		...
 *		XM_EX_OPTS_END
 *	};
 *
 * The vocabulary the tools share, and where a tool departs from it (for
 * tcpdump's sake, or an older letter kept for one release), is described
 * in xm_ex_opts.c.
 *
 * Parsing writes a destination only when its option is given: the caller
 * sets defaults first.  A bad value prints "PROG: invalid WHAT 'ARG'"
 * (plus the entry's hint) and "Try 'PROG --help'." and the parse returns
 * XM_EX_USAGE, the examples' usage exit status.
 */
#ifndef XM_EX_OPTS_H
#define XM_EX_OPTS_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xm_port.h"

/* Kind of an option's argument, and what its dest points to. */
enum xm_ex_arg {
	XM_EX_ARG_END,		/* ends a table (the { 0 } entry) */
	XM_EX_ARG_NONE,		/* no argument: bool, set to true */
	XM_EX_ARG_STR,		/* const char *, the argument itself */
	XM_EX_ARG_U32,		/* uint32_t in [lo, hi] */
	XM_EX_ARG_U64,		/* uint64_t in [lo, hi] */
	XM_EX_ARG_CPUS,		/* uint32_t[hi] of CPU ids, count in *count */
	XM_EX_ARG_QUEUES,	/* uint32_t[hi] of queue ids, count in *count */
	XM_EX_ARG_SECONDS,	/* double, seconds in (0, hi] ("0.5") */
	XM_EX_ARG_SIZE,		/* uint64_t bytes: N k|m|g (KiB, MiB, GiB)
				 * or a plain N times unit, N in [lo, hi] */
	XM_EX_ARG_ENUM,		/* uint32_t, the value of a name of enums[] */
	XM_EX_ARG_FUNC,		/* parse(o, arg) does it (see below) */
	XM_EX_ARG_STD,		/* one of the shared options (XM_EX_STD) */
	XM_EX_ARG_TEXT,		/* no option: help is printed as it is, a
				 * heading or a blank line in --help */
};

/* The shared options, for XM_EX_STD(). */
enum xm_ex_std {
	XM_EX_O_IFACE,		/* -i, --iface (alias --interface) IF */
	XM_EX_O_QUEUES,		/* -q, --queues LIST */
	XM_EX_O_CPUS,		/* --cpus LIST (letter: the tool's) */
	XM_EX_O_DURATION,	/* -d, --duration SEC */
	XM_EX_O_MODE,		/* -m, --mode MODE */
	XM_EX_O_BURST,		/* -b, --burst N */
	XM_EX_O_POLL,		/* -p, --poll */
	XM_EX_O_BUSY_POLL,	/* --busy-poll N */
	XM_EX_O_FRAMES,		/* -F, --frames N */
	XM_EX_O_JSON,		/* -j, --json */
	XM_EX_O_QUIET,		/* -Q, --quiet */
	XM_EX_O_VERBOSE,	/* -v, --verbose */
	XM_EX_O_HELP,		/* -h, --help */
	XM_EX_O_VERSION,	/* --version */
	XM_EX_O_COUNT
};

/* A name of an XM_EX_ARG_ENUM option; a table ends with a NULL name. */
struct xm_ex_enum {
	const char *name;
	uint32_t value;
	bool alias;		/* accepted, not listed in hints and help */
};

/* Entry flags. */
#define XM_EX_F_REQUIRED	0x1	/* "-i IF is required" when missing */
#define XM_EX_F_HIDDEN		0x2	/* not in --help (in --list-options) */
#define XM_EX_F_OPTARG		0x4	/* the argument is optional (STR, FUNC:
					 * arg NULL when absent) */
#define XM_EX_F_RANGE_HINT	0x8	/* a bad value's message ends with
					 * " (lo..hi)" */

/* "No short letter" in XM_EX_STD(), where 0 keeps the shared one. */
#define XM_EX_NO_LETTER		(-1)

struct xm_ex_opt {
	const char *name;	/* long name ("queues"); NULL for an option
				 * with only a letter (capture's -w) */
	int letter;		/* short option, 0 for none */
	enum xm_ex_arg arg;	/* argument kind */
	void *dest;		/* where the value goes (see enum xm_ex_arg) */
	int *count;		/* CPUS, QUEUES: entries parsed */
	uint64_t lo, hi;	/* U32, U64, SIZE: range; CPUS, QUEUES: hi is
				 * the room in dest; SECONDS: hi is the most
				 * seconds; STD: hi, when not 0, replaces the
				 * shared option's */
	uint64_t unit;		/* SIZE: bytes of a plain N (0: 1) */
	const struct xm_ex_enum *enums;	/* ENUM: the names */
	/*
	 * FUNC: parses arg into o->dest.  @return 0, or < 0 for the usual
	 * "invalid WHAT 'ARG'" message, or an exit status (> 0) after a
	 * message of its own.
	 */
	int (*parse)(const struct xm_ex_opt *o, const char *arg);
	const char *metavar;	/* "LIST" in "-q, --queues LIST" */
	const char *help;	/* lines for --help, '\n' between them */
	const char *what;	/* in "invalid WHAT 'ARG'" (default: name) */
	const char *hint;	/* appended to it in parentheses, if set */
	const char *alias;	/* a second long name, same meaning */
	int old_letter;		/* a letter the option had before: still
				 * parsed for one release, with a message
				 * naming the new spelling (not in --help;
				 * in --list-options' fifth field) */
	unsigned int flags;	/* XM_EX_F_* */
	enum xm_ex_std std;	/* STD: which */
};

/*
 * A shared option in a tool's table: letter 0 keeps the shared letter,
 * XM_EX_NO_LETTER drops it; help NULL keeps the shared text.
 */
#define XM_EX_STD(which, ltr, text)					\
	{ .arg = XM_EX_ARG_STD, .std = (which), .letter = (ltr),	\
	  .help = (text) }
/* The same, required ("-i IF is required" when it is not given). */
#define XM_EX_STD_REQUIRED(which, ltr, text)				\
	{ .arg = XM_EX_ARG_STD, .std = (which), .letter = (ltr),	\
	  .help = (text), .flags = XM_EX_F_REQUIRED }

/*
 * A shared option whose letter was `old` before the tools got one
 * vocabulary (issue #16): -old still works, with a deprecation message.
 */
#define XM_EX_STD_WAS(which, ltr, old, text)				\
	{ .arg = XM_EX_ARG_STD, .std = (which), .letter = (ltr),	\
	  .old_letter = (old), .help = (text) }

/* Every table ends so: --help, --version, the end. */
#define XM_EX_OPTS_END							\
	XM_EX_STD(XM_EX_O_HELP, 0, NULL),				\
	XM_EX_STD(XM_EX_O_VERSION, 0, NULL),				\
	{ .arg = XM_EX_ARG_END }

/* The examples' exit statuses (xm_example.h), for an epilogue. */
#define XM_EX_EXIT_STATUS						\
	"Exit status: 0 success, 1 runtime error, 2 usage error.\n"

/* The shared options' values (the tool sets their defaults first). */
struct xm_ex_args {
	const char *ifname;			/* -i: the interface */
	uint32_t queues[XM_PORT_MAX_QUEUES];	/* -q: queue ids */
	int nqueues;				/* 0: all the interface's */
	uint32_t cpus[CPU_SETSIZE];		/* CPUs to pin to, in turn */
	int ncpus;				/* 0: not pinned */
	double seconds;				/* -d: 0, until a signal */
	uint32_t mode;				/* -m: enum xm_port_mode */
	uint32_t burst;				/* -b: packets per burst */
	bool poll;				/* -p: sleep in poll() */
	uint32_t busy_poll;			/* --busy-poll: the ports'
						 * busy_poll_budget; 0 off */
	uint32_t frames;			/* -F: 0, computed */
	bool json;				/* -j: JSON summary */
	bool quiet;				/* -Q: no live stats */
	bool verbose;				/* -v: library debug */
};

/* The command line of a tool. */
struct xm_ex_cli {
	const char *tool;		/* "fwd": --version prints
					 * "xmbuf-fwd VERSION" */
	const char *synopsis;		/* after "usage: PROG " */
	const char *description;	/* after the usage line */
	const char *epilogue;		/* after the options */
	const struct xm_ex_opt *opts;	/* the table, { 0 } at its end */
	struct xm_ex_args *args;	/* the shared options' values */
	unsigned int flags;		/* XM_EX_CLI_* */
};

#define XM_EX_CLI_OPERANDS	0x1	/* words after the options are the
					 * tool's (else "unexpected argument") */
#define XM_EX_CLI_FIRST_OPERAND	0x2	/* options end at the first operand
					 * (getopt's "+": capture's filter
					 * expression may begin with "-") */

/* A number in a help string: "1.." XM_EX_STR(FWD_BURST_MAX). */
#define XM_EX_STR(x)		XM_EX_STR_(x)
#define XM_EX_STR_(x)		#x

/**
 * --version: "xmbuf-TOOL VERSION" (xm_version()), then the libbpf and
 * libxdp versions loaded and the kernel's AF_XDP/BPF features, one line
 * each (xm_ex_version.c).  @return 0.
 */
int xm_ex_version(const char *tool, FILE *out);

/*
 * Parses argv by cli's table.  --help prints the help on stdout,
 * --version the version, the hidden --list-options the table (see
 * xm_ex_opts_dump()); each then ends the parse with XM_EX_OK.
 * @param operand where the first operand's index goes (may be NULL;
 *                argc when there is none)
 * @return -1 to go on, or the exit status (XM_EX_OK after --help,
 *         XM_EX_USAGE after a usage error's message).
 */
int xm_ex_opts_parse(const struct xm_ex_cli *cli, int argc, char **argv,
		     int *operand);
/** Writes the --help text: usage line, description, options, epilogue. */
void xm_ex_opts_help(const struct xm_ex_cli *cli, FILE *out);
/**
 * One line per option, hidden ones too, for the man page check
 * (tests/check_man.sh) and the bash completion:
 * "LONG\tSHORT\tMETAVAR\tALIAS\tOLD", with "-" for an absent field
 * (OLD: the deprecated letter, "-x").
 */
void xm_ex_opts_dump(const struct xm_ex_cli *cli, FILE *out);
/**
 * The table with the shared entries resolved (letter, help, bounds,
 * destination in cli->args), in the table's order.
 * @return the entries written (at most max), or -EINVAL for a table
 *         that is wrong (two options on one letter or name, a list with
 *         no count, an unknown kind), -E2BIG when max is too small.
 */
int xm_ex_opts_resolve(const struct xm_ex_cli *cli, struct xm_ex_opt *out,
		       unsigned int max);

/** The port modes by name (auto, zero-copy or zc, copy, skb). */
extern const struct xm_ex_enum xm_ex_mode_names[];
/**
 * A size: N with a suffix k, m or g (binary: KiB, MiB, GiB), or a
 * plain N times unit; N in [lo, hi].  Overflow is an error.
 */
bool xm_ex_parse_size(const char *s, uint64_t unit, uint64_t lo,
		      uint64_t hi, uint64_t *bytes);

#endif /* XM_EX_OPTS_H */

// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_opts.c - xmbuf-capture's command line as an option table (see
 * cap_opts.h; the table's model is examples/common/xm_ex_opts.h).  What
 * one option cannot say alone is checked after the parse: the output
 * format from --pcap/--nano/--pcapng and the file name, rotation only to
 * a file, --tap on another interface.
 */
#include <stdlib.h>
#include <string.h>

#include "cap_opts.h"
#include "cap_rotate.h"

#define CAP_TSPREC_MICRO	1	/* --time-stamp-precision values */
#define CAP_TSPREC_NANO		2

/* After the parse: the format and the options that go together. */
static int check_args(struct cap_args *a, bool pcap, bool nano, bool pcapng,
		      uint32_t tsprec)
{
	if (a->list)
		return -1;
	if (!a->ex.ifname)
		return xm_ex_usage_error("-i IF is required (-D lists them)");
	if (a->path && !*a->path)
		return xm_ex_usage_error("-w needs a file name");
	if (!a->dirs) {
		a->dirs = CAP_DIR_IN | CAP_DIR_OUT;
	} else {
		a->dirs_given = true;
	}
	if (a->at_xdp && a->inline_path)
		return xm_ex_usage_error("--at-xdp and --inline exclude each "
					 "other");
	if ((a->at_xdp || a->inline_path) && a->dirs_given &&
	    a->dirs != CAP_DIR_IN)
		return xm_ex_usage_error("-Q %s: the %s path sees received "
					 "packets only (-Q in)",
					 a->dirs == CAP_DIR_OUT ? "out" :
					 "inout", a->at_xdp ? "--at-xdp" :
					 "inline");
	if (a->force && !a->inline_path)
		return xm_ex_usage_error("--force goes with --inline");
	if (!a->path) {
		/* a line per packet on stdout: no file to rotate */
		if (a->rotate_bytes || a->rotate_secs || a->ring_files)
			return xm_ex_usage_error("-C, -G and -W need -w FILE");
		if (pcap || nano || pcapng || tsprec)
			return xm_ex_usage_error("--pcap, --nano, --pcapng and "
						 "--time-stamp-precision need "
						 "-w");
		return -1;
	}
	/* tcpdump: 0 and anything too large mean the maximum */
	if (a->snaplen == 0 || a->snaplen > CAP_SNAPLEN_MAX)
		a->snaplen = CAP_SNAPLEN_MAX;
	if (tsprec == CAP_TSPREC_NANO)
		nano = true;
	if (pcapng && (pcap || nano))
		return xm_ex_usage_error("--pcapng and --pcap/--nano exclude "
					 "each other");
	if (nano)
		a->format = CAP_FMT_PCAP_NS;
	else if (pcap)
		a->format = CAP_FMT_PCAP_US;
	else if (pcapng || strcmp(a->path, "-"))
		a->format = CAP_FMT_PCAPNG;
	else
		a->format = CAP_FMT_PCAP_US;	/* -w - streams pcap */
	if (!strcmp(a->path, "-") && (a->rotate_bytes || a->rotate_secs ||
				      a->ring_files))
		return xm_ex_usage_error("-C, -G and -W need a file, not '-w -'");
	if (a->ring_files && !a->rotate_bytes && !a->rotate_secs)
		return xm_ex_usage_error("-W needs -C or -G");
	if (a->tap && a->at_xdp)
		return xm_ex_usage_error("--tap needs the inline path");
	if (a->tap && !strcmp(a->tap, a->ex.ifname))
		return xm_ex_usage_error("--tap needs an interface other than "
					 "-i");
	return -1;
}

/* The expression: every remaining word, joined as tcpdump does. */
static int join_expr(struct cap_args *a, int first, int argc, char **argv)
{
	size_t elen = 0;

	for (int i = first; i < argc; i++)
		elen += strlen(argv[i]) + 1;
	if (!elen)
		return -1;
	a->expr = calloc(1, elen);
	if (!a->expr)
		return xm_ex_error("out of memory");
	for (int i = first; i < argc; i++) {
		if (i > first)
			strcat(a->expr, " ");
		strcat(a->expr, argv[i]);
	}
	return -1;
}

/*
 * The table, in --help's order.  Long (a table and its help text, one
 * entry per option: splitting it would only scatter the command line).
 */
int cap_parse_args(int argc, char **argv, struct cap_args *a)
{
	static const struct xm_ex_enum precisions[] = {
		{ "micro", CAP_TSPREC_MICRO, false },
		{ "nano", CAP_TSPREC_NANO, false },
		{ NULL, 0, false },
	};
	static const struct xm_ex_enum directions[] = {
		{ "in", CAP_DIR_IN, false },
		{ "out", CAP_DIR_OUT, false },
		{ "inout", CAP_DIR_IN | CAP_DIR_OUT, false },
		{ NULL, 0, false },
	};
	static const struct xm_ex_enum points[] = {
		{ "entry", CAP_AT_XDP_ENTRY, false },
		{ "exit", CAP_AT_XDP_EXIT, false },
		{ NULL, 0, false },
	};
	bool pcap = false, nano = false, pcapng = false;
	uint32_t tsprec = 0;
	char buffer_hint[64], buffer_help[512];
	const struct xm_ex_opt opts[] = {
		/* required unless -D: check_args says so */
		XM_EX_STD(XM_EX_O_IFACE, 0,
			  "capture interface (required; --interface\n"
			  "is the same)"),
		{ .letter = 'D', .name = "list-interfaces",
		  .arg = XM_EX_ARG_NONE, .dest = &a->list,
		  .help = "list the interfaces, each with the path a capture\n"
			  "on it takes by default and why, and exit" },
		{ .letter = 'w', .arg = XM_EX_ARG_STR, .dest = &a->path,
		  .metavar = "FILE",
		  .help = "output file; '-' streams to stdout (pcap unless\n"
			  "--pcapng); a strftime pattern with -G; without\n"
			  "-w, one line per packet on stdout (tcpdump -n -q)" },
		{ .letter = 'Q', .name = "direction", .arg = XM_EX_ARG_ENUM,
		  .dest = &a->dirs, .enums = directions, .metavar = "DIR",
		  .what = "direction",
		  .help = "in, out or inout (default): received and/or\n"
			  "transmitted packets (passive path; the inline\n"
			  "and --at-xdp paths see received ones only)" },
		{ .name = "inline", .arg = XM_EX_ARG_NONE,
		  .dest = &a->inline_path,
		  .help = "the AF_XDP path: packets are CONSUMED (what the\n"
			  "kernel rules take never reaches the host); the\n"
			  "default only on a port with no address and no\n"
			  "route (a mirror port); elsewhere needs --force" },
		{ .name = "force", .arg = XM_EX_ARG_NONE, .dest = &a->force,
		  .help = "--inline on an interface that carries host\n"
			  "traffic (cuts the host off what it captures)" },
		{ .name = "at-xdp", .arg = XM_EX_ARG_ENUM, .dest = &a->at_xdp,
		  .enums = points, .metavar = "WHERE", .what = "XDP point",
		  .help = "entry or exit of the XDP program attached to IF\n"
			  "(fentry/fexit): what it sees, and at exit what\n"
			  "it made of it with its verdict; it keeps working" },
		{ .name = "count", .letter = 'c', .arg = XM_EX_ARG_U64,
		  .dest = &a->count,
		  .lo = 1, .hi = UINT64_MAX, .what = "packet count",
		  .metavar = "COUNT",
		  .help = "stop after COUNT packets written" },
		{ .name = "snapshot-length", .letter = 's',
		  .arg = XM_EX_ARG_U32, .dest = &a->snaplen, .lo = 0,
		  .hi = UINT32_MAX, .what = "snapshot length",
		  .metavar = "SNAPLEN",
		  .help = "bytes kept per packet (0: "
			  XM_EX_STR(CAP_SNAPLEN_MAX) ", the default)" },
		{ .name = "pcap", .arg = XM_EX_ARG_NONE, .dest = &pcap,
		  .help = "classic pcap, microsecond stamps" },
		{ .name = "nano", .arg = XM_EX_ARG_NONE, .dest = &nano,
		  .help = "classic pcap, nanosecond stamps" },
		{ .name = "time-stamp-precision", .arg = XM_EX_ARG_ENUM,
		  .dest = &tsprec, .enums = precisions, .metavar = "P",
		  .what = "time stamp precision",
		  .help = "micro, or nano as --nano (tcpdump's spelling)" },
		{ .name = "pcapng", .arg = XM_EX_ARG_NONE, .dest = &pcapng,
		  .help = "pcapng (the default for files)" },
		{ .letter = 'C', .arg = XM_EX_ARG_SIZE,
		  .dest = &a->rotate_bytes, .unit = CAP_MB, .lo = 1,
		  .hi = UINT64_MAX, .what = "file size", .metavar = "MB",
		  .help = "new file before one would pass MB x 1,000,000\n"
			  "bytes (suffix k, m or g: KiB, MiB, GiB)" },
		{ .letter = 'G', .arg = XM_EX_ARG_U32, .dest = &a->rotate_secs,
		  .lo = 1, .hi = 366 * 86400, .what = "rotation period",
		  .metavar = "SECONDS",
		  .help = "new file every SECONDS, aligned to the clock" },
		{ .letter = 'W', .arg = XM_EX_ARG_U32, .dest = &a->ring_files,
		  .lo = 1, .hi = CAP_ROTATE_MAX_FILES, .what = "file count",
		  .metavar = "N",
		  .help = "with -C: names FILE0..FILE<N-1> reused in turn;\n"
			  "with -G: keep the newest N files" },
		{ .name = "relinquish-privileges", .letter = 'Z',
		  .arg = XM_EX_ARG_STR, .dest = &a->user, .metavar = "USER",
		  .help = "switch to USER after opening IF, keeping no\n"
			  "capability (files are created as USER; the XDP\n"
			  "program is a bpf_link that comes off at exit);\n"
			  "uid 0 only as '-Z root'" },
		{ .name = "tap", .arg = XM_EX_ARG_STR, .dest = &a->tap,
		  .metavar = "IF2",
		  .help = "also send every packet out of IF2, the same\n"
			  "frame (the filter selects what is written, not\n"
			  "what is forwarded)" },
		XM_EX_STD(XM_EX_O_JSON, XM_EX_NO_LETTER,
			  "summary as one JSON object"),
		{ .arg = XM_EX_ARG_TEXT,
		  .help = "  expression            tcpdump filter, applied whole "
			  "by libpcap to what\n"
			  "                        is written; passive: decides "
			  "only what is written,\n"
			  "                        never what the host gets; "
			  "inline: its simple part\n"
			  "                        runs in the XDP program "
			  "(exact), what it rejects\n"
			  "                        goes to the stack\n" },
		{ .name = "buffer-size", .letter = 'B', .arg = XM_EX_ARG_U32,
		  .dest = &a->buffer_kib, .lo = 64, .hi = CAP_BUFFER_KIB_MAX,
		  .what = "buffer size", .hint = buffer_hint,
		  .metavar = "KiB", .help = buffer_help },
		XM_EX_STD(XM_EX_O_QUEUES, XM_EX_NO_LETTER,
			  "queue ids, e.g. 0 or 0-3 (default: all)"),
		XM_EX_STD(XM_EX_O_CPUS, XM_EX_NO_LETTER,
			  "pin the queue threads to these CPUs"),
		XM_EX_STD(XM_EX_O_MODE, XM_EX_NO_LETTER, NULL),
		XM_EX_STD(XM_EX_O_DURATION, XM_EX_NO_LETTER,
			  "stop after SEC seconds"),
		XM_EX_STD(XM_EX_O_BUSY_POLL, 0,
			  "preferred busy polling, budget N (as the other\n"
			  "tools), and the workers never sleep (default: an\n"
			  "empty ring is looked at again for 200 us,\n"
			  "yielding the CPU, then the worker sleeps in poll())"),
		XM_EX_STD(XM_EX_O_QUIET, XM_EX_NO_LETTER,
			  "no live statistics (-Q is tcpdump's direction)"),
		{ .letter = 'q', .arg = XM_EX_ARG_NONE, .dest = &a->ex.quiet,
		  .help = "the same (tcpdump's quiet output)" },
		XM_EX_STD(XM_EX_O_VERBOSE, 0, NULL),
		XM_EX_OPTS_END
	};
	const struct xm_ex_cli cli = {
		.tool = "capture",
		.synopsis =
"-i IF [-w FILE] [-Q in|out|inout] [--inline [--force]]\n"
"       [--at-xdp entry|exit] [-c COUNT] [-s SNAPLEN] [--pcap] [-C MB]\n"
"       [-G SECONDS] [-W N] [-Z USER] [--tap IF2] [--json] [expression]\n"
"       -D",
		.description =
"Captures packets of IF into one pcapng (default) or pcap file, or\n"
"prints a line per packet.  Two paths:\n"
"  passive  (the default on an interface with an address, a master or a\n"
"           route: one that carries the host's traffic) copies received\n"
"           and transmitted packets at tcx ingress/egress; every packet\n"
"           goes on exactly as without the capture, filter or not.\n"
"  inline   (--inline; the default on a port with no address and no\n"
"           route: a mirror port, a TAP) takes packets through AF_XDP at\n"
"           line rate and CONSUMES them: what the kernel rules take\n"
"           never reaches the host's stack.\n"
"The start banner says which path and why; -D lists the interfaces.\n",
		.epilogue =
"Live statistics once a second on stderr; the summary on stdout (stderr\n"
"with -w - or without -w).  Exit status: 0 success, 1 runtime error, 2 usage error.\n",
		.opts = opts,
		.args = &a->ex,
		/* options end at the first word of the expression, as in
		 * tcpdump, so an expression may begin with "not" or a
		 * "-"less word */
		.flags = XM_EX_CLI_OPERANDS | XM_EX_CLI_FIRST_OPERAND,
	};
	int first, ret;

	snprintf(buffer_hint, sizeof(buffer_hint), "KiB, 64 .. %u",
		 CAP_BUFFER_KIB_MAX);
	snprintf(buffer_help, sizeof(buffer_help),
		 "what may wait for the writer.  inline: the\n"
		 "RX ring per queue, in 2 KiB frames rounded up\n"
		 "to a power of two (default %u KiB, at most\n"
		 "%u KiB); the UMEM takes about three times\n"
		 "that.\n"
		 "passive and --at-xdp: the BPF ring buffer,\n"
		 "rounded up to a power of two (default 32 MiB,\n"
		 "256 KiB .. 1 GiB); copies it has no room for\n"
		 "are counted (\"ring buffer full\")",
		 CAP_RX_RING_DEFAULT * XM_MCLBYTES / 1024, CAP_BUFFER_KIB_MAX);
	memset(a, 0, sizeof(*a));
	a->snaplen = CAP_SNAPLEN_MAX;
	ret = xm_ex_opts_parse(&cli, argc, argv, &first);
	if (ret >= 0)
		return ret;
	ret = check_args(a, pcap, nano, pcapng, tsprec);
	if (ret >= 0)
		return ret;
	return join_expr(a, first, argc, argv);
}

const char *cap_format_name(enum cap_format f)
{
	return f == CAP_FMT_PCAPNG ? "pcapng" :
	       f == CAP_FMT_PCAP_NS ? "pcap-ns" : "pcap";
}

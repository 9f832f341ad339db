// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_ex_opts.c - the tools' command lines from tables (see xm_ex_opts.h
 * for the model).  A parse resolves the tool's table first (each
 * XM_EX_STD entry becomes the shared option with the tool's letter, help
 * and bound, writing into cli->args), builds getopt_long()'s short string
 * and long array from it, and maps each option getopt returns back to
 * its entry: one table, so --help, --list-options and the parser cannot
 * disagree.
 *
 * One vocabulary (issue #16), tcpdump's where capture is concerned:
 *   -i, --iface IF      every tool; --interface is an alias (tcpdump's)
 *   -c                  a count where a tool counts packets (capture:
 *                       --count, tcpdump's); lb: --config (nginx's and
 *                       bird's letter; lb counts nothing); never CPUs
 *   --cpus LIST         every tool, no letter (fwd and pktgen had -c, lb
 *                       -C: kept one release as deprecated letters)
 *   -Q, --quiet         every tool: no live statistics line; but capture,
 *                       where -Q is tcpdump's direction (in|out|inout) and
 *                       --quiet has tcpdump's -q
 *   -v, --verbose       every tool: the library's messages (info, debug)
 *   -q                  --queues in fwd, pktgen and lb; in capture
 *                       tcpdump's -q (quiet output), where --queues has
 *                       no letter
 *   -d, -m, -j, -F      --duration, --mode, --json, --frames; capture has
 *                       the long names only (tcpdump's -d dumps the
 *                       filter)
 * Letters a tool keeps for its own meaning, since tcpdump or the tool's
 * users know them so: -s (capture: --snapshot-length; pktgen: --size;
 * decap: --stats), -B (fwd: --tx-budget; capture: --buffer-size, as
 * tcpdump), -b (fwd, lb: --burst; pktgen: --bit-rate), -C (capture: file
 * size, as tcpdump), -n (pktgen: --count).
 *   -p                  fwd, lb: --poll (sleep when idle); capture sleeps
 *                       when idle unless --busy-poll N (every tool) is given
 *
 * KPI: xm_ex_opts_parse, xm_ex_opts_help, xm_ex_opts_dump,
 *      xm_ex_opts_resolve, xm_ex_parse_size, xm_ex_mode_names.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#define XM_EX_OPTS_MAX		96	/* entries of one resolved table */
#define XM_EX_HELP_COL		24	/* where help text starts */
#define XM_EX_LONG_BASE		256	/* getopt val of entry i: base + i */

const struct xm_ex_enum xm_ex_mode_names[] = {
	{ "auto", XM_PORT_MODE_AUTO, false },
	{ "zero-copy", XM_PORT_MODE_ZEROCOPY, false },
	{ "zc", XM_PORT_MODE_ZEROCOPY, true },
	{ "copy", XM_PORT_MODE_COPY, false },
	{ "skb", XM_PORT_MODE_SKB, false },
	{ NULL, 0, false },
};

/*
 * The shared options.  dest is 1 + an offset into struct xm_ex_args here
 * (resolve adds the base; NULL stays "no destination": help, version);
 * the wording of each mistake is the one every tool printed before the
 * table, which scripts may match.
 */
#define ARGS_OFF(f)	((void *)(offsetof(struct xm_ex_args, f) + 1))

static const struct xm_ex_opt std_opts[XM_EX_O_COUNT] = {
	[XM_EX_O_IFACE] = {
		.name = "iface", .alias = "interface", .letter = 'i',
		.arg = XM_EX_ARG_STR, .dest = ARGS_OFF(ifname),
		.metavar = "IF", .help = "interface (required)",
	},
	[XM_EX_O_QUEUES] = {
		.name = "queues", .letter = 'q', .arg = XM_EX_ARG_QUEUES,
		.dest = ARGS_OFF(queues), .hi = XM_PORT_MAX_QUEUES,
		.metavar = "LIST", .what = "queue list",
		.help = "queue ids, e.g. 0 or 0-3 or 0,2 (default: all)",
	},
	[XM_EX_O_CPUS] = {
		.name = "cpus", .arg = XM_EX_ARG_CPUS, .dest = ARGS_OFF(cpus),
		.hi = CPU_SETSIZE, .metavar = "LIST", .what = "CPU list",
		.help = "pin the workers to these CPUs, round robin",
	},
	[XM_EX_O_DURATION] = {
		.name = "duration", .letter = 'd', .arg = XM_EX_ARG_SECONDS,
		.dest = ARGS_OFF(seconds), .hi = 365 * 86400,
		.metavar = "SEC",
		.help = "stop after SEC seconds (default: until a signal)",
	},
	[XM_EX_O_MODE] = {
		.name = "mode", .letter = 'm', .arg = XM_EX_ARG_ENUM,
		.dest = ARGS_OFF(mode), .enums = xm_ex_mode_names,
		.metavar = "MODE",
		.help = "auto, zero-copy, copy or skb (default auto)",
	},
	[XM_EX_O_BURST] = {
		.name = "burst", .letter = 'b', .arg = XM_EX_ARG_U32,
		.dest = ARGS_OFF(burst), .lo = 1, .hi = 256, .metavar = "N",
		.help = "packets per burst",
	},
	[XM_EX_O_POLL] = {
		.name = "poll", .letter = 'p', .arg = XM_EX_ARG_NONE,
		.dest = ARGS_OFF(poll),
		.help = "sleep in poll() when idle (default: busy spin)",
	},
	[XM_EX_O_BUSY_POLL] = {
		.name = "busy-poll", .arg = XM_EX_ARG_U32,
		.dest = ARGS_OFF(busy_poll), .lo = 0, .hi = 65535,
		.metavar = "N", .what = "busy-poll budget",
		.flags = XM_EX_F_RANGE_HINT,
		.help = "preferred busy polling: each RX/TX burst runs the\n"
			"NAPI for up to N packets (SO_PREFER_BUSY_POLL,\n"
			"SO_BUSY_POLL_BUDGET; 0: off, the default)",
	},
	[XM_EX_O_FRAMES] = {
		.name = "frames", .letter = 'F', .arg = XM_EX_ARG_U32,
		.dest = ARGS_OFF(frames), .lo = 1024, .hi = 1u << 24,
		.metavar = "N", .what = "frame count",
		.help = "cluster frames in the UMEM (default: sized from\n"
			"the rings and queues)",
	},
	[XM_EX_O_JSON] = {
		.name = "json", .letter = 'j', .arg = XM_EX_ARG_NONE,
		.dest = ARGS_OFF(json),
		.help = "final summary as one JSON object on stdout",
	},
	[XM_EX_O_QUIET] = {
		.name = "quiet", .letter = 'Q', .arg = XM_EX_ARG_NONE,
		.dest = ARGS_OFF(quiet), .help = "no live stats line",
	},
	[XM_EX_O_VERBOSE] = {
		.name = "verbose", .letter = 'v', .arg = XM_EX_ARG_NONE,
		.dest = ARGS_OFF(verbose),
		.help = "the library's notices (bpffs mounted, zero-copy\n"
			"not offered) and debug messages",
	},
	[XM_EX_O_HELP] = {
		.name = "help", .letter = 'h', .arg = XM_EX_ARG_NONE,
		.help = "this text",
	},
	[XM_EX_O_VERSION] = {
		.name = "version", .arg = XM_EX_ARG_NONE,
		.help = "the version",
	},
};

/* ------------------------------------------------------------ resolve */

static bool is_option(const struct xm_ex_opt *o)
{
	return o->arg != XM_EX_ARG_TEXT;
}

static bool takes_arg(const struct xm_ex_opt *o)
{
	return o->arg != XM_EX_ARG_NONE && o->arg != XM_EX_ARG_TEXT;
}

/* The shared entry `which` as the tool's table names it. */
static int resolve_std(const struct xm_ex_cli *cli, const struct xm_ex_opt *t,
		       struct xm_ex_opt *o)
{
	if ((unsigned int)t->std >= XM_EX_O_COUNT)
		return -EINVAL;
	*o = std_opts[t->std];
	if (o->dest) {
		if (!cli->args)
			return -EINVAL;
		o->dest = (char *)cli->args + ((size_t)o->dest - 1);
	}
	if (t->std == XM_EX_O_QUEUES)
		o->count = &cli->args->nqueues;
	else if (t->std == XM_EX_O_CPUS)
		o->count = &cli->args->ncpus;
	if (t->letter == XM_EX_NO_LETTER)
		o->letter = 0;
	else if (t->letter)
		o->letter = t->letter;
	if (t->help)
		o->help = t->help;
	if (t->hi && t->std != XM_EX_O_QUEUES && t->std != XM_EX_O_CPUS)
		o->hi = t->hi;
	if (t->hint)
		o->hint = t->hint;
	if (t->old_letter)
		o->old_letter = t->old_letter;
	o->flags |= t->flags;
	/* The tool's spelling first, the shared one as its alias. */
	if (t->name && o->alias && !strcmp(t->name, o->alias)) {
		o->alias = o->name;
		o->name = t->name;
	} else if (t->name && strcmp(t->name, o->name)) {
		return -EINVAL;
	}
	return 0;
}

/* A letter getopt can take (0: none). */
static bool letter_ok(int l)
{
	return l >= 0 && l <= 127 && l != ':' && l != '?' && l != '+' &&
	       l != '-';
}

/* Two options on one letter or one long name make the table wrong. */
static bool clashes(const struct xm_ex_opt *a, const struct xm_ex_opt *b)
{
	const char *an[2] = { a->name, a->alias };
	const char *bn[2] = { b->name, b->alias };

	int al[2] = { a->letter, a->old_letter };
	int bl[2] = { b->letter, b->old_letter };

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			if (al[i] && al[i] == bl[k])
				return true;
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			if (an[i] && bn[k] && !strcmp(an[i], bn[k]))
				return true;
	return false;
}

int xm_ex_opts_resolve(const struct xm_ex_cli *cli, struct xm_ex_opt *out,
		       unsigned int max)
{
	unsigned int n = 0;

	if (!cli || !cli->opts)
		return -EINVAL;
	for (const struct xm_ex_opt *t = cli->opts; t->arg != XM_EX_ARG_END;
	     t++) {
		struct xm_ex_opt o;

		if (n == max)
			return -E2BIG;
		if (t->arg == XM_EX_ARG_STD) {
			if (resolve_std(cli, t, &o))
				return -EINVAL;
		} else {
			o = *t;
		}
		if (o.arg > XM_EX_ARG_TEXT ||
		    (is_option(&o) && !o.name && !o.letter) ||
		    (o.alias && !o.name))
			return -EINVAL;
		if ((o.arg == XM_EX_ARG_CPUS || o.arg == XM_EX_ARG_QUEUES) &&
		    (!o.count || !o.hi))
			return -EINVAL;
		if ((o.arg == XM_EX_ARG_ENUM && !o.enums) ||
		    (o.arg == XM_EX_ARG_FUNC && !o.parse))
			return -EINVAL;
		if (!letter_ok(o.letter) || !letter_ok(o.old_letter) ||
		    (o.old_letter && !o.name))
			return -EINVAL;
		if (is_option(&o)) {
			/* --list-options is the parser's own, hidden one */
			if (o.name && !strcmp(o.name, "list-options"))
				return -EINVAL;
			for (unsigned int i = 0; i < n; i++)
				if (is_option(&out[i]) && clashes(&out[i], &o))
					return -EINVAL;
		}
		out[n++] = o;
	}
	return (int)n;
}

/* --------------------------------------------------------------- help */

/* "-q, --queues LIST", "    --json" or "-w FILE" into buf. */
static void opt_label(const struct xm_ex_opt *o, char *buf, size_t len)
{
	const char *mv = o->metavar ? o->metavar : "ARG";

	if (!o->name)
		snprintf(buf, len, "-%c%s%s", o->letter,
			 takes_arg(o) ? " " : "", takes_arg(o) ? mv : "");
	else if (o->flags & XM_EX_F_OPTARG)
		snprintf(buf, len, "%c%c%s --%s[=%s]", o->letter ? '-' : ' ',
			 o->letter ? o->letter : ' ', o->letter ? "," : " ",
			 o->name, mv);
	else
		snprintf(buf, len, "%c%c%s --%s%s%s", o->letter ? '-' : ' ',
			 o->letter ? o->letter : ' ', o->letter ? "," : " ",
			 o->name, takes_arg(o) ? " " : "",
			 takes_arg(o) ? mv : "");
}

/* Text lines, each after `indent` spaces but the first after col. */
static void help_text(FILE *out, const char *text, int col)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (p != text)
			fprintf(out, "%*s", col, "");
		fprintf(out, "%.*s\n", len, p);
		p = nl ? nl + 1 : NULL;
	}
}

static void help_opts(FILE *out, const struct xm_ex_opt *o, int n)
{
	for (int i = 0; i < n; i++) {
		char label[128];
		int len;

		if (o[i].arg == XM_EX_ARG_TEXT) {
			fprintf(out, "%s\n", o[i].help ? o[i].help : "");
			continue;
		}
		if (o[i].flags & XM_EX_F_HIDDEN)
			continue;
		opt_label(&o[i], label, sizeof(label));
		len = fprintf(out, "  %s", label);
		if (!o[i].help || !*o[i].help) {
			fputc('\n', out);
			continue;
		}
		if (len >= XM_EX_HELP_COL - 1)
			fprintf(out, "\n%*s", XM_EX_HELP_COL, "");
		else
			fprintf(out, "%*s", XM_EX_HELP_COL - len, "");
		help_text(out, o[i].help, XM_EX_HELP_COL);
	}
}

void xm_ex_opts_help(const struct xm_ex_cli *cli, FILE *out)
{
	struct xm_ex_opt o[XM_EX_OPTS_MAX];
	int n = xm_ex_opts_resolve(cli, o, XM_EX_OPTS_MAX);

	fprintf(out, "usage: %s %s\n", xm_ex_prog(),
		cli->synopsis ? cli->synopsis : "[options]");
	if (cli->description)
		fputs(cli->description, out);
	fputc('\n', out);
	if (n > 0)
		help_opts(out, o, n);
	if (cli->epilogue) {
		fputc('\n', out);
		fputs(cli->epilogue, out);
	}
}

void xm_ex_opts_dump(const struct xm_ex_cli *cli, FILE *out)
{
	struct xm_ex_opt o[XM_EX_OPTS_MAX];
	int n = xm_ex_opts_resolve(cli, o, XM_EX_OPTS_MAX);

	for (int i = 0; i < n; i++) {
		if (!is_option(&o[i]))
			continue;
		if (o[i].name)
			fprintf(out, "--%s\t", o[i].name);
		else
			fputs("-\t", out);
		if (o[i].letter)
			fprintf(out, "-%c\t", o[i].letter);
		else
			fputs("-\t", out);
		fprintf(out, "%s\t", takes_arg(&o[i]) ?
			(o[i].metavar ? o[i].metavar : "ARG") : "-");
		if (o[i].alias)
			fprintf(out, "--%s\t", o[i].alias);
		else
			fputs("-\t", out);
		if (o[i].old_letter)
			fprintf(out, "-%c\n", o[i].old_letter);
		else
			fputs("-\n", out);
	}
}

/* -------------------------------------------------------------- parse */

bool xm_ex_parse_size(const char *s, uint64_t unit, uint64_t lo,
		      uint64_t hi, uint64_t *bytes)
{
	char num[32];
	size_t len = s ? strlen(s) : 0;
	uint64_t v, mult = unit ? unit : 1;
	bool suffix = true;

	if (!len || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K':
		mult = 1024;
		break;
	case 'm': case 'M':
		mult = 1024 * 1024;
		break;
	case 'g': case 'G':
		mult = 1024ull * 1024 * 1024;
		break;
	default:
		suffix = false;
		break;
	}
	if (suffix)
		num[len - 1] = '\0';
	if (hi > UINT64_MAX / mult)
		hi = UINT64_MAX / mult;
	if (!xm_ex_parse_u64(num, lo, hi, &v))
		return false;
	*bytes = v * mult;
	return true;
}

/* The usage error of a bad value: "invalid WHAT 'ARG' (HINT)". */
static int bad_value(const struct xm_ex_opt *o, const char *arg)
{
	char letter[3] = { '-', (char)o->letter, '\0' };
	const char *what = o->what ? o->what : o->name ? o->name : letter;
	char hint[256] = "";

	if (o->hint) {
		snprintf(hint, sizeof(hint), " (%s)", o->hint);
	} else if (o->flags & XM_EX_F_RANGE_HINT) {
		snprintf(hint, sizeof(hint), " (%llu..%llu)",
			 (unsigned long long)o->lo, (unsigned long long)o->hi);
	} else if (o->arg == XM_EX_ARG_ENUM) {
		size_t off = 0;

		for (const struct xm_ex_enum *e = o->enums; e->name; e++) {
			if (e->alias)
				continue;
			off += (size_t)snprintf(hint + off, sizeof(hint) - off,
						"%s%s", off ? ", " : " (",
						e->name);
			if (off >= sizeof(hint))
				break;
		}
		if (off && off < sizeof(hint) - 1)
			snprintf(hint + off, sizeof(hint) - off, ")");
	}
	return xm_ex_usage_error("invalid %s '%s'%s", what, arg ? arg : "",
				 hint);
}

/* Parses arg into o's destination.  @return 0 or XM_EX_USAGE. */
static int set_value(const struct xm_ex_opt *o, const char *arg)
{
	int n, ret;

	switch (o->arg) {
	case XM_EX_ARG_NONE:
		if (o->dest)
			*(bool *)o->dest = true;
		return 0;
	case XM_EX_ARG_STR:
		*(const char **)o->dest = arg;
		return 0;
	case XM_EX_ARG_U32:
		return xm_ex_parse_u32(arg, (uint32_t)o->lo, (uint32_t)o->hi,
				       o->dest) ? 0 : bad_value(o, arg);
	case XM_EX_ARG_U64:
		return xm_ex_parse_u64(arg, o->lo, o->hi, o->dest) ? 0 :
		       bad_value(o, arg);
	case XM_EX_ARG_SECONDS:
		return xm_ex_parse_seconds(arg, (double)o->hi, o->dest) ? 0 :
		       bad_value(o, arg);
	case XM_EX_ARG_SIZE:
		return xm_ex_parse_size(arg, o->unit, o->lo, o->hi, o->dest) ?
		       0 : bad_value(o, arg);
	case XM_EX_ARG_CPUS:
	case XM_EX_ARG_QUEUES:
		n = xm_ex_parse_list(arg, 0, o->arg == XM_EX_ARG_CPUS ?
				     CPU_SETSIZE - 1 : 4095, o->dest,
				     (unsigned int)o->hi);
		if (n < 0)
			return bad_value(o, arg);
		*o->count = n;
		return 0;
	case XM_EX_ARG_ENUM:
		for (const struct xm_ex_enum *e = o->enums; e->name; e++) {
			if (arg && !strcmp(arg, e->name)) {
				*(uint32_t *)o->dest = e->value;
				return 0;
			}
		}
		return bad_value(o, arg);
	case XM_EX_ARG_FUNC:
		ret = o->parse(o, arg);
		if (ret < 0)
			return bad_value(o, arg);
		return ret ? XM_EX_USAGE : 0;
	default:
		return xm_ex_error("bad option table entry");
	}
}

/* getopt's arrays from the resolved table. */
static void build_getopt(const struct xm_ex_cli *cli,
			 const struct xm_ex_opt *o, int n, char *shorts,
			 struct option *longs)
{
	size_t s = 0;
	int l = 0;

	if (cli->flags & XM_EX_CLI_FIRST_OPERAND)
		shorts[s++] = '+';
	shorts[s++] = ':';	/* a missing argument reports as ':' */
	for (int i = 0; i < n; i++) {
		int has = !takes_arg(&o[i]) ? no_argument :
			  (o[i].flags & XM_EX_F_OPTARG) ? optional_argument :
			  required_argument;

		if (!is_option(&o[i]))
			continue;
		for (int k = 0; k < 2; k++) {
			int l = k ? o[i].old_letter : o[i].letter;

			if (!l)
				continue;
			shorts[s++] = (char)l;
			if (has != no_argument)
				shorts[s++] = ':';
			if (has == optional_argument)
				shorts[s++] = ':';
		}
		if (o[i].name)
			longs[l++] = (struct option){ o[i].name, has, NULL,
						      XM_EX_LONG_BASE + i };
		if (o[i].alias)
			longs[l++] = (struct option){ o[i].alias, has, NULL,
						      XM_EX_LONG_BASE + i };
	}
	longs[l++] = (struct option){ "list-options", no_argument, NULL,
				      XM_EX_LONG_BASE + XM_EX_OPTS_MAX };
	longs[l] = (struct option){ NULL, 0, NULL, 0 };
	shorts[s] = '\0';
}

/* The entry getopt returned val for, or NULL. */
static const struct xm_ex_opt *entry_of(const struct xm_ex_opt *o, int n,
					int val)
{
	if (val >= XM_EX_LONG_BASE && val < XM_EX_LONG_BASE + n)
		return &o[val - XM_EX_LONG_BASE];
	for (int i = 0; i < n; i++)
		if (is_option(&o[i]) &&
		    (o[i].letter == val || o[i].old_letter == val))
			return &o[i];
	return NULL;
}

/*
 * An old letter still works for one release; the message says what to
 * write instead, on stderr where scripts' logs keep it.
 */
static void deprecated(const struct xm_ex_opt *o)
{
	char now[64];

	if (o->letter)
		snprintf(now, sizeof(now), "-%c or --%s", o->letter, o->name);
	else
		snprintf(now, sizeof(now), "--%s", o->name);
	fprintf(stderr, "%s: -%c is deprecated and goes in the next release; "
		"use %s\n", xm_ex_prog(), o->old_letter, now);
}

/* An option the tool handles here: --help, --version.  -1: not one. */
static int builtin(const struct xm_ex_cli *cli, const struct xm_ex_opt *o)
{
	const struct xm_ex_opt *h = &std_opts[XM_EX_O_HELP];
	const struct xm_ex_opt *v = &std_opts[XM_EX_O_VERSION];

	if (o->dest || !o->name)
		return -1;
	if (!strcmp(o->name, h->name)) {
		xm_ex_opts_help(cli, stdout);
		return fflush(stdout) ? XM_EX_RUNTIME : XM_EX_OK;
	}
	if (!strcmp(o->name, v->name)) {
		xm_ex_version(cli->tool, stdout);
		return fflush(stdout) ? XM_EX_RUNTIME : XM_EX_OK;
	}
	return -1;
}

/* After the loop: required options and operands. */
static int check_done(const struct xm_ex_cli *cli, const struct xm_ex_opt *o,
		      int n, const bool *seen, int argc, char **argv)
{
	for (int i = 0; i < n; i++) {
		if (!(o[i].flags & XM_EX_F_REQUIRED) || seen[i])
			continue;
		if (o[i].letter)
			return xm_ex_usage_error("-%c %s is required",
						 o[i].letter, o[i].metavar ?
						 o[i].metavar : "ARG");
		return xm_ex_usage_error("--%s %s is required", o[i].name,
					 o[i].metavar ? o[i].metavar : "ARG");
	}
	if (!(cli->flags & XM_EX_CLI_OPERANDS) && optind < argc)
		return xm_ex_usage_error("unexpected argument '%s'",
					 argv[optind]);
	return -1;
}

int xm_ex_opts_parse(const struct xm_ex_cli *cli, int argc, char **argv,
		     int *operand)
{
	struct xm_ex_opt o[XM_EX_OPTS_MAX];
	struct option longs[2 * XM_EX_OPTS_MAX + 2];
	char shorts[8 * XM_EX_OPTS_MAX + 4];
	bool seen[XM_EX_OPTS_MAX] = { false };
	int n, val, ret;

	n = xm_ex_opts_resolve(cli, o, XM_EX_OPTS_MAX);
	if (n < 0)
		return xm_ex_error("bad option table: %s", strerror(-n));
	build_getopt(cli, o, n, shorts, longs);
	optind = 0;	/* glibc: a full restart, '+' read afresh */
	opterr = 0;	/* the messages below say it in our words */
	while ((val = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct xm_ex_opt *e;

		if (val == XM_EX_LONG_BASE + XM_EX_OPTS_MAX) {
			xm_ex_opts_dump(cli, stdout);
			return fflush(stdout) ? XM_EX_RUNTIME : XM_EX_OK;
		}
		if (val == ':')
			return xm_ex_usage_error("option '%s' needs an "
						 "argument", argv[optind - 1]);
		e = val == '?' ? NULL : entry_of(o, n, val);
		if (!e) {
			if (optopt && optopt < XM_EX_LONG_BASE)
				return xm_ex_usage_error("invalid option "
							 "'-%c'", optopt);
			return xm_ex_usage_error("invalid option '%s'",
						 argv[optind - 1]);
		}
		if (e->old_letter && val == e->old_letter)
			deprecated(e);
		ret = builtin(cli, e);
		if (ret >= 0)
			return ret;
		ret = set_value(e, optarg);
		if (ret)
			return ret;
		seen[e - o] = true;
	}
	ret = check_done(cli, o, n, seen, argc, argv);
	if (ret >= 0)
		return ret;
	if (operand)
		*operand = optind;
	return -1;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_example_opts.c - the tools' runtime (examples/common): the option
 * table (parsing by kind, shared options with a tool's letters, aliases,
 * the messages of mistakes, --help, --version, --list-options, tables
 * that are wrong), the worker launcher (every worker runs on its own
 * argument, the deadline, tick, an error stops the run) and the
 * library's UMEM sizing, xm_port_frames_needed(), against the sums the
 * tools computed by hand before it existed.
 *
 * Criterion runs each test in a process of its own, so a test that stops
 * the run (xm_ex_stop() is one-way) leaves the others alone.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "xm_example.h"
#include "xm_port.h"

/* ------------------------------------------------------------- helpers */

/* What fd 1 and 2 received while fn ran, and fn's return. */
struct captured {
	char out[8192];
	char err[8192];
	int ret;
};

static void read_back(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* xm_ex_opts_parse() on argv (NULL-terminated), stdout and stderr caught. */
static void parse_captured(const struct xm_ex_cli *cli, char **argv,
			   int *operand, struct captured *c)
{
	int argc = 0;
	FILE *fo = tmpfile(), *fe = tmpfile();
	int so = dup(1), se = dup(2);

	while (argv[argc])
		argc++;
	cr_assert(fo && fe && so >= 0 && se >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	c->ret = xm_ex_opts_parse(cli, argc, argv, operand);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	read_back(fo, c->out, sizeof(c->out));
	read_back(fe, c->err, sizeof(c->err));
}

/* A tool's command line: shared options and its own of every kind. */
struct tool_args {
	struct xm_ex_args ex;
	const char *out;
	uint32_t budget;
	uint64_t count;
	uint64_t bytes;
	uint32_t prec;
	bool pcap;
	int func_calls;
	const char *func_arg;
};

static struct tool_args A;

static const struct xm_ex_enum prec_names[] = {
	{ "micro", 6, false },
	{ "nano", 9, false },
	{ NULL, 0, false },
};

/* FUNC: "even" numbers only; "loud" prints its own message. */
static int parse_even(const struct xm_ex_opt *o, const char *arg)
{
	struct tool_args *a = o->dest;
	uint32_t v;

	a->func_calls++;
	a->func_arg = arg;
	if (!arg)
		return 0;	/* --even alone */
	if (arg && !strcmp(arg, "loud"))
		return xm_ex_usage_error("loud is not a number");
	if (!xm_ex_parse_u32(arg, 0, 100, &v) || v % 2)
		return -1;
	return 0;
}

static const struct xm_ex_opt tool_opts[] = {
	XM_EX_STD_REQUIRED(XM_EX_O_IFACE, 0, "input interface (required)"),
	{ .name = "out", .letter = 'o', .arg = XM_EX_ARG_STR, .dest = &A.out,
	  .metavar = "IF2", .help = "output interface (default: IF)" },
	XM_EX_STD(XM_EX_O_QUEUES, 0, NULL),
	XM_EX_STD(XM_EX_O_DURATION, 0, NULL),
	XM_EX_STD(XM_EX_O_CPUS, 'c', NULL),
	XM_EX_STD(XM_EX_O_MODE, 0, NULL),
	{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_BURST, .hi = 128,
	  .help = "packets per burst, 1..128" },
	XM_EX_STD(XM_EX_O_POLL, 0, NULL),
	XM_EX_STD(XM_EX_O_FRAMES, 0, NULL),
	{ .name = "tx-budget", .letter = 'B', .arg = XM_EX_ARG_U32,
	  .dest = &A.budget, .lo = 32, .hi = 1024, .what = "TX budget",
	  .flags = XM_EX_F_RANGE_HINT, .metavar = "N",
	  .help = "descriptors per kick\nsecond line of help" },
	{ .name = "count", .letter = 'n', .arg = XM_EX_ARG_U64,
	  .dest = &A.count, .lo = 1, .hi = 1000, .what = "packet count" },
	{ .name = "file-size", .letter = 'C', .arg = XM_EX_ARG_SIZE,
	  .dest = &A.bytes, .lo = 1, .hi = UINT64_MAX, .unit = 1000000,
	  .what = "file size", .metavar = "MB" },
	{ .name = "time-stamp-precision", .arg = XM_EX_ARG_ENUM,
	  .dest = &A.prec, .enums = prec_names, .metavar = "P",
	  .what = "time stamp precision" },
	{ .name = "even", .arg = XM_EX_ARG_FUNC, .dest = &A,
	  .parse = parse_even, .flags = XM_EX_F_OPTARG, .metavar = "N" },
	{ .arg = XM_EX_ARG_TEXT, .help = "" },
	{ .name = "pcap", .arg = XM_EX_ARG_NONE, .dest = &A.pcap,
	  .help = "classic pcap" },
	{ .name = "secret", .arg = XM_EX_ARG_NONE, .dest = &A.pcap,
	  .flags = XM_EX_F_HIDDEN, .help = "not shown" },
	XM_EX_STD(XM_EX_O_JSON, 0, NULL),
	XM_EX_STD(XM_EX_O_QUIET, 0, NULL),
	XM_EX_STD(XM_EX_O_VERBOSE, 0, NULL),
	XM_EX_STD(XM_EX_O_HELP, 0, NULL),
	XM_EX_STD(XM_EX_O_VERSION, 0, NULL),
	{ 0 },
};

static const struct xm_ex_cli tool_cli = {
	.tool = "test",
	.synopsis = "-i IF [options]",
	.description = "A tool of the test.\n",
	.epilogue = "Exit status: 0, 1, 2.\n",
	.opts = tool_opts,
	.args = &A.ex,
};

static void init(void)
{
	memset(&A, 0, sizeof(A));
	A.ex.burst = 64;
	xm_ex_set_prog("xmbuf-test");
}

TestSuite(example_opts, .init = init);

#define ARGV(...)	((char *[]){ "xmbuf-test", __VA_ARGS__, NULL })

static int parse(char **argv, struct captured *c)
{
	int operand = -1;

	parse_captured(&tool_cli, argv, &operand, c);
	return c->ret;
}

/* -------------------------------------------------------------- parse */

Test(example_opts, every_kind_lands_in_its_destination)
{
	char *v[] = { "xmbuf-test", "-i", "veth0", "-o", "veth1", "-q",
		      "0,2-3", "-d", "1.5", "-c", "1,0", "-m", "zc", "-b",
		      "128", "-p", "-F", "4096", "-B", "32", "-n", "0x10",
		      "-C", "2k", "--time-stamp-precision", "nano",
		      "--even=4", "--pcap", "-j", "-Q", "-v", NULL };
	struct captured c;

	cr_assert_eq(parse(v, &c), -1, "stderr: %s", c.err);
	cr_assert_str_eq(A.ex.ifname, "veth0");
	cr_assert_str_eq(A.out, "veth1");
	cr_assert_eq(A.ex.nqueues, 3);
	cr_assert_eq(A.ex.queues[0], 0);
	cr_assert_eq(A.ex.queues[1], 2);
	cr_assert_eq(A.ex.queues[2], 3);
	cr_assert_float_eq(A.ex.seconds, 1.5, 1e-9);
	cr_assert_eq(A.ex.ncpus, 2);
	cr_assert_eq(A.ex.cpus[0], 1);
	cr_assert_eq(A.ex.cpus[1], 0);
	cr_assert_eq(A.ex.mode, XM_PORT_MODE_ZEROCOPY);
	cr_assert_eq(A.ex.burst, 128);
	cr_assert(A.ex.poll);
	cr_assert_eq(A.ex.frames, 4096);
	cr_assert_eq(A.budget, 32);
	cr_assert_eq(A.count, 16);
	cr_assert_eq(A.bytes, 2048);
	cr_assert_eq(A.prec, 9);
	cr_assert_eq(A.func_calls, 1);
	cr_assert_str_eq(A.func_arg, "4");
	cr_assert(A.pcap && A.ex.json && A.ex.quiet && A.ex.verbose);
	cr_assert_str_empty(c.out);
	cr_assert_str_empty(c.err);
}

Test(example_opts, long_names_aliases_and_defaults_left_alone)
{
	struct captured c;

	cr_assert_eq(parse(ARGV("--interface", "eth9", "--burst", "7"), &c),
		     -1, "%s", c.err);
	cr_assert_str_eq(A.ex.ifname, "eth9");
	cr_assert_eq(A.ex.burst, 7);
	cr_assert_eq(A.ex.frames, 0);
	cr_assert_eq(A.ex.nqueues, 0);
	cr_assert_eq(A.func_calls, 0);
	init();
	cr_assert_eq(parse(ARGV("--iface=eth8", "--cpus=3"), &c), -1);
	cr_assert_str_eq(A.ex.ifname, "eth8");
	cr_assert_eq(A.ex.ncpus, 1);
	/* the optional argument may be absent */
	cr_assert_eq(parse(ARGV("-i", "x", "--even"), &c), -1, "%s",
		     c.err);
	cr_assert_eq(A.func_calls, 1);
	cr_assert_null(A.func_arg);
}

/* Each mistake says what was wrong in the words the tools always used. */
Test(example_opts, mistakes_are_usage_errors_with_their_message)
{
	static const struct {
		const char *opt, *arg, *msg;
	} cases[] = {
		{ "-q", "0,,1", "invalid queue list '0,,1'" },
		{ "-q", "4096", "invalid queue list '4096'" },
		{ "-c", "x", "invalid CPU list 'x'" },
		{ "-d", "0", "invalid duration '0'" },
		{ "-d", "-1", "invalid duration '-1'" },
		{ "-m", "fast", "invalid mode 'fast' (auto, zero-copy, copy, "
				"skb)" },
		{ "-b", "129", "invalid burst '129'" },
		{ "-b", "0", "invalid burst '0'" },
		{ "-F", "1023", "invalid frame count '1023'" },
		{ "-B", "31", "invalid TX budget '31' (32..1024)" },
		{ "-n", "1001", "invalid packet count '1001'" },
		{ "-C", "2x", "invalid file size '2x'" },
		{ "-C", "0", "invalid file size '0'" },
		{ "-C", "18446744073709551615g", "invalid file size" },
		{ "--time-stamp-precision", "pico", "invalid time stamp "
		  "precision 'pico' (micro, nano)" },
		{ "--even=3", NULL, "invalid even '3'" },
		{ "--even=loud", NULL, "loud is not a number" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v[] = { "xmbuf-test", "-i", "x", (char *)cases[i].opt,
			      (char *)cases[i].arg, NULL };
		struct captured c;

		init();
		cr_assert_eq(parse(v, &c), XM_EX_USAGE,
			     "%s %s", cases[i].opt, cases[i].arg);
		cr_assert(strstr(c.err, cases[i].msg), "%s %s: %s",
			  cases[i].opt, cases[i].arg, c.err);
		cr_assert(strstr(c.err, "Try 'xmbuf-test --help'."), "%s",
			  c.err);
		cr_assert(!strncmp(c.err, "xmbuf-test: ", 12), "%s", c.err);
		cr_assert_str_empty(c.out);
	}
}

Test(example_opts, required_unknown_missing_and_operands)
{
	struct captured c;
	int operand = -1;

	cr_assert_eq(parse(ARGV("-p"), &c), XM_EX_USAGE);
	cr_assert(strstr(c.err, "-i IF is required"), "%s", c.err);
	cr_assert_eq(parse(ARGV("-i", "x", "-Z"), &c), XM_EX_USAGE);
	cr_assert(strstr(c.err, "invalid option '-Z'"), "%s", c.err);
	cr_assert_eq(parse(ARGV("-i", "x", "--nope"), &c), XM_EX_USAGE);
	cr_assert(strstr(c.err, "invalid option '--nope'"), "%s", c.err);
	cr_assert_eq(parse(ARGV("-i", "x", "-q"), &c), XM_EX_USAGE);
	cr_assert(strstr(c.err, "option '-q' needs an argument"), "%s",
		  c.err);
	cr_assert_eq(parse(ARGV("-i", "x", "--queues"), &c),
		     XM_EX_USAGE);
	cr_assert(strstr(c.err, "needs an argument"), "%s", c.err);
	/* the hidden option is an option all the same */
	cr_assert_eq(parse(ARGV("-i", "x", "--secret"), &c), -1);
	/* operands: refused unless the tool takes them */
	cr_assert_eq(parse(ARGV("-i", "x", "word"), &c), XM_EX_USAGE);
	cr_assert(strstr(c.err, "unexpected argument 'word'"), "%s", c.err);
	{
		struct xm_ex_cli cli = tool_cli;
		char **v = ARGV("-i", "x", "not", "-p", "port", "80");

		cli.flags = XM_EX_CLI_OPERANDS | XM_EX_CLI_FIRST_OPERAND;
		init();
		parse_captured(&cli, v, &operand, &c);
		cr_assert_eq(c.ret, -1, "%s", c.err);
		cr_assert_eq(operand, 3);
		cr_assert_str_eq(v[operand], "not");
		/* options end at the first operand: -p is the filter's */
		cr_assert_not(A.ex.poll);
	}
}

/* ---------------------------------------------------- help, version, dump */

Test(example_opts, help_is_generated_from_the_table)
{
	struct captured c;
	static const char *const want[] = {
		"usage: xmbuf-test -i IF [options]\nA tool of the test.\n\n",
		"  -i, --iface IF        input interface (required)\n",
		"  -o, --out IF2         output interface (default: IF)\n",
		"  -c, --cpus LIST       pin the workers",
		"  -b, --burst N         packets per burst, 1..128\n",
		"  -B, --tx-budget N     descriptors per kick\n"
		"                        second line of help\n",
		"  -C, --file-size MB\n",
		"      --time-stamp-precision P\n",
		"      --even[=N]\n",
		"      --pcap            classic pcap\n",
		"  -h, --help            this text\n",
		"      --version         the version\n",
		"\nExit status: 0, 1, 2.\n",
	};

	cr_assert_eq(parse(ARGV("--help"), &c), XM_EX_OK);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(c.out, want[i]), "missing '%s' in:\n%s",
			  want[i], c.out);
	cr_assert_null(strstr(c.out, "secret"));
	cr_assert_null(strstr(c.out, "list-options"));
	cr_assert_str_empty(c.err);
	/* the help ends the parse before a later mistake is seen */
	cr_assert_eq(parse(ARGV("-h", "-b", "0"), &c), XM_EX_OK);
}

Test(example_opts, version_and_list_options)
{
	struct captured c;

	char first[64];

	cr_assert_eq(parse(ARGV("--version"), &c), XM_EX_OK);
	/* the library's version (the VERSION file, as xmbuf.pc's), then
	 * what it runs with: libbpf, libxdp, the kernel's features */
	snprintf(first, sizeof(first), "xmbuf-test %s\nlibbpf ",
		 xm_version());
	cr_assert_eq(strncmp(c.out, first, strlen(first)), 0, "%s", c.out);
	cr_assert_neq(strcmp(xm_version(), ""), 0);
	cr_assert(strstr(c.out, ", libxdp "), "%s", c.out);
	cr_assert(strstr(c.out, "\nkernel "), "%s", c.out);
	cr_assert(strstr(c.out, ": XDP_USE_SG "), "%s", c.out);
	cr_assert(strstr(c.out, ", XDP_MAX_TX_SKB_BUDGET "), "%s", c.out);
	cr_assert(strstr(c.out, ", tcx "), "%s", c.out);
	cr_assert_eq(parse(ARGV("--list-options"), &c), XM_EX_OK);
	cr_assert(strstr(c.out, "--iface\t-i\tIF\t--interface\t-\n"), "%s",
		  c.out);
	cr_assert(strstr(c.out, "--cpus\t-c\tLIST\t-\t-\n"), "%s", c.out);
	cr_assert(strstr(c.out, "--secret\t-\t-\t-\t-\n"), "%s", c.out);
	cr_assert(strstr(c.out, "--even\t-\tN\t-\t-\n"), "%s", c.out);
	cr_assert(strstr(c.out, "--version\t-\t-\t-\t-\n"), "%s", c.out);
	/* one line per option: 21 in the table, the heading is none */
	{
		int lines = 0;

		for (const char *p = c.out; (p = strchr(p, '\n')); p++)
			lines++;
		cr_assert_eq(lines, 21, "%s", c.out);
	}
}

/*
 * A letter given up for the shared vocabulary (fwd's -c, lb's -C for
 * --cpus) keeps working one release: same effect, a message naming the
 * new spelling, and the letter in --list-options' fifth field; never in
 * --help, never a clash with a letter in use.
 */
Test(example_opts, an_old_letter_still_works_with_a_deprecation_message)
{
	static const struct xm_ex_opt opts[] = {
		XM_EX_STD(XM_EX_O_IFACE, 0, NULL),
		XM_EX_STD_WAS(XM_EX_O_CPUS, 0, 'C', NULL),
		XM_EX_STD_WAS(XM_EX_O_QUIET, 0, 'z', NULL),
		XM_EX_OPTS_END
	};
	static const struct xm_ex_opt clash[] = {
		XM_EX_STD(XM_EX_O_IFACE, 0, NULL),
		XM_EX_STD_WAS(XM_EX_O_CPUS, 0, 'i', NULL),
		XM_EX_OPTS_END
	};
	const struct xm_ex_cli cli = { .tool = "test", .opts = opts,
				       .args = &A.ex };
	const struct xm_ex_cli bad = { .tool = "test", .opts = clash,
				       .args = &A.ex };
	struct xm_ex_opt r[8];
	struct captured c;

	parse_captured(&cli, ARGV("-i", "x", "-C", "0,2"), NULL, &c);
	cr_assert_eq(c.ret, -1, "%s", c.err);
	cr_assert_eq(A.ex.ncpus, 2);
	cr_assert_eq(A.ex.cpus[1], 2);
	cr_assert(strstr(c.err, "xmbuf-test: -C is deprecated and goes in the "
			 "next release; use --cpus\n"), "%s", c.err);
	/* the new spelling says nothing */
	memset(&A.ex, 0, sizeof(A.ex));
	parse_captured(&cli, ARGV("-i", "x", "--cpus", "1"), NULL, &c);
	cr_assert_eq(c.ret, -1);
	cr_assert_eq(A.ex.ncpus, 1);
	cr_assert_str_empty(c.err);
	/* a bad value under the old letter is the new option's mistake */
	parse_captured(&cli, ARGV("-i", "x", "-C", "x"), NULL, &c);
	cr_assert_eq(c.ret, XM_EX_USAGE);
	cr_assert(strstr(c.err, "invalid CPU list 'x'"), "%s", c.err);
	/* a shared option that keeps its letter names both */
	parse_captured(&cli, ARGV("-i", "x", "-z"), NULL, &c);
	cr_assert_eq(c.ret, -1);
	cr_assert(A.ex.quiet);
	cr_assert(strstr(c.err, "-z is deprecated and goes in the next "
			 "release; use -Q or --quiet\n"), "%s", c.err);
	parse_captured(&cli, ARGV("--help"), NULL, &c);
	cr_assert_null(strstr(c.out, "-C"), "%s", c.out);
	cr_assert_null(strstr(c.out, "-z"), "%s", c.out);
	parse_captured(&cli, ARGV("--list-options"), NULL, &c);
	cr_assert(strstr(c.out, "--cpus\t-\tLIST\t-\t-C\n"), "%s", c.out);
	cr_assert(strstr(c.out, "--quiet\t-Q\t-\t-\t-z\n"), "%s", c.out);
	cr_assert_eq(xm_ex_opts_resolve(&bad, r, 8), -EINVAL);
}

/* A tool spelling --interface first, with no letter for --queues. */
Test(example_opts, a_tools_spelling_comes_first_and_letters_can_go)
{
	static const struct xm_ex_opt opts[] = {
		{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_IFACE,
		  .name = "interface" },
		XM_EX_STD(XM_EX_O_QUEUES, XM_EX_NO_LETTER, NULL),
		XM_EX_STD(XM_EX_O_HELP, 0, NULL),
		{ 0 },
	};
	struct xm_ex_cli cli = { .tool = "t", .opts = opts, .args = &A.ex };
	struct captured c;

	parse_captured(&cli, ARGV("--iface", "a", "-q", "0"), NULL, &c);
	cr_assert_eq(c.ret, XM_EX_USAGE);
	cr_assert(strstr(c.err, "invalid option '-q'"), "%s", c.err);
	parse_captured(&cli, ARGV("--iface", "a", "--queues", "1"), NULL,
		       &c);
	cr_assert_eq(c.ret, -1, "%s", c.err);
	cr_assert_eq(A.ex.queues[0], 1);
	parse_captured(&cli, ARGV("--list-options"), NULL, &c);
	cr_assert(strstr(c.out, "--interface\t-i\tIF\t--iface\t-\n"), "%s",
		  c.out);
	cr_assert(strstr(c.out, "--queues\t-\tLIST\t-\t-\n"), "%s", c.out);
}

/* A table that is wrong is a runtime error, never half a parse. */
Test(example_opts, wrong_tables_are_refused)
{
	static const struct xm_ex_opt same_letter[] = {
		XM_EX_STD(XM_EX_O_QUIET, 'x', NULL),
		XM_EX_STD(XM_EX_O_JSON, 'x', NULL),
		{ 0 },
	};
	static const struct xm_ex_opt same_name[] = {
		XM_EX_STD(XM_EX_O_IFACE, 0, NULL),
		{ .name = "interface", .arg = XM_EX_ARG_NONE },
		{ 0 },
	};
	static const struct xm_ex_opt list_no_count[] = {
		{ .name = "l", .arg = XM_EX_ARG_CPUS, .hi = 4 },
		{ 0 },
	};
	static const struct xm_ex_opt renamed_std[] = {
		{ .arg = XM_EX_ARG_STD, .std = XM_EX_O_JSON, .name = "js" },
		{ 0 },
	};
	static const struct xm_ex_opt reserved[] = {
		{ .name = "list-options", .arg = XM_EX_ARG_NONE },
		{ 0 },
	};
	const struct xm_ex_opt *bad[] = { same_letter, same_name,
					  list_no_count, renamed_std,
					  reserved };
	struct xm_ex_opt out[8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xm_ex_cli cli = { .opts = bad[i], .args = &A.ex };
		struct captured c;

		cr_assert_eq(xm_ex_opts_resolve(&cli, out, 8), -EINVAL,
			     "table %zu", i);
		parse_captured(&cli, ARGV("-h"), NULL, &c);
		cr_assert_eq(c.ret, XM_EX_RUNTIME, "table %zu", i);
		cr_assert(strstr(c.err, "bad option table"), "%s", c.err);
	}
	{
		struct xm_ex_cli cli = tool_cli;

		cr_assert_eq(xm_ex_opts_resolve(&cli, out, 8), -E2BIG);
	}
}

Test(example_opts, sizes_with_suffixes)
{
	uint64_t b;

	cr_assert(xm_ex_parse_size("3", 1000000, 1, UINT64_MAX, &b));
	cr_assert_eq(b, 3000000);
	cr_assert(xm_ex_parse_size("3k", 1000000, 1, UINT64_MAX, &b));
	cr_assert_eq(b, 3072);
	cr_assert(xm_ex_parse_size("1M", 1, 1, UINT64_MAX, &b));
	cr_assert_eq(b, 1 << 20);
	cr_assert(xm_ex_parse_size("2g", 0, 1, UINT64_MAX, &b));
	cr_assert_eq(b, 2ull << 30);
	b = 7;
	cr_assert_not(xm_ex_parse_size("2t", 1, 1, UINT64_MAX, &b));
	cr_assert_not(xm_ex_parse_size("k", 1, 1, UINT64_MAX, &b));
	cr_assert_not(xm_ex_parse_size("", 1, 1, UINT64_MAX, &b));
	cr_assert_not(xm_ex_parse_size("-1k", 1, 1, UINT64_MAX, &b));
	/* N * unit must fit 64 bits */
	cr_assert_not(xm_ex_parse_size("17179869184g", 1, 1, UINT64_MAX,
				       &b));
	cr_assert(xm_ex_parse_size("17179869183g", 1, 1, UINT64_MAX, &b));
	cr_assert_not(xm_ex_parse_size("5", 1, 1, 4, &b));
	cr_assert_not(xm_ex_parse_size("18446744073709551615", 2, 1,
				       UINT64_MAX, &b));
}

/* ------------------------------------------------------------ launcher */

struct t_worker {
	unsigned int seen;		/* runs of the body */
	int ret;			/* what the body returns */
	_Atomic unsigned int *alive;	/* bodies running */
} __attribute__((aligned(64)));

static int t_body(void *arg)
{
	struct t_worker *w = arg;

	atomic_fetch_add(w->alive, 1);
	w->seen++;
	while (!xm_ex_stopping() && !w->ret)
		usleep(1000);
	atomic_fetch_sub(w->alive, 1);
	return w->ret;
}

struct t_ctx {
	unsigned int ticks;
	unsigned int stop_after;	/* ticks; 0: never */
};

static int t_tick(void *ctx, uint64_t now_ns)
{
	struct t_ctx *c = ctx;

	(void)now_ns;
	return c->stop_after && ++c->ticks >= c->stop_after;
}

Test(example_run, workers_get_their_own_argument_and_the_deadline_ends)
{
	_Atomic unsigned int alive = 0;
	struct t_worker w[4] = {};
	struct xm_ex_run run = {
		.fn = t_body, .args = w, .stride = sizeof(w[0]),
		.nworkers = 4, .seconds = 0.2, .quiet = true,
	};
	double s;

	for (int i = 0; i < 4; i++)
		w[i].alive = &alive;
	cr_assert_eq(xm_ex_run(&run), 0);
	s = xm_ex_run_seconds(&run);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(w[i].seen, 1, "worker %d", i);
	cr_assert_eq(atomic_load(&alive), 0);
	cr_assert(xm_ex_stopping());
	cr_assert_eq(xm_ex_stop_signal(), 0, "a deadline is no signal");
	cr_assert(s >= 0.2 && s < 5.0, "%.3f s", s);
	cr_assert_null(run.w);
}

/* The shared options stand for the run's own fields: --duration here. */
Test(example_run, the_shared_options_give_duration_cpus_and_quiet)
{
	_Atomic unsigned int alive = 0;
	struct t_worker w[2] = {};
	struct xm_ex_args ex = { .seconds = 0.3, .quiet = true };
	struct xm_ex_run run = {
		.fn = t_body, .args = w, .stride = sizeof(w[0]),
		.nworkers = 2, .opts = &ex, .seconds = 100,
	};
	double s;

	w[0].alive = w[1].alive = &alive;
	cr_assert_eq(xm_ex_run(&run), 0);
	s = xm_ex_run_seconds(&run);
	cr_assert(s >= 0.3 && s < 10.0, "%.3f s: --duration, not .seconds",
		  s);
	cr_assert(run.quiet);
	/* a CPU list with no such CPU: the worker fails to pin */
	ex.cpus[0] = CPU_SETSIZE - 1;
	ex.ncpus = 1;
	w[0].seen = w[1].seen = 0;
	cr_assert_lt(xm_ex_run(&run), 0);
	cr_assert_eq(w[0].seen + w[1].seen, 0);
}

Test(example_run, tick_stops_the_run_and_a_worker_error_is_reported)
{
	_Atomic unsigned int alive = 0;
	struct t_worker w[3] = {};
	struct t_ctx ctx = { .stop_after = 3 };
	struct xm_ex_run run = {
		.fn = t_body, .args = w, .stride = sizeof(w[0]),
		.nworkers = 3, .quiet = true, .tick = t_tick, .ctx = &ctx,
	};

	for (int i = 0; i < 3; i++)
		w[i].alive = &alive;
	cr_assert_eq(xm_ex_run(&run), 0);
	cr_assert_eq(ctx.ticks, 3);
	cr_assert(xm_ex_stopping());
}

Test(example_run, a_worker_error_stops_the_others)
{
	_Atomic unsigned int alive = 0;
	struct t_worker w[3] = {};
	struct xm_ex_run run = {
		.fn = t_body, .args = w, .stride = sizeof(w[0]),
		.nworkers = 3, .quiet = true,
	};

	for (int i = 0; i < 3; i++)
		w[i].alive = &alive;
	w[1].ret = -EIO;
	/* no deadline: only the error can end this run */
	cr_assert_eq(xm_ex_run(&run), -EIO);
	cr_assert_eq(atomic_load(&alive), 0);
}

Test(example_run, pinning_to_a_cpu_that_is_not_there_fails_the_worker)
{
	_Atomic unsigned int alive = 0;
	struct t_worker w[1] = {};
	static const uint32_t cpus[] = { CPU_SETSIZE - 1 };
	struct xm_ex_run run = {
		.fn = t_body, .args = w, .stride = sizeof(w[0]),
		.nworkers = 1, .quiet = true, .cpus = cpus, .ncpus = 1,
		.role = "RX ",
	};

	w[0].alive = &alive;
	cr_assert_lt(xm_ex_run(&run), 0);
	cr_assert_eq(w[0].seen, 0, "the body never ran");
}

/* The stats line: sample is asked once a second, its columns printed. */
static void t_sample(void *ctx, uint64_t *v)
{
	unsigned int *calls = ctx;

	v[0] = ++*calls * 1000;
}

Test(example_run, the_stats_line_is_sampled_once_a_second)
{
	static const struct xm_ex_stat_col cols[] = {
		{ "rx", XM_EX_STAT_RATE },
	};
	_Atomic unsigned int alive = 0;
	struct t_worker w[1] = { { .alive = &alive } };
	unsigned int calls = 0;
	struct xm_ex_run run = {
		.fn = t_body, .args = w, .stride = sizeof(w[0]),
		.nworkers = 1, .seconds = 2.3, .cols = cols, .ncols = 1,
		.sample = t_sample, .ctx = &calls,
	};

	cr_assert_eq(xm_ex_run(&run), 0);
	cr_assert(calls >= 1 && calls <= 2, "%u samples in 2.3 s", calls);
	calls = 0;
	run.quiet = true;
	run.seconds = 1.2;
	cr_assert_eq(xm_ex_run(&run), 0);
	cr_assert_eq(calls, 0, "quiet: no line, no sample");
}

/* ----------------------------------------------- xm_port_frames_needed */

/* The sums fwd, lb and capture made by hand, as the library makes them. */
Test(port_frames, the_tools_sums)
{
	for (uint32_t nq = 1; nq <= XM_PORT_MAX_QUEUES; nq++) {
		/* fwd and lb, one port: rings of 2048 (fill 4096), two
		 * bursts of 256 and 128 frames of caches per queue */
		XM_OPTS(xm_port_frames_opts, one, .nqueues = nq,
			.rx_size = 2048, .tx_size = 2048, .held = 2 * 256 + 128,
			.reserve = 1024);
		/* fwd -o: the output port's TX and completion rings */
		XM_OPTS(xm_port_frames_opts, out, .nqueues = nq,
			.tx_size = 2048, .flags = XM_PORT_F_TX_ONLY);
		/* capture: fill and RX of -B, its batches, --tap's rings */
		XM_OPTS(xm_port_frames_opts, cap, .nqueues = nq,
			.rx_size = 16384, .fill_size = 32768,
			.held = 8 * 256 + 256, .reserve = 1024,
			.flags = XM_PORT_F_RX_ONLY);
		XM_OPTS(xm_port_frames_opts, tap, .nqueues = nq,
			.tx_size = 2048, .flags = XM_PORT_F_TX_ONLY);

		cr_assert_eq(xm_port_frames_needed(&one),
			     nq * (2048 + 4096 + 2048 + 2048 + 2 * 256 + 128) +
			     1024);
		cr_assert_eq(xm_port_frames_needed(&one) +
			     xm_port_frames_needed(&out),
			     nq * (2048 + 4096 + 2048 + 2048 + 2048 + 2048 +
				   2 * 256 + 128) + 1024);
		cr_assert_eq(xm_port_frames_needed(&cap) +
			     xm_port_frames_needed(&tap),
			     nq * (32768 + 16384 + 8 * 256 + 256 + 2 * 2048) +
			     1024);
	}
}

Test(port_frames, defaults_flags_and_limits)
{
	XM_OPTS(xm_port_frames_opts, d, .nqueues = 1);
	XM_OPTS(xm_port_frames_opts, rx, .nqueues = 2,
		.flags = XM_PORT_F_RX_ONLY);
	XM_OPTS(xm_port_frames_opts, tx, .nqueues = 2, .comp_size = 4096,
		.flags = XM_PORT_F_TX_ONLY);
	XM_OPTS(xm_port_frames_opts, big, .nqueues = XM_PORT_MAX_QUEUES,
		.rx_size = 1u << 31, .fill_size = 1u << 31, .held = UINT32_MAX,
		.reserve = UINT32_MAX);
	XM_OPTS(xm_port_frames_opts, none, .rx_size = 4096);
	struct {
		struct xm_port_frames_opts o;
		uint64_t tail;
	} future = { .o = { .sz = sizeof(future), .nqueues = 1 },
		     .tail = 1 };

	/* the port's defaults: rx 1024, fill 2048, tx 1024, comp 1024 */
	cr_assert_eq(xm_port_frames_needed(&d), 5120);
	cr_assert_eq(xm_port_frames_needed(&rx), 2 * 3072);
	cr_assert_eq(xm_port_frames_needed(&tx), 2 * (1024 + 4096));
	cr_assert_eq(xm_port_frames_needed(&big), UINT32_MAX / 2);
	cr_assert_eq(xm_port_frames_needed(&none), 0);
	cr_assert_eq(xm_port_frames_needed(NULL), 0);
	/* a field this library does not know, set: refused */
	cr_assert_eq(xm_port_frames_needed(&future.o), 0);
	future.tail = 0;
	cr_assert_eq(xm_port_frames_needed(&future.o), 5120);
}

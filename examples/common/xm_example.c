// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_example.c - the examples' common helpers (see xm_example.h for the
 * contract every example follows: exit codes, stderr/stdout, --json).
 *
 * Signals: the handler only records the signal; loops poll
 * xm_ex_stopping() between bursts, so a stop is seen within one burst and
 * teardown runs in ordinary context where it may free, close and print.
 * Handlers are installed without SA_RESTART so that a thread asleep in
 * poll() comes back with EINTR at once.
 *
 * KPI:
 *   names      xm_ex_set_prog, xm_ex_prog, xm_ex_error, xm_ex_usage_error,
 *              xm_ex_set_print
 *   parsing    xm_ex_parse_u64, xm_ex_parse_u32, xm_ex_parse_seconds,
 *              xm_ex_parse_list, xm_ex_parse_mac, xm_ex_parse_mode,
 *              xm_ex_if_rx_queues, xm_ex_queues_for, xm_ex_pin_cpu,
 *              xm_ex_worker_pin,
 *              xm_ex_now_ns
 *   setup      xm_ex_umem_create, xm_ex_port_open_peer
 *   data path  xm_ex_tx_or_drop, xm_ex_tx_drain
 *   options    xm_ex_opt_queues, xm_ex_opt_cpus, xm_ex_opt_mode,
 *              xm_ex_opt_frames
 *   signals    xm_ex_signals_install, xm_ex_stop_sigset, xm_ex_stopping,
 *              xm_ex_stop, xm_ex_stop_signal, xm_ex_stop_signal_name
 *   stats line xm_ex_stats_init, xm_ex_stats_due, xm_ex_stats_print,
 *              xm_ex_stats_elapsed, xm_ex_human
 *   JSON       xm_ex_json_begin/end/object/array/close/u64/i64/double/
 *              bool/str, xm_ex_json_zones
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xm_example.h"
#include "xm_port.h"

static const char *prog_name = "xmbuf";

void xm_ex_set_prog(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	prog_name = slash ? slash + 1 : argv0;
}

const char *xm_ex_prog(void)
{
	return prog_name;
}

int xm_ex_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return XM_EX_RUNTIME;
}

int xm_ex_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog_name);
	return XM_EX_USAGE;
}

/*
 * Quiet by default: the library's warnings only.  Its info messages are
 * about the environment (bpffs mounted for libxdp, zero-copy not offered
 * so copy mode taken, a dead process's program replaced) and the tools
 * say what matters of it in their start banner (the mode taken); -v adds
 * them, and the debug messages, one line each.
 */
static enum xm_print_level print_max = XM_PRINT_WARN;

static int example_print(enum xm_print_level level, const char *fmt,
			 va_list args)
{
	if (level > print_max)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void xm_ex_set_print(bool verbose, bool quiet)
{
	(void)quiet;	/* -Q is about the stats line; warnings stay */
	print_max = verbose ? XM_PRINT_DEBUG : XM_PRINT_WARN;
	xm_set_print(example_print);
}

/* -------------------------------------------------------------- parsing */

bool xm_ex_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool xm_ex_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v;

	if (!xm_ex_parse_u64(s, lo, hi, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

bool xm_ex_parse_seconds(const char *s, double max_s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > max_s)
		return false;
	*out = v;
	return true;
}

int xm_ex_parse_list(const char *s, uint32_t lo, uint32_t hi, uint32_t *out,
		     unsigned int max)
{
	unsigned int n = 0;
	char *copy, *tok, *save = NULL;
	int ret = -1;

	if (!s || !*s)
		return -1;
	copy = strdup(s);
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t a, b;

		if (dash) {
			*dash = '\0';
			if (!xm_ex_parse_u32(tok, lo, hi, &a) ||
			    !xm_ex_parse_u32(dash + 1, lo, hi, &b) || b < a)
				goto out;
		} else {
			if (!xm_ex_parse_u32(tok, lo, hi, &a))
				goto out;
			b = a;
		}
		for (uint64_t v = a; v <= b; v++) {
			if (n == max)
				goto out;
			for (unsigned int i = 0; i < n; i++)
				if (out[i] == v)
					goto out;
			out[n++] = (uint32_t)v;
		}
	}
	/* A trailing or doubled comma leaves an empty token strtok skips. */
	if (n && s[strlen(s) - 1] != ',' && s[0] != ',' && !strstr(s, ",,"))
		ret = (int)n;
out:
	free(copy);
	return ret;
}

bool xm_ex_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
			 &b[3], &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return true;
}

unsigned int xm_ex_queues_for(const char *ifname, int nqueues)
{
	int nq = nqueues;

	if (nq > 0)
		return (unsigned int)nq;
	nq = xm_ex_if_rx_queues(ifname);
	if (nq <= 0)
		return 1;
	if (nq > XM_PORT_MAX_QUEUES)
		return XM_PORT_MAX_QUEUES;
	return (unsigned int)nq;
}

struct xm_umem *xm_ex_umem_create(uint32_t nclusters, uint32_t flags)
{
	XM_OPTS(xm_umem_opts, uo,
		.nmbclusters = nclusters,
		.nmbjumbop = 64, .nmbjumbo9 = 16, .nmbjumbo16 = 16,
		.flags = flags);
	struct xm_umem *u = xm_umem_create(&uo);

	if (!u) {
		int err = errno;

		xm_ex_error("cannot create the UMEM: %s", strerror(err));
		errno = err;
	}
	return u;
}

int xm_ex_parse_mode(const char *s, uint32_t *mode)
{
	if (!s)
		return -EINVAL;
	for (const struct xm_ex_enum *e = xm_ex_mode_names; e->name; e++) {
		if (!strcmp(s, e->name)) {
			*mode = e->value;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * The option helpers below keep one wording per mistake across the
 * examples, so the integration tests (and users' scripts) can match it.
 */
int xm_ex_opt_queues(const char *arg, uint32_t *queues, int *nqueues)
{
	*nqueues = xm_ex_parse_list(arg, 0, 4095, queues, XM_PORT_MAX_QUEUES);
	if (*nqueues < 0)
		return xm_ex_usage_error("invalid queue list '%s'", arg);
	return 0;
}

int xm_ex_opt_cpus(const char *arg, uint32_t *cpus, unsigned int max,
		   int *ncpus)
{
	*ncpus = xm_ex_parse_list(arg, 0, CPU_SETSIZE - 1, cpus, max);
	if (*ncpus < 0)
		return xm_ex_usage_error("invalid CPU list '%s'", arg);
	return 0;
}

int xm_ex_opt_mode(const char *arg, uint32_t *mode)
{
	if (xm_ex_parse_mode(arg, mode))
		return xm_ex_usage_error("invalid mode '%s' (auto, zero-copy, "
					 "copy, skb)", arg);
	return 0;
}

int xm_ex_opt_frames(const char *arg, uint32_t *frames)
{
	if (!xm_ex_parse_u32(arg, 1024, 1u << 24, frames))
		return xm_ex_usage_error("invalid frame count '%s'", arg);
	return 0;
}

int xm_ex_if_rx_queues(const char *ifname)
{
	struct xm_port_ifinfo ifi;
	int err = xm_port_ifinfo(ifname, &ifi);

	/* As before: only an unknown interface is an error; a device the
	 * other queries fail on counts one queue, as a port would open. */
	if (err == -ENODEV)
		return err;
	return err ? 1 : (int)ifi.rx_queues;
}

struct xm_port *xm_ex_port_open_peer(struct xm_umem *u, const char *ifname,
				     const struct xm_port *like,
				     struct xm_port_opts *opts)
{
	uint32_t qids[XM_PORT_MAX_QUEUES];
	unsigned int n = xm_port_queue_count(like);

	for (unsigned int i = 0; i < n; i++)
		qids[i] = xm_port_queue_id(like, i);
	opts->queues = qids;
	opts->nqueues = n;
	return xm_port_open(u, ifname, opts);
}

uint16_t xm_ex_tx_or_drop(struct xm_port *p, unsigned int q,
			  struct xm_mbuf **pkts, uint16_t n)
{
	uint16_t sent;

	if (!n)
		return 0;
	sent = xm_port_tx_burst(p, q, pkts, n);
	if (sent < n) {
		xm_port_tx_flush(p, q);
		sent += xm_port_tx_burst(p, q, pkts + sent, n - sent);
	}
	if (sent < n)
		xm_freem_bulk(pkts + sent, n - sent);
	return sent;
}

void xm_ex_tx_drain(struct xm_port *p, unsigned int q, uint64_t max_ns)
{
	uint64_t end = xm_ex_now_ns() + max_ns;

	while (xm_port_tx_pending(p, q) && xm_ex_now_ns() < end) {
		if (xm_port_tx_flush(p, q) == 0)
			usleep(1000);
	}
}

int xm_ex_pin_cpu(unsigned int cpu)
{
	cpu_set_t set;
	int err;

	if (cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return -err;
}

int xm_ex_worker_pin(int cpu, const char *role, unsigned int q)
{
	int err;

	if (cpu < 0)
		return 0;
	err = xm_ex_pin_cpu((unsigned int)cpu);
	if (err)
		xm_ex_error("%squeue %u: cannot pin to CPU %d: %s", role, q,
			    cpu, strerror(-err));
	return err;
}

uint64_t xm_ex_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* -------------------------------------------------------------- signals */

/*
 * The signals that ask a tool to stop: ^C, kill, the terminal or SSH
 * session going away (SIGHUP: without a handler the default action
 * killed the tool there with no teardown, the XDP program left attached
 * and the UMEM's memory held until the kernel reaped it) and ^\.
 */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const char *const stop_signal_names[] = {
	"SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT",
};

static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t stop_asked;

static void on_stop_signal(int sig)
{
	if (stop_asked && stop_sig) {
		/*
		 * A second signal: the user wants out even if teardown hangs.
		 * Not a second SIGHUP: a hangup comes from the terminal and
		 * again from the shell passing it on to its jobs, and neither
		 * is a person insisting; the teardown goes on.
		 */
		if (sig == SIGHUP)
			return;
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_sig = sig;
	stop_asked = 1;
}

int xm_ex_signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]);
	     i++) {
		int sig = stop_signals[i];

		/*
		 * SIGHUP ignored at start is nohup(1): the user asked the
		 * tool to outlive the terminal, so it stays ignored.  SIGINT
		 * and SIGQUIT are handled even when inherited ignored (a
		 * shell without job control starts background commands so),
		 * as they always were.
		 */
		if (sig == SIGHUP) {
			struct sigaction cur;

			if (sigaction(SIGHUP, NULL, &cur) != 0)
				return -errno;
			if (cur.sa_handler == SIG_IGN)
				continue;
		}
		if (sigaction(sig, &sa, NULL) != 0)
			return -errno;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	return 0;
}

void xm_ex_stop_sigset(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]);
	     i++)
		sigaddset(set, stop_signals[i]);
}

bool xm_ex_stopping(void)
{
	return stop_asked != 0;
}

void xm_ex_stop(void)
{
	stop_asked = 1;
}

int xm_ex_stop_signal(void)
{
	return stop_sig;
}

const char *xm_ex_stop_signal_name(void)
{
	int sig = stop_sig;

	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]);
	     i++)
		if (stop_signals[i] == sig)
			return stop_signal_names[i];
	return NULL;
}

/* ----------------------------------------------------------- stats line */

const char *xm_ex_human(uint64_t v, char *buf, size_t len)
{
	if (v >= 1000000000ull)
		snprintf(buf, len, "%.2fG", (double)v / 1e9);
	else if (v >= 1000000ull)
		snprintf(buf, len, "%.2fM", (double)v / 1e6);
	else if (v >= 10000ull)
		snprintf(buf, len, "%.1fk", (double)v / 1e3);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

void xm_ex_stats_init(struct xm_ex_stats *s, const struct xm_ex_stat_col *cols,
		      unsigned int ncols, uint64_t interval_ns, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->cols = cols;
	s->ncols = ncols < XM_EX_STATS_MAX ? ncols : XM_EX_STATS_MAX;
	s->interval_ns = interval_ns ? interval_ns : 1000000000ull;
	s->out = out;
	s->t_start = s->t_last = xm_ex_now_ns();
}

bool xm_ex_stats_due(const struct xm_ex_stats *s, uint64_t now_ns)
{
	return now_ns - s->t_last >= s->interval_ns;
}

double xm_ex_stats_elapsed(const struct xm_ex_stats *s, uint64_t now_ns)
{
	return (double)(now_ns - s->t_start) / 1e9;
}

void xm_ex_stats_print(struct xm_ex_stats *s, const uint64_t *values,
		       uint64_t now_ns)
{
	double dt = (double)(now_ns - s->t_last) / 1e9;
	char line[1024], a[32], b[32];
	size_t off = 0;

	off += (size_t)snprintf(line + off, sizeof(line) - off, "%s %6.1fs",
				prog_name, xm_ex_stats_elapsed(s, now_ns));
	for (unsigned int i = 0; i < s->ncols && off < sizeof(line); i++) {
		const struct xm_ex_stat_col *c = &s->cols[i];
		uint64_t d = values[i] - s->prev[i];

		switch (c->kind) {
		case XM_EX_STAT_RATE:
			off += (size_t)snprintf(line + off, sizeof(line) - off,
				"  %s %spps (%s)", c->name,
				xm_ex_human(dt > 0 ? (uint64_t)((double)d / dt) : 0,
					    a, sizeof(a)),
				xm_ex_human(values[i], b, sizeof(b)));
			break;
		case XM_EX_STAT_BITS:
			off += (size_t)snprintf(line + off, sizeof(line) - off,
				"  %s %sbps", c->name,
				xm_ex_human(dt > 0 ? (uint64_t)((double)d * 8 /
								 dt) : 0,
					    a, sizeof(a)));
			break;
		case XM_EX_STAT_COUNT:
		case XM_EX_STAT_GAUGE:
			off += (size_t)snprintf(line + off, sizeof(line) - off,
				"  %s %s", c->name,
				xm_ex_human(values[i], a, sizeof(a)));
			break;
		}
		s->prev[i] = values[i];
	}
	s->t_last = now_ns;
	if (s->out) {
		fprintf(s->out, "%s\n", line);
		fflush(s->out);
	}
}

/* ----------------------------------------------------------------- JSON */

/* Separator and key for the next member of the innermost container. */
static bool json_member(struct xm_ex_json *j, const char *key)
{
	unsigned int d = j->depth;

	if (!d || (j->is_array[d - 1] ? key != NULL : key == NULL)) {
		j->error = true;
		return false;
	}
	if (!j->first[d - 1])
		fputc(',', j->out);
	j->first[d - 1] = false;
	if (key) {
		fputc('"', j->out);
		for (const char *p = key; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', j->out);
			fputc(*p, j->out);
		}
		fputs("\":", j->out);
	}
	return true;
}

static void json_open(struct xm_ex_json *j, const char *key, bool array)
{
	if (!json_member(j, key))
		return;
	if (j->depth == XM_EX_JSON_DEPTH) {
		j->error = true;
		return;
	}
	fputc(array ? '[' : '{', j->out);
	j->first[j->depth] = true;
	j->is_array[j->depth] = array;
	j->depth++;
}

void xm_ex_json_begin(struct xm_ex_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	fputc('{', out);
	j->first[0] = true;
	j->is_array[0] = false;
	j->depth = 1;
}

int xm_ex_json_end(struct xm_ex_json *j)
{
	if (j->depth != 1)
		j->error = true;
	fputs("}\n", j->out);
	j->depth = 0;
	if (fflush(j->out) || ferror(j->out))
		return -EIO;
	return j->error ? -EINVAL : 0;
}

void xm_ex_json_object(struct xm_ex_json *j, const char *key)
{
	json_open(j, key, false);
}

void xm_ex_json_array(struct xm_ex_json *j, const char *key)
{
	json_open(j, key, true);
}

void xm_ex_json_close(struct xm_ex_json *j)
{
	if (j->depth <= 1) {
		j->error = true;
		return;
	}
	j->depth--;
	fputc(j->is_array[j->depth] ? ']' : '}', j->out);
}

void xm_ex_json_u64(struct xm_ex_json *j, const char *key, uint64_t v)
{
	if (json_member(j, key))
		fprintf(j->out, "%llu", (unsigned long long)v);
}

void xm_ex_json_i64(struct xm_ex_json *j, const char *key, int64_t v)
{
	if (json_member(j, key))
		fprintf(j->out, "%lld", (long long)v);
}

void xm_ex_json_double(struct xm_ex_json *j, const char *key, double v)
{
	if (!json_member(j, key))
		return;
	if (isfinite(v))
		fprintf(j->out, "%.6g", v);
	else
		fputs("null", j->out);
}

void xm_ex_json_bool(struct xm_ex_json *j, const char *key, bool v)
{
	if (json_member(j, key))
		fputs(v ? "true" : "false", j->out);
}

void xm_ex_json_str(struct xm_ex_json *j, const char *key, const char *v)
{
	if (!json_member(j, key))
		return;
	if (!v) {
		fputs("null", j->out);
		return;
	}
	fputc('"', j->out);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", j->out);
			break;
		case '\\':
			fputs("\\\\", j->out);
			break;
		case '\n':
			fputs("\\n", j->out);
			break;
		case '\t':
			fputs("\\t", j->out);
			break;
		default:
			if (*p < 0x20)
				fprintf(j->out, "\\u%04x", *p);
			else
				fputc(*p, j->out);
		}
	}
	fputc('"', j->out);
}

void xm_ex_json_zones(struct xm_ex_json *j, const char *key,
		      struct xm_umem *u)
{
	xm_ex_json_array(j, key);
	for (int id = 0; id < XM_ZONE_MAX; id++) {
		struct xm_zone *z = xm_umem_zone(u, (enum xm_zone_id)id);
		struct xm_zone_stats st;

		if (!z || xm_zone_stats(z, &st))
			continue;
		xm_ex_json_object(j, NULL);
		xm_ex_json_str(j, "name", st.name);
		xm_ex_json_u64(j, "size", st.size);
		xm_ex_json_u64(j, "limit", st.limit);
		xm_ex_json_u64(j, "used", st.used);
		xm_ex_json_u64(j, "free", st.free);
		xm_ex_json_u64(j, "cached", st.cached);
		xm_ex_json_u64(j, "requests", st.requests);
		xm_ex_json_u64(j, "failures", st.failures);
		xm_ex_json_close(j);
	}
	xm_ex_json_close(j);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * decap.c - xmbuf-decap: loads xm_decap.bpf.c (beside it), the backend
 * side of xmbuf-lb's direct server return, onto an interface, configures
 * it and shows its counters.
 *
 *   xmbuf-decap -i IF [--gue-port P] [--allow-src PREFIX ...]
 *                                         attach, print counters once a
 *                                         second, detach at a stop
 *                                         signal (INT, TERM, HUP, QUIT)
 *                                         or -d
 *   xmbuf-decap -i IF --persist [...]     attach and exit (a real backend:
 *                                         the program stays)
 *   xmbuf-decap -i IF --stats [--json]    counters of the attached program
 *   xmbuf-decap -i IF --unload            detach it
 *
 * A tool, not a library user: it loads its own BPF object (embedded from
 * the skeleton) with libbpf and attaches it with libxdp (a dispatcher
 * component where the kernel allows one, else a single program, as on
 * these machines).  Whoever runs it later finds the program again by
 * name on the interface and its maps through the program's map ids, so
 * --persist, --stats and --unload need no bpffs pins.
 *
 * Who may tunnel to this host: --allow-src PREFIX (repeatable) lists the
 * balancers' outer source prefixes (their src-prefix lines); once one is
 * given every other source is refused, and so is a tunnel packet whose
 * outer destination is not one of this host's addresses (all of them, as
 * they are at attach time, plus any --local).  Refused packets are
 * dropped and counted by reason.  The program strips nothing until the
 * lists and the configuration are written (XM_DECAP_F_READY last).
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <xdp/libxdp.h>

#include "xm_example.h"

#include <linux/types.h>

#include "xm_decap_shared.h"
#include "xm_decap.skel.h"

#define DECAP_PROG_NAME		"xm_decap"
#define DECAP_MAX_LIST		64	/* --allow-src, --local entries */

static bool verbose;

/*
 * libxdp warns about what it falls back from (no bpffs, no dispatcher);
 * we report what failed ourselves, so its messages wait for -v.
 */
static int quiet_print(enum libxdp_print_level level, const char *fmt,
		       va_list args)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int quiet_bpf_print(enum libbpf_print_level level, const char *fmt,
			   va_list args)
{
	if (!verbose && level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Our program on ifindex, or NULL (errno ENOENT). */
static struct xdp_program *find_ours(int ifindex, struct xdp_multiprog **mpp,
				     enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;

	*mpp = NULL;
	if (libxdp_get_error(mp) || mp == NULL) {
		errno = ENOENT;
		return NULL;
	}
	*mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && strcmp(xdp_program__name(p), DECAP_PROG_NAME))
			p = NULL;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)) != NULL)
			if (!strcmp(xdp_program__name(p), DECAP_PROG_NAME))
				break;
	}
	if (p == NULL) {
		xdp_multiprog__close(mp);
		errno = ENOENT;
		return NULL;
	}
	*mpp = mp;
	return p;
}

/* The fd of the program's map called name (caller closes), or -errno. */
static int prog_map_fd(int prog_fd, const char *name)
{
	struct bpf_prog_info pi;
	uint32_t ids[16], len = sizeof(pi);

	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = 16;
	pi.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -errno;
	for (uint32_t i = 0; i < pi.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi;
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
		    !strcmp(mi.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

static int read_stats(int prog_fd, struct xm_decap_stats *sum)
{
	struct xm_decap_stats *per;
	uint32_t zero = 0;
	int ncpu = libbpf_num_possible_cpus(), fd, err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	fd = prog_map_fd(prog_fd, "xm_decap_stats");
	if (fd < 0)
		return fd;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (per == NULL) {
		close(fd);
		return -ENOMEM;
	}
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		err = -errno;
	} else {
		for (int c = 0; c < ncpu; c++) {
			const __u64 *src = (const __u64 *)&per[c];
			__u64 *dst = (__u64 *)sum;

			for (size_t k = 0; k < sizeof(*sum) / 8; k++)
				dst[k] += src[k];
		}
	}
	free(per);
	close(fd);
	return err;
}

/*
 * "ADDR" or "ADDR/LEN", IPv4 or IPv6, into a trie key (IPv4 mapped into
 * ::ffff:0:0/96).  Host bits must be zero.  @return true when valid.
 */
static bool parse_prefix(const char *text, struct xm_decap_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint32_t len, max;
	bool v4;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &out->addr[12]) == 1) {
		v4 = true;
		out->addr[10] = out->addr[11] = 0xff;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		v4 = false;
	} else {
		return false;
	}
	max = v4 ? 32 : 128;
	len = max;
	if (slash && !xm_ex_parse_u32(slash + 1, 0, max, &len))
		return false;
	out->prefixlen = len + (v4 ? 96 : 0);
	for (uint32_t bit = out->prefixlen; bit < 128; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* Every address of every interface here, as /32 and /128 entries. */
static int local_addresses(struct xm_decap_prefix *list, unsigned int *n,
			   unsigned int cap)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		struct xm_decap_prefix *p;

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		if (*n == cap) {
			freeifaddrs(ifa);
			return -E2BIG;
		}
		p = &list[(*n)++];
		memset(p, 0, sizeof(*p));
		p->prefixlen = 128;
		if (i->ifa_addr->sa_family == AF_INET) {
			p->addr[10] = p->addr[11] = 0xff;
			memcpy(&p->addr[12], &((struct sockaddr_in *)
				i->ifa_addr)->sin_addr, 4);
		} else {
			memcpy(p->addr, &((struct sockaddr_in6 *)
				i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	return 0;
}

/* Fills the program's trie called name with list[0 .. n). */
static int fill_trie(int prog_fd, const char *name,
		     const struct xm_decap_prefix *list, unsigned int n)
{
	int fd = prog_map_fd(prog_fd, name), err = 0;
	uint8_t one = 1;

	if (fd < 0)
		return fd;
	for (unsigned int i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(fd, &list[i], &one, BPF_ANY))
			err = -errno;
	close(fd);
	return err;
}

/* The lists first, then the configuration: READY comes last. */
static int write_config(int prog_fd, uint16_t gue_port,
			const struct xm_decap_prefix *allow, unsigned int nallow,
			const struct xm_decap_prefix *local, unsigned int nlocal)
{
	struct xm_decap_config cfg = {
		.flags = XM_DECAP_F_READY | (gue_port ? XM_DECAP_F_GUE : 0) |
			 (nallow ? XM_DECAP_F_SRC_CHECK : 0) |
			 (nlocal ? XM_DECAP_F_DST_CHECK : 0),
		.gue_port = (uint16_t)__builtin_bswap16(gue_port),
	};
	uint32_t zero = 0;
	int fd, err;

	err = fill_trie(prog_fd, "xm_decap_src", allow, nallow);
	if (err == 0)
		err = fill_trie(prog_fd, "xm_decap_dst", local, nlocal);
	if (err)
		return err;
	fd = prog_map_fd(prog_fd, "xm_decap_cfg");
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

static void print_stats(const struct xm_decap_stats *s, const char *ifname,
			bool json)
{
	if (json) {
		struct xm_ex_json j;

		xm_ex_json_begin(&j, stdout);
		xm_ex_json_str(&j, "program", xm_ex_prog());
		xm_ex_json_str(&j, "iface", ifname);
		xm_ex_json_u64(&j, "seen", s->seen);
		xm_ex_json_u64(&j, "ipip", s->ipip);
		xm_ex_json_u64(&j, "ip6in4", s->ip6in4);
		xm_ex_json_u64(&j, "ip6ip6", s->ip6ip6);
		xm_ex_json_u64(&j, "ip4in6", s->ip4in6);
		xm_ex_json_u64(&j, "gue", s->gue);
		xm_ex_json_u64(&j, "passed", s->passed);
		xm_ex_json_u64(&j, "malformed", s->malformed);
		xm_ex_json_u64(&j, "fragmented", s->fragmented);
		xm_ex_json_u64(&j, "failed", s->failed);
		xm_ex_json_object(&j, "refused");
		xm_ex_json_u64(&j, "source", s->refused_src);
		xm_ex_json_u64(&j, "destination", s->refused_dst);
		xm_ex_json_close(&j);
		if (xm_ex_json_end(&j))
			xm_ex_error("could not write the JSON summary");
		return;
	}
	printf("%s: %s: seen %llu, decapsulated ipip %llu ip6in4 %llu ip6ip6 "
	       "%llu ip4in6 %llu gue %llu, passed %llu, malformed %llu, "
	       "fragmented %llu, failed %llu, refused: source %llu "
	       "destination %llu\n", xm_ex_prog(), ifname,
	       (unsigned long long)s->seen, (unsigned long long)s->ipip,
	       (unsigned long long)s->ip6in4, (unsigned long long)s->ip6ip6,
	       (unsigned long long)s->ip4in6, (unsigned long long)s->gue,
	       (unsigned long long)s->passed, (unsigned long long)s->malformed,
	       (unsigned long long)s->fragmented, (unsigned long long)s->failed,
	       (unsigned long long)s->refused_src,
	       (unsigned long long)s->refused_dst);
}

struct decap_args {
	struct xm_ex_args ex;		/* -i, -d, -j, -Q, -v */
	struct xm_decap_prefix allow[DECAP_MAX_LIST]; /* -a */
	unsigned int nallow;
	struct xm_decap_prefix local[XM_DECAP_MAX_PREFIXES]; /* -l, then
					 * the host's addresses */
	unsigned int nlocal;
	uint32_t gue_port;		/* -g, 0: no GUE */
	uint32_t mode;			/* -m: enum xdp_attach_mode */
	bool persist;			/* -P */
	bool stats;			/* -s */
	bool unload;			/* -u */
};

/* -a and -l: one more prefix on the list (dest: struct decap_args). */
static int opt_prefix(const struct xm_ex_opt *o, const char *arg)
{
	struct decap_args *a = o->dest;
	bool allow = o->letter == 'a';
	struct xm_decap_prefix *list = allow ? a->allow : a->local;
	unsigned int *n = allow ? &a->nallow : &a->nlocal;

	if (*n == DECAP_MAX_LIST)
		return xm_ex_usage_error("more than %d %s prefixes",
					 DECAP_MAX_LIST, allow ? "--allow-src" :
					 "--local");
	if (!parse_prefix(arg, &list[*n]))
		return -1;
	(*n)++;
	return 0;
}

/* @return -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct decap_args *a)
{
	static const struct xm_ex_enum modes[] = {
		{ "native", XDP_MODE_NATIVE, false },
		{ "skb", XDP_MODE_SKB, false },
		{ NULL, 0, false },
	};
	static const char prefix_hint[] = "ADDR or ADDR/LEN, IPv4 or IPv6, "
					  "host bits zero";
	const struct xm_ex_opt opts[] = {
		XM_EX_STD_REQUIRED(XM_EX_O_IFACE, 0, NULL),
		{ .name = "allow-src", .letter = 'a', .arg = XM_EX_ARG_FUNC,
		  .dest = a, .parse = opt_prefix, .metavar = "PREFIX",
		  .what = "prefix", .hint = prefix_hint,
		  .help = "accept tunnels only from ADDR[/LEN], IPv4 or\n"
			  "IPv6 (repeatable, up to " XM_EX_STR(DECAP_MAX_LIST)
			  "); also turns on the\ndestination check" },
		{ .name = "local", .letter = 'l', .arg = XM_EX_ARG_FUNC,
		  .dest = a, .parse = opt_prefix, .metavar = "ADDR[/LEN]",
		  .what = "prefix", .hint = prefix_hint,
		  .help = "an outer destination to accept besides the\n"
			  "host's own addresses at attach time (repeatable;\n"
			  "alone, it turns on the destination check)" },
		{ .name = "gue-port", .letter = 'g', .arg = XM_EX_ARG_U32,
		  .dest = &a->gue_port, .lo = 1, .hi = 65535, .what = "port",
		  .metavar = "PORT",
		  .help = "also decapsulate GUE over UDP to PORT" },
		{ .name = "mode", .letter = 'm', .arg = XM_EX_ARG_ENUM,
		  .dest = &a->mode, .enums = modes, .metavar = "MODE",
		  .help = "native (default) or skb" },
		{ .name = "persist", .letter = 'P', .arg = XM_EX_ARG_NONE,
		  .dest = &a->persist,
		  .help = "attach and exit, leaving the program attached" },
		{ .name = "stats", .letter = 's', .arg = XM_EX_ARG_NONE,
		  .dest = &a->stats,
		  .help = "print the attached program's counters and exit" },
		{ .name = "unload", .letter = 'u', .arg = XM_EX_ARG_NONE,
		  .dest = &a->unload, .help = "detach the program and exit" },
		XM_EX_STD(XM_EX_O_DURATION, 0, "stay attached SEC seconds "
			  "(default: until a signal)"),
		XM_EX_STD(XM_EX_O_JSON, 0, "summary as one JSON object on "
			  "stdout"),
		XM_EX_STD(XM_EX_O_QUIET, 0, "no live counters"),
		XM_EX_STD(XM_EX_O_VERBOSE, 0, "libbpf/libxdp debug messages"),
		XM_EX_OPTS_END
	};
	const struct xm_ex_cli cli = {
		.tool = "decap",
		.synopsis =
"-i IF [--allow-src PREFIX ...] [--gue-port PORT] [-m native|skb]\n"
"                 [-d SEC] [--json]\n"
"       xmbuf-decap -i IF --persist [--allow-src PREFIX ...] [...]\n"
"       xmbuf-decap -i IF --stats [--json]\n"
"       xmbuf-decap -i IF --unload",
		.description =
"Decapsulates IPIP, IP6IP6, 4in6, 6in4 (and GUE to PORT) packets arriving\n"
"on IF in XDP and passes the inner packet to the stack: the backend side\n"
"of xmbuf-lb's direct server return.  Give the balancers' source prefixes\n"
"(their src-prefix lines) with --allow-src: tunnel packets from any other\n"
"source, or to an address that is not this host's, are then dropped and\n"
"counted.  Without it, a tunnel from anyone is stripped.\n",
		.epilogue = XM_EX_EXIT_STATUS,
		.opts = opts,
		.args = &a->ex,
	};
	int ret;

	memset(a, 0, sizeof(*a));
	a->mode = XDP_MODE_NATIVE;
	ret = xm_ex_opts_parse(&cli, argc, argv, NULL);
	if (ret >= 0)
		return ret;
	verbose = a->ex.verbose;
	if (a->persist + a->stats + a->unload > 1)
		return xm_ex_usage_error("--persist, --stats and --unload "
					 "exclude each other");
	if ((a->stats || a->unload) && (a->nallow || a->nlocal))
		return xm_ex_usage_error("--allow-src and --local configure an "
					 "attach, not --stats or --unload");
	return -1;
}

/* --stats and --unload: act on the program already attached. */
static int existing(const struct decap_args *a, int ifindex)
{
	struct xdp_multiprog *mp;
	enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
	struct xdp_program *p = find_ours(ifindex, &mp, &mode);
	struct xm_decap_stats st;
	int err = 0;

	if (p == NULL)
		return xm_ex_error("no %s program on %s", DECAP_PROG_NAME,
				   a->ex.ifname);
	if (a->stats) {
		err = read_stats(xdp_program__fd(p), &st);
		if (err)
			xm_ex_error("cannot read the counters: %s",
				    strerror(-err));
		else
			print_stats(&st, a->ex.ifname, a->ex.json);
	} else {
		err = xdp_multiprog__is_legacy(mp) ?
		      xdp_multiprog__detach(mp) :
		      xdp_program__detach(p, ifindex, mode, 0);
		if (err)
			xm_ex_error("cannot detach from %s: %s", a->ex.ifname,
				    strerror(-err));
		else
			fprintf(stderr, "%s: detached from %s\n", xm_ex_prog(),
				a->ex.ifname);
	}
	xdp_multiprog__close(mp);
	return err ? XM_EX_RUNTIME : XM_EX_OK;
}

/* The stats line's columns, from the program's counters. */
struct decap_watch {
	int prog_fd;			/* the attached program */
	uint64_t v[4];			/* the last counters read */
};

static void sample(void *ctx, uint64_t *v)
{
	struct decap_watch *w = ctx;
	struct xm_decap_stats st;

	/* a failed read repeats the last line's figures */
	if (read_stats(w->prog_fd, &st) == 0) {
		w->v[0] = st.seen;
		w->v[1] = st.ipip + st.ip6in4 + st.ip6ip6 + st.ip4in6 + st.gue;
		w->v[2] = st.malformed;
		w->v[3] = st.refused_src + st.refused_dst;
	}
	memcpy(v, w->v, sizeof(w->v));
}

/* Stays attached until a stop or -d, with the live counters. */
static void watch(const struct decap_args *a, int prog_fd)
{
	static const struct xm_ex_stat_col cols[] = {
		{ "seen", XM_EX_STAT_RATE },
		{ "decap", XM_EX_STAT_RATE },
		{ "malformed", XM_EX_STAT_COUNT },
		{ "refused", XM_EX_STAT_COUNT },
	};
	struct decap_watch w = { .prog_fd = prog_fd };
	struct xm_ex_run run = {
		.nworkers = 0,		/* the kernel does the work */
		.opts = &a->ex,
		.cols = cols,
		.ncols = 4,
		.sample = sample,
		.ctx = &w,
	};

	xm_ex_run(&run);
}

/* The skeleton's object as a libxdp program.  @return 0 or the status. */
static int load(struct xdp_program **xp, struct bpf_object **obj)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, po, .prog_name = DECAP_PROG_NAME);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "xm_decap");
	const void *bytes;
	size_t sz = 0;
	int err;

	bytes = xm_decap_bpf__elf_bytes(&sz);
	*obj = bpf_object__open_mem(bytes, sz, &oo);
	if (*obj == NULL || libbpf_get_error(*obj))
		return xm_ex_error("cannot open the BPF object: %s",
				   strerror(*obj ? -(int)libbpf_get_error(*obj)
						 : errno));
	po.obj = *obj;
	*xp = xdp_program__create(&po);
	err = (int)libxdp_get_error(*xp);
	if (err) {
		bpf_object__close(*obj);
		return xm_ex_error("cannot create the XDP program: %s",
				   strerror(-err));
	}
	return 0;
}

/* What the attach does, on stderr. */
static void announce(const struct decap_args *a)
{
	fprintf(stderr, "%s: attached to %s (%s mode, %s)%s\n", xm_ex_prog(),
		a->ex.ifname, a->mode == XDP_MODE_SKB ? "skb" : "native",
		a->gue_port ? "IPIP, IP6IP6 and GUE" : "IPIP and IP6IP6",
		a->persist ? ", staying" : "");
	if (a->nallow)
		fprintf(stderr, "%s: tunnels accepted from %u source "
			"prefix(es), to %u local address(es)\n", xm_ex_prog(),
			a->nallow, a->nlocal);
	else
		fprintf(stderr, "%s: no --allow-src: tunnels from any source "
			"are stripped%s\n", xm_ex_prog(), a->nlocal ?
			" (if they are for this host)" : "");
}

int main(int argc, char **argv)
{
	struct decap_args a;
	struct xdp_program *xp = NULL;
	struct bpf_object *obj = NULL;
	struct xm_decap_stats st;
	bool have_st = false;
	int ifindex, ret, err;

	xm_ex_set_prog(argv[0]);
	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	libxdp_set_print(quiet_print);
	libbpf_set_print(quiet_bpf_print);
	ifindex = (int)if_nametoindex(a.ex.ifname);
	if (ifindex == 0)
		return xm_ex_error("no interface '%s'", a.ex.ifname);
	if (a.stats || a.unload)
		return existing(&a, ifindex);

	err = xm_ex_signals_install();
	if (err)
		return xm_ex_error("cannot install signal handlers: %s",
				   strerror(-err));
	ret = load(&xp, &obj);
	if (ret)
		return ret;
	/*
	 * The host's addresses now, for the destination check: on with
	 * --allow-src (a source check alone would still strip packets meant
	 * for another host) or with --local.
	 */
	if (a.nallow || a.nlocal) {
		err = local_addresses(a.local, &a.nlocal,
				      XM_DECAP_MAX_PREFIXES);
		if (err) {
			ret = xm_ex_error("cannot list this host's addresses: "
					  "%s", strerror(-err));
			goto out_close;
		}
	}
	err = xdp_program__attach(xp, ifindex, a.mode, 0);
	if (err) {
		/* a killed xmbuf-decap leaves its program behind */
		ret = xm_ex_error("cannot attach to %s (%s mode): %s%s",
				  a.ex.ifname,
				  a.mode == XDP_MODE_SKB ? "skb" : "native",
				  strerror(-err),
				  err == -EBUSY || err == -EEXIST ?
				  " (an XDP program is attached already; "
				  "--unload removes an xm_decap one)" : "");
		goto out_close;
	}
	err = write_config(xdp_program__fd(xp), (uint16_t)a.gue_port,
			   a.allow, a.nallow, a.local, a.nlocal);
	if (err) {
		ret = xm_ex_error("cannot configure the program: %s",
				  strerror(-err));
		goto out_detach;
	}
	announce(&a);
	if (a.persist) {
		/* Closing our handles leaves the attachment in place. */
		xdp_program__close(xp);
		bpf_object__close(obj);
		return XM_EX_OK;
	}

	watch(&a, xdp_program__fd(xp));
	ret = XM_EX_OK;
	err = read_stats(xdp_program__fd(xp), &st);
	if (err)
		ret = xm_ex_error("cannot read the counters: %s", strerror(-err));
	else
		have_st = true;
out_detach:
	err = xdp_program__detach(xp, ifindex, a.mode, 0);
	if (err)
		ret = xm_ex_error("cannot detach from %s: %s", a.ex.ifname,
				  strerror(-err));
	/* after the detach: an output that blocks holds nothing attached */
	if (have_st)
		print_stats(&st, a.ex.ifname, a.ex.json);
out_close:
	xdp_program__close(xp);
	bpf_object__close(obj);
	return ret;
}

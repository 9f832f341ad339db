// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture.c - xmbuf-capture end to end: the example binary, run as
 * a user would run it, on veth pairs between network namespaces of the
 * test's own (tests/lib/netns.h), its files read back by tcpdump and
 * tshark.
 *
 *   ns_peer: the test (AF_PACKET, UDP)       ns_cap: xmbuf-capture -i xvNa
 *        xv1b ============== veth ============== xv1a   (captured)
 *        xv2b ============== veth ============== xv2a   (--tap out)
 *
 * The peer sends numbered UDP frames (tests/lib's xm_tframe) of mixed
 * sizes, jumbo ones included on an MTU 9000 pair (they arrive as
 * multi-buffer chains); the test keeps a copy of every frame and checks
 * the capture file through `tcpdump -r` (converted to a classic pcap the
 * test parses: every packet's bytes, lengths, and timestamps rising
 * inside the test's wall-clock window) and `tshark -r` (count, lengths,
 * the pcapng queue option).  Then: filters (in-kernel subset, user-space
 * only, match and no match, with the rejected packets reaching a UDP
 * socket through the stack), rotation by size and count, snaplen, tap
 * mode, a disk that fills up (a tiny tmpfs in a private mount namespace),
 * -Z privilege drop, -w - streaming, and the errors: unknown interface,
 * bad filter, unwritable path, symbolic link, usage.  After every run no
 * XDP program may be left on the interface and the frame audit in the
 * --json summary must be clean.
 *
 * Each test builds its namespaces and veths and .fini removes them (and
 * kills a capture still running, unmounts the tmpfs) even when the test
 * fails; addresses are in 198.18.0.0/15, every send loop is bounded.
 * Needs root; skipped, loudly, without it (the usage tests run anyway).
 *
 * The binary is $XMBUF_CAPTURE, or bin/xmbuf-capture of the build tree
 * this test binary lives in (BUILD/test/VARIANT/integration/test_capture).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "../lib/netns.h"
#include "../lib/proc.h"

#define MAX_FRAME	9000
#define MAX_PKTS	600
#define UDP_PORT	5000

/* ------------------------------------------------------- environment */

static struct xm_netns ns_cap, ns_peer;
static struct xm_veth v1, v2;
static pid_t live_child;
static char tmpdir[PATH_MAX];
static bool tmpfs_mounted;

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: xmbuf-capture integration needs root "
			     "(namespaces, veth, XDP, AF_XDP)");
}

static void rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 32];

	if (!dir[0] || strncmp(dir, "/tmp/xmbuf-cap", 14) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xmbuf-cap-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void net_setup_q(int pairs, unsigned int mtu, unsigned int queues)
{
	int err;

	need_root();
	(void)xm_netns_sweep();
	make_tmpdir();
	err = xm_netns_create(&ns_cap);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_netns_create(&ns_peer);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_veth_create(&v1, &ns_cap, &ns_peer,
			     &(struct xm_veth_opts){ .index = 1, .mtu = mtu,
						     .queues = queues });
	cr_assert_eq(err, 0, "veth 1: %s", strerror(-err));
	if (pairs > 1) {
		err = xm_veth_create(&v2, &ns_cap, &ns_peer,
				     &(struct xm_veth_opts){ .index = 2,
							     .mtu = mtu });
		cr_assert_eq(err, 0, "veth 2: %s", strerror(-err));
	}
}

static void net_setup(int pairs, unsigned int mtu)
{
	net_setup_q(pairs, mtu, 1);
}

static void net_teardown(void)
{
	if (live_child > 0) {
		kill(live_child, SIGKILL);
		waitpid(live_child, NULL, 0);
		live_child = 0;
	}
	xm_veth_destroy(&v2);
	xm_veth_destroy(&v1);
	xm_netns_destroy(&ns_peer);
	xm_netns_destroy(&ns_cap);
	if (tmpfs_mounted) {
		if (umount2(tmpdir, MNT_DETACH) != 0)
			fprintf(stderr, "umount %s: %s\n", tmpdir,
				strerror(errno));
		tmpfs_mounted = false;
	}
	rm_tree(tmpdir);
	tmpdir[0] = '\0';
}

static const char *capture_path(void)
{
	static char path[PATH_MAX + 32];
	const char *p = xm_example_path("xmbuf-capture", "XMBUF_CAPTURE", path,
					sizeof(path));

	cr_assert(p, "xmbuf-capture not found (make examples, or set "
		  "XMBUF_CAPTURE)");
	return p;
}

/* True when no XDP program of any mode is attached to ifname in ns. */
static bool xdp_detached(const struct xm_netns *ns, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int saved, ifindex, err;

	err = xm_netns_enter(ns, &saved);
	cr_assert_eq(err, 0, "enter %s: %s", ns->name, strerror(-err));
	ifindex = (int)if_nametoindex(ifname);
	err = ifindex > 0 ? bpf_xdp_query(ifindex, 0, &q) : -ENODEV;
	xm_netns_leave(saved);
	cr_assert_eq(err, 0, "bpf_xdp_query %s: %s", ifname, strerror(-err));
	return q.attach_mode == XDP_ATTACHED_NONE && q.prog_id == 0;
}

/* ------------------------------------------------------- the child */

struct out_buf {
	char *p;
	size_t len, cap;
};

struct child {
	pid_t pid;
	int out_fd, err_fd;		/* -1 at EOF */
	struct out_buf out, err;	/* NUL-terminated */
	int status;			/* exit status, -1 killed */
};

static void buf_reserve(struct out_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	b->cap = (b->len + more + 1) * 2;
	b->p = realloc(b->p, b->cap);
	cr_assert_not_null(b->p);
}

static void child_free(struct child *c)
{
	free(c->out.p);
	free(c->err.p);
	memset(c, 0, sizeof(*c));
}

/* Starts xmbuf-capture with args inside ns (NULL: this namespace). */
static void child_spawn(struct child *c, const struct xm_netns *ns,
			const char *const *args)
{
	const char *argv[48];
	int n = 0;

	memset(c, 0, sizeof(*c));
	buf_reserve(&c->out, 4096);
	buf_reserve(&c->err, 4096);
	c->out.p[0] = c->err.p[0] = '\0';
	argv[n++] = capture_path();
	for (; args && args[n - 1] && n < 47; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	c->pid = xm_proc_spawn(ns, argv, 0, &c->out_fd, &c->err_fd);
	cr_assert(c->pid > 0, "spawn: %s", strerror(-c->pid));
	live_child = c->pid;
}

static void child_read(int *fd, struct out_buf *b)
{
	buf_reserve(b, 65536);
	xm_proc_read(fd, b->p, &b->len, b->cap);
}

static bool child_pump(struct child *c, int timeout_ms)
{
	int ready = xm_proc_poll(c->out_fd, c->err_fd, timeout_ms);

	if (ready < 0)
		return false;
	if (ready & 1)
		child_read(&c->out_fd, &c->out);
	if (ready & 2)
		child_read(&c->err_fd, &c->err);
	return true;
}

static bool child_wait_err(struct child *c, const char *needle, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;

	while (!strstr(c->err.p, needle) && xm_now_ms() < end)
		if (!child_pump(c, 50))
			break;
	return strstr(c->err.p, needle) != NULL;
}

/* Sends sig (0: none), reads until EOF, reaps within ms. */
static int child_finish(struct child *c, int sig, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	int status;

	if (sig)
		kill(c->pid, sig);
	while (xm_now_ms() < end && child_pump(c, 50))
		;
	status = xm_proc_reap(c->pid, end);
	live_child = 0;
	if (status == -ETIMEDOUT) {
		cr_log_error("xmbuf-capture overstayed; stderr:\n%s",
			     c->err.p);
		c->status = -1;
		return -1;
	}
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->status = status < 0 ? -1 : status;
	return c->status;
}

static int run_capture(struct child *c, const struct xm_netns *ns,
		       const char *const *args, int ms)
{
	child_spawn(c, ns, args);
	return child_finish(c, 0, ms);
}

/* A number from the --json summary (keys are unique in it). */
static uint64_t jnum(const struct child *c, const char *key)
{
	char pat[80];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(c->out.p, pat);
	cr_assert_not_null(p, "no '%s' in the summary:\n%s\nstderr:\n%s", key,
			   c->out.p, c->err.p);
	return strtoull(p + strlen(pat), NULL, 10);
}

static bool jtrue(const struct child *c, const char *key)
{
	char pat[80];

	snprintf(pat, sizeof(pat), "\"%s\":true", key);
	return strstr(c->out.p, pat) != NULL;
}

/* ------------------------------------------------------------ traffic */

struct sent {
	uint8_t *frame[MAX_PKTS];
	uint32_t len[MAX_PKTS];
	int n;
};

static struct sent sent;

static void sent_free(void)
{
	for (int i = 0; i < sent.n; i++)
		free(sent.frame[i]);
	memset(&sent, 0, sizeof(sent));
}

static struct xm_tframe tframe(const struct xm_veth *v, uint16_t dport,
			       uint32_t seq)
{
	struct xm_tframe t = {
		.dmac = v->mac_a, .smac = v->mac_b, .family = 4,
		.saddr = v->ip_b, .daddr = v->ip_a, .sport = 4000,
		.dport = dport, .seq = seq, .seed = 7,
	};

	return t;
}

/* Sends n frames of sizes[i % nsizes] from the peer end of v to
 * dport; keeps a copy of each in sent when keep. */
static void send_frames(const struct xm_veth *v, int n, const uint32_t *sizes,
			int nsizes, uint16_t dport, bool keep)
{
	int fd = xm_raw_open(&ns_peer, v->b);
	uint8_t *buf = malloc(MAX_FRAME);

	cr_assert_geq(fd, 0, "raw socket on %s: %s", v->b, strerror(-fd));
	cr_assert_not_null(buf);
	for (int i = 0; i < n; i++) {
		uint32_t len = sizes[i % nsizes];
		struct xm_tframe t = tframe(v, dport, (uint32_t)i);
		int err;

		cr_assert_eq(xm_tframe_build(buf, len, &t), len);
		err = xm_raw_send(fd, buf, len);
		cr_assert_eq(err, 0, "send %d (%u bytes): %s", i, len,
			     strerror(-err));
		if (keep) {
			cr_assert_lt(sent.n, MAX_PKTS);
			sent.frame[sent.n] = malloc(len);
			cr_assert_not_null(sent.frame[sent.n]);
			memcpy(sent.frame[sent.n], buf, len);
			sent.len[sent.n++] = len;
		}
		/* pace a little: the test checks content, not speed */
		if (i % 32 == 31)
			usleep(1000);
	}
	free(buf);
	close(fd);
}

/* ------------------------------------------------ reading files back */

struct rec {
	uint64_t ts_ns;
	uint32_t caplen, len;
	uint8_t *data;
};

struct pcap_read {
	struct rec r[MAX_PKTS * 2];
	int n;
	uint32_t snaplen;
};

static void pcap_read_free(struct pcap_read *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->r[i].data);
	p->n = 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Parses a classic pcap image (host order, us or ns) into *pr. */
static void parse_pcap(const uint8_t *d, size_t len, struct pcap_read *pr)
{
	uint32_t magic;
	size_t off = 24;

	cr_assert_geq(len, 24, "pcap too short (%zu bytes)", len);
	magic = rd32(d);
	cr_assert(magic == 0xa1b2c3d4u || magic == 0xa1b23c4du,
		  "pcap magic %08x", magic);
	pr->snaplen = rd32(d + 16);
	while (off < len) {
		struct rec *r;

		cr_assert_leq(off + 16, len, "record header cut");
		cr_assert_lt(pr->n, MAX_PKTS * 2);
		r = &pr->r[pr->n];
		r->ts_ns = (uint64_t)rd32(d + off) * 1000000000ull +
			   (magic == 0xa1b2c3d4u ?
			    (uint64_t)rd32(d + off + 4) * 1000 :
			    rd32(d + off + 4));
		r->caplen = rd32(d + off + 8);
		r->len = rd32(d + off + 12);
		cr_assert_leq(off + 16 + r->caplen, len, "record data cut");
		r->data = malloc(r->caplen ? r->caplen : 1);
		cr_assert_not_null(r->data);
		memcpy(r->data, d + off + 16, r->caplen);
		off += 16 + r->caplen;
		pr->n++;
	}
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	cr_assert_not_null(d);
	cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return d;
}

/* Reads a capture file the way a user would: `tcpdump -r`, converted to
 * a nanosecond pcap by tcpdump itself, then parsed here. */
static void tcpdump_read(const char *file, struct pcap_read *pr)
{
	char conv[] = "/tmp/xmbuf-conv-XXXXXX", cmd[3 * PATH_MAX];
	uint8_t *d;
	size_t len;
	int fd = mkstemp(conv);

	/* not next to the file: its file system may be full */
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "tcpdump -r '%s' --time-stamp-precision=nano -w '%s' "
		 ">/dev/null 2>&1", file, conv);
	cr_assert_eq(system(cmd), 0, "tcpdump -r %s failed", file);
	d = slurp(conv, &len);
	memset(pr, 0, sizeof(*pr));
	parse_pcap(d, len, pr);
	free(d);
	unlink(conv);
}

/*
 * The interface statistics block closing a pcapng file: *isb_recv etc.
 * get its counters (isb_ifrecv, isb_ifdrop, isb_filteraccept, isb_osdrop,
 * isb_usrdeliv, in that order); @return false when the file has none.
 * Walks the blocks on its own, checking each one's framing.
 */
static bool read_isb(const char *file, uint64_t cnt[5], int *epbs,
		     int *hashes)
{
	size_t len, off = 0;
	uint8_t *d = slurp(file, &len);
	bool found = false;

	*epbs = *hashes = 0;
	while (off + 12 <= len) {
		uint32_t type = rd32(d + off), blen = rd32(d + off + 4);

		cr_assert(blen >= 12 && blen % 4 == 0 && off + blen <= len &&
			  rd32(d + off + blen - 4) == blen,
			  "%s: bad block at %zu", file, off);
		if (type == 6) {
			uint32_t cap = rd32(d + off + 20);
			size_t o = off + 28 + ((cap + 3) & ~3u);

			(*epbs)++;
			while (o + 4 <= off + blen - 4) {
				uint16_t code, l;

				memcpy(&code, d + o, 2);
				memcpy(&l, d + o + 2, 2);
				if (code == 0)
					break;
				if (code == 3)
					(*hashes)++;
				o += 4 + l + ((4 - (l & 3)) & 3);
			}
		}
		if (type == 5) {
			size_t o = off + 20;

			found = true;
			while (o + 4 <= off + blen - 4) {
				uint16_t code, l;
				uint64_t v;

				memcpy(&code, d + o, 2);
				memcpy(&l, d + o + 2, 2);
				if (code == 0)
					break;
				if (code >= 4 && code <= 8 && l == 8) {
					memcpy(&v, d + o + 4, 8);
					cnt[code - 4] = v;
				}
				o += 4 + l + ((4 - (l & 3)) & 3);
			}
		}
		off += blen;
	}
	cr_assert_eq(off, len, "%s: trailing bytes", file);
	free(d);
	return found;
}

/* Runs a shell command and returns its stdout (caller frees). */
static char *sh_out(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char *out = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(f);
	cr_assert_not_null(out);
	n = fread(out, 1, (1 << 20) - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every record equals the frame sent in that position (snap: caplen). */
static void check_exact(const struct pcap_read *pr, uint32_t snaplen,
			uint64_t t_lo, uint64_t t_hi)
{
	cr_assert_eq(pr->n, sent.n, "%d packets read back, %d sent", pr->n,
		     sent.n);
	for (int i = 0; i < pr->n; i++) {
		const struct rec *r = &pr->r[i];
		uint32_t want = sent.len[i] < snaplen ? sent.len[i] : snaplen;

		cr_assert_eq(r->len, sent.len[i], "packet %d: length %u, "
			     "sent %u", i, r->len, sent.len[i]);
		cr_assert_eq(r->caplen, want, "packet %d: caplen %u", i,
			     r->caplen);
		cr_assert_eq(memcmp(r->data, sent.frame[i], want), 0,
			     "packet %d: bytes differ", i);
		cr_assert(r->ts_ns >= t_lo && r->ts_ns <= t_hi,
			  "packet %d: time %llu outside [%llu, %llu]", i,
			  (unsigned long long)r->ts_ns,
			  (unsigned long long)t_lo, (unsigned long long)t_hi);
		if (i)
			cr_assert_geq(r->ts_ns, pr->r[i - 1].ts_ns,
				      "packet %d: time went back", i);
	}
}

static void check_clean_exit(const struct child *c, const char *ifname)
{
	cr_assert(jtrue(c, "ok"), "frame audit failed:\n%s", c->out.p);
	cr_assert(xdp_detached(&ns_cap, ifname),
		  "an XDP program was left on %s", ifname);
}

/* Starts a capture with args and waits until it is receiving. */
static void start_capture(struct child *c, const char *const *args)
{
	child_spawn(c, &ns_cap, args);
	cr_assert(child_wait_err(c, "capturing on", 10000),
		  "xmbuf-capture did not start; stderr:\n%s", c->err.p);
}

static void file_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

TestSuite(capture, .timeout = 120);

/* ---------------------------------------------------------- round trip */

static void roundtrip(const char *fmt_opt, const char *expr, const char *name,
		      unsigned int mtu, const uint32_t *sizes, int nsizes,
		      int n)
{
	char file[PATH_MAX], count[16], *ts;
	const char *args[16];
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	struct child c;
	uint64_t t0, t1;
	int k = 0;

	cr_assert_not_null(pr);
	net_setup(1, mtu);
	file_in(file, sizeof(file), name);
	snprintf(count, sizeof(count), "%d", n);
	args[k++] = "-i";
	args[k++] = v1.a;
	args[k++] = "-w";
	args[k++] = file;
	args[k++] = "-c";
	args[k++] = count;
	args[k++] = "--json";
	args[k++] = "--duration";
	args[k++] = "30";
	if (fmt_opt)
		args[k++] = fmt_opt;
	if (expr)
		args[k++] = expr;
	args[k] = NULL;
	t0 = wall_ns();
	start_capture(&c, args);
	send_frames(&v1, n, sizes, nsizes, UDP_PORT, true);
	cr_assert_eq(child_finish(&c, 0, 20000), 0,
		     "exit status; stderr:\n%s", c.err.p);
	t1 = wall_ns();
	cr_assert_eq(jnum(&c, "received"), (uint64_t)n);
	cr_assert_eq(jnum(&c, "written"), (uint64_t)n);
	cr_assert_eq(jnum(&c, "dropped_ring_full"), 0);
	if (mtu > 4000)
		cr_assert(jtrue(&c, "multi_buffer"), "jumbo MTU binds "
			  "multi-buffer:\n%s", c.out.p);
	check_clean_exit(&c, v1.a);

	tcpdump_read(file, pr);
	check_exact(pr, 262144, t0, t1);
	pcap_read_free(pr);
	if (!fmt_opt) {
		/* the counters at the end of the file: received by the
		 * interface, accepted, delivered, nothing dropped */
		uint64_t isb[5] = { 0 };
		int epbs, hashes;

		cr_assert(read_isb(file, isb, &epbs, &hashes),
			  "no statistics block");
		cr_assert_eq(epbs, n);
		cr_assert_geq(isb[0], (uint64_t)n, "isb_ifrecv");
		cr_assert_eq(isb[1], 0, "isb_ifdrop");
		cr_assert_eq(isb[2], (uint64_t)n, "isb_filteraccept");
		cr_assert_eq(isb[3], 0, "isb_osdrop");
		cr_assert_eq(isb[4], (uint64_t)n, "isb_usrdeliv");
		cr_log_info("%d of %d packets carry an RSS hash", hashes, n);
	}

	/* tshark agrees on the count and the lengths */
	{
		char cmd[PATH_MAX + 128];
		char *line, *save = NULL;
		int i = 0;

		snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields "
			 "-e frame.len -e frame.interface_queue 2>/dev/null",
			 file);
		ts = sh_out(cmd);
		for (line = strtok_r(ts, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save), i++) {
			cr_assert_lt(i, sent.n, "tshark lists extra packets");
			cr_assert_eq(strtoul(line, NULL, 10), sent.len[i],
				     "tshark: packet %d length", i);
			if (!fmt_opt) {
				const char *tab = strchr(line, '\t');

				cr_assert(tab && tab[1] == '0',
					  "tshark: packet %d queue: '%s'", i,
					  line);
			}
		}
		cr_assert_eq(i, sent.n, "tshark read %d of %d packets", i,
			     sent.n);
		free(ts);
	}
	free(pr);
	sent_free();
	child_free(&c);
}

Test(capture, pcapng_jumbo_roundtrip, .fini = net_teardown)
{
	static const uint32_t sizes[] = { 60, 61, 64, 127, 512, 1514, 2048,
					  2049, 4000, 4097, 8000, 9000 };

	/* with a filter: chains are flattened for libpcap's program */
	roundtrip(NULL, "udp dst port 5000", "jumbo.pcapng", 9000, sizes, 12,
		  240);
}

Test(capture, pcap_us_roundtrip, .fini = net_teardown)
{
	static const uint32_t sizes[] = { 60, 100, 333, 1000, 1514, 9000 };

	roundtrip("--pcap", NULL, "us.pcap", 9000, sizes, 6, 120);
}

Test(capture, pcap_ns_roundtrip, .fini = net_teardown)
{
	static const uint32_t sizes[] = { 60, 128, 1514 };

	roundtrip("--nano", NULL, "ns.pcap", 1500, sizes, 3, 120);
}

/*
 * Every queue, one thread each, into one file: frames of many flows
 * spread over the veth's four queues (the sender's queue is the
 * receiver's); every frame is in the file once, each queue's frames in
 * their order, and the pcapng queue option says which queue it came by.
 */
Test(capture, all_queues_into_one_file, .fini = net_teardown)
{
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	static bool seen[MAX_PKTS];
	char file[PATH_MAX], cmd[PATH_MAX + 128], *ts, *line, *save = NULL;
	int fd, queues_seen = 0, i = 0;
	uint8_t *buf = malloc(2048);
	bool q_used[4] = { false };
	int64_t last_seq[4] = { -1, -1, -1, -1 };
	struct child c;

	cr_assert_not_null(pr);
	cr_assert_not_null(buf);
	net_setup_q(1, 1500, 4);
	file_in(file, sizeof(file), "mq.pcapng");
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"-c", "400", "--json", "--duration", "30", NULL });
	cr_assert(strstr(c.err.p, "4 queue(s)"), "stderr:\n%s", c.err.p);
	fd = xm_raw_open(&ns_peer, v1.b);
	cr_assert_geq(fd, 0);
	for (int k = 0; k < 400; k++) {
		struct xm_tframe t = tframe(&v1, UDP_PORT, (uint32_t)k);

		/* the veth picks the queue by the flow hash: many flows */
		t.sport = (uint16_t)(1000 + k % 64);
		cr_assert_eq(xm_tframe_build(buf, 200, &t), 200);
		cr_assert_eq(xm_raw_send(fd, buf, 200), 0);
		if (k % 32 == 31)
			usleep(1000);
	}
	close(fd);
	cr_assert_eq(child_finish(&c, 0, 20000), 0, "stderr:\n%s", c.err.p);
	check_clean_exit(&c, v1.a);
	cr_assert_eq(jnum(&c, "written"), 400);
	tcpdump_read(file, pr);
	cr_assert_eq(pr->n, 400);
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields "
		 "-e frame.interface_queue 2>/dev/null", file);
	ts = sh_out(cmd);
	for (line = strtok_r(ts, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		unsigned long q = strtoul(line, NULL, 10);
		uint32_t seq;
		uint16_t flow, dport;
		struct xm_tframe t = tframe(&v1, UDP_PORT, 0);

		cr_assert_lt(i, pr->n);
		cr_assert_lt(q, 4, "queue %lu", q);
		cr_assert(xm_tframe_parse(pr->r[i].data, pr->r[i].caplen, &t,
					  &seq, &flow, &dport));
		cr_assert_lt(seq, 400);
		cr_assert(!seen[seq], "packet %u twice", seq);
		seen[seq] = true;
		/* one queue is one thread: its packets stay in order */
		cr_assert_gt((int64_t)seq, last_seq[q], "queue %lu reordered",
			     q);
		last_seq[q] = seq;
		if (!q_used[q]) {
			q_used[q] = true;
			queues_seen++;
		}
	}
	cr_assert_eq(i, 400);
	cr_assert_gt(queues_seen, 1, "64 flows over 4 queues use several");
	free(ts);
	pcap_read_free(pr);
	child_free(&c);

	/* chosen queues only: the others' packets go on to the stack */
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"--queues", "0,2", "--json", "--duration", "30", NULL });
	cr_assert(strstr(c.err.p, "2 queue(s)"), "stderr:\n%s", c.err.p);
	fd = xm_raw_open(&ns_peer, v1.b);
	cr_assert_geq(fd, 0);
	for (int k = 0; k < 400; k++) {
		struct xm_tframe t = tframe(&v1, UDP_PORT, (uint32_t)k);

		t.sport = (uint16_t)(1000 + k % 64);
		cr_assert_eq(xm_tframe_build(buf, 200, &t), 200);
		cr_assert_eq(xm_raw_send(fd, buf, 200), 0);
		if (k % 32 == 31)
			usleep(1000);
	}
	close(fd);
	usleep(300000);
	cr_assert_eq(child_finish(&c, SIGINT, 20000), 0, "stderr:\n%s",
		     c.err.p);
	check_clean_exit(&c, v1.a);
	/* every packet the program saw was written or passed on (a stray
	 * packet of the peer's stack may come along) */
	cr_assert_eq(jnum(&c, "written") + jnum(&c, "xdp_no_socket"),
		     jnum(&c, "xdp_seen"), "%s", c.out.p);
	cr_assert_geq(jnum(&c, "xdp_seen"), 400);
	cr_assert_gt(jnum(&c, "xdp_no_socket"), 0);
	ts = sh_out(cmd);
	save = NULL;
	i = 0;
	for (line = strtok_r(ts, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		unsigned long q = strtoul(line, NULL, 10);

		cr_assert(q == 0 || q == 2, "packet %d came by queue %lu", i, q);
	}
	cr_assert_eq((uint64_t)i, jnum(&c, "written"));
	free(ts);
	free(pr);
	free(buf);
	child_free(&c);
}

/* ------------------------------------------------------------- filters */

/* Captures while frames go to dport 5000 (keep) and 6000 (other). */
static void filter_run(struct child *c, const char *file, const char *expr,
		       const uint32_t *sz_keep, const uint32_t *sz_other)
{
	const char *args[] = { "-i", v1.a, "-w", file, "--json", "--duration",
			       "30", expr, NULL };

	start_capture(c, args);
	send_frames(&v1, 100, sz_keep, 1, UDP_PORT, true);
	send_frames(&v1, 100, sz_other, 1, 6000, false);
	usleep(300000);
	cr_assert_eq(child_finish(c, SIGINT, 20000), 0, "stderr:\n%s",
		     c->err.p);
	check_clean_exit(c, v1.a);
}

Test(capture, filter_in_kernel_passes_the_rest_to_the_stack,
     .fini = net_teardown)
{
	static const uint32_t s[] = { 200 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX], buf[2048];
	struct child c;
	int udp, got = 0;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	udp = xm_udp_open(&ns_cap, v1.ip_a, 6000);
	cr_assert_geq(udp, 0, "udp socket: %s", strerror(-udp));
	file_in(file, sizeof(file), "k.pcapng");
	filter_run(&c, file, "udp dst port 5000", s, s);
	cr_assert_eq(jnum(&c, "kernel_rules"), 1, "the rule was pushed");
	cr_assert_eq(jnum(&c, "written"), 100);
	cr_assert_geq(jnum(&c, "filtered_kernel"), 100,
		      "port 6000 stays in the kernel:\n%s", c.out.p);
	cr_assert_eq(jnum(&c, "filtered_user"), 0);
	/* what the rules did not take reached the stack */
	while (recv(udp, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	cr_assert_eq(got, 100, "the UDP socket on port 6000 got %d", got);
	close(udp);
	tcpdump_read(file, pr);
	check_exact(pr, 262144, 0, UINT64_MAX);
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

Test(capture, filter_user_space_only, .fini = net_teardown)
{
	static const uint32_t big[] = { 300 }, small[] = { 100 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX];
	struct child c;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	file_in(file, sizeof(file), "u.pcapng");
	filter_run(&c, file, "greater 200", big, small);
	cr_assert_eq(jnum(&c, "kernel_rules"), 0);
	cr_assert(strstr(c.err.p, "kernel filter: none"), "stderr:\n%s",
		  c.err.p);
	cr_assert_eq(jnum(&c, "written"), 100);
	cr_assert_eq(jnum(&c, "filtered_user"), 100);
	tcpdump_read(file, pr);
	check_exact(pr, 262144, 0, UINT64_MAX);
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

Test(capture, filter_kernel_and_user_together, .fini = net_teardown)
{
	static const uint32_t big[] = { 400 }, small[] = { 80 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX];
	struct child c;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	file_in(file, sizeof(file), "ku.pcapng");
	/* kernel: udp; user space: the size test the rules cannot do */
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"--json", "--duration", "30", "udp", "and", "greater", "200",
		NULL });
	send_frames(&v1, 100, big, 1, UDP_PORT, true);
	send_frames(&v1, 100, small, 1, UDP_PORT, false);
	usleep(300000);
	cr_assert_eq(child_finish(&c, SIGINT, 20000), 0, "stderr:\n%s",
		     c.err.p);
	check_clean_exit(&c, v1.a);
	cr_assert_eq(jnum(&c, "kernel_rules"), 1);
	cr_assert_eq(jnum(&c, "written"), 100);
	cr_assert_eq(jnum(&c, "filtered_user"), 100);
	tcpdump_read(file, pr);
	check_exact(pr, 262144, 0, UINT64_MAX);
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

Test(capture, filter_no_match, .fini = net_teardown)
{
	static const uint32_t s[] = { 200 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX];
	struct child c;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	file_in(file, sizeof(file), "none.pcapng");
	filter_run(&c, file, "tcp", s, s);
	cr_assert_eq(jnum(&c, "written"), 0);
	cr_assert_eq(jnum(&c, "received"), 0, "tcp rule: UDP never left "
		     "the kernel");
	cr_assert_geq(jnum(&c, "filtered_kernel"), 200);
	tcpdump_read(file, pr);
	cr_assert_eq(pr->n, 0);
	free(pr);
	sent_free();
	child_free(&c);
}

/*
 * -B sets the RX ring per queue in 2 KiB frames, rounded up to a power of
 * two: below the smallest ring it is that ring, and a buffer whose fill
 * ring (twice the RX ring) is past the port's old 64k-entry limit opens
 * and captures every packet, small ones (copied into the record batch)
 * and large ones (written from their frames) alike.
 */
Test(capture, buffer_size_sets_the_ring, .fini = net_teardown)
{
	static const uint32_t sizes[] = { 60, 300, 1514 };
	static const struct { const char *kib; uint64_t ring; } cases[] = {
		{ "64", 256 },
		{ "131072", 65536 },
	};
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX];

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct child c;
		uint64_t t0, t1;

		file_in(file, sizeof(file), "ring.pcapng");
		t0 = wall_ns();
		start_capture(&c, (const char *const[]){ "-i", v1.a, "-w",
			file, "-B", cases[i].kib, "-c", "90", "--json",
			"--duration", "30", NULL });
		send_frames(&v1, 90, sizes, 3, UDP_PORT, true);
		cr_assert_eq(child_finish(&c, 0, 20000), 0,
			     "-B %s: exit status; stderr:\n%s", cases[i].kib,
			     c.err.p);
		t1 = wall_ns();
		cr_assert_eq(jnum(&c, "rx_ring"), cases[i].ring, "-B %s",
			     cases[i].kib);
		cr_assert_eq(jnum(&c, "written"), 90);
		cr_assert_eq(jnum(&c, "dropped_ring_full"), 0);
		check_clean_exit(&c, v1.a);
		tcpdump_read(file, pr);
		check_exact(pr, 262144, t0, t1);
		pcap_read_free(pr);
		sent_free();
		child_free(&c);
		unlink(file);
	}
	free(pr);
}

/* ------------------------------------------------- rotation, snaplen */

Test(capture, rotation_by_size_and_count, .fini = net_teardown)
{
	static const uint32_t s[] = { 1000 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char base[PATH_MAX], name[PATH_MAX + 8];
	struct child c;
	uint32_t next_seq = 0;
	uint64_t files;
	int total = 0;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	file_in(base, sizeof(base), "ring");
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", base,
		"-C", "20k", "-W", "3", "-c", "200", "--json", "--duration",
		"30", NULL });
	send_frames(&v1, 200, s, 1, UDP_PORT, true);
	cr_assert_eq(child_finish(&c, 0, 20000), 0, "stderr:\n%s", c.err.p);
	check_clean_exit(&c, v1.a);
	cr_assert_eq(jnum(&c, "written"), 200);
	files = jnum(&c, "files");
	cr_assert_gt(files, 6, "200 KB in 20 KiB files: %llu",
		     (unsigned long long)files);
	/* three files remain, ring0..ring2, each under the size; together
	 * they hold the last packets, in order */
	snprintf(name, sizeof(name), "%s3", base);
	cr_assert(access(name, F_OK) != 0, "no fourth file");
	cr_assert(access(base, F_OK) != 0, "-W numbers every file");
	for (uint64_t f = files - 3; f < files; f++) {
		struct stat st;

		snprintf(name, sizeof(name), "%s%llu", base,
			 (unsigned long long)(f % 3));
		cr_assert_eq(stat(name, &st), 0, "%s", name);
		cr_assert_leq(st.st_size, 20 * 1024, "%s: %lld bytes", name,
			      (long long)st.st_size);
		tcpdump_read(name, pr);
		cr_assert_gt(pr->n, 0);
		for (int i = 0; i < pr->n; i++) {
			uint32_t seq, want;
			uint16_t flow, dport;
			struct xm_tframe t = tframe(&v1, UDP_PORT, 0);

			cr_assert(xm_tframe_parse(pr->r[i].data,
						  pr->r[i].caplen, &t, &seq,
						  &flow, &dport));
			if (f == files - 3 && i == 0)
				next_seq = seq;
			want = next_seq++;
			cr_assert_eq(seq, want, "%s: packet %d", name, i);
			cr_assert_eq(memcmp(pr->r[i].data, sent.frame[seq],
					    pr->r[i].caplen), 0);
		}
		total += pr->n;
		pcap_read_free(pr);
	}
	cr_assert_eq(next_seq, 200, "the last file ends with the last packet");
	cr_assert_lt(total, 200);
	free(pr);
	sent_free();
	child_free(&c);
}

Test(capture, snaplen_cuts_packets, .fini = net_teardown)
{
	static const uint32_t s[] = { 60, 100, 101, 500, 1514 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX];
	struct child c;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	file_in(file, sizeof(file), "snap.pcapng");
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"-s", "100", "-c", "50", "--json", "--duration", "30", NULL });
	send_frames(&v1, 50, s, 5, UDP_PORT, true);
	cr_assert_eq(child_finish(&c, 0, 20000), 0, "stderr:\n%s", c.err.p);
	check_clean_exit(&c, v1.a);
	tcpdump_read(file, pr);
	cr_assert_eq(pr->snaplen, 100);
	check_exact(pr, 100, 0, UINT64_MAX);
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

/* ------------------------------------------------------------- tap */

Test(capture, tap_forwards_every_packet, .fini = net_teardown)
{
	static const uint32_t s[] = { 60, 200, 1514, 700 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	uint8_t *buf = malloc(MAX_FRAME);
	char file[PATH_MAX];
	struct child c;
	int rx, got = 0;

	cr_assert_not_null(pr);
	cr_assert_not_null(buf);
	net_setup(2, 1500);
	file_in(file, sizeof(file), "tap.pcapng");
	rx = xm_raw_open(&ns_peer, v2.b);
	cr_assert_geq(rx, 0, "raw socket on %s: %s", v2.b, strerror(-rx));
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"--tap", v2.a, "-c", "200", "--json", "--duration", "30",
		NULL });
	send_frames(&v1, 200, s, 4, UDP_PORT, true);
	/* the far end of the tap sees every frame, in order, unchanged */
	while (got < 200) {
		ssize_t n = xm_raw_recv(rx, buf, MAX_FRAME, 3000);

		cr_assert_gt(n, 0, "tap delivered %d of 200", got);
		cr_assert_eq((uint32_t)n, sent.len[got], "tap frame %d", got);
		cr_assert_eq(memcmp(buf, sent.frame[got], (size_t)n), 0,
			     "tap frame %d bytes", got);
		got++;
	}
	cr_assert_eq(child_finish(&c, 0, 20000), 0, "stderr:\n%s", c.err.p);
	check_clean_exit(&c, v1.a);
	cr_assert(xdp_detached(&ns_cap, v2.a));
	cr_assert_eq(jnum(&c, "tap_forwarded"), 200);
	cr_assert_eq(jnum(&c, "tap_dropped"), 0);
	/* the TX ring sent the received frames themselves: no byte copied */
	cr_assert_eq(jnum(&c, "tx_copied"), 0, "%s", c.out.p);
	cr_assert_eq(jnum(&c, "tx_completions"), 200);
	tcpdump_read(file, pr);
	check_exact(pr, 262144, 0, UINT64_MAX);
	pcap_read_free(pr);
	close(rx);
	free(buf);
	free(pr);
	sent_free();
	child_free(&c);
}

/* ------------------------------------------------------- disk full */

Test(capture, disk_full_is_counted, .fini = net_teardown)
{
	static const uint32_t s[] = { 1000 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	char file[PATH_MAX];
	struct child c;
	uint64_t written, unwritten;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	/* a private mount namespace: the tmpfs is this test's alone */
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("tmpfs", tmpdir, "tmpfs", 0, "size=128k"), 0,
		     "mount tmpfs: %s", strerror(errno));
	tmpfs_mounted = true;
	file_in(file, sizeof(file), "full.pcapng");
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"-c", "400", "--json", "--duration", "30", NULL });
	send_frames(&v1, 400, s, 1, UDP_PORT, true);
	cr_assert_eq(child_finish(&c, 0, 20000), 1,
		     "lost packets make exit status 1; stderr:\n%s", c.err.p);
	cr_assert(strstr(c.err.p, "No space left on device"),
		  "the message names the cause:\n%s", c.err.p);
	cr_assert(strstr(c.err.p, "were not written"), "stderr:\n%s",
		  c.err.p);
	check_clean_exit(&c, v1.a);
	written = jnum(&c, "written");
	unwritten = jnum(&c, "unwritten_disk_full");
	cr_assert_gt(written, 0);
	cr_assert_gt(unwritten, 0);
	cr_assert_eq(written + unwritten, 400, "every packet accounted for");
	cr_assert_eq(jnum(&c, "received"), 400);
	/* the file holds whole records: tcpdump reads exactly `written` */
	tcpdump_read(file, pr);
	cr_assert_eq((uint64_t)pr->n, written);
	for (int i = 0; i < pr->n; i++)
		cr_assert_eq(memcmp(pr->r[i].data, sent.frame[i], 1000), 0);
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

/* ---------------------------------------------------- privilege drop */

Test(capture, privilege_drop, .fini = net_teardown)
{
	static const uint32_t s[] = { 300 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	struct passwd *pw = getpwnam("nobody");
	char file[PATH_MAX], status[PATH_MAX], *st;
	struct child c;
	struct stat sb;
	char want[64];

	cr_assert_not_null(pr);
	if (!pw)
		cr_skip_test("no user 'nobody' on this machine");
	net_setup(1, 1500);
	/* tcpdump -Z opens its files as the user: the directory is theirs */
	cr_assert_eq(chmod(tmpdir, 0777), 0);
	file_in(file, sizeof(file), "z.pcapng");
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", file,
		"-Z", "nobody", "-c", "100", "--json", "--duration", "30",
		NULL });
	snprintf(status, sizeof(status), "cat /proc/%d/status", c.pid);
	st = sh_out(status);
	snprintf(want, sizeof(want), "Uid:\t%u\t%u\t%u\t%u", pw->pw_uid,
		 pw->pw_uid, pw->pw_uid, pw->pw_uid);
	cr_assert(strstr(st, want), "the capture runs as nobody:\n%s", st);
	free(st);
	send_frames(&v1, 100, s, 1, UDP_PORT, true);
	cr_assert_eq(child_finish(&c, 0, 20000), 0, "stderr:\n%s", c.err.p);
	cr_assert_eq(jnum(&c, "uid"), pw->pw_uid);
	/* the program still came off the interface (CAP_NET_ADMIN kept) */
	check_clean_exit(&c, v1.a);
	cr_assert_eq(stat(file, &sb), 0);
	cr_assert_eq(sb.st_uid, pw->pw_uid, "the file belongs to nobody");
	tcpdump_read(file, pr);
	check_exact(pr, 262144, 0, UINT64_MAX);
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

/* ------------------------------------------------------------ -w - */

Test(capture, stream_to_stdout, .fini = net_teardown)
{
	static const uint32_t s[] = { 64, 1514 };
	struct pcap_read *pr = calloc(1, sizeof(*pr));
	struct child c;

	cr_assert_not_null(pr);
	net_setup(1, 1500);
	start_capture(&c, (const char *const[]){ "-i", v1.a, "-w", "-",
		"-c", "60", "--json", "--duration", "30", NULL });
	send_frames(&v1, 60, s, 2, UDP_PORT, true);
	cr_assert_eq(child_finish(&c, 0, 20000), 0, "stderr:\n%s", c.err.p);
	/* the summary went to stderr; stdout is the pcap stream */
	cr_assert(strstr(c.err.p, "\"written\":60"), "stderr:\n%s", c.err.p);
	parse_pcap((const uint8_t *)c.out.p, c.out.len, pr);
	check_exact(pr, 262144, 0, UINT64_MAX);
	cr_assert(xdp_detached(&ns_cap, v1.a));
	pcap_read_free(pr);
	free(pr);
	sent_free();
	child_free(&c);
}

/* -------------------------------------------------------------- errors */

Test(capture, errors_leave_nothing_attached, .fini = net_teardown)
{
	char file[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	struct child c;
	int fd;

	net_setup(1, 1500);

	cr_assert_eq(run_capture(&c, &ns_cap, (const char *const[]){
		"-i", "xmnosuch0", "-w", "/tmp/x.pcap", NULL }, 10000), 1);
	cr_assert(strstr(c.err.p, "unknown interface 'xmnosuch0'"),
		  "stderr:\n%s", c.err.p);
	child_free(&c);

	cr_assert_eq(run_capture(&c, &ns_cap, (const char *const[]){
		"-i", v1.a, "-w", "/tmp/x.pcap", "udp", "port", NULL },
		10000), 2);
	cr_assert(strstr(c.err.p, "invalid filter expression"), "stderr:\n%s",
		  c.err.p);
	cr_assert(xdp_detached(&ns_cap, v1.a));
	child_free(&c);

	/* an unwritable path: the port was up, and comes down again */
	cr_assert_eq(run_capture(&c, &ns_cap, (const char *const[]){
		"-i", v1.a, "-w", "/nonexistent-xmbuf/dir/f.pcap", NULL },
		10000), 1);
	cr_assert(strstr(c.err.p, "/nonexistent-xmbuf/dir/f.pcap") &&
		  strstr(c.err.p, "No such file or directory"),
		  "stderr:\n%s", c.err.p);
	cr_assert(xdp_detached(&ns_cap, v1.a));
	child_free(&c);

	/* a directory the user may not write to (-Z: files are created as
	 * the user): permission denied, and the program comes off */
	if (getpwnam("nobody")) {
		file_in(file, sizeof(file), "denied.pcapng");
		cr_assert_eq(run_capture(&c, &ns_cap, (const char *const[]){
			"-i", v1.a, "-w", file, "-Z", "nobody", NULL }, 10000),
			1);
		cr_assert(strstr(c.err.p, "Permission denied") &&
			  strstr(c.err.p, file), "stderr:\n%s", c.err.p);
		cr_assert(xdp_detached(&ns_cap, v1.a));
		child_free(&c);
	}

	/* a symbolic link at the output path is refused, its target kept */
	file_in(target, sizeof(target), "target");
	file_in(link, sizeof(link), "link.pcap");
	fd = open(target, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "keep", 4), 4);
	close(fd);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(run_capture(&c, &ns_cap, (const char *const[]){
		"-i", v1.a, "-w", link, NULL }, 10000), 1);
	cr_assert(strstr(c.err.p, "symbolic link"), "stderr:\n%s", c.err.p);
	{
		struct stat st;

		cr_assert_eq(stat(target, &st), 0);
		cr_assert_eq(st.st_size, 4, "the target was not written");
	}
	cr_assert(xdp_detached(&ns_cap, v1.a));
	child_free(&c);

	file_in(file, sizeof(file), "x.pcap");
	cr_assert_eq(run_capture(&c, &ns_cap, (const char *const[]){
		"-i", v1.a, "-w", file, "-Z", "xmnosuchuser", NULL }, 10000),
		1);
	cr_assert(strstr(c.err.p, "unknown user"), "stderr:\n%s", c.err.p);
	child_free(&c);
}

Test(capture, usage_errors)
{
	struct child c;
	static const char *const bad[][8] = {
		{ "-w", "/tmp/x.pcap", NULL },			/* no -i */
		{ "-i", "lo", NULL },				/* no -w */
		{ "-i", "lo", "-w", "x", "-c", "0", NULL },
		{ "-i", "lo", "-w", "x", "-c", "abc", NULL },
		{ "-i", "lo", "-w", "-", "-C", "1", NULL },
		{ "-i", "lo", "-w", "x", "-W", "3", NULL },
		{ "-i", "lo", "-w", "x", "--pcap", "--pcapng", NULL },
		{ "-i", "lo", "-w", "x", "--bogus", NULL },
		{ "-i", "lo", "-w", "x", "-B", "63", NULL },
		{ "-i", "lo", "-w", "x", "-B", "4194305", NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(run_capture(&c, NULL, bad[i], 10000), 2,
			     "case %zu: stderr:\n%s", i, c.err.p);
		cr_assert(strstr(c.err.p, "--help"), "case %zu", i);
		child_free(&c);
	}
	cr_assert_eq(run_capture(&c, NULL, (const char *const[]){ "--help",
		NULL }, 10000), 0);
	cr_assert(strstr(c.out.p, "usage: xmbuf-capture -i IF -w FILE"));
	child_free(&c);
}

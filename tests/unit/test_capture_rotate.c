// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture_rotate.c - xmbuf-capture's output files
 * (examples/capture/cap_rotate.c, cap_out.c): tcpdump's naming rules for
 * -C/-G/-W, clock-aligned periods, the -W ring, and the writer's
 * behaviour around them: size and time rotation leave whole files
 * libpcap reads, the ring keeps N files, a full disk (RLIMIT_FSIZE's
 * EFBIG stands in for ENOSPC) leaves a readable file and an exact count
 * of what was not written, writing resumes when room comes back, and a
 * symbolic link at the output path is never followed.  A first file that
 * another user prepared (or that has other names) is replaced, never
 * written into; another's FIFO is refused.  A stream whose reader stops
 * reading gives up after the stop's grace, at a record boundary.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../examples/capture/cap_out.h"
#include "../../examples/capture/cap_rotate.h"

#define NS		1000000000ull
#define T0		(1700000000ull * NS)	/* 2023-11-14 22:13:20 UTC */

static char dir[PATH_MAX];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xmbuf-rot-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* file-size limits must show up as EFBIG, not kill the test */
	signal(SIGXFSZ, SIG_IGN);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

TestSuite(capture_rotate, .init = setup, .fini = teardown);

/* ------------------------------------------------------------- naming */

Test(capture_rotate, width_is_digits_of_n_minus_one)
{
	cr_assert_eq(cap_rotate_width(0), 0);
	cr_assert_eq(cap_rotate_width(1), 0);
	cr_assert_eq(cap_rotate_width(2), 1);
	cr_assert_eq(cap_rotate_width(10), 1);
	cr_assert_eq(cap_rotate_width(11), 2);
	cr_assert_eq(cap_rotate_width(100), 2);
	cr_assert_eq(cap_rotate_width(101), 3);
}

Test(capture_rotate, names_follow_tcpdump)
{
	char b[PATH_MAX];
	time_t t = (time_t)(T0 / NS);

	cr_assert_eq(cap_rotate_name(b, sizeof(b), "cap", false, t, 0, 0), 0);
	cr_assert_str_eq(b, "cap", "first -C file: no suffix");
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "cap", false, t, 1, 0), 0);
	cr_assert_str_eq(b, "cap1");
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "cap", false, t, 0, 2), 0);
	cr_assert_str_eq(b, "cap00", "-W pads from the first file on");
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "cap", false, t, 7, 2), 0);
	cr_assert_str_eq(b, "cap07");
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "c-%Y%m%d-%H%M%S", true, t,
				     0, 0), 0);
	cr_assert_str_eq(b, "c-20231114-221320");
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "c-%H%M", true, t, 3, 1),
		     0);
	cr_assert_str_eq(b, "c-22133");
	/* a pattern without % is used as it is */
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "plain", true, t, 0, 0), 0);
	cr_assert_str_eq(b, "plain");
}

Test(capture_rotate, name_errors)
{
	char b[8];
	time_t t = (time_t)(T0 / NS);

	cr_assert_eq(cap_rotate_name(b, sizeof(b), "", false, t, 0, 0),
		     -EINVAL);
	cr_assert_eq(cap_rotate_name(b, sizeof(b), NULL, false, t, 0, 0),
		     -EINVAL);
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "abcdefgh", false, t, 0, 0),
		     -ENAMETOOLONG);
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "abcdef", false, t, 12, 0),
		     -ENAMETOOLONG);
	cr_assert_eq(cap_rotate_name(b, sizeof(b), "%p", true, t, 0, 0) == 0 ||
		     cap_rotate_name(b, sizeof(b), "%p", true, t, 0, 0) ==
		     -EINVAL, 1);
}

Test(capture_rotate, periods_align_to_the_clock)
{
	time_t s, e;

	cap_rotate_period(1000, 60, &s, &e);
	cr_assert(s == 960 && e == 1020);
	cap_rotate_period(960, 60, &s, &e);
	cr_assert(s == 960 && e == 1020, "a boundary starts a period");
	cap_rotate_period(1700000123, 3600, &s, &e);
	cr_assert(s == 1699999200 && e == 1700002800);
	cap_rotate_period(1000, 0, &s, &e);
	cr_assert(s == 1000 && e == 1000);
}

Test(capture_rotate, ring_evicts_the_oldest)
{
	struct cap_ring r;
	char *ev;

	cr_assert_eq(cap_ring_init(&r, 0), -EINVAL);
	cr_assert_eq(cap_ring_init(&r, 3), 0);
	cr_assert_eq(cap_ring_push(&r, "a", &ev), 0);
	cr_assert_null(ev);
	cr_assert_eq(cap_ring_push(&r, "b", &ev), 0);
	cr_assert_eq(cap_ring_push(&r, "c", &ev), 0);
	cr_assert_null(ev);
	cr_assert_eq(cap_ring_push(&r, "d", &ev), 0);
	cr_assert_str_eq(ev, "a");
	free(ev);
	/* a reused name is the same file: no eviction, order kept */
	cr_assert_eq(cap_ring_push(&r, "c", &ev), 0);
	cr_assert_null(ev);
	cr_assert_eq(cap_ring_push(&r, "e", &ev), 0);
	cr_assert_str_eq(ev, "b");
	free(ev);
	cr_assert_eq(cap_ring_push(&r, "f", &ev), 0);
	cr_assert_str_eq(ev, "d");
	free(ev);
	cap_ring_fini(&r);
}

/* ------------------------------------------------------------- writer */

#define PKT_LEN		1000

static uint8_t pkt[PKT_LEN];
static struct cap_batch batch;

static void fill_batch(enum cap_format f, unsigned int n, uint32_t first_seq)
{
	cap_batch_init(&batch, f);
	for (unsigned int i = 0; i < n; i++) {
		/* every record references the same bytes; the sequence
		 * number lives in the timestamp */
		struct cap_pkt_meta pm = {
			.ts_ns = T0 + first_seq + i, .wirelen = PKT_LEN,
			.caplen = PKT_LEN,
		};
		struct iovec seg = { pkt, PKT_LEN };

		cr_assert_eq(cap_batch_add(&batch, &pm, &seg, 1), 0);
	}
}

/* Packets in a file per libpcap, checking the sequence from *seq on. */
static int read_file(const char *path, uint32_t *seq)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0, rc;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path,
		PCAP_TSTAMP_PRECISION_NANO, err);

	cr_assert_not_null(p, "libpcap cannot read %s: %s", path, err);
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		cr_assert_eq(h->caplen, PKT_LEN);
		cr_assert_eq((uint32_t)h->ts.tv_usec, (T0 + *seq) % NS,
			     "%s: packet %d out of order", path, n);
		(*seq)++;
		n++;
	}
	cr_assert_eq(rc, PCAP_ERROR_BREAK, "%s: %s", path, pcap_geterr(p));
	pcap_close(p);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_size;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static struct cap_out_opts opts(const char *path, enum cap_format f)
{
	struct cap_out_opts o = {
		.path = path,
		.info = { .format = f, .snaplen = 65535,
			  .linktype = CAP_LINKTYPE_ETHERNET,
			  .ifname = "test0" },
	};

	return o;
}

Test(capture_rotate, size_rotation_keeps_files_whole)
{
	char base[PATH_MAX], name[PATH_MAX + 32];
	struct cap_out_opts o;
	struct cap_out_stats st;
	struct cap_out *out;
	uint32_t seq = 0;
	int total = 0;

	path_of(base, sizeof(base), "sz");
	o = opts(base, CAP_FMT_PCAPNG);
	o.rotate_bytes = 20000;
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);
	for (int i = 0; i < 10; i++) {
		fill_batch(CAP_FMT_PCAPNG, 10, (uint32_t)i * 10);
		cr_assert_eq(cap_out_write(out, &batch, T0), 0);
	}
	cap_out_stats(out, &st);
	cr_assert_eq(st.packets, 100);
	cr_assert_eq(cap_out_close(out, T0), 0);
	cr_assert_gt(st.files, 4);
	/* FILE, FILE1, FILE2, ...: each under the limit, all in order */
	for (uint64_t f = 0; f < st.files; f++) {
		if (f == 0)
			snprintf(name, sizeof(name), "%s", base);
		else
			snprintf(name, sizeof(name), "%s%llu", base,
				 (unsigned long long)f);
		cr_assert_leq(file_size(name), 20000, "%s too large", name);
		total += read_file(name, &seq);
	}
	cr_assert_eq(total, 100);
	snprintf(name, sizeof(name), "%s%llu", base,
		 (unsigned long long)st.files);
	cr_assert(!exists(name));
}

Test(capture_rotate, ring_reuses_n_names)
{
	char base[PATH_MAX], name[PATH_MAX + 32];
	struct cap_out_opts o;
	struct cap_out_stats st;
	struct cap_out *out;
	uint32_t seq;
	int total = 0;

	path_of(base, sizeof(base), "ring");
	o = opts(base, CAP_FMT_PCAP_NS);
	o.rotate_bytes = 5000;	/* 4 packets of 1016 bytes per file */
	o.ring_files = 3;
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);
	for (int i = 0; i < 5; i++) {
		fill_batch(CAP_FMT_PCAP_NS, 10, (uint32_t)i * 10);
		cr_assert_eq(cap_out_write(out, &batch, T0), 0);
	}
	cap_out_stats(out, &st);
	cr_assert_eq(cap_out_close(out, T0), 0);
	cr_assert_eq(st.files, 13, "50 packets, 4 per file");
	cr_assert(!exists(base), "-W names carry the count from the start");
	/* files 10, 11, 12 remain as ring0, ring1, ring2: packets 40..49 */
	seq = 40;
	for (int f = 1; f <= 3; f++) {
		int slot = (10 + f - 1) % 3;

		snprintf(name, sizeof(name), "%s%d", base, slot);
		cr_assert(exists(name), "%s", name);
		total += read_file(name, &seq);
	}
	cr_assert_eq(total, 10);
	snprintf(name, sizeof(name), "%s3", base);
	cr_assert(!exists(name));
}

Test(capture_rotate, time_rotation_on_clock_boundaries)
{
	char pat[PATH_MAX], name[PATH_MAX];
	struct cap_out_opts o;
	struct cap_out_stats st;
	struct cap_out *out;
	uint64_t t = T0 + 50 * NS;	/* 22:14:10 */
	uint32_t seq = 0;

	path_of(pat, sizeof(pat), "t-%H%M%S");
	o = opts(pat, CAP_FMT_PCAPNG);
	o.rotate_secs = 60;
	o.ring_files = 2;
	cr_assert_eq(cap_out_open(&out, &o, t), 0);
	fill_batch(CAP_FMT_PCAPNG, 3, 0);
	cr_assert_eq(cap_out_write(out, &batch, t), 0);
	/* 22:15:00 is the next boundary: a tick past it rotates */
	cr_assert_eq(cap_out_tick(out, T0 + 99 * NS), 0);
	cr_assert_str_eq(strrchr(cap_out_current(out), '/') + 1, "t-221400");
	cr_assert_eq(cap_out_tick(out, T0 + 100 * NS), 0);
	cr_assert_str_eq(strrchr(cap_out_current(out), '/') + 1, "t-221500");
	fill_batch(CAP_FMT_PCAPNG, 3, 3);
	cr_assert_eq(cap_out_write(out, &batch, T0 + 101 * NS), 0);
	/* a write in a later period rotates first; the ring keeps two */
	fill_batch(CAP_FMT_PCAPNG, 3, 6);
	cr_assert_eq(cap_out_write(out, &batch, T0 + 170 * NS), 0);
	cap_out_stats(out, &st);
	cr_assert_eq(cap_out_close(out, T0 + 171 * NS), 0);
	cr_assert_eq(st.files, 3);
	path_of(name, sizeof(name), "t-221400");
	cr_assert(!exists(name), "the oldest file left the ring");
	seq = 3;
	path_of(name, sizeof(name), "t-221500");
	cr_assert_eq(read_file(name, &seq), 3);
	path_of(name, sizeof(name), "t-221600");
	cr_assert_eq(read_file(name, &seq), 3);
}

Test(capture_rotate, disk_full_counts_and_resumes)
{
	char path[PATH_MAX];
	struct cap_out_opts o;
	struct cap_out_stats st;
	struct cap_out *out;
	struct rlimit old, lim;
	uint32_t seq = 0;
	int n;

	path_of(path, sizeof(path), "full");
	o = opts(path, CAP_FMT_PCAPNG);
	o.retry_ns = NS;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 30000;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);
	for (int i = 0; i < 10; i++) {
		int err;

		fill_batch(CAP_FMT_PCAPNG, 10, (uint32_t)i * 10);
		err = cap_out_write(out, &batch, T0);
		cr_assert(err == 0 || err == -ENOSPC, "write: %d", err);
	}
	cap_out_stats(out, &st);
	cr_assert_eq(st.error, 0, "a full disk does not kill the output");
	cr_assert_eq(st.full_episodes, 1);
	cr_assert_gt(st.unwritten_full, 0);
	cr_assert_eq(st.packets + st.unwritten_full, 100);
	cr_assert_leq(file_size(path), 30000);
	/* whole records only: what libpcap reads is what was counted */
	n = read_file(path, &seq);
	cr_assert_eq((uint64_t)n, st.packets);

	/* room again: before retry_ns nothing is tried, after it writes */
	lim.rlim_cur = old.rlim_cur;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	fill_batch(CAP_FMT_PCAPNG, 5, (uint32_t)st.packets);
	cr_assert_eq(cap_out_write(out, &batch, T0 + NS / 2), -ENOSPC);
	cr_assert_eq(cap_out_write(out, &batch, T0 + 2 * NS), 0);
	cap_out_stats(out, &st);
	cr_assert_eq(st.packets + st.unwritten_full, 110);
	cr_assert_eq(cap_out_close(out, T0 + 3 * NS), 0);
	seq = 0;
	cr_assert_eq((uint64_t)read_file(path, &seq), st.packets);
}

Test(capture_rotate, header_that_does_not_fit)
{
	char path[PATH_MAX];
	struct cap_out_opts o;
	struct cap_out *out;
	struct rlimit lim;

	path_of(path, sizeof(path), "nohdr");
	o = opts(path, CAP_FMT_PCAPNG);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
	lim.rlim_cur = 10;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_assert_eq(cap_out_open(&out, &o, T0), -EFBIG);
	cr_assert_eq(file_size(path), 0, "no half header left behind");
}

Test(capture_rotate, symlink_is_never_followed)
{
	char link[PATH_MAX], target[PATH_MAX], base[PATH_MAX];
	char name[PATH_MAX + 32];
	struct cap_out_opts o;
	struct cap_out *out;
	int fd;

	path_of(target, sizeof(target), "target");
	path_of(link, sizeof(link), "link");
	fd = open(target, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "keep", 4), 4);
	close(fd);
	cr_assert_eq(symlink(target, link), 0);
	o = opts(link, CAP_FMT_PCAP_US);
	cr_assert_eq(cap_out_open(&out, &o, T0), -ELOOP);
	cr_assert_eq(file_size(target), 4, "the link's target is untouched");

	/* a link planted at a rotation target is replaced, not followed */
	path_of(base, sizeof(base), "rot");
	snprintf(name, sizeof(name), "%s1", base);
	cr_assert_eq(symlink(target, name), 0);
	o = opts(base, CAP_FMT_PCAP_US);
	o.rotate_bytes = 2500;
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);
	for (int i = 0; i < 3; i++) {
		fill_batch(CAP_FMT_PCAP_US, 2, (uint32_t)i * 2);
		cr_assert_eq(cap_out_write(out, &batch, T0), 0);
	}
	cr_assert_eq(cap_out_close(out, T0), 0);
	cr_assert_eq(file_size(target), 4);
	{
		struct stat st;

		cr_assert_eq(lstat(name, &st), 0);
		cr_assert(S_ISREG(st.st_mode), "%s is a regular file now",
			  name);
	}
}

Test(capture_rotate, open_errors)
{
	struct cap_out_opts o = opts("/nonexistent-xmbuf-dir/x.pcap",
				     CAP_FMT_PCAP_US);
	struct cap_out *out;

	cr_assert_eq(cap_out_open(&out, &o, T0), -ENOENT);
	cr_assert_null(out);
	o.path = "-";
	o.rotate_bytes = 1000;
	cr_assert_eq(cap_out_open(&out, &o, T0), -EINVAL);
	o.path = "";
	cr_assert_eq(cap_out_open(&out, &o, T0), -EINVAL);
	o.path = dir;	/* a directory */
	o.rotate_bytes = 0;
	cr_assert_lt(cap_out_open(&out, &o, T0), 0);
	cr_assert_eq(cap_out_close(NULL, T0), 0);
}

Test(capture_rotate, closed_pipe_stops_the_output)
{
	struct cap_out_opts o = opts("-", CAP_FMT_PCAP_US);
	struct cap_out_stats st;
	struct cap_out *out;
	int p[2], saved = dup(STDOUT_FILENO);

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[1]);
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);
	close(p[0]);
	fill_batch(CAP_FMT_PCAP_US, 10, 0);
	cr_assert_eq(cap_out_write(out, &batch, T0), -EPIPE);
	cr_assert_eq(cap_out_write(out, &batch, T0), -EPIPE,
		     "a dead output stays dead");
	cap_out_stats(out, &st);
	cr_assert_eq(st.error, EPIPE);
	cr_assert_eq(st.unwritten_error, 20);
	cap_out_close(out, T0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

/* ------------------------------------------- the first file's owner */

#define OTHER_UID	65534	/* "nobody" on most systems */

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: files of another user need root "
			     "(chown)");
}

static void write_text(const char *path, const char *text, uid_t uid)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchown(fd, uid, (gid_t)-1), 0);
	close(fd);
}

static void capture_into(const char *path)
{
	struct cap_out_opts o = opts(path, CAP_FMT_PCAPNG);
	struct cap_out *out;

	cr_assert_eq(cap_out_open(&out, &o, T0), 0, "%s", path);
	fill_batch(CAP_FMT_PCAPNG, 5, 0);
	cr_assert_eq(cap_out_write(out, &batch, T0), 0);
	cr_assert_eq(cap_out_close(out, T0), 0);
}

/* What an open descriptor still reads: the old file's bytes. */
static void fd_holds(int fd, const char *text)
{
	char buf[64] = { 0 };

	cr_assert_eq(pread(fd, buf, sizeof(buf) - 1, 0), (ssize_t)strlen(text));
	cr_assert_str_eq(buf, text);
}

Test(capture_rotate, another_users_file_is_replaced)
{
	char path[PATH_MAX];
	struct stat st;
	uint32_t seq = 0;
	int old;

	need_root();
	path_of(path, sizeof(path), "planted.pcapng");
	write_text(path, "planted", OTHER_UID);
	old = open(path, O_RDONLY);
	cr_assert_geq(old, 0);
	capture_into(path);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_uid, geteuid(), "the file at the name is ours");
	cr_assert_eq(read_file(path, &seq), 5);
	/* the planted file never received a byte of the capture */
	fd_holds(old, "planted");
	cr_assert_eq(fstat(old, &st), 0);
	cr_assert_eq(st.st_uid, OTHER_UID);
	cr_assert_eq(st.st_nlink, 0, "it left the directory");
	close(old);
}

Test(capture_rotate, a_file_with_other_names_is_replaced)
{
	char path[PATH_MAX], other[PATH_MAX];
	uint32_t seq = 0;
	int fd;

	need_root();
	path_of(path, sizeof(path), "linked.pcapng");
	path_of(other, sizeof(other), "precious");
	write_text(other, "precious", geteuid());
	cr_assert_eq(link(other, path), 0);
	capture_into(path);
	cr_assert_eq(read_file(path, &seq), 5);
	fd = open(other, O_RDONLY);
	cr_assert_geq(fd, 0);
	fd_holds(fd, "precious");
	close(fd);
}

Test(capture_rotate, our_own_file_is_truncated_in_place)
{
	char path[PATH_MAX];
	struct stat before, after;
	uint32_t seq = 0;

	path_of(path, sizeof(path), "mine.pcapng");
	write_text(path, "an older capture, longer than this", geteuid());
	cr_assert_eq(stat(path, &before), 0);
	capture_into(path);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(after.st_ino, before.st_ino, "tcpdump -w: same file");
	cr_assert_eq(read_file(path, &seq), 5);
}

Test(capture_rotate, another_users_fifo_is_refused)
{
	char path[PATH_MAX];
	struct cap_out_opts o;
	struct cap_out *out;
	int rd;

	need_root();
	path_of(path, sizeof(path), "fifo");
	cr_assert_eq(mkfifo(path, 0666), 0);
	cr_assert_eq(chown(path, OTHER_UID, (gid_t)-1), 0);
	/* a reader is there: only the owner check can refuse */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(rd, 0);
	o = opts(path, CAP_FMT_PCAP_US);
	cr_assert_eq(cap_out_open(&out, &o, T0), -EPERM);
	cr_assert_null(out);
	{
		char b;

		cr_assert_eq(read(rd, &b, 1), 0, "nothing was written");
	}
	close(rd);
}

/* --------------------------------------------- a reader that stalls */

static bool stopping;

static bool stop_asked(void)
{
	return stopping;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Everything the pipe's read end holds, into a file. */
static void drain_to(int rd, const char *path)
{
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char buf[65536];
	ssize_t n;

	cr_assert_geq(out, 0);
	cr_assert_eq(fcntl(rd, F_SETFL, fcntl(rd, F_GETFL) | O_NONBLOCK), 0);
	while ((n = read(rd, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	close(out);
}

/*
 * The output is stdout (fifo: stdout is a FIFO, which refuses RWF_NOWAIT
 * and gets O_NONBLOCK, put back at close), its reader never reads, the
 * capture is stopping: a batch larger than the pipe goes in as far as
 * whole records fit, the rest is given up after the grace and counted,
 * and what the reader finds is a valid file of whole records.
 */
static void stalled_reader(enum cap_format f, bool fifo)
{
	struct cap_out_opts o = opts("-", f);
	char fpath[PATH_MAX], copy[PATH_MAX];
	struct cap_out_stats st;
	struct cap_out *out;
	int p[2], saved = dup(STDOUT_FILENO), fl, err;
	uint64_t t0, t1;
	uint32_t seq = 0;

	signal(SIGPIPE, SIG_IGN);
	if (fifo) {
		path_of(fpath, sizeof(fpath), "out.fifo");
		cr_assert_eq(mkfifo(fpath, 0600), 0);
		p[0] = open(fpath, O_RDONLY | O_NONBLOCK);
		cr_assert_geq(p[0], 0);
		p[1] = open(fpath, O_WRONLY);
		cr_assert_geq(p[1], 0);
		cr_assert_eq(fcntl(p[0], F_SETFL, 0), 0);
	} else {
		cr_assert_eq(pipe(p), 0);
	}
	/* 16 KiB: four pages, about sixteen 1000-byte records */
	cr_assert_eq(fcntl(p[1], F_SETPIPE_SZ, 16384), 16384);
	cr_assert_eq(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[1]);
	o.stop_fn = stop_asked;
	o.stop_grace_ns = 300 * 1000000ull;
	stopping = false;
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);

	/* the capture is stopping; this batch does not fit the pipe */
	stopping = true;
	fill_batch(f, 40, 0);
	t0 = mono_ms();
	err = cap_out_write(out, &batch, T0);
	t1 = mono_ms();
	cr_assert_eq(err, -ECANCELED);
	cr_assert_geq(t1 - t0, 250, "the grace is honoured (%llu ms)",
		      (unsigned long long)(t1 - t0));
	cr_assert_lt(t1 - t0, 3000, "gave up after %llu ms",
		     (unsigned long long)(t1 - t0));
	cap_out_stats(out, &st);
	cr_assert_gt(st.packets, 0);
	cr_assert_lt(st.packets, 40);
	cr_assert_eq(st.packets + st.unwritten_stopped, 40);
	cr_assert_eq(st.error, 0, "a stalled reader does not break it");
	/* past the grace, a write tries once and gives up at once */
	fill_batch(f, 5, 40);
	t0 = mono_ms();
	cr_assert_eq(cap_out_write(out, &batch, T0), -ECANCELED);
	cr_assert_lt(mono_ms() - t0, 200);
	cap_out_stats(out, &st);
	cr_assert_eq(st.packets + st.unwritten_stopped, 45);
	cr_assert_eq(cap_out_close(out, T0), 0);
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	cr_assert_eq(fl & O_NONBLOCK, 0, "stdout's flags put back");
	dup2(saved, STDOUT_FILENO);
	close(saved);

	path_of(copy, sizeof(copy), "read.out");
	drain_to(p[0], copy);
	close(p[0]);
	cr_assert_eq((uint64_t)read_file(copy, &seq), st.packets,
		     "the reader gets whole records: as many as counted");
	if (fifo)
		unlink(fpath);
}

Test(capture_rotate, stalled_pipe_reader_pcap)
{
	stalled_reader(CAP_FMT_PCAP_NS, false);
}

Test(capture_rotate, stalled_pipe_reader_pcapng)
{
	stalled_reader(CAP_FMT_PCAPNG, false);
}

Test(capture_rotate, stalled_fifo_reader)
{
	stalled_reader(CAP_FMT_PCAPNG, true);
}

/* Not stopping: a full pipe (or socket) is waited for, and the writer
 * goes on as soon as the reader reads (no record lost, none cut). */
static void slow_reader(bool sock)
{
	struct cap_out_opts o = opts("-", CAP_FMT_PCAP_NS);
	char copy[PATH_MAX];
	struct cap_out_stats st;
	struct cap_out *out;
	int p[2], saved = dup(STDOUT_FILENO);
	uint32_t seq = 0;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	if (sock) {
		int sz = 16384;

		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
		cr_assert_eq(setsockopt(p[1], SOL_SOCKET, SO_SNDBUF, &sz,
					sizeof(sz)), 0);
	} else {
		cr_assert_eq(pipe(p), 0);
		cr_assert_eq(fcntl(p[1], F_SETPIPE_SZ, 16384), 16384);
	}
	path_of(copy, sizeof(copy), "slow.out");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* a reader that takes 4 KiB every 20 ms */
		int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[4096];
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0) {
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
			usleep(20000);
		}
		_exit(0);
	}
	close(p[0]);
	cr_assert_eq(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[1]);
	o.stop_fn = stop_asked;
	stopping = false;
	cr_assert_eq(cap_out_open(&out, &o, T0), 0);
	for (int i = 0; i < 3; i++) {
		fill_batch(CAP_FMT_PCAP_NS, 50, (uint32_t)i * 50);
		cr_assert_eq(cap_out_write(out, &batch, T0), 0);
	}
	cap_out_stats(out, &st);
	cr_assert_eq(st.packets, 150);
	cr_assert_eq(cap_out_close(out, T0), 0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	{
		int status;

		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cr_assert_eq(read_file(copy, &seq), 150);
}

Test(capture_rotate, slow_pipe_reader_loses_nothing, .timeout = 30)
{
	slow_reader(false);
}

Test(capture_rotate, slow_socket_reader_loses_nothing, .timeout = 30)
{
	slow_reader(true);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * hugepages.c - hugepage accounting for tests (model in hugepages.h).
 *
 * KPI:
 *   xm_hp_supported, xm_hp_snap, xm_hp_footprint, xm_hp_lock,
 *   xm_hp_watch_begin, xm_hp_watch_released, xm_hp_watch_end
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "hugepages.h"
#include "netns.h"

static long read_number(const char *path)
{
	FILE *f = fopen(path, "r");
	long v;

	if (f == NULL)
		return -errno;
	if (fscanf(f, "%ld", &v) != 1)
		v = -EINVAL;
	fclose(f);
	return v;
}

bool xm_hp_supported(void)
{
	return access(XM_HP_DIR "nr_hugepages", R_OK) == 0;
}

/* kB of hugetlb mappings in one smaps_rollup; -errno when unreadable. */
static long rollup_hugetlb_kb(const char *path)
{
	char line[256];
	long kb = 0, v;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Private_Hugetlb: %ld kB", &v) == 1 ||
		    sscanf(line, "Shared_Hugetlb: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

long xm_hp_footprint(pid_t pid)
{
	char path[64];
	long kb;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	kb = rollup_hugetlb_kb(path);
	return kb < 0 ? kb : kb / 2048;
}

/* Pages mapped by every process there is (those that vanish count 0). */
static long mapped_by_all(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long kb = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		char path[300];
		long v;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/smaps_rollup",
			 e->d_name);
		v = rollup_hugetlb_kb(path);
		if (v > 0)
			kb += v;
	}
	closedir(d);
	return kb / 2048;
}

int xm_hp_snap(struct xm_hp_snap *s)
{
	s->total = read_number(XM_HP_DIR "nr_hugepages");
	s->surplus = read_number(XM_HP_DIR "surplus_hugepages");
	s->free = read_number(XM_HP_DIR "free_hugepages");
	s->overcommit = read_number(XM_HP_DIR "nr_overcommit_hugepages");
	s->mapped = mapped_by_all();
	if (s->total < 0)
		return (int)s->total;
	if (s->surplus < 0)
		return (int)s->surplus;
	if (s->mapped < 0)
		return (int)s->mapped;
	return 0;
}

int xm_hp_lock(void)
{
	int fd = open(XM_HP_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

/* Counts the opens and closes of the lock file seen since the last call. */
static void watch_drain(struct xm_hp_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (w->in_fd < 0)
		return;
	while ((n = read(w->in_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & (IN_OPEN | IN_CLOSE))
				w->events++;
			p += sizeof(*ev) + ev->len;
		}
	}
}

int xm_hp_watch_begin(struct xm_hp_watch *w)
{
	int lk, err;

	memset(w, 0, sizeof(*w));
	w->in_fd = -1;
	/* the file must exist to be watched */
	lk = xm_hp_lock();
	if (lk < 0)
		return lk;
	close(lk);
	w->in_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->in_fd < 0)
		return -errno;
	if (inotify_add_watch(w->in_fd, XM_HP_LOCK, IN_OPEN | IN_CLOSE) < 0) {
		err = -errno;
		xm_hp_watch_end(w);
		return err;
	}
	lk = xm_hp_lock();
	if (lk < 0) {
		xm_hp_watch_end(w);
		return lk;
	}
	err = xm_hp_snap(&w->before);
	close(lk);
	w->own = 2;		/* that open and its close */
	if (err)
		xm_hp_watch_end(w);
	return err;
}

void xm_hp_watch_end(struct xm_hp_watch *w)
{
	if (w->in_fd >= 0)
		close(w->in_fd);
	w->in_fd = -1;
}

static bool released(const struct xm_hp_snap *before,
		     const struct xm_hp_snap *now, bool strict)
{
	long others = now->mapped - before->mapped;

	/*
	 * The persistent pool (total - surplus) is not raised, and the
	 * total is back: exits of others can lower the total (their surplus
	 * pages) but never the persistent count, which only a write to
	 * vm.nr_hugepages moves.
	 */
	if (strict)
		return now->total - now->surplus <=
		       before->total - before->surplus &&
		       now->total <= before->total;
	return now->total - before->total <= (others > 0 ? others : 0);
}

/* Quiet this long with the pages still out: a strict failure. */
#define XM_HP_STRICT_MS		10000

int xm_hp_watch_released(struct xm_hp_watch *w, int expect_opens,
			 int timeout_ms, struct xm_hp_snap *last,
			 bool *strict)
{
	uint64_t start = xm_now_ms(), now;
	uint64_t end = start + (uint64_t)timeout_ms;
	int err = -ETIMEDOUT;

	for (;;) {
		bool ok = xm_hp_snap(last) == 0;

		watch_drain(w);
		*strict = w->in_fd >= 0 &&
			  w->events - w->own <= 2L * expect_opens;
		if (ok && released(&w->before, last, *strict)) {
			err = 0;
			break;
		}
		/*
		 * A failure seen in a quiet window stands: noise arriving
		 * later must not turn it into a lenient pass.
		 */
		now = xm_now_ms();
		if (now >= end || (*strict && now - start >= XM_HP_STRICT_MS))
			break;
		usleep(50000);
	}
	xm_hp_watch_end(w);
	return err;
}

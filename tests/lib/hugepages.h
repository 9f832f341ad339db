/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hugepages.h - 2 MiB hugepage accounting for tests that check that a
 * process's hugepages are free again once it is gone, on a machine where
 * other suites (and the tools they run) map and drop regions meanwhile.
 *
 * The kernel's counts are machine-wide: total (HugePages_Total, the
 * persistent pool plus surplus pages), surplus, free.  What one process
 * holds is what its mappings hold: Private_Hugetlb + Shared_Hugetlb of
 * /proc/PID/smaps_rollup.  Summed over every process that is "mapped".
 *
 * A process's pages are free again, after it died, when the total is
 * back where it was before it started (a pool left raised, or surplus
 * pages not freed, both keep it up).  Pages held for a moment without a
 * mapping (a closed AF_XDP socket's deferred unpin) go with time, so the
 * check is a bounded poll.  Exits of other processes only lower the
 * total; what can raise it is another xmbuf process creating a region,
 * or one of an earlier version giving pages back to the pool (it raised
 * vm.nr_hugepages), and both open the lock file XM_HP_LOCK.  So a watch
 * (inotify) on that file tells whether the window was quiet:
 *
 *   quiet (the lock file opened and closed only by the test and by the
 *   process under test, at most expect_opens times): strict, the
 *   persistent pool not raised (only a write to vm.nr_hugepages moves
 *   it: other processes' exits cannot hide a raise) and the total back,
 *       total_now - surplus_now <= total_before - surplus_before
 *       total_now <= total_before
 *   otherwise: allowing for what the others map now beyond what they
 *   mapped then (Private_Hugetlb + Shared_Hugetlb of every process's
 *   /proc/PID/smaps_rollup: "mapped"),
 *       total_now - total_before  <=  max(0, mapped_now - mapped_before)
 *
 * The second form cannot fail because of other processes of this version
 * (their pages are mapped, or gone), but it can miss a leak that another
 * process's exit hides; CI, with nothing else running, gets the first.
 *
 * Functions return 0, a count, or -errno; none aborts.
 */
#ifndef XM_TEST_HUGEPAGES_H
#define XM_TEST_HUGEPAGES_H

#include <stdbool.h>
#include <sys/types.h>

#define XM_HP_DIR	"/sys/kernel/mm/hugepages/hugepages-2048kB/"
/* The advisory lock xmbuf processes hold while they raise the limit. */
#define XM_HP_LOCK	"/run/lock/xmbuf-hugepages.lock"

struct xm_hp_snap {
	long total;		/* HugePages_Total: persistent + surplus */
	long surplus;		/* surplus pages */
	long free;		/* free pages */
	long overcommit;	/* nr_overcommit_hugepages */
	long mapped;		/* pages mapped by all processes */
};

/* A window over which a process's hugepages are accounted. */
struct xm_hp_watch {
	int in_fd;		/* inotify on XM_HP_LOCK, -1: none */
	long events;		/* opens + closes of the lock file seen */
	long own;		/* ... of them, the test's own */
	struct xm_hp_snap before;	/* at the start, under the lock */
};

/** True when the kernel has a 2 MiB hugepage pool. */
bool xm_hp_supported(void);
/** Reads the counts.  @return 0 or -errno. */
int xm_hp_snap(struct xm_hp_snap *s);
/** 2 MiB pages mapped by pid (0 for none).  @return the count or -errno. */
long xm_hp_footprint(pid_t pid);

/**
 * Takes XM_HP_LOCK (blocking): while it is held, no xmbuf process is
 * between raising nr_overcommit_hugepages and putting it back.
 * @return the descriptor (close it to unlock), or -errno.
 */
int xm_hp_lock(void);

/**
 * Opens a window: starts watching the lock file, then takes the lock to
 * read w->before (no region half made then).  Start it before the
 * process under test.  @return 0 or -errno.
 */
int xm_hp_watch_begin(struct xm_hp_watch *w);
/**
 * Polls, up to timeout_ms, until the hugepages of the process under test
 * (dead by now) are free again, by the rule above; expect_opens: times
 * that process took the lock (1 per region it created).  *last gets the
 * last reading, *strict whether the window was quiet.  Closes the watch.
 * @return 0, or -ETIMEDOUT.
 */
int xm_hp_watch_released(struct xm_hp_watch *w, int expect_opens,
			 int timeout_ms, struct xm_hp_snap *last,
			 bool *strict);
/** Closes the watch (safe twice, and on a zeroed struct with in_fd -1). */
void xm_hp_watch_end(struct xm_hp_watch *w);

#endif /* XM_TEST_HUGEPAGES_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * region.c - the UMEM region: one mapping carved into the frame zones,
 * the per-frame records beside it, and the O(1) translations between
 * addresses, offsets, frames and records.
 *
 *   u_base                                              u_base + u_size
 *   |<- clust ->|pad|<- jumbop ->|<- jumbo9 ->|<- jumbo16 ->|<- 2 MiB pad
 *   every zone starts page aligned; every item starts on a chunk; the
 *   stride of a zone is its item size rounded up to the chunk size, so a
 *   9 KiB cluster takes 10240 bytes with 2 KiB chunks, 12288 with 4 KiB.
 *
 *   u_meta: record i (u_meta_size bytes) describes chunk i of the region,
 *   i = offset >> chunk_shift; a frame's record is its first chunk's.
 *
 * The region is backed by 2 MiB hugepages when it can have them (surplus
 * pages the kernel frees with the mapping, at any exit, SIGKILL included;
 * the overcommit limit raised for the moment of the mapping when we are
 * root and allowed to: see HP_LOCK), else by 4 KiB pages with
 * MADV_HUGEPAGE; the fallback is reported at WARN with its reason.
 * Hugepages are faulted in at creation (map_hugepages()), so that the
 * pool shrinking later cannot fail a store or an AF_XDP pin.
 * The region is MADV_DONTFORK: a child made with fork() has no mapping
 * there (see umem_dontfork() and xm_umem.h).
 * Limits, reserves and capacities follow kern_mbuf.c's tunables: see
 * xm_umem_create().
 *
 * KPI:
 *	xm_umem_create, xm_umem_destroy
 *	xm_umem_base, xm_umem_size, xm_umem_chunk_size, xm_umem_hugepages
 *	xm_umem_addr2off, xm_umem_off2addr, xm_umem_contains
 *	xm_umem_zone, xm_umem_zone_of, xm_umem_frame_of
 *	xm_umem_frame_meta
 * Hidden (tests): _xm_umem_meta_frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xm_umem_int.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << MAP_HUGE_SHIFT)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define XM_MAXMBUFMEM_DEFAULT	(64ULL << 20)
#define XM_MSIZE_BUDGET		128	/* MSIZE in the nmbufs default */
#define XM_RESERVE_DEFAULT_MAX	256

/*
 * Default items per cache bucket.  A thread trades a whole bucket with
 * the depot, under the zone lock, each time its cache runs empty or full,
 * so a bigger bucket means fewer trades when frames cross threads (a
 * producer/consumer pair, bench-alloc xthread: 51 ns per frame at 64,
 * 42 at 128, DPDK's 256-entry cache 53).  But a thread may park two
 * buckets' worth of each zone, which other threads cannot see (zone.c's
 * XXX), so zones smaller than XM_BUCKET_SMALL_LIMIT keep the smaller
 * bucket: two of 128 would be more than a quarter of such a zone.
 */
#define XM_BUCKET_DEFAULT	128
#define XM_BUCKET_SMALL		64
#define XM_BUCKET_SMALL_LIMIT	1024

#define HP_DIR		"/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define HP_FREE		HP_DIR "free_hugepages"
#define HP_RESV		HP_DIR "resv_hugepages"
#define HP_SURP		HP_DIR "surplus_hugepages"
#define HP_OVERCOMMIT	HP_DIR "nr_overcommit_hugepages"
/*
 * The region's hugepages, and how they go back.
 *
 * They are surplus pages: when the pool (vm.nr_hugepages) has too few
 * free pages for a MAP_HUGETLB mapping, the kernel allocates the rest
 * from the buddy allocator as the pages are faulted in, as far as the
 * overcommit limit (nr_overcommit_hugepages of the 2 MiB size) allows,
 * and frees a surplus page when its last mapping or pin goes: at
 * munmap(), at exit, and at SIGKILL too, since the kernel does the
 * unmapping then.  So the process never resizes the pool and has nothing
 * to give back.  (Earlier versions raised vm.nr_hugepages by the
 * shortfall and lowered it at destroy: a killed process left the pool
 * raised for good, and even a clean exit left part of the raise behind,
 * which the next process reused and never gave back.)
 *
 * A root process raises the limit to what it needs for the one step that
 * takes pages (read, raise, mmap, populate) and puts it back right after:
 * the pages faulted in stay the mapping's whatever the limit says later;
 * the limit only governs new allocations.  Free pool pages are used
 * first, by the kernel's own choice, and return to the pool.
 *
 *   lock HP_LOCK -> recover a journal left by a dead process
 *   -> journal "orig raised" -> limit := surplus now + pages needed
 *   -> mmap(MAP_HUGETLB) + MADV_POPULATE_WRITE
 *   -> limit := orig (unless someone else changed it) -> clear journal
 *   -> unlock
 *
 * The limit is one system-wide number, so xmbuf processes take the
 * advisory lock HP_LOCK around that step; the raise is computed from the
 * surplus count read under it, which holds every live region's pages, so
 * concurrent processes each get room for their own.  Processes that do
 * not take the lock (anything else resizing the pool or the limit) are
 * not serialized; map_hugepages() falls back to 4 KiB pages then.
 *
 * A process killed inside the step leaves the limit raised.  That
 * reserves no memory (it only lets hugetlb mappings take surplus pages
 * while they fit), and it is bounded: the lock file is the step's
 * journal, and the next xmbuf process to take the lock finds the record
 * and puts the limit back before it raises anything (hp_journal_recover).
 */
#define HP_LOCK		"/run/lock/xmbuf-hugepages.lock"
#define HP_JOURNAL_FMT	"nr_overcommit_hugepages %ld %ld\n"

static const char *const xm_zone_names[XM_ZONE_MAX] = {
	[XM_ZONE_CLUST] = "mbuf_cluster",
	[XM_ZONE_JUMBOP] = "mbuf_jumbo_page",
	[XM_ZONE_JUMBO9] = "mbuf_jumbo_9k",
	[XM_ZONE_JUMBO16] = "mbuf_jumbo_16k",
	[XM_ZONE_MBUF] = "mbuf",
};

static const uint32_t xm_frame_sizes[XM_FRAME_ZONES] = {
	XM_MCLBYTES, XM_MJUMPAGESIZE, XM_MJUM9BYTES, XM_MJUM16BYTES,
};

static uint64_t roundup_u64(uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

/* Reads one unsigned number from a sysfs/procfs file; -1 on failure. */
static long read_long(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd, len, rc = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", v);
	if (write(fd, buf, (size_t)len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Pages nobody has claimed: free_hugepages still counts pages that other
 * mappings reserved but have not touched yet.  The kernel's reserved count
 * can underflow when the pool is resized while reservations are held
 * (seen on 6.18: resv_hugepages read as 2^64 - 100); strtol clamps such a
 * value to LONG_MAX, and a reservation larger than the free pages cannot
 * be real, so it is ignored then rather than hiding every free page.
 */
static long hugepages_available(void)
{
	long free_pages = read_long(HP_FREE);
	long resv = read_long(HP_RESV);

	if (free_pages < 0)
		return -1;
	if (resv > 0 && resv <= free_pages)
		free_pages -= resv;
	return free_pages;
}

/*
 * Takes HP_LOCK; returns its descriptor, or -1 when the lock cannot be
 * had (no /run/lock: then we go on unserialized and unjournaled).
 */
static int hp_lock(void)
{
	int fd = open(HP_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		xm_pr_debug("umem: %s: %s; raising the hugepage limit "
			    "unserialized\n", HP_LOCK, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			xm_pr_debug("umem: flock(%s): %s\n", HP_LOCK,
				    strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void hp_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

/* Records, before the raise, what the limit was and what it becomes. */
static void hp_journal_write(int lk, long orig, long raised)
{
	char buf[64];
	int len;

	if (lk < 0)
		return;
	len = snprintf(buf, sizeof(buf), HP_JOURNAL_FMT, orig, raised);
	if (ftruncate(lk, 0) != 0 ||
	    pwrite(lk, buf, (size_t)len, 0) != (ssize_t)len)
		xm_pr_debug("umem: cannot journal the hugepage limit in %s: "
			    "%s\n", HP_LOCK, strerror(errno));
}

static void hp_journal_clear(int lk)
{
	if (lk >= 0 && ftruncate(lk, 0) != 0)
		xm_pr_debug("umem: cannot clear %s: %s\n", HP_LOCK,
			    strerror(errno));
}

/*
 * Puts back a limit that an xmbuf process raised and could not restore:
 * a record under the lock means its writer died between the raise and
 * the restore (the lock went with it).  When the limit no longer reads
 * what it was raised to, someone else set it since: that value stays.
 */
static void hp_journal_recover(int lk)
{
	char buf[64];
	long orig, raised;
	ssize_t n;

	if (lk < 0)
		return;
	n = pread(lk, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, HP_JOURNAL_FMT, &orig, &raised) == 2 && orig >= 0 &&
	    read_long(HP_OVERCOMMIT) == raised) {
		int err = write_long(HP_OVERCOMMIT, orig);

		if (err == 0)
			xm_pr_info("umem: 2 MiB nr_overcommit_hugepages put "
				   "back to %ld (an xmbuf process raised it "
				   "to %ld and died before restoring it)\n",
				   orig, raised);
		else
			xm_pr_warn("umem: cannot put 2 MiB "
				   "nr_overcommit_hugepages back to %ld (left "
				   "at %ld by a dead xmbuf process): %s\n",
				   orig, raised, strerror(-err));
	}
	hp_journal_clear(lk);
}

/*
 * Maps len bytes (a multiple of 2 MiB) on 2 MiB hugepages, every page
 * faulted in.  may_raise: raise the overcommit limit when the pages do
 * not fit (root, not XM_UMEM_F_NO_RESERVE_HUGEPAGES); lk is HP_LOCK,
 * held.  Returns the mapping or MAP_FAILED with *why saying why.
 */
static void *map_hugepages_locked(uint64_t len, bool may_raise, int lk,
				  char *why, size_t whylen)
{
	long need = (long)(len / XM_HUGEPAGE_SIZE);
	long avail = hugepages_available();
	long surp = read_long(HP_SURP);
	long limit = read_long(HP_OVERCOMMIT);
	long room, raised = -1;
	void *p = MAP_FAILED;
	int err;

	if (avail < 0) {
		snprintf(why, whylen, "no 2 MiB hugepage pool (%s)", HP_FREE);
		return MAP_FAILED;
	}
	if (surp < 0)
		surp = 0;
	/* free pool pages, then surplus pages the limit still allows */
	room = avail + (limit > surp ? limit - surp : 0);
	if (room < need) {
		if (!may_raise || limit < 0) {
			snprintf(why, whylen, "%ld 2 MiB hugepages available "
				 "(free, or surplus within "
				 "nr_overcommit_hugepages %ld), %ld needed%s",
				 room, limit < 0 ? 0 : limit, need,
				 limit < 0 ? " (no nr_overcommit_hugepages)" :
				 geteuid() != 0 ? " (not root: cannot raise "
				 "the limit)" : " (not raising the limit: "
				 "XM_UMEM_F_NO_RESERVE_HUGEPAGES)");
			return MAP_FAILED;
		}
		/*
		 * Room for every page as surplus, whatever the free pool
		 * pages do meanwhile: the kernel takes free ones first.
		 */
		raised = surp + need;
		hp_journal_write(lk, limit, raised);
		err = write_long(HP_OVERCOMMIT, raised);
		if (err != 0) {
			hp_journal_clear(lk);
			snprintf(why, whylen, "%ld 2 MiB hugepages available, "
				 "%ld needed, and raising "
				 "nr_overcommit_hugepages to %ld failed: %s",
				 room, need, raised, strerror(-err));
			return MAP_FAILED;
		}
	}
	/*
	 * No reservation at mmap(): every page is faulted in right below,
	 * which is what a reservation would promise, and the kernel's
	 * reservation count is what goes wrong when others resize the pool
	 * while mappings reserve (seen on 6.18: HugePages_Rsvd wraps below
	 * zero; the next reservation then counts no surplus page as needed,
	 * allocates none, and fails with ENOMEM, 53 times in 3000 creates
	 * while other processes resized the pool).  A fault takes a free
	 * pool page nobody reserved, else a surplus page within the limit.
	 */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_HUGETLB |
		 MAP_HUGE_2MB, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(why, whylen, "mmap(MAP_HUGETLB) of %llu bytes: %s",
			 (unsigned long long)len, strerror(errno));
		goto out_restore;
	}
	/*
	 * Fault every page in now, while a failure can still fall back.
	 * Otherwise the first fault would come from XDP_UMEM_REG's
	 * long-term pin, which fails with EFAULT (ENOMEM when part of the
	 * region was in), or from a store, which gets SIGBUS.  A page that
	 * is in belongs to the mapping: no later change of the pool or the
	 * limit can take it.
	 */
	while ((err = madvise(p, len, MADV_POPULATE_WRITE)) != 0 &&
	       errno == EINTR)
		;	/* pages in stay in: going on is cheap */
	if (err == 0)
		goto out_restore;
	if (errno == EINVAL) {
		/*
		 * Before Linux 5.14: the faults stay lazy, so the mapping
		 * takes a reservation after all (the surplus pages are
		 * allocated for it now, and the limit can go back).
		 */
		xm_pr_debug("umem: MADV_POPULATE_WRITE not supported; "
			    "hugepages are faulted in on first use\n");
		munmap(p, len);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 MAP_HUGE_2MB, -1, 0);
		if (p == MAP_FAILED)
			snprintf(why, whylen, "mmap(MAP_HUGETLB) of %llu "
				 "bytes: %s", (unsigned long long)len,
				 strerror(errno));
		goto out_restore;
	}
	snprintf(why, whylen, "MADV_POPULATE_WRITE: %s: %ld hugepages could "
		 "not be faulted in (no free pool page and no surplus page "
		 "within the limit: memory short or fragmented, or the pool "
		 "or the limit changed meanwhile?)", strerror(errno), need);
	munmap(p, len);
	p = MAP_FAILED;
out_restore:
	if (raised >= 0) {
		if (read_long(HP_OVERCOMMIT) == raised) {
			int err = write_long(HP_OVERCOMMIT, limit);

			if (err != 0)
				xm_pr_warn("umem: cannot put 2 MiB "
					   "nr_overcommit_hugepages back from "
					   "%ld to %ld: %s\n", raised, limit,
					   strerror(-err));
		}
		hp_journal_clear(lk);
	}
	return p;
}

static void *map_hugepages(uint64_t len, uint32_t flags, char *why,
			   size_t whylen)
{
	/*
	 * Only a root process changes the limit: others need no lock.  A
	 * root one puts back a limit a dead process left raised even when
	 * it raises nothing itself (XM_UMEM_F_NO_RESERVE_HUGEPAGES).
	 */
	bool root = geteuid() == 0;
	bool may_raise = root && !(flags & XM_UMEM_F_NO_RESERVE_HUGEPAGES);
	int lk = root ? hp_lock() : -1;
	void *p;

	hp_journal_recover(lk);
	p = map_hugepages_locked(len, may_raise, lk, why, whylen);
	hp_unlock(lk);
	return p;
}

/* 4 KiB pages, 2 MiB aligned so transparent hugepages can back it. */
static void *map_small_pages(uint64_t len)
{
	uint64_t over = len + XM_HUGEPAGE_SIZE;
	char *p, *aligned;
	uint64_t head, tail;

	p = mmap(NULL, over, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	aligned = (char *)roundup_u64((uintptr_t)p, XM_HUGEPAGE_SIZE);
	head = (uint64_t)(aligned - p);
	tail = over - head - len;
	if (head != 0)
		munmap(p, head);
	if (tail != 0)
		munmap(aligned + len, tail);
	/* Best effort: THP may be disabled; the pages work either way. */
	(void)madvise(aligned, len, MADV_HUGEPAGE);
	return aligned;
}

static void *map_anon(uint64_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/*
 * fork() generation of this process: 0 in the process that loaded the
 * library, one more in each child (an atfork handler).  A umem records
 * the generation it was created in, so xm_umem_destroy() can tell that it
 * runs in a child, where the region is not mapped.  Comparing pids would
 * not do: a child in a new pid namespace can have its parent's pid.
 */
static atomic_ulong xm_fork_gen;
static pthread_once_t xm_atfork_once = PTHREAD_ONCE_INIT;

static void umem_forked_child(void)
{
	atomic_fetch_add_explicit(&xm_fork_gen, 1, memory_order_relaxed);
}

static void umem_atfork_register(void)
{
	int err = pthread_atfork(NULL, NULL, umem_forked_child);

	if (err != 0)
		xm_pr_warn("umem: pthread_atfork: %s; xm_umem_destroy() in a "
			   "forked child will not know it is one\n",
			   strerror(err));
}

/*
 * Keeps the region out of fork().  Once XDP_UMEM_REG has pinned it, the
 * pages cannot be shared copy-on-write with a child (the first write by
 * either process would leave the device writing to one copy while the
 * parent reads another), so fork() copies every pinned page of a private
 * mapping at once: a fork of a process holding a 64 MiB UMEM allocates
 * 64 MiB, and fails with ENOMEM when the pages are hugepages and the pool
 * has none left (copy_hugetlb_page_range()).  With MADV_DONTFORK the
 * child gets no mapping at all there, the way DPDK and rdma-core
 * (ibv_fork_init) keep registered memory out of children.  A failure
 * leaves fork() as it was, so it is reported, not fatal.
 */
static void umem_dontfork(struct xm_umem *u)
{
	if (madvise(u->u_base, u->u_size, MADV_DONTFORK) == 0) {
		u->u_dontfork = true;
		return;
	}
	xm_pr_warn("umem: madvise(MADV_DONTFORK) of the region: %s; a fork() "
		   "will copy the pinned region into the child\n",
		   strerror(errno));
}

/* Validated configuration, every default applied. */
struct umem_cfg {
	uint64_t maxmbufmem;
	uint32_t limit[XM_ZONE_MAX];
	uint64_t capacity[XM_ZONE_MAX];
	uint32_t reserve[XM_ZONE_MAX];
	uint32_t chunk_size;
	uint32_t hdr_size;
	uint32_t meta_size;
	uint32_t bucket_size;
	uint32_t factor;
	uint32_t flags;
};

static uint32_t default_limit(uint64_t budget, uint32_t size, uint32_t share)
{
	uint64_t n = budget / size / share;

	/* A tiny budget still gets one item per zone. */
	if (n == 0)
		n = 1;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static int umem_cfg_parse(const struct xm_umem_opts *opts,
			  struct umem_cfg *cfg)
{
	static const uint32_t share[XM_FRAME_ZONES] = { 4, 4, 6, 6 };
	uint32_t nmbufs_opt;
	uint64_t sum = 0;

	if (!XM_OPTS_VALID(opts, xm_umem_opts))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->maxmbufmem = XM_OPTS_GET(opts, maxmbufmem, 0);
	if (cfg->maxmbufmem == 0)
		cfg->maxmbufmem = XM_MAXMBUFMEM_DEFAULT;
	cfg->chunk_size = XM_OPTS_GET(opts, chunk_size, 0);
	if (cfg->chunk_size == 0)
		cfg->chunk_size = XM_MCLBYTES;
	if (cfg->chunk_size != 2048 && cfg->chunk_size != 4096) {
		xm_pr_warn("umem: chunk_size %u: must be 2048 or 4096\n",
			   cfg->chunk_size);
		return -EINVAL;
	}
	cfg->hdr_size = XM_OPTS_GET(opts, hdr_size, 0);
	if (cfg->hdr_size == 0)
		cfg->hdr_size = 128;
	if (cfg->hdr_size % XM_CACHE_LINE != 0 ||
	    cfg->hdr_size > XM_HDR_SIZE_MAX) {
		xm_pr_warn("umem: hdr_size %u: must be a multiple of 64, at "
			   "most %u\n", cfg->hdr_size, XM_HDR_SIZE_MAX);
		return -EINVAL;
	}
	cfg->meta_size = XM_OPTS_GET(opts, meta_size, 0);
	if (cfg->meta_size == 0)
		cfg->meta_size = 128;
	if (cfg->meta_size % XM_CACHE_LINE != 0 ||
	    cfg->meta_size > XM_META_SIZE_MAX) {
		xm_pr_warn("umem: meta_size %u: must be a multiple of 64, at "
			   "most %u\n", cfg->meta_size, XM_META_SIZE_MAX);
		return -EINVAL;
	}
	/* 0: the default, chosen per zone at creation (bucket_of). */
	cfg->bucket_size = XM_OPTS_GET(opts, bucket_size, 0);
	if (cfg->bucket_size > XM_BUCKET_MAX) {
		xm_pr_warn("umem: bucket_size %u: at most %u\n",
			   cfg->bucket_size, XM_BUCKET_MAX);
		return -EINVAL;
	}
	cfg->factor = XM_OPTS_GET(opts, capacity_factor, 0);
	if (cfg->factor == 0)
		cfg->factor = 1;
	if (cfg->factor > XM_CAPACITY_FACTOR_MAX) {
		xm_pr_warn("umem: capacity_factor %u: at most %u\n",
			   cfg->factor, XM_CAPACITY_FACTOR_MAX);
		return -EINVAL;
	}
	cfg->flags = XM_OPTS_GET(opts, flags, 0);
	if (cfg->flags & ~(uint32_t)(XM_UMEM_F_NO_HUGEPAGES |
				     XM_UMEM_F_NO_RESERVE_HUGEPAGES)) {
		xm_pr_warn("umem: unknown flags 0x%x\n", cfg->flags);
		return -EINVAL;
	}

	cfg->limit[XM_ZONE_CLUST] = XM_OPTS_GET(opts, nmbclusters, 0);
	cfg->limit[XM_ZONE_JUMBOP] = XM_OPTS_GET(opts, nmbjumbop, 0);
	cfg->limit[XM_ZONE_JUMBO9] = XM_OPTS_GET(opts, nmbjumbo9, 0);
	cfg->limit[XM_ZONE_JUMBO16] = XM_OPTS_GET(opts, nmbjumbo16, 0);
	for (int i = 0; i < XM_FRAME_ZONES; i++) {
		if (cfg->limit[i] == 0)
			cfg->limit[i] = default_limit(cfg->maxmbufmem,
						      xm_frame_sizes[i],
						      share[i]);
		sum += cfg->limit[i];
	}
	nmbufs_opt = XM_OPTS_GET(opts, nmbufs, 0);
	if (nmbufs_opt == 0) {
		uint64_t n = cfg->maxmbufmem / XM_MSIZE_BUDGET / 5;

		if (n < sum)
			n = sum;
		if (n > UINT32_MAX) {
			xm_pr_warn("umem: frame zone limits (%llu) exceed "
				   "what nmbufs can count\n",
				   (unsigned long long)sum);
			return -EINVAL;
		}
		cfg->limit[XM_ZONE_MBUF] = (uint32_t)n;
	} else if (nmbufs_opt < sum) {
		/* kern_mbuf.c raises nmbufs; an explicit value is a bug. */
		xm_pr_warn("umem: nmbufs %u is below the frame zone limits "
			   "(%llu)\n", nmbufs_opt, (unsigned long long)sum);
		return -EINVAL;
	} else {
		cfg->limit[XM_ZONE_MBUF] = nmbufs_opt;
	}

	for (int i = 0; i < XM_ZONE_MAX; i++) {
		uint32_t r = 0;

		cfg->capacity[i] = (uint64_t)cfg->limit[i] * cfg->factor;
		if (cfg->capacity[i] > UINT32_MAX) {
			xm_pr_warn("umem: %s: capacity %llu items is too "
				   "many\n", xm_zone_names[i],
				   (unsigned long long)cfg->capacity[i]);
			return -EINVAL;
		}
		if (XM_OPTS_HAS(opts, reserve))
			r = opts->reserve[i];
		if (r == 0 && (i == XM_ZONE_CLUST || i == XM_ZONE_JUMBOP)) {
			r = cfg->limit[i] / 32;
			if (r > XM_RESERVE_DEFAULT_MAX)
				r = XM_RESERVE_DEFAULT_MAX;
		}
		if (r > cfg->limit[i]) {
			xm_pr_warn("umem: %s: reserve %u exceeds the limit "
				   "%u\n", xm_zone_names[i], r, cfg->limit[i]);
			return -EINVAL;
		}
		cfg->reserve[i] = r;
	}
	return 0;
}

/*
 * Test hook (INVARIANTS builds): make the step-th resource that
 * xm_umem_create() acquires fail with ENOMEM, so a test can walk every
 * cleanup path.  Steps: 1 the umem, 2 the region, 3 the records, 4 the
 * mbuf zone's memory, 5-9 the five zones.  0 turns it off.
 */
static _Atomic int xm_create_fail_at;

void _xm_umem_fail_create_at(int step)
{
	atomic_store(&xm_create_fail_at, step);
}

/* True when this acquisition must fail; counts steps down. */
static bool create_step_fails(int *step)
{
#ifdef INVARIANTS
	int at = atomic_load(&xm_create_fail_at);

	++*step;
	if (at != 0 && *step == at) {
		atomic_store(&xm_create_fail_at, 0);
		errno = ENOMEM;
		return true;
	}
#else
	(void)step;
#endif
	return false;
}

static uint32_t log2_u32(uint32_t x)
{
	return 31 - (uint32_t)__builtin_clz(x);
}

/* Bucket size of a zone whose limit is set to limit. */
static uint32_t bucket_of(const struct umem_cfg *cfg, uint32_t limit)
{
	if (cfg->bucket_size != 0)
		return cfg->bucket_size;
	return limit < XM_BUCKET_SMALL_LIMIT ? XM_BUCKET_SMALL :
	       XM_BUCKET_DEFAULT;
}

static uint32_t stride_of(uint32_t size, uint32_t chunk)
{
	return (uint32_t)roundup_u64(size, chunk);
}

/*
 * The shift-and-add form of _xm_umem_frame_record(), when records are a
 * power of two no larger than a chunk; otherwise it multiplies.
 */
static void umem_frame_record_init(struct xm_umem *u)
{
	uint32_t meta_shift = log2_u32(u->u_meta_size);
	uint32_t k;

	if ((u->u_meta_size & (u->u_meta_size - 1)) != 0 ||
	    meta_shift > u->u_chunk_shift)
		return;
	k = u->u_chunk_shift - meta_shift;
	/* The region is 2 MiB aligned: u_base >> k drops no bits. */
	XM_ASSERT(((uintptr_t)u->u_base & ((1UL << k) - 1)) == 0,
		  ("xmbuf: %s: region %p not aligned\n", __func__,
		   (void *)u->u_base));
	u->u_meta_bias = (uintptr_t)u->u_meta - ((uintptr_t)u->u_base >> k);
	u->u_meta_rshift = k;
}

/*
 * forked: called in a child of the creator.  The region is not mapped
 * there (MADV_DONTFORK; something else may be by now).  Nothing is given
 * back: the region's hugepages are surplus pages, which the kernel frees
 * with the mapping.
 */
static void umem_unmap(struct xm_umem *u, bool forked)
{
	/* Shadow memory outlives a mapping: leave none of it poisoned. */
	if (u->u_base != NULL) {
		XM_ASAN_UNPOISON(u->u_base, u->u_size);
		if (!forked || !u->u_dontfork)
			munmap(u->u_base, u->u_size);
	}
	if (u->u_meta != NULL)
		munmap(u->u_meta, u->u_meta_bytes);
	if (u->u_hdr_base != NULL) {
		XM_ASAN_UNPOISON(u->u_hdr_base, u->u_hdr_bytes);
		munmap(u->u_hdr_base, u->u_hdr_bytes);
	}
}

struct xm_umem *xm_umem_create(const struct xm_umem_opts *opts)
{
	uint64_t zone_off[XM_FRAME_ZONES], off = 0, page;
	struct umem_cfg cfg;
	struct xm_umem *u;
	char why[256];
	int rc, nz = 0, step = 0;

	rc = umem_cfg_parse(opts, &cfg);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	page = (uint64_t)sysconf(_SC_PAGESIZE);

	for (int i = 0; i < XM_FRAME_ZONES; i++) {
		uint32_t stride = stride_of(xm_frame_sizes[i], cfg.chunk_size);

		off = roundup_u64(off, page);
		zone_off[i] = off;
		off += cfg.capacity[i] * stride;
	}

	if (create_step_fails(&step))
		return NULL;
	u = aligned_alloc(XM_CACHE_LINE, sizeof(*u));
	if (u == NULL)
		return NULL;
	memset(u, 0, sizeof(*u));
	u->u_chunk_size = cfg.chunk_size;
	u->u_chunk_shift = log2_u32(cfg.chunk_size);
	u->u_meta_size = cfg.meta_size;
	u->u_meta_rshift = 64;
	u->u_hdr_size = cfg.hdr_size;
	u->u_frames_end = off;
	u->u_maxmbufmem = cfg.maxmbufmem;
	u->u_size = roundup_u64(off, XM_HUGEPAGE_SIZE);
	pthread_mutex_init(&u->u_limit_lock, NULL);
	pthread_mutex_init(&u->u_hook_lock, NULL);
	pthread_once(&xm_atfork_once, umem_atfork_register);
	u->u_fork_gen = atomic_load_explicit(&xm_fork_gen,
					     memory_order_relaxed);

	if (create_step_fails(&step))
		goto out_free;
	if (cfg.flags & XM_UMEM_F_NO_HUGEPAGES) {
		snprintf(why, sizeof(why), "XM_UMEM_F_NO_HUGEPAGES");
	} else {
		void *p = map_hugepages(u->u_size, cfg.flags, why,
					sizeof(why));

		if (p != MAP_FAILED) {
			u->u_base = p;
			u->u_hugepages = true;
		}
	}
	if (u->u_base == NULL) {
		void *p = map_small_pages(u->u_size);

		if (p == MAP_FAILED) {
			xm_pr_warn("umem: cannot map %llu bytes: %s\n",
				   (unsigned long long)u->u_size,
				   strerror(errno));
			errno = ENOMEM;
			goto out_free;
		}
		u->u_base = p;
		if (cfg.flags & XM_UMEM_F_NO_HUGEPAGES)
			xm_pr_debug("umem: %llu bytes on 4 KiB pages (%s)\n",
				    (unsigned long long)u->u_size, why);
		else
			xm_pr_warn("umem: %llu bytes on 4 KiB pages with "
				   "MADV_HUGEPAGE, not 2 MiB hugepages: %s\n",
				   (unsigned long long)u->u_size, why);
	}
	umem_dontfork(u);

	u->u_meta_bytes = roundup_u64((u->u_size >> u->u_chunk_shift) *
				      cfg.meta_size, page);
	u->u_meta = create_step_fails(&step) ? MAP_FAILED :
		    map_anon(u->u_meta_bytes);
	if (u->u_meta == MAP_FAILED) {
		u->u_meta = NULL;
		errno = ENOMEM;
		goto out_unmap;
	}
	u->u_hdr_bytes = roundup_u64(cfg.capacity[XM_ZONE_MBUF] *
				     cfg.hdr_size, page);
	u->u_hdr_base = create_step_fails(&step) ? MAP_FAILED :
			map_anon(u->u_hdr_bytes);
	if (u->u_hdr_base == MAP_FAILED) {
		u->u_hdr_base = NULL;
		errno = ENOMEM;
		goto out_unmap;
	}
	umem_frame_record_init(u);

	for (nz = 0; nz < XM_ZONE_MAX; nz++) {
		struct xm_zone *z = &u->u_zone[nz];
		char *base;
		uint32_t size, stride;

		if (nz < XM_FRAME_ZONES) {
			size = xm_frame_sizes[nz];
			stride = stride_of(size, cfg.chunk_size);
			base = u->u_base + zone_off[nz];
			off = zone_off[nz];
		} else {
			size = stride = cfg.hdr_size;
			base = u->u_hdr_base;
			off = UINT64_MAX;
		}
		rc = create_step_fails(&step) ? -ENOMEM :
		     _xm_zone_init(u, z, (enum xm_zone_id)nz, base, off,
				   size, stride, cfg.limit[nz],
				   (uint32_t)cfg.capacity[nz], cfg.reserve[nz],
				   bucket_of(&cfg, cfg.limit[nz]));
		if (rc < 0) {
			errno = -rc;
			goto out_zones;
		}
	}
	return u;

out_zones:
	while (nz-- > 0)
		_xm_zone_fini(&u->u_zone[nz]);
out_unmap:
	rc = errno;
	umem_unmap(u, false);
	errno = rc;
out_free:
	rc = errno;
	pthread_mutex_destroy(&u->u_hook_lock);
	pthread_mutex_destroy(&u->u_limit_lock);
	free(u);
	errno = rc;
	return NULL;
}

void xm_umem_destroy(struct xm_umem *u)
{
	if (u == NULL)
		return;
	for (int i = 0; i < XM_ZONE_MAX; i++)
		_xm_zone_fini(&u->u_zone[i]);
	umem_unmap(u, u->u_fork_gen != atomic_load_explicit(&xm_fork_gen,
							    memory_order_relaxed));
	free(u->u_hooks);
	pthread_mutex_destroy(&u->u_hook_lock);
	pthread_mutex_destroy(&u->u_limit_lock);
	free(u);
}

/*
 * The accessors below accept NULL and out-of-range arguments (returning
 * NULL/0/false, errno EINVAL): they are not the fast path, which uses the
 * inline forms of xm_zone_fast_int.h.
 */
void *xm_umem_base(const struct xm_umem *u)
{
	return u != NULL ? u->u_base : NULL;
}

size_t xm_umem_size(const struct xm_umem *u)
{
	return u != NULL ? u->u_size : 0;
}

uint32_t xm_umem_chunk_size(const struct xm_umem *u)
{
	return u != NULL ? u->u_chunk_size : 0;
}

bool xm_umem_hugepages(const struct xm_umem *u)
{
	return u != NULL && u->u_hugepages;
}

bool xm_umem_contains(const struct xm_umem *u, const void *p)
{
	return u != NULL &&
	       (uint64_t)((const char *)p - u->u_base) < u->u_size;
}

/* UINT64_MAX (errno EINVAL) when p is not in the region. */
uint64_t xm_umem_addr2off(const struct xm_umem *u, const void *p)
{
	if (!xm_umem_contains(u, p)) {
		errno = EINVAL;
		return UINT64_MAX;
	}
	return _xm_umem_addr2off(u, p);
}

/* NULL (errno EINVAL) when off is not in the region. */
void *xm_umem_off2addr(const struct xm_umem *u, uint64_t off)
{
	if (u == NULL || off >= u->u_size) {
		errno = EINVAL;
		return NULL;
	}
	return _xm_umem_off2addr(u, off);
}

struct xm_zone *xm_umem_zone(struct xm_umem *u, enum xm_zone_id id)
{
	if (u == NULL || (unsigned int)id >= XM_ZONE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	return &u->u_zone[id];
}

struct xm_zone *xm_umem_zone_of(struct xm_umem *u, uint64_t off)
{
	struct xm_zone *z = u != NULL ? _xm_umem_zone_of(u, off) : NULL;

	if (z == NULL)
		errno = EINVAL;
	return z;
}

void *xm_umem_frame_of(struct xm_umem *u, uint64_t off)
{
	struct xm_zone *z = u != NULL ? _xm_umem_zone_of(u, off) : NULL;

	if (z == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return _xm_zone_item(z, _xm_zone_index(z, u->u_base + off));
}

void *xm_umem_frame_meta(struct xm_umem *u, uint64_t off)
{
	struct xm_zone *z = u != NULL ? _xm_umem_zone_of(u, off) : NULL;
	uint64_t start;

	if (z == NULL) {
		errno = EINVAL;
		return NULL;
	}
	start = (uint64_t)((char *)_xm_zone_item(z, _xm_zone_index(z,
			   u->u_base + off)) - u->u_base);
	return _xm_umem_chunk_meta(u, start);
}

void *_xm_umem_meta_frame(struct xm_umem *u, const void *meta)
{
	uint64_t d, idx, off;

	if (u == NULL) {
		errno = EINVAL;
		return NULL;
	}
	d = (uint64_t)((const char *)meta - u->u_meta);
	idx = d / u->u_meta_size;
	if (d % u->u_meta_size != 0 || idx >= (u->u_size >> u->u_chunk_shift)) {
		errno = EINVAL;
		return NULL;
	}
	off = idx << u->u_chunk_shift;
	if (off >= u->u_frames_end) {
		errno = EINVAL;
		return NULL;
	}
	return xm_umem_frame_of(u, off);
}

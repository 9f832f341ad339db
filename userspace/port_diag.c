/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_diag.c - what the port layer says when a socket cannot be made:
 * the socket, the system call that failed (by name), the errno and, where
 * the errno alone does not say, the likely cause and what to do about it.
 * port.c records the step it is at (enum xm_sock_step, xm_port_int.h) as
 * it makes a socket; a failure is reported here, once, at WARN level.
 *
 * Hidden (port.c): _xm_port_sock_report.
 */
#include <errno.h>
#include <string.h>

#include "xm_port_int.h"

static const char *const xm_step_names[] = {
	[XM_STEP_SOCKET] = "socket(AF_XDP)",
	[XM_STEP_UMEM_REG] = "setsockopt(XDP_UMEM_REG)",
	[XM_STEP_FILL_RING] = "setsockopt(XDP_UMEM_FILL_RING)",
	[XM_STEP_COMP_RING] = "setsockopt(XDP_UMEM_COMPLETION_RING)",
	[XM_STEP_RX_RING] = "setsockopt(XDP_RX_RING)",
	[XM_STEP_TX_RING] = "setsockopt(XDP_TX_RING)",
	[XM_STEP_OFFSETS] = "getsockopt(XDP_MMAP_OFFSETS)",
	[XM_STEP_MMAP_FILL] = "mmap(fill ring)",
	[XM_STEP_MMAP_COMP] = "mmap(completion ring)",
	[XM_STEP_MMAP_RX] = "mmap(RX ring)",
	[XM_STEP_MMAP_TX] = "mmap(TX ring)",
	[XM_STEP_BIND] = "bind",
	[XM_STEP_ZC_CHECK] = "getsockopt(XDP_OPTIONS) zero-copy check",
	[XM_STEP_TX_BUDGET] = "setsockopt(XDP_MAX_TX_SKB_BUDGET)",
	[XM_STEP_ALLOC] = "calloc(registration)",
};

/*
 * Why XDP_UMEM_REG failed, where the errno alone does not say.  The
 * kernel pins every page of the region there (pin_user_pages() with
 * FOLL_WRITE | FOLL_LONGTERM), faulting in those not yet present: a
 * fault that fails on the first page comes back as EFAULT, one on a
 * later page as ENOMEM (the pin fell short).  A hugetlb fault fails
 * when the pool has no page for it.
 */
static const char *xm_umem_reg_cause(const struct xm_port *p, int err)
{
	bool huge = xm_umem_hugepages(p->p_umem);

	switch (err) {
	case -EFAULT:
	case -ENOMEM:
		if (huge)
			return "a 2 MiB hugepage of the region could not be "
			       "faulted in to be pinned: the hugepage pool "
			       "lost pages the mapping had reserved (was "
			       "vm.nr_hugepages lowered?); keep the pool "
			       "steady or create the umem with "
			       "XM_UMEM_F_NO_HUGEPAGES";
		return err == -EFAULT ?
		       "part of the region is not mapped writable" :
		       "out of memory faulting in and pinning its pages";
	case -ENOBUFS:
		return "RLIMIT_MEMLOCK is below the region's size: raise it "
		       "or grant CAP_IPC_LOCK";
	case -EINVAL:
		return "the kernel refuses the region's address, length or "
		       "chunk size";
	default:
		return "";
	}
}

/* Names the socket, the system call and the cause of a failed open. */
void _xm_port_sock_report(const struct xm_port *p,
			  const struct xm_port_queue *q, bool zc,
			  enum xm_sock_step step, int err)
{
	if (err == -EPERM || err == -EACCES) {
		xm_pr_warn("%s: queue %u: AF_XDP socket not permitted: %s "
			   "failed (%s): CAP_NET_RAW and CAP_NET_ADMIN are "
			   "needed\n", p->p_name, q->q_queue_id,
			   xm_step_names[step], xm_errname(err));
	} else if (err == -EBUSY && step == XM_STEP_BIND) {
		xm_pr_warn("%s: queue %u already has an AF_XDP socket (bind: "
			   "%s)\n", p->p_name, q->q_queue_id, xm_errname(err));
	} else if (step == XM_STEP_UMEM_REG) {
		const char *cause = xm_umem_reg_cause(p, err);

		xm_pr_warn("%s: queue %u: %s of the umem (%llu bytes at %p "
			   "on %s pages) failed: %s (%s)%s%s\n", p->p_name,
			   q->q_queue_id, xm_step_names[step],
			   (unsigned long long)p->p_nchunks * p->p_chunk,
			   (void *)p->p_base,
			   xm_umem_hugepages(p->p_umem) ? "2 MiB" : "4 KiB",
			   strerror(-err), xm_errname(err),
			   cause[0] ? ": " : "", cause);
	} else {
		xm_pr_warn("%s: queue %u: %s socket: %s failed: %s (%s)\n",
			   p->p_name, q->q_queue_id, zc ? "zero-copy" : "copy",
			   xm_step_names[step], strerror(-err),
			   xm_errname(err));
	}
}

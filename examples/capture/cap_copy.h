/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_copy.h - the copying programs of xmbuf-capture's passive and
 * --at-xdp paths, loaded and attached (cap_copy.c; the programs are
 * xm_cap.bpf.c, the model is at the top of cap_copy.c), and their ring
 * buffer drained into a callback.  Kept apart from cap_run.h: libbpf's
 * and libpcap's headers both define struct bpf_program and bpf_insn.
 */
#ifndef CAP_COPY_H
#define CAP_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cap_copy;

/* One copy as the callback gets it (= struct xm_cap_rec, then bytes). */
struct cap_copy_rec {
	uint64_t ts_ns;			/* CLOCK_MONOTONIC */
	uint32_t wirelen;
	uint32_t caplen;
	uint32_t dir;			/* CAP_DIR_IN or CAP_DIR_OUT */
	uint32_t verdict;		/* XDP action at exit, or UINT32_MAX */
};

/* The copying paths' counters: the programs' (per CPU, summed) and the
 * worker's. */
struct cap_kstats {
	uint64_t seen_in;		/* packets the programs saw */
	uint64_t seen_out;
	uint64_t lost_in;		/* ring buffer full: not copied */
	uint64_t lost_out;
	uint64_t copy_err;		/* bytes unreadable */
	uint64_t nombuf;		/* copied, no mbuf to take it */
	uint64_t bad;			/* malformed record (never expected) */
};

struct cap_copy_opts {
	const char *ifname;
	uint32_t snaplen;		/* bytes copied at most */
	uint32_t ring_kib;		/* ring buffer, KiB (0: 32 MiB) */
	uint32_t dirs;			/* tcx: CAP_DIR_IN | CAP_DIR_OUT */
	uint32_t at_xdp;		/* enum cap_at_xdp; NONE: tcx */
	bool verbose;			/* libbpf's and the verifier's
					 * messages on stderr (-v) */
	/* each copy; a negative return stops the drain */
	int (*on_rec)(void *ctx, const struct cap_copy_rec *r,
		      const uint8_t *data);
	void *ctx;
};

/**
 * Loads the programs the options need and attaches them; on failure
 * prints why (a refusal by the kernel with its reason).
 * @return 0 or -1; *out is set either way (cap_copy_close frees it).
 */
int cap_copy_open(struct cap_copy **out, const struct cap_copy_opts *o);
/** "tcx", "tc clsact", "XDP entry (fentry)", "XDP exit (fexit)". */
const char *cap_copy_hook(const struct cap_copy *cp);
/** --at-xdp: "function (id N)" of the traced program, else "". */
const char *cap_copy_target(const struct cap_copy *cp);
/**
 * Drains the ring: what is there now (timeout_ms 0), or waits up to
 * timeout_ms for a copy.  @return copies handed over, or -errno.
 */
int cap_copy_drain(struct cap_copy *cp, int timeout_ms);
/** The programs' counters (the last read once closed). */
void cap_copy_stats(struct cap_copy *cp, struct cap_kstats *ks);
/** Takes every program off (the counters read last are kept). */
void cap_copy_detach(struct cap_copy *cp);
/** Detaches and frees. */
void cap_copy_close(struct cap_copy *cp);

#endif /* CAP_COPY_H */

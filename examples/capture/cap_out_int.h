/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_out_int.h - what cap_out.c (files: open, rotate, ring, close) and
 * cap_out_write.c (the writes to a file or a stream) share.  Private to
 * the two; the model is in cap_out.c and cap_out.h.
 */
#ifndef CAP_OUT_INT_H
#define CAP_OUT_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cap_out.h"
#include "cap_rotate.h"

#define CAP_ISB_BUF		1024	/* ISB scratch */
#define CAP_ISB_COMMENT_MAX	512	/* longer ISB comments are cut */
#define CAP_STOP_GRACE_NS	500000000ull	/* a blocked stream, after a
						 * stop: see cap_out.h */
#define CAP_POLL_MS		100	/* a blocked stream looks for a stop
					 * this often */

enum out_kind {
	OUT_FILE,			/* regular file */
	OUT_PIPE,			/* pipe or FIFO */
	OUT_SOCKET,			/* a socket on stdout */
	OUT_OTHER,			/* a terminal, a device */
};

struct cap_out {
	struct cap_out_opts o;		/* options (path copied) */
	char *pattern;			/* -w argument */
	int fd;				/* current file, -1 when none */
	bool is_stdout;			/* writing to fd 1 */
	enum out_kind kind;		/* how fd is written */
	bool rwf_nowait;		/* OUT_PIPE: RWF_NOWAIT not refused yet */
	int saved_fl;			/* fd's status flags before we set
					 * O_NONBLOCK, or -1 */
	uint64_t give_up_at;		/* CLOCK_MONOTONIC ns: a blocked stream
					 * is given up after (0: no stop) */
	bool hdr_done;			/* header written to fd */
	uint8_t *hdr;			/* the file header, sized to fit */
	size_t hdr_len;
	char cur[PATH_MAX];		/* current file name */
	uint64_t cur_bytes;		/* bytes up to the last whole record */
	uint64_t cur_records;		/* records in the current file */
	uint32_t count;			/* -C index within the period */
	unsigned int width;		/* -W digits */
	time_t period_end;		/* -G: next rotation (s) */
	time_t period_start;		/* -G: current period (s) */
	struct cap_ring ring;		/* -W */
	bool full;			/* out of space: waiting to retry */
	uint64_t retry_at;		/* ns */
	uint64_t full_lost;		/* records lost in this episode */
	struct cap_out_stats st;	/* counters */
	uint8_t buf[CAP_ISB_BUF];	/* ISBs */
	char comment[CAP_ISB_COMMENT_MAX]; /* ISB comment storage */
	uint64_t reserve;		/* bytes kept free for the ISB */
};

/* Passes a message to the caller's msg_fn, if any. */
void cap_out_say(const struct cap_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* CLOCK_MONOTONIC in ns. */
uint64_t cap_out_mono_ns(void);
/* write(2) until done.  @return 0, or -errno with *done the bytes that
 * made it. */
int cap_out_write_all(int fd, const void *buf, size_t len, size_t *done);

/* cap_out_write.c */
/* Writes len bytes of buf to the current output, whatever it is.
 * @return 0 or -errno, *done the bytes that made it. */
int cap_out_put_bytes(struct cap_out *o, const void *buf, size_t len,
		      size_t *done);
/* Cuts the file back to the last whole record after a failed write. */
int cap_out_roll_back(struct cap_out *o);
/* Writes records [first, end) of b (see cap_out_write.c). */
int cap_out_write_run(struct cap_out *o, const struct cap_batch *b,
		      unsigned int first, unsigned int end,
		      unsigned int *done);

#endif /* CAP_OUT_INT_H */

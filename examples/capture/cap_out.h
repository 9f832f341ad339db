/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_out.h - the output side of xmbuf-capture: capture files written
 * with writev(2) straight from the batch's iovecs, rotated by size
 * and/or clock-aligned time, kept in a ring, or streamed to stdout.
 *
 *   cap_out_write(batch)
 *     time period over?  ---> rotate (ISB, close, next name, open, header)
 *     records that fit   ---> writev ... (IOV_MAX at a time)
 *     next would pass -C ---> rotate, go on with the rest
 *     ENOSPC / EDQUOT / EFBIG: truncate back to the last whole record,
 *       count the rest as not written, try again after retry_ns
 *     a stream that takes nothing (a reader that stopped reading) while
 *       the capture stops: give up stop_grace_ns after the stop, count
 *       the rest as not written (unwritten_stopped)
 *     any other error: the output is dead (EPIPE: the reader left)
 *
 * Every file is whole on its own: header first, then whole records, and
 * for pcapng an interface statistics block when it is closed.
 *
 * Streams (a pipe, a FIFO, a socket: what cannot be truncated back) are
 * written without blocking, waiting in poll(2) between writes, so that a
 * stop request is seen while the reader does not read.  A pipe or FIFO
 * gets whole records in writes of at most PIPE_BUF bytes, which the
 * kernel takes whole or not at all, or up to the pipe's size when it is
 * empty; so a stop leaves the stream at a record boundary, and a reader
 * sees a valid file.  Only a record longer than PIPE_BUF, written while
 * the pipe holds something, or a socket's, can be cut by a reader that
 * never reads again; the output is then reported broken (EIO).  Other
 * character devices (a terminal) are written as before, blocking.
 *
 * Files: a symbolic link at the output path is an error, never followed
 * (O_NOFOLLOW).  The first file, when not rotating, is truncated and
 * written in place only when it is a regular file of the writing user
 * with no other link; one that another user owns, or with another name
 * (a hard link), is replaced atomically (a new file in the same
 * directory, renamed over it), so its owner keeps the old contents and
 * never gets the capture; a FIFO of another user (not root's) is
 * refused.  Rotation targets (and the first file when rotating) are
 * unlinked and created with O_EXCL, so a name swapped in between is
 * refused rather than written through.  Mode 0666 minus the umask, as
 * tcpdump's fopen() gives.
 *
 * Not thread-safe: the capture serializes callers with one lock.
 */
#ifndef CAP_OUT_H
#define CAP_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cap_pcap.h"

struct cap_out;

struct cap_out_opts {
	const char *path;		/* -w FILE (a strftime pattern with -G),
					 * or "-" for stdout */
	struct cap_file_info info;	/* what the headers say */
	uint64_t rotate_bytes;		/* -C in bytes; 0: no size rotation */
	uint32_t rotate_secs;		/* -G; 0: no time rotation */
	uint32_t ring_files;		/* -W; 0: no ring */
	mode_t mode;			/* creation mode (0: 0666) */
	uint64_t retry_ns;		/* after a full disk, write again after
					 * this long (0: 1 s) */
	/* Fills the counters of an ISB (pcapng) when a file closes; the
	 * writer has set end_ns, usrdeliv and osdrop.  NULL: those only. */
	void (*isb_fn)(void *arg, struct cap_isb *isb);
	void *isb_arg;
	/* One line for people (no newline); NULL: silent. */
	void (*msg_fn)(void *arg, const char *msg);
	void *msg_arg;
	/* True once the capture is stopping: a stream that takes nothing
	 * is given up stop_grace_ns (0: 500 ms) later.  NULL: never. */
	bool (*stop_fn)(void);
	uint64_t stop_grace_ns;
};

struct cap_out_stats {
	uint64_t files;			/* files opened */
	uint64_t packets;		/* records written */
	uint64_t bytes;			/* bytes written, headers included */
	uint64_t unwritten_full;	/* records lost: no space (ENOSPC,
					 * EDQUOT, EFBIG) */
	uint64_t unwritten_error;	/* records lost: other write errors */
	uint64_t unwritten_stopped;	/* records lost: the stream took
					 * nothing when the capture stopped */
	uint64_t full_episodes;		/* times the disk filled up */
	int error;			/* errno that stopped the output, 0 */
};

/**
 * Opens the first file (at wall-clock time now_ns, ns since the epoch)
 * and writes its header.  @return 0 and *op; -errno otherwise, after a
 * message (ELOOP for a symbolic link at the path, ENOSPC, EACCES, ...).
 */
int cap_out_open(struct cap_out **op, const struct cap_out_opts *o,
		 uint64_t now_ns);

/**
 * Writes every record of b, rotating as the options say.
 * @return 0 when all were written; -ENOSPC when some were not for lack
 * of space (counted; writing resumes after retry_ns); -ECANCELED when
 * some were not because a stream took nothing until the stop grace
 * ended (counted; later calls try once each); any other -errno when the
 * output failed for good (the rest are counted, later calls write
 * nothing): the caller stops.
 */
int cap_out_write(struct cap_out *o, const struct cap_batch *b,
		  uint64_t now_ns);

/**
 * Rotates when the time period is over (for captures that go quiet).
 * @return 0, or -errno when the next file cannot be opened.
 */
int cap_out_tick(struct cap_out *o, uint64_t now_ns);

/**
 * Writes the last statistics block, closes and frees.  @return 0, or
 * -errno when the last writes or close(2) failed (after a message).
 * NULL is allowed.
 */
int cap_out_close(struct cap_out *o, uint64_t now_ns);

void cap_out_stats(const struct cap_out *o, struct cap_out_stats *st);
/** The file being written ("-" for stdout). */
const char *cap_out_current(const struct cap_out *o);

#endif /* CAP_OUT_H */

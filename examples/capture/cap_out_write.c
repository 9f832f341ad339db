// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_out_write.c - the writes of capture files (cap_out.c has the model
 * and the files): a batch's records to a regular file by writev, cut
 * back to the last whole record after an error; to a stream (pipe,
 * FIFO, socket) in writes the kernel takes whole where it can, waiting
 * for room in poll() steps that look for a stop between them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cap_out_int.h"

/* ------------------------------------------------------------- streams */

/*
 * True once a stop was asked for and its grace is over; the grace starts
 * at the first look that sees the stop.  *wait_ms: how long a wait may
 * last before looking again.
 */
static bool stop_expired(struct cap_out *o, int *wait_ms)
{
	uint64_t now, grace = o->o.stop_grace_ns ? o->o.stop_grace_ns :
			      CAP_STOP_GRACE_NS;

	*wait_ms = CAP_POLL_MS;
	if (!o->o.stop_fn || !o->o.stop_fn())
		return false;
	now = cap_out_mono_ns();
	if (!o->give_up_at)
		o->give_up_at = now + grace;
	if (now >= o->give_up_at)
		return true;
	if (o->give_up_at - now < (uint64_t)CAP_POLL_MS * 1000000ull)
		*wait_ms = (int)((o->give_up_at - now + 999999) / 1000000);
	return false;
}

/* Waits until the stream takes bytes again.  @return 0 to write again;
 * -ECANCELED once a stop's grace is over; -errno. */
static int stream_wait(struct cap_out *o)
{
	struct pollfd pfd = { .fd = o->fd, .events = POLLOUT };
	int ms, n;

	for (;;) {
		if (stop_expired(o, &ms))
			return -ECANCELED;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;	/* room, or an error the write reports */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Sets O_NONBLOCK on the descriptor, remembering what to put back. */
static int stream_nonblock(struct cap_out *o)
{
	int fl = fcntl(o->fd, F_GETFL);

	o->rwf_nowait = false;
	if (fl < 0)
		return -errno;
	if (fl & O_NONBLOCK)
		return 0;
	if (fcntl(o->fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -errno;
	o->saved_fl = fl;
	return 0;
}

/* One write that does not wait for the reader (but on OUT_OTHER).
 * @return bytes, or -errno (-EAGAIN: the stream is full). */
static ssize_t stream_write(struct cap_out *o, const struct iovec *iov,
			    int n)
{
	ssize_t w;

	if (o->kind == OUT_SOCKET) {
		struct msghdr mh = {
			.msg_iov = (struct iovec *)iov,
			.msg_iovlen = (size_t)n,
		};

		w = sendmsg(o->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else if (o->kind == OUT_PIPE && o->rwf_nowait) {
		w = pwritev2(o->fd, iov, n, -1, RWF_NOWAIT);
		if (w < 0 && errno == EOPNOTSUPP) {
			/* a FIFO: only anonymous pipes take it per call */
			int err = stream_nonblock(o);

			if (err)
				return err;
			w = writev(o->fd, iov, n);
		}
	} else {
		w = writev(o->fd, iov, n);
	}
	return w < 0 ? -errno : w;
}

/* Drops the first len bytes of *iov (and the empty iovecs after). */
static void iov_advance(struct iovec **iov, int *n, size_t len)
{
	while (*n > 0 && (len || (*iov)->iov_len == 0)) {
		size_t l = (*iov)->iov_len < len ? (*iov)->iov_len : len;

		(*iov)->iov_base = (char *)(*iov)->iov_base + l;
		(*iov)->iov_len -= l;
		len -= l;
		if ((*iov)->iov_len == 0) {
			(*iov)++;
			(*n)--;
		}
	}
}

/*
 * Writes all of iov[0, n) (changed as it goes) to a stream, waiting for
 * room between writes.  @return 0; -ECANCELED when a stop's grace ran out
 * first; -errno; *done the bytes that went out either way.
 */
static int stream_put(struct cap_out *o, struct iovec *iov, int n,
		      size_t *done)
{
	size_t put = 0;
	int err = 0, ms;

	iov_advance(&iov, &n, 0);
	while (n > 0) {
		ssize_t w = stream_write(o, iov, n);

		if (w > 0) {
			put += (size_t)w;
			iov_advance(&iov, &n, (size_t)w);
			continue;
		}
		if (w == 0) {
			err = -EIO;
		} else if (w == -EAGAIN) {
			err = stream_wait(o);
			if (!err)
				continue;
		} else if (w == -EINTR) {
			if (!stop_expired(o, &ms))
				continue;
			err = -ECANCELED;
		} else {
			err = (int)w;
		}
		break;
	}
	*done = put;
	return err;
}

/*
 * Bytes a pipe takes whole in one write: PIPE_BUF, which POSIX promises
 * for any pipe with room, or its whole size when it holds nothing (every
 * slot is free then, and only the reader acts on it meanwhile).
 */
static uint64_t pipe_chunk(const struct cap_out *o)
{
	int queued = -1, size;

	if (ioctl(o->fd, FIONREAD, &queued) == 0 && queued == 0) {
		size = fcntl(o->fd, F_GETPIPE_SZ);
		if (size > PIPE_BUF)
			return (uint64_t)size;
	}
	return PIPE_BUF;
}

/* Writes len bytes of buf to the current output, whatever it is.
 * @return 0 or -errno, *done the bytes that made it. */
int cap_out_put_bytes(struct cap_out *o, const void *buf, size_t len,
		     size_t *done)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	if (o->kind == OUT_FILE)
		return cap_out_write_all(o->fd, buf, len, done);
	return stream_put(o, &iov, 1, done);
}

/* Cuts the file back to the last whole record after a failed write. */
int cap_out_roll_back(struct cap_out *o)
{
	if (o->kind != OUT_FILE)
		return -ESPIPE;
	if (ftruncate(o->fd, (off_t)o->cur_bytes) != 0 ||
	    lseek(o->fd, (off_t)o->cur_bytes, SEEK_SET) < 0)
		return -errno;
	return 0;
}

/* Counts records [first, first + n) of b as written. */
static void count_written(struct cap_out *o, const struct cap_batch *b,
			  unsigned int first, unsigned int n)
{
	uint64_t bytes;

	if (!n)
		return;
	bytes = b->rec_end[first + n - 1] - cap_batch_rec_start(b, first);
	o->cur_bytes += bytes;
	o->st.bytes += bytes;
	o->cur_records += n;
	o->st.packets += n;
}

/*
 * cap_out_write_run() for a regular file: writev as far as it goes; after an
 * error, the file is cut back to the last whole record.
 */
static int write_run_file(struct cap_out *o, const struct cap_batch *b,
			  unsigned int first, unsigned int end,
			  unsigned int *done)
{
	uint64_t from = cap_batch_rec_start(b, first), to = b->rec_end[end - 1];
	uint64_t pos = from;
	struct iovec iov[CAP_BATCH_IOVS];
	unsigned int k;
	int err = 0;

	while (pos < to) {
		uint64_t covered;
		unsigned int n = cap_batch_slice(b, pos, to, iov,
						 CAP_BATCH_IOVS, &covered);
		ssize_t w = writev(o->fd, iov, (int)n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (w == 0) {
			err = -EIO;
			break;
		}
		pos += (uint64_t)w;
	}
	/* records that made it whole */
	for (k = first; k < end && b->rec_end[k] <= pos; k++)
		;
	*done = k - first;
	count_written(o, b, first, *done);
	if (err && pos > (k > first ? b->rec_end[k - 1] : from)) {
		int rerr = cap_out_roll_back(o);

		if (rerr) {
			cap_out_say(o, "%s: a record was cut short and cannot be "
			    "taken back (%s)", o->cur, strerror(-rerr));
			err = -EIO;
		}
	}
	return err;
}

/*
 * cap_out_write_run() for a stream: whole records per write, as many as a pipe
 * takes whole (pipe_chunk(); a longer record goes alone), or all of them
 * on a socket, waiting for room between writes.  A stop leaves the
 * stream at a record boundary unless a write was cut inside a record
 * (a long one, or a socket's): the stream is broken then (EIO).
 */
static int write_run_stream(struct cap_out *o, const struct cap_batch *b,
			    unsigned int first, unsigned int end,
			    unsigned int *done)
{
	uint64_t from = cap_batch_rec_start(b, first), to = b->rec_end[end - 1];
	uint64_t pos = from;
	struct iovec iov[CAP_BATCH_IOVS];
	unsigned int k = first;		/* first record not yet out whole */
	int err = 0;

	while (pos < to) {
		uint64_t limit = o->kind == OUT_PIPE ? pipe_chunk(o) :
				 UINT64_MAX;
		unsigned int j = k + 1, n;
		uint64_t covered;
		size_t put;

		while (j < end && b->rec_end[j] - pos <= limit)
			j++;
		/* a slice of a batch needs no more iovecs than the batch */
		n = cap_batch_slice(b, pos, b->rec_end[j - 1], iov,
				    CAP_BATCH_IOVS, &covered);
		err = stream_put(o, iov, (int)n, &put);
		pos += put;
		while (k < end && b->rec_end[k] <= pos)
			k++;
		if (err)
			break;
	}
	*done = k - first;
	count_written(o, b, first, *done);
	if (err && pos > cap_batch_rec_start(b, k)) {
		cap_out_say(o, "%s: a record was cut short: the reader stopped in the "
		    "middle of it (%s)", o->cur, strerror(-err));
		err = -EIO;
	}
	return err;
}

/*
 * Writes records [first, end) of b, which fit the current file.
 * @return 0; or -errno with *done the records that were written whole
 * (a file is cut back to the end of the last of them).
 */
int cap_out_write_run(struct cap_out *o, const struct cap_batch *b,
		     unsigned int first, unsigned int end, unsigned int *done)
{
	if (o->kind == OUT_FILE)
		return write_run_file(o, b, first, end, done);
	return write_run_stream(o, b, first, end, done);
}

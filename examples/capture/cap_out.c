// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_out.c - capture files: open, writev, rotate, ring, disk full (the
 * model is in cap_out.h).
 *
 * The file offset is tracked, not asked for: cur_bytes is where the last
 * whole record ends, and after a failed writev the file is truncated
 * back to it, so a reader never meets half a record.  A stream (stdout,
 * a FIFO) cannot be truncated: an error in the middle of a record ends
 * the output there.
 *
 * KPI (example-private):
 *   cap_out_open, cap_out_write, cap_out_tick, cap_out_close,
 *   cap_out_stats, cap_out_current
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cap_out.h"
#include "cap_rotate.h"

#define CAP_HDR_BUF		4096	/* file header / ISB scratch */
#define CAP_ISB_COMMENT_MAX	512	/* longer ISB comments are cut */
/* Room kept for the statistics block at the end of a pcapng file, so
 * that -C bounds the whole file: the block without a comment is 120
 * bytes, plus the comment, its option header and padding. */
#define CAP_ISB_RESERVE		(120 + 4 + CAP_ISB_COMMENT_MAX + 4)
#define CAP_RETRY_NS		1000000000ull

struct cap_out {
	struct cap_out_opts o;		/* options (path copied) */
	char *pattern;			/* -w argument */
	int fd;				/* current file, -1 when none */
	bool is_stdout;			/* writing to fd 1 */
	bool seekable;			/* a regular file: can truncate */
	bool hdr_done;			/* header written to fd */
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
	uint8_t buf[CAP_HDR_BUF];	/* headers and ISBs */
	char comment[CAP_ISB_COMMENT_MAX]; /* ISB comment storage */
	uint64_t reserve;		/* bytes kept free for the ISB */
};

static void say(const struct cap_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct cap_out *o, const char *fmt, ...)
{
	char line[PATH_MAX + 256];
	va_list ap;

	if (!o->o.msg_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->o.msg_fn(o->o.msg_arg, line);
}

static bool is_space_error(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

/* write(2) until done.  @return 0, or -errno with *done the bytes that
 * made it. */
static int write_all(int fd, const void *buf, size_t len, size_t *done)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*done = off;
			return -errno;
		}
		off += (size_t)n;
	}
	*done = off;
	return 0;
}

/* Cuts the file back to the last whole record after a failed write. */
static int roll_back(struct cap_out *o)
{
	if (!o->seekable)
		return -ESPIPE;
	if (ftruncate(o->fd, (off_t)o->cur_bytes) != 0 ||
	    lseek(o->fd, (off_t)o->cur_bytes, SEEK_SET) < 0)
		return -errno;
	return 0;
}

/* Writes the file header if it is not there yet. */
static int write_header(struct cap_out *o)
{
	ssize_t len;
	size_t done;
	int err;

	if (o->hdr_done)
		return 0;
	len = cap_file_header(&o->o.info, o->buf, sizeof(o->buf));
	if (len < 0)
		return (int)len;
	err = write_all(o->fd, o->buf, (size_t)len, &done);
	if (err) {
		o->cur_bytes = 0;
		if (done)
			(void)roll_back(o);
		return err;
	}
	o->cur_bytes = (uint64_t)len;
	o->st.bytes += (uint64_t)len;
	o->hdr_done = true;
	return 0;
}

/* Statistics block at the end of a pcapng file; best effort. */
static void write_isb(struct cap_out *o, uint64_t now_ns)
{
	struct cap_isb isb = {
		.end_ns = now_ns,
		.usrdeliv = o->st.packets,
		.osdrop = o->st.unwritten_full + o->st.unwritten_error,
	};
	ssize_t len;
	size_t done;

	if (o->o.info.format != CAP_FMT_PCAPNG || o->fd < 0 || !o->hdr_done)
		return;
	if (o->o.isb_fn)
		o->o.isb_fn(o->o.isb_arg, &isb);
	if (isb.comment) {
		/* keep the caller's string alive past its callback; cut to
		 * what the -C reservation allows */
		snprintf(o->comment, sizeof(o->comment), "%s", isb.comment);
		isb.comment = o->comment;
	}
	len = cap_isb_block(&isb, o->buf, sizeof(o->buf));
	if (len < 0)
		return;
	if (write_all(o->fd, o->buf, (size_t)len, &done) != 0) {
		if (done)
			(void)roll_back(o);
		return;
	}
	o->cur_bytes += (uint64_t)len;
	o->st.bytes += (uint64_t)len;
}

static int close_file(struct cap_out *o, uint64_t now_ns)
{
	int err = 0;

	if (o->fd < 0)
		return 0;
	write_isb(o, now_ns);
	if (!o->is_stdout && close(o->fd) != 0) {
		err = -errno;
		say(o, "%s: %s", o->cur, strerror(errno));
	}
	o->fd = -1;
	return err;
}

/*
 * Opens the next file: the name from the pattern, the period and the
 * count; a ring slot freed if the ring is full; the header written.
 */
static int open_file(struct cap_out *o, bool first)
{
	bool rotating = o->o.rotate_bytes || o->o.rotate_secs;
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	char *evicted = NULL;
	int err;

	o->hdr_done = false;
	o->cur_bytes = 0;
	o->cur_records = 0;
	if (o->is_stdout) {
		o->fd = STDOUT_FILENO;
		snprintf(o->cur, sizeof(o->cur), "-");
	} else {
		err = cap_rotate_name(o->cur, sizeof(o->cur), o->pattern,
				      o->o.rotate_secs != 0, o->period_start,
				      o->count, o->width);
		if (err) {
			say(o, "cannot make a file name from '%s': %s",
			    o->pattern, strerror(-err));
			return err;
		}
		if (first && !rotating) {
			flags |= O_TRUNC;
		} else {
			/* Replace, never write through: what sits at the name
			 * (an old capture, or a link someone planted) goes,
			 * and O_EXCL refuses anything that appears after. */
			if (unlink(o->cur) != 0 && errno != ENOENT) {
				err = -errno;
				say(o, "cannot replace %s: %s", o->cur,
				    strerror(errno));
				return err;
			}
			flags |= O_EXCL;
		}
		o->fd = open(o->cur, flags, o->o.mode ? o->o.mode : 0666);
		if (o->fd < 0) {
			err = -errno;
			if (errno == ELOOP)
				say(o, "%s: is a symbolic link; refusing to "
				    "follow it", o->cur);
			else
				say(o, "cannot create %s: %s", o->cur,
				    strerror(errno));
			return err;
		}
	}
	o->seekable = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!o->is_stdout && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
	    !S_ISCHR(st.st_mode)) {
		say(o, "%s: not a regular file, FIFO or device", o->cur);
		close(o->fd);
		o->fd = -1;
		return -EINVAL;
	}
	o->st.files++;
	if (o->ring.nfiles && !o->is_stdout) {
		if (cap_ring_push(&o->ring, o->cur, &evicted) == 0 && evicted) {
			if (strcmp(evicted, o->cur) != 0 &&
			    unlink(evicted) != 0 && errno != ENOENT)
				say(o, "cannot remove %s from the ring: %s",
				    evicted, strerror(errno));
			free(evicted);
		}
	}
	err = write_header(o);
	if (err && is_space_error(-err)) {
		/* no room even for a header: a disk-full episode, the
		 * header is tried again with the next write */
		return err;
	}
	if (err) {
		say(o, "%s: %s", o->cur, strerror(-err));
		return err;
	}
	return 0;
}

/* Closes the current file and opens the next. */
static int rotate(struct cap_out *o, uint64_t now_ns, bool new_period)
{
	time_t now_s = (time_t)(now_ns / 1000000000ull);
	int err;

	(void)close_file(o, now_ns);
	if (new_period) {
		cap_rotate_period(now_s, o->o.rotate_secs, &o->period_start,
				  &o->period_end);
		o->count = 0;
	} else {
		o->count++;
		if (o->o.ring_files && !o->o.rotate_secs &&
		    o->count >= o->o.ring_files)
			o->count = 0;
	}
	err = open_file(o, false);
	if (err && !is_space_error(-err)) {
		o->st.error = -err;
		return err;
	}
	if (err) {
		o->full = true;
		o->st.full_episodes++;
		o->retry_at = now_ns + o->o.retry_ns;
		say(o, "%s: %s; packets are counted, not written, until there "
		    "is room", o->cur, strerror(-err));
	}
	return 0;
}

int cap_out_open(struct cap_out **op, const struct cap_out_opts *opts,
		 uint64_t now_ns)
{
	struct cap_out *o;
	int err;

	*op = NULL;
	if (!opts || !opts->path || !*opts->path)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->o = *opts;
	o->fd = -1;
	if (!o->o.retry_ns)
		o->o.retry_ns = CAP_RETRY_NS;
	o->is_stdout = strcmp(opts->path, "-") == 0;
	o->pattern = strdup(opts->path);
	if (!o->pattern) {
		free(o);
		return -ENOMEM;
	}
	o->o.path = o->pattern;
	if (o->is_stdout && (opts->rotate_bytes || opts->rotate_secs)) {
		say(o, "rotation needs a file, not stdout");
		err = -EINVAL;
		goto out_free;
	}
	if (opts->ring_files) {
		err = cap_ring_init(&o->ring, opts->ring_files);
		if (err)
			goto out_free;
	}
	if (opts->info.format == CAP_FMT_PCAPNG && opts->rotate_bytes)
		o->reserve = CAP_ISB_RESERVE;
	o->width = opts->rotate_bytes && opts->ring_files ?
		   cap_rotate_width(opts->ring_files) : 0;
	cap_rotate_period((time_t)(now_ns / 1000000000ull), opts->rotate_secs,
			  &o->period_start, &o->period_end);
	err = open_file(o, true);
	if (err) {
		if (is_space_error(-err))
			say(o, "%s: %s", o->cur, strerror(-err));
		if (o->fd >= 0 && !o->is_stdout)
			close(o->fd);
		goto out_ring;
	}
	*op = o;
	return 0;

out_ring:
	cap_ring_fini(&o->ring);
out_free:
	free(o->pattern);
	free(o);
	return err;
}

/*
 * Writes records [first, end) of b, which fit the current file.
 * @return 0; or -errno with *done the records that were written whole
 * (the file cut back to the end of the last of them).
 */
static int write_run(struct cap_out *o, const struct cap_batch *b,
		     unsigned int first, unsigned int end, unsigned int *done)
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
	if (*done) {
		uint64_t bytes = b->rec_end[k - 1] - from;

		o->cur_bytes += bytes;
		o->st.bytes += bytes;
		o->cur_records += *done;
		o->st.packets += *done;
	}
	if (err && pos > (k > first ? b->rec_end[k - 1] : from)) {
		int rerr = roll_back(o);

		if (rerr) {
			/* half a record stays in a stream: it is broken */
			say(o, "%s: a record was cut short and cannot be "
			    "taken back (%s)", o->cur, strerror(-rerr));
			err = -EIO;
		}
	}
	return err;
}

static int check_period(struct cap_out *o, uint64_t now_ns)
{
	if (!o->o.rotate_secs || o->st.error)
		return 0;
	if ((time_t)(now_ns / 1000000000ull) < o->period_end)
		return 0;
	return rotate(o, now_ns, true);
}

/* Counts records [from, nrec) of a batch as lost to a full disk. */
static int lost_to_space(struct cap_out *o, const struct cap_batch *b,
			 unsigned int from, int err, uint64_t now_ns)
{
	if (!o->full) {
		if (!o->full_lost)
			say(o, "%s: %s; packets are counted, not written, "
			    "until there is room", o->cur, strerror(-err));
		o->full = true;
		o->st.full_episodes++;
		o->retry_at = now_ns + o->o.retry_ns;
	}
	o->st.unwritten_full += b->nrec - from;
	o->full_lost += b->nrec - from;
	return -ENOSPC;
}

int cap_out_write(struct cap_out *o, const struct cap_batch *b,
		  uint64_t now_ns)
{
	unsigned int i = 0;
	int err;

	if (!b->nrec)
		return 0;
	if (o->st.error) {
		o->st.unwritten_error += b->nrec;
		return -o->st.error;
	}
	err = check_period(o, now_ns);
	if (err)
		goto failed;
	if (o->full) {
		if (now_ns < o->retry_at) {
			o->st.unwritten_full += b->nrec;
			o->full_lost += b->nrec;
			return -ENOSPC;
		}
		o->full = false;
	}
	/* a file that could not even be created or headed is tried again */
	if (o->fd < 0)
		err = open_file(o, false);
	else
		err = write_header(o);
	if (err)
		goto failed;

	while (i < b->nrec) {
		uint64_t run = 0;
		unsigned int j = i, done;

		for (; j < b->nrec; j++) {
			uint64_t len = b->rec_end[j] - cap_batch_rec_start(b, j);

			if (o->o.rotate_bytes && o->cur_records + (j - i) > 0 &&
			    o->cur_bytes + run + len + o->reserve >
			    o->o.rotate_bytes)
				break;
			run += len;
		}
		if (j == i) {
			err = rotate(o, now_ns, false);
			if (err)
				goto failed;
			if (o->full)
				return lost_to_space(o, b, i, -ENOSPC, now_ns);
			continue;
		}
		err = write_run(o, b, i, j, &done);
		i += done;
		if (err)
			goto failed;
	}
	if (o->full_lost) {
		say(o, "%s: writing again; %llu packets were not written",
		    o->cur, (unsigned long long)o->full_lost);
		o->full_lost = 0;
	}
	return 0;

failed:
	if (is_space_error(-err))
		return lost_to_space(o, b, i, err, now_ns);
	if (!o->st.error) {
		if (err != -EPIPE)
			say(o, "%s: %s", o->cur, strerror(-err));
		o->st.error = -err;
	}
	o->st.unwritten_error += b->nrec - i;
	return err;
}

int cap_out_tick(struct cap_out *o, uint64_t now_ns)
{
	return check_period(o, now_ns);
}

int cap_out_close(struct cap_out *o, uint64_t now_ns)
{
	int err;

	if (!o)
		return 0;
	err = close_file(o, now_ns);
	cap_ring_fini(&o->ring);
	free(o->pattern);
	free(o);
	return err;
}

void cap_out_stats(const struct cap_out *o, struct cap_out_stats *st)
{
	*st = o->st;
}

const char *cap_out_current(const struct cap_out *o)
{
	return o->cur;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_out.c - capture files: open, writev, rotate, ring, disk full,
 * streams (the model is in cap_out.h).
 *
 * The file offset is tracked, not asked for: cur_bytes is where the last
 * whole record ends, and after a failed writev a regular file is
 * truncated back to it, so a reader never meets half a record.  A stream
 * cannot be truncated: there, records go out in writes the kernel takes
 * whole or not at all where it can, and an error in the middle of a
 * record ends the output.
 *
 *   kind        write                          when it takes nothing
 *   OUT_FILE    writev, blocking               (a disk does not stall)
 *   OUT_PIPE    pwritev2(RWF_NOWAIT), or       poll(POLLOUT) in steps of
 *               writev on O_NONBLOCK (a FIFO)  CAP_POLL_MS, looking for
 *   OUT_SOCKET  sendmsg(MSG_DONTWAIT)          the stop between them
 *   OUT_OTHER   writev, blocking (a terminal)
 *
 * RWF_NOWAIT leaves stdout's open file description alone (a shell may
 * share it); a FIFO refuses it (EOPNOTSUPP), and gets O_NONBLOCK on the
 * descriptor instead, put back when the file is closed.
 *
 * The writes themselves (a batch's records to a file or a stream, and
 * waiting on a stream that takes nothing) are in cap_out_write.c.
 *
 * KPI (example-private):
 *   cap_out_open, cap_out_write, cap_out_tick, cap_out_close,
 *   cap_out_stats, cap_out_current
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cap_out.h"
#include "cap_out_int.h"
#include "cap_rotate.h"

/* Room kept for the statistics block at the end of a pcapng file, so
 * that -C bounds the whole file: the block without a comment is 120
 * bytes, plus the comment, its option header and padding. */
#define CAP_ISB_RESERVE		(120 + 4 + CAP_ISB_COMMENT_MAX + 4)
#define CAP_RETRY_NS		1000000000ull
#define CAP_REPLACE_TRIES	100	/* temporary names tried */

_Static_assert(CAP_ISB_RESERVE <= CAP_ISB_BUF, "an ISB fits its scratch");

void cap_out_say(const struct cap_out *o, const char *fmt, ...)
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

uint64_t cap_out_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* write(2) until done.  @return 0, or -errno with *done the bytes that
 * made it. */
int cap_out_write_all(int fd, const void *buf, size_t len, size_t *done)
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

/* Writes the file header if it is not there yet. */
static int write_header(struct cap_out *o)
{
	size_t done;
	int err;

	if (o->hdr_done)
		return 0;
	err = cap_out_put_bytes(o, o->hdr, o->hdr_len, &done);
	if (err) {
		o->cur_bytes = 0;
		if (done && cap_out_roll_back(o) != 0) {
			/* half a header stays in a stream: it is broken */
			cap_out_say(o, "%s: the file header was cut short (%s)",
			    o->cur, strerror(-err));
			err = -EIO;
		}
		return err;
	}
	o->cur_bytes = o->hdr_len;
	o->st.bytes += o->hdr_len;
	o->hdr_done = true;
	return 0;
}

/* Statistics block at the end of a pcapng file; best effort. */
static void write_isb(struct cap_out *o, uint64_t now_ns)
{
	struct cap_isb isb = {
		.end_ns = now_ns,
		.usrdeliv = o->st.packets,
		.osdrop = o->st.unwritten_full + o->st.unwritten_error +
			  o->st.unwritten_stopped,
	};
	ssize_t len;
	size_t done;
	int err;

	if (o->o.info.format != CAP_FMT_PCAPNG || o->fd < 0 || !o->hdr_done ||
	    o->st.error)
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
	/* on a pipe it is one write of less than PIPE_BUF: whole or none */
	err = cap_out_put_bytes(o, o->buf, (size_t)len, &done);
	if (err) {
		if (done && cap_out_roll_back(o) != 0)
			cap_out_say(o, "%s: the statistics block was cut short (%s)",
			    o->cur, strerror(-err));
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
	if (o->saved_fl >= 0) {
		/* stdout's description may be shared: as we found it */
		(void)fcntl(o->fd, F_SETFL, o->saved_fl);
		o->saved_fl = -1;
	}
	if (!o->is_stdout && close(o->fd) != 0) {
		err = -errno;
		cap_out_say(o, "%s: %s", o->cur, strerror(errno));
	}
	o->fd = -1;
	return err;
}

/* The message for a failed open(2) of o->cur; @return -errno. */
static int open_failed(struct cap_out *o)
{
	int err = -errno;

	if (errno == ELOOP)
		cap_out_say(o, "%s: is a symbolic link; refusing to follow it",
		    o->cur);
	else
		cap_out_say(o, "cannot create %s: %s", o->cur, strerror(errno));
	return err;
}

/*
 * Puts a new file of ours in the place of what is at o->cur (another
 * user's file, or one with other names): created beside it under a
 * temporary name, then renamed over it, so that the name never leads to
 * a file that is not ours, and whoever holds the old one keeps its
 * contents, never the capture.  @return the descriptor, or -errno after
 * a message.
 */
static int replace_file(struct cap_out *o, const struct stat *old)
{
	const char *slash = strrchr(o->cur, '/');
	const char *base = slash ? slash + 1 : o->cur;
	int dirlen = slash ? (int)(slash - o->cur + 1) : 0;
	char tmp[PATH_MAX];
	int fd = -1, err;

	for (unsigned int i = 0; i < CAP_REPLACE_TRIES && fd < 0; i++) {
		if (snprintf(tmp, sizeof(tmp), "%.*s.%s.%d.%u", dirlen, o->cur,
			     base, (int)getpid(), i) >= (int)sizeof(tmp)) {
			cap_out_say(o, "cannot replace %s: name too long", o->cur);
			return -ENAMETOOLONG;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_CLOEXEC, o->o.mode ? o->o.mode : 0666);
		if (fd < 0 && errno != EEXIST) {
			err = -errno;
			cap_out_say(o, "cannot replace %s (a file of uid %u): cannot "
			    "create %s: %s", o->cur, (unsigned int)old->st_uid,
			    tmp, strerror(errno));
			return err;
		}
	}
	if (fd < 0) {
		cap_out_say(o, "cannot replace %s: no free temporary name", o->cur);
		return -EEXIST;
	}
	if (rename(tmp, o->cur) != 0) {
		err = -errno;
		cap_out_say(o, "cannot replace %s (a file of uid %u): %s", o->cur,
		    (unsigned int)old->st_uid, strerror(errno));
		(void)unlink(tmp);
		close(fd);
		return err;
	}
	cap_out_say(o, "%s belonged to uid %u%s: replaced by a new file", o->cur,
	    (unsigned int)old->st_uid,
	    old->st_nlink > 1 ? " and had other names" : "");
	return fd;
}

/*
 * The first file when not rotating, tcpdump -w FILE: created when
 * nothing is there; truncated in place when it is a regular file of ours
 * with no other name; replaced atomically when it is another's, or
 * linked elsewhere; a FIFO or device as it is, if ours (see cap_out.h).
 * Each check is made again on the descriptor, for a name that changes
 * hands in between.  @return the descriptor, or -errno after a message.
 */
static int open_first(struct cap_out *o)
{
	const int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
	uid_t me = geteuid();
	struct stat st, fst;
	int fd, err;

	for (int tries = 0; tries < 3; tries++) {
		fd = open(o->cur, flags | O_CREAT | O_EXCL,
			  o->o.mode ? o->o.mode : 0666);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return open_failed(o);
		/* something is there (O_EXCL says so for a link, too) */
		if (lstat(o->cur, &st) != 0) {
			if (errno == ENOENT)
				continue;
			return open_failed(o);
		}
		if (S_ISLNK(st.st_mode)) {
			errno = ELOOP;
			return open_failed(o);
		}
		if (S_ISREG(st.st_mode) &&
		    (st.st_uid != me || st.st_nlink != 1))
			return replace_file(o, &st);
		/* a FIFO of root's is fine after -Z: root reads it all
		 * anyway; another user's would hand them the capture */
		if (S_ISFIFO(st.st_mode) && st.st_uid != me && st.st_uid != 0) {
			cap_out_say(o, "%s: a FIFO of uid %u, not of this user: "
			    "refusing to write the capture into it", o->cur,
			    (unsigned int)st.st_uid);
			return -EPERM;
		}
		/* a FIFO: this waits for a reader, as tcpdump does */
		fd = open(o->cur, flags);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return open_failed(o);
		}
		if (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev ||
		    fst.st_ino != st.st_ino ||
		    (fst.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
			close(fd);
			continue;	/* swapped meanwhile: look again */
		}
		if ((S_ISREG(fst.st_mode) &&
		     (fst.st_uid != me || fst.st_nlink != 1)) ||
		    (S_ISFIFO(fst.st_mode) && fst.st_uid != me &&
		     fst.st_uid != 0)) {
			close(fd);
			continue;	/* changed owner or got a name */
		}
		if (S_ISREG(fst.st_mode) && ftruncate(fd, 0) != 0) {
			err = -errno;
			cap_out_say(o, "cannot truncate %s: %s", o->cur,
			    strerror(errno));
			close(fd);
			return err;
		}
		return fd;
	}
	cap_out_say(o, "%s keeps changing under us; giving up", o->cur);
	return -EAGAIN;
}

/* How the descriptor is written, from what it is. */
static int classify(struct cap_out *o)
{
	struct stat st;

	o->saved_fl = -1;
	o->rwf_nowait = false;
	if (fstat(o->fd, &st) != 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		o->kind = OUT_FILE;
	} else if (S_ISFIFO(st.st_mode)) {
		o->kind = OUT_PIPE;
		o->rwf_nowait = true;
	} else if (S_ISSOCK(st.st_mode)) {
		o->kind = OUT_SOCKET;
	} else if (S_ISCHR(st.st_mode) || o->is_stdout) {
		o->kind = OUT_OTHER;
	} else {
		cap_out_say(o, "%s: not a regular file, FIFO or device", o->cur);
		return -EINVAL;
	}
	return 0;
}

/*
 * Opens the next file: the name from the pattern, the period and the
 * count; a ring slot freed if the ring is full; the header written.
 */
static int open_file(struct cap_out *o, bool first)
{
	bool rotating = o->o.rotate_bytes || o->o.rotate_secs;
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
			cap_out_say(o, "cannot make a file name from '%s': %s",
			    o->pattern, strerror(-err));
			return err;
		}
		if (first && !rotating) {
			o->fd = open_first(o);
		} else {
			/* Replace, never write through: what sits at the name
			 * (an old capture, or a link someone planted) goes,
			 * and O_EXCL refuses anything that appears after. */
			if (unlink(o->cur) != 0 && errno != ENOENT) {
				err = -errno;
				cap_out_say(o, "cannot replace %s: %s", o->cur,
				    strerror(errno));
				return err;
			}
			o->fd = open(o->cur, O_WRONLY | O_CREAT | O_EXCL |
				     O_NOFOLLOW | O_CLOEXEC,
				     o->o.mode ? o->o.mode : 0666);
			if (o->fd < 0)
				o->fd = open_failed(o);
		}
		if (o->fd < 0) {
			err = o->fd;
			o->fd = -1;
			return err;
		}
	}
	err = classify(o);
	if (err) {
		if (!o->is_stdout)
			close(o->fd);
		o->fd = -1;
		return err;
	}
	o->st.files++;
	if (o->ring.nfiles && !o->is_stdout) {
		if (cap_ring_push(&o->ring, o->cur, &evicted) == 0 && evicted) {
			if (strcmp(evicted, o->cur) != 0 &&
			    unlink(evicted) != 0 && errno != ENOENT)
				cap_out_say(o, "cannot remove %s from the ring: %s",
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
		if (err != -EIO && err != -EPIPE)
			cap_out_say(o, "%s: %s", o->cur, strerror(-err));
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
		cap_out_say(o, "%s: %s; packets are counted, not written, until there "
		    "is room", o->cur, strerror(-err));
	}
	return 0;
}

/*
 * The file header, built once for every file: sized from what it holds,
 * so that a filter expression of any length an option takes fits, and a
 * header that cannot be made says why (never as a full disk).
 */
static int make_header(struct cap_out *o)
{
	const struct cap_file_info *fi = &o->o.info;
	ssize_t len = cap_file_header_size(fi), n;

	if (len == -EINVAL && fi->format == CAP_FMT_PCAPNG && fi->filter &&
	    strlen(fi->filter) > CAP_NG_FILTER_MAX) {
		cap_out_say(o, "cannot write a pcapng header: the filter expression "
		    "(%zu bytes) is longer than a pcapng option holds (%u); "
		    "--pcap has no such limit", strlen(fi->filter),
		    CAP_NG_FILTER_MAX);
		return -EINVAL;
	}
	if (len < 0) {
		cap_out_say(o, "cannot make the file header: %s (snaplen, format, or a "
		    "name longer than a pcapng option holds)",
		    strerror((int)-len));
		return (int)len;
	}
	o->hdr = malloc((size_t)len);
	if (!o->hdr)
		return -ENOMEM;
	n = cap_file_header(fi, o->hdr, (size_t)len);
	if (n != len) {
		cap_out_say(o, "cannot make the file header: %s",
		    n < 0 ? strerror((int)-n) : "size mismatch");
		return n < 0 ? (int)n : -EINVAL;
	}
	o->hdr_len = (size_t)len;
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
	o->saved_fl = -1;
	err = make_header(o);
	if (err)
		goto out_free;
	if (o->is_stdout && (opts->rotate_bytes || opts->rotate_secs)) {
		cap_out_say(o, "rotation needs a file, not stdout");
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
			cap_out_say(o, "%s: %s", o->cur, strerror(-err));
		o->hdr_done = false;	/* no statistics block */
		(void)close_file(o, now_ns);
		goto out_ring;
	}
	*op = o;
	return 0;

out_ring:
	cap_ring_fini(&o->ring);
out_free:
	free(o->hdr);
	free(o->pattern);
	free(o);
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
			cap_out_say(o, "%s: %s; packets are counted, not written, "
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
		err = cap_out_write_run(o, b, i, j, &done);
		i += done;
		if (err)
			goto failed;
	}
	if (o->full_lost) {
		cap_out_say(o, "%s: writing again; %llu packets were not written",
		    o->cur, (unsigned long long)o->full_lost);
		o->full_lost = 0;
	}
	return 0;

failed:
	if (is_space_error(-err))
		return lost_to_space(o, b, i, err, now_ns);
	if (err == -ECANCELED) {
		/* the stream took nothing until the stop's grace ended; it
		 * is not broken, later calls try once each */
		o->st.unwritten_stopped += b->nrec - i;
		return err;
	}
	if (!o->st.error) {
		if (err != -EPIPE)
			cap_out_say(o, "%s: %s", o->cur, strerror(-err));
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
	free(o->hdr);
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

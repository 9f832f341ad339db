/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cap_rotate.h - output file names and rotation periods for
 * xmbuf-capture, in tcpdump's habits (pure code, unit-tested).
 *
 *   -w FILE            one file, FILE
 *   -C MB              FILE, FILE1, FILE2, ...   (a new file before one
 *                      would grow past MB * 1,000,000 bytes)
 *   -C MB -W N         FILE0 .. FILE<N-1>, reused in turn; the count is
 *                      zero-padded to the digits of N - 1
 *   -G SEC             strftime(FILE) of each period's start; periods are
 *                      aligned to the clock (multiples of SEC since the
 *                      epoch, so -G 60 rotates on the minute)
 *   -G SEC -C MB       strftime(FILE), then strftime(FILE)1, 2, ... within
 *                      a period
 *   -W N with -G       at most N files are kept: the oldest is deleted
 *                      when the N+1-th is created (a ring; tcpdump would
 *                      exit instead)
 */
#ifndef CAP_ROTATE_H
#define CAP_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CAP_ROTATE_MAX_FILES	100000	/* -W limit */

/** Digits of the -W count suffix: digits of N - 1 (0 for N <= 1). */
unsigned int cap_rotate_width(uint32_t nfiles);

/**
 * The name of a file: strftime(pattern, localtime(period)) when
 * use_time, else pattern; then count, zero-padded to width digits,
 * unless count and width are both 0 (tcpdump's MakeFilename rule).
 * @return 0; -ENAMETOOLONG when it does not fit len; -EINVAL for an
 * empty pattern or a strftime result that is empty.
 */
int cap_rotate_name(char *buf, size_t len, const char *pattern, bool use_time,
		    time_t period, uint32_t count, unsigned int width);

/**
 * The rotation period containing now (seconds since the epoch) for a
 * period of secs: [*start, *end), start a multiple of secs.
 */
void cap_rotate_period(time_t now, uint32_t secs, time_t *start,
		       time_t *end);

/*
 * The ring of -W: names of the files created, oldest first.  Adding the
 * N+1-th name hands back the oldest for the caller to delete.
 */
struct cap_ring {
	char **names;			/* nfiles slots, NULL when empty */
	uint32_t nfiles;		/* capacity (-W) */
	uint32_t head;			/* oldest */
	uint32_t count;			/* names held */
};

/** @return 0, or -ENOMEM / -EINVAL (nfiles 0). */
int cap_ring_init(struct cap_ring *r, uint32_t nfiles);
void cap_ring_fini(struct cap_ring *r);
/**
 * Records name as the newest file.  When the ring is full, *evicted gets
 * the oldest name (the caller deletes that file and frees the string),
 * else NULL.  A name already in the ring (a -C ring reusing FILE0) is
 * not kept twice: the old entry is dropped (and not handed back).
 * @return 0, or -ENOMEM (nothing changed).
 */
int cap_ring_push(struct cap_ring *r, const char *name, char **evicted);

#endif /* CAP_ROTATE_H */

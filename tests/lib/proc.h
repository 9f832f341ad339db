/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.h - running an example binary (xmbuf-fwd, xmbuf-lb, ...) from an
 * integration suite: find it next to the test binary, start it inside a
 * test namespace with its stdout and stderr on pipes, read what it says
 * without blocking the test, and reap it within a deadline.
 *
 * The child dies with the test (PR_SET_PDEATHSIG), so a test that
 * crashes past its .fini leaves no example running.  It starts with the
 * default action for SIGHUP, SIGINT, SIGQUIT, SIGTERM and SIGPIPE and no
 * signal blocked, whatever the test runner inherited.  Exit statuses
 * 125, 126 and 127 from the child mean: the parent was already gone,
 * entering the namespace failed, exec failed.
 *
 * Every function returns 0, a count, or -errno (and says why on stderr
 * where a test would want to know); none aborts, so the caller decides
 * which failure is fatal to its test.
 */
#ifndef XM_TEST_PROC_H
#define XM_TEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netns.h"

/**
 * Path of the example binary name: $env when set and non-empty, else
 * BUILD/bin/name for a test binary at BUILD/test/VARIANT/<kind>/test_x.
 * @return buf (or the environment's value), or NULL (errno set, a
 * message on stderr) when it is not there or not executable.
 */
const char *xm_example_path(const char *name, const char *env, char *buf,
			    size_t len);

/**
 * Path of rel, a file of the source tree, for a test binary built in
 * the tree's BUILD directory (make's default): BUILD/../rel.
 * @return buf, or NULL (errno set, a message on stderr) when it is not
 * there.
 */
const char *xm_source_path(const char *rel, char *buf, size_t len);

/**
 * Forks argv[0] (a path) with argv inside ns (NULL: this namespace), at
 * niceness nice (0: inherited).  *out_fd and *err_fd receive the read
 * ends of its stdout and stderr (close-on-exec).
 * @return the child's pid, or -errno.
 */
pid_t xm_proc_spawn(const struct xm_netns *ns, const char *const *argv,
		    int nice, int *out_fd, int *err_fd);

/**
 * One read() from *fd into buf after *len bytes, keeping buf
 * NUL-terminated within cap; at EOF or error (or when buf is full)
 * closes *fd and sets it to -1.  @return the bytes read, 0 at the end.
 */
ssize_t xm_proc_read(int *fd, char *buf, size_t *len, size_t cap);

/**
 * Waits up to timeout_ms for either fd (-1: closed) to be readable.
 * @return a mask: bit 0 out_fd ready, bit 1 err_fd ready; 0 on timeout;
 * -ENOENT when both are closed.
 */
int xm_proc_poll(int out_fd, int err_fd, int timeout_ms);

/**
 * One round of a child's output: waits up to timeout_ms (xm_proc_poll),
 * then reads each ready pipe once (xm_proc_read) into out or err, each
 * cap bytes.  @return false when both pipes are closed.
 */
bool xm_proc_pump(int *out_fd, char *out, size_t *out_len, int *err_fd,
		  char *err, size_t *err_len, size_t cap, int timeout_ms);

/**
 * Reaps pid by deadline_ms (xm_now_ms() clock), SIGKILLing it when it
 * is still there then.  @return its exit status (0..255), -1 when a
 * signal ended it, -ETIMEDOUT when it overstayed and was killed.
 */
int xm_proc_reap(pid_t pid, uint64_t deadline_ms);

#endif /* XM_TEST_PROC_H */

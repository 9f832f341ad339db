// SPDX-License-Identifier: BSD-2-Clause
/*
 * proc.c - example binaries as children of an integration test (model
 * in proc.h).
 *
 * The output of a child is read with poll() + one read() per call, never
 * a blocking read: a test interleaves reading its children with sending
 * frames, and a child that stops writing must not stop the test.  The
 * child's argv is built by the caller; this file only forks, wires the
 * pipes and enters the namespace, so every suite starts its examples
 * the same way and exits with the same diagnostics.
 *
 * KPI:
 *   xm_example_path, xm_source_path, xm_proc_spawn, xm_proc_read,
 *   xm_proc_poll,
 *   xm_proc_reap
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

/* The build directory of this test binary (BUILD/test/VARIANT/KIND/x),
 * into exe.  @return 0, or -1 with errno set and a message. */
static int build_dir(char *exe, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", exe, len - 1);

	if (n <= 0) {
		fprintf(stderr, "readlink /proc/self/exe: %s\n",
			strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	/* BUILD/test/VARIANT/integration/test_x -> BUILD */
	for (int i = 0; i < 4; i++) {
		char *slash = strrchr(exe, '/');

		if (!slash) {
			fprintf(stderr, "unexpected test binary path\n");
			errno = EINVAL;
			return -1;
		}
		*slash = '\0';
	}
	return 0;
}

const char *xm_example_path(const char *name, const char *env, char *buf,
			    size_t len)
{
	const char *e = env ? getenv(env) : NULL;
	char exe[PATH_MAX];
	int w;

	if (e && *e)
		return e;
	if (build_dir(exe, sizeof(exe)))
		return NULL;
	w = snprintf(buf, len, "%s/bin/%s", exe, name);
	if (w < 0 || (size_t)w >= len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (access(buf, X_OK) != 0) {
		int err = errno;

		fprintf(stderr, "%s not found (make examples, or set %s)\n",
			buf, env ? env : "its path");
		errno = err;
		return NULL;
	}
	return buf;
}

const char *xm_source_path(const char *rel, char *buf, size_t len)
{
	char exe[PATH_MAX];
	int w;

	if (build_dir(exe, sizeof(exe)))
		return NULL;
	w = snprintf(buf, len, "%s/../%s", exe, rel);
	if (w < 0 || (size_t)w >= len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (access(buf, R_OK) != 0) {
		int err = errno;

		fprintf(stderr, "%s: %s\n", buf, strerror(err));
		errno = err;
		return NULL;
	}
	return buf;
}

pid_t xm_proc_spawn(const struct xm_netns *ns, const char *const *argv,
		    int nice, int *out_fd, int *err_fd)
{
	int po[2], pe[2], err;
	pid_t parent = getpid(), pid;

	if (!argv || !argv[0] || !out_fd || !err_fd)
		return -EINVAL;
	if (pipe2(po, O_CLOEXEC) != 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) != 0) {
		err = -errno;
		goto close_out_pipe;
	}
	/* Buffered test output must not be written twice by the child. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto close_err_pipe;
	}
	if (pid == 0) {
		int saved;

		/* Dies with the test even if the test crashes past .fini. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent)
			_exit(125);
		if (ns && xm_netns_enter(ns, &saved) != 0)
			_exit(126);
		/*
		 * The signals a test sends reach the example as they would
		 * a command started from a terminal, whatever the runner
		 * left ignored or blocked (nohup, a background job of a
		 * shell without job control): an ignored disposition and
		 * the mask survive exec.
		 */
		{
			static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT,
						    SIGTERM, SIGPIPE };
			sigset_t none;

			for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]);
			     i++)
				signal(sigs[i], SIG_DFL);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
		}
		/* The machines have two cores shared with whatever else
		 * runs: a timing-sensitive child (a generator) asks for a
		 * larger share, inherited by its threads. */
		if (nice)
			(void)setpriority(PRIO_PROCESS, 0, nice);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	*out_fd = po[0];
	*err_fd = pe[0];
	return pid;

close_err_pipe:
	close(pe[0]);
	close(pe[1]);
close_out_pipe:
	close(po[0]);
	close(po[1]);
	return err;
}

ssize_t xm_proc_read(int *fd, char *buf, size_t *len, size_t cap)
{
	ssize_t n = -1;

	if (*fd < 0)
		return 0;
	if (*len + 1 < cap)
		n = read(*fd, buf + *len, cap - 1 - *len);
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	*len += (size_t)n;
	buf[*len] = '\0';
	return n;
}

int xm_proc_poll(int out_fd, int err_fd, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = out_fd, .events = POLLIN },
		{ .fd = err_fd, .events = POLLIN },
	};
	int mask = 0;

	if (out_fd < 0 && err_fd < 0)
		return -ENOENT;
	if (poll(p, 2, timeout_ms) <= 0)
		return 0;
	if (out_fd >= 0 && (p[0].revents & (POLLIN | POLLHUP)))
		mask |= 1;
	if (err_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
		mask |= 2;
	return mask;
}

bool xm_proc_pump(int *out_fd, char *out, size_t *out_len, int *err_fd,
		  char *err, size_t *err_len, size_t cap, int timeout_ms)
{
	int ready = xm_proc_poll(*out_fd, *err_fd, timeout_ms);

	if (ready < 0)
		return false;
	if (ready & 1)
		xm_proc_read(out_fd, out, out_len, cap);
	if (ready & 2)
		xm_proc_read(err_fd, err, err_len, cap);
	return true;
}

int xm_proc_reap(pid_t pid, uint64_t deadline_ms)
{
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
		if (xm_now_ms() >= deadline_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	if (r < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

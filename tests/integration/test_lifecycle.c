// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lifecycle.c - how every tool ends: the stop signals, SIGKILL, and
 * what the next start finds.  One table of tools, run as a user runs
 * them, on a veth pair between two network namespaces of the test's own.
 *
 *   ns_peer                                   ns_tool: xmbuf-TOOL -i xl1a
 *     xl1b ================ veth ================ xl1a
 *
 * Stop signals (SIGHUP, SIGQUIT; xmbuf-lb: SIGQUIT, its SIGHUP reloads):
 * the tool exits 0, its summary says which signal stopped it, no XDP
 * program is left on the interface, and the hugepages of its UMEM are
 * free again (tests/lib/hugepages.h: the total and the persistent pool
 * back where they were).  Before, SIGHUP killed the tools with no
 * teardown: exit 129, the program left, vm.nr_hugepages left raised.
 *
 * SIGKILL: nothing runs in the tool, so its XDP program stays attached;
 * the kernel still frees its hugepages (surplus pages, not a raised
 * pool).  The next start replaces the program left behind (the port
 * library recognises its own program whose owner is dead), runs, and
 * stops clean; xmbuf-decap's next start refuses, pointing at --unload,
 * which removes it.
 *
 * nohup: SIGHUP ignored at start stays ignored; the tool keeps running.
 * A stderr nobody reads any more: the stop signal interrupts the blocked
 * stats line, and the tool stops clean all the same.
 *
 * Each test builds its namespaces and veth and .fini removes them, kills
 * a tool still running and removes its files, even when the test fails.
 * Needs root; skipped, loudly, without it.  The binaries are
 * build/bin/xmbuf-* of this build tree, or $XMBUF_<TOOL>.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../lib/hugepages.h"
#include "../lib/netns.h"
#include "../lib/proc.h"
#include "xm_port.h"

#define OUT_MAX		(64 * 1024)
#define READY_MS	15000	/* start-up, on a loaded machine */
#define STOP_MS		15000	/* a stop signal to exit */
#define RELEASE_MS	20000	/* hugepages free after the exit */

/* ------------------------------------------------------------ the tools */

struct tool {
	const char *name;		/* xmbuf-NAME */
	const char *env;		/* overrides the path */
	const char *args[10];		/* "@IF", "@OUT", "@CONF" replaced */
	const char *ready;		/* on stderr once it is attached */
	int regions;			/* UMEMs it creates (0: none) */
	bool stopped_by;		/* --json summary names the signal */
	bool hup_reloads;		/* SIGHUP is not a stop (xmbuf-lb) */
	bool restart_refused;		/* after SIGKILL: refuses, --unload */
};

enum { T_FWD, T_CAPTURE, T_PKTGEN, T_LB, T_DECAP, T_MAX };

static const struct tool tools[T_MAX] = {
	[T_FWD] = {
		.name = "fwd", .env = "XMBUF_FWD",
		.args = { "-i", "@IF", "--json" },
		.ready = "queue(s), mode", .regions = 1, .stopped_by = true,
	},
	[T_CAPTURE] = {
		.name = "capture", .env = "XMBUF_CAPTURE",
		/* the AF_XDP path's lifecycle (the veth end has an address,
		 * so it is asked for) */
		.args = { "-i", "@IF", "--inline", "--force", "-w", "@OUT",
			  "--json" },
		.ready = "capturing on", .regions = 1, .stopped_by = true,
	},
	[T_PKTGEN] = {
		.name = "pktgen", .env = "XMBUF_PKTGEN",
		.args = { "rx", "-i", "@IF", "--json", "-Q" },
		.ready = "rx ready", .regions = 1,
	},
	[T_LB] = {
		.name = "lb", .env = "XMBUF_LB",
		.args = { "-i", "@IF", "-c", "@CONF", "--json" },
		.ready = "steering rule(s)", .regions = 1, .stopped_by = true,
		.hup_reloads = true,
	},
	[T_DECAP] = {
		.name = "decap", .env = "XMBUF_DECAP",
		.args = { "-i", "@IF", "-Q" },
		.ready = "attached to", .restart_refused = true,
	},
};

/* A balancer configuration for a veth with nothing behind it (with a
 * key: without one, the balancer would keep one in /var/lib). */
static const char lb_conf[] =
	"key 5ca1ab1e0ddba11cafef00d15ea5e000\n"
	"src-prefix 198.18.128.0/17\n"
	"gateway 02:00:00:00:00:01\n"
	"vip 198.18.2.1 udp 53\n"
	"  backend 198.18.1.11\n";

/* ------------------------------------------------------- environment */

static struct xm_netns ns_tool, ns_peer;
static struct xm_veth v1;
static pid_t live_child;
static char out_path[64], conf_path[64];

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: lifecycle tests need root (namespaces, "
			     "veth, XDP, AF_XDP, hugepages)");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0, "%s: %s", path, strerror(errno));
}

static void net_setup(void)
{
	int err;

	need_root();
	(void)xm_netns_sweep();
	err = xm_netns_create(&ns_tool);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_netns_create(&ns_peer);
	cr_assert_eq(err, 0, "namespace: %s", strerror(-err));
	err = xm_veth_create(&v1, &ns_tool, &ns_peer,
			     &(struct xm_veth_opts){ .index = 1 });
	cr_assert_eq(err, 0, "veth: %s", strerror(-err));
	snprintf(out_path, sizeof(out_path), "/tmp/xmbuf-life-%d.pcapng",
		 (int)getpid());
	snprintf(conf_path, sizeof(conf_path), "/tmp/xmbuf-life-%d.conf",
		 (int)getpid());
	write_file(conf_path, lb_conf);
}

static void net_teardown(void)
{
	if (live_child > 0) {
		kill(live_child, SIGKILL);
		waitpid(live_child, NULL, 0);
		live_child = 0;
	}
	xm_veth_destroy(&v1);
	xm_netns_destroy(&ns_peer);
	xm_netns_destroy(&ns_tool);
	if (out_path[0])
		unlink(out_path);
	if (conf_path[0])
		unlink(conf_path);
	out_path[0] = conf_path[0] = '\0';
}

TestSuite(lifecycle, .fini = net_teardown, .timeout = 120);

/* True when no XDP program of any mode is attached to v1's tool end. */
static bool xdp_detached(void)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int saved, ifindex, err;

	err = xm_netns_enter(&ns_tool, &saved);
	cr_assert_eq(err, 0, "enter %s: %s", ns_tool.name, strerror(-err));
	ifindex = (int)if_nametoindex(v1.a);
	err = ifindex > 0 ? bpf_xdp_query(ifindex, 0, &q) : -ENODEV;
	xm_netns_leave(saved);
	cr_assert_eq(err, 0, "bpf_xdp_query %s: %s", v1.a, strerror(-err));
	return q.attach_mode == XDP_ATTACHED_NONE && q.prog_id == 0 &&
	       q.drv_prog_id == 0 && q.skb_prog_id == 0;
}

/* ------------------------------------------------------- the child */

struct child {
	pid_t pid;
	int out_fd, err_fd;		/* pipes, -1 at EOF */
	char out[OUT_MAX];		/* stdout so far */
	size_t out_len;
	char err[OUT_MAX];		/* stderr so far */
	size_t err_len;
};

static const char *tool_path(const struct tool *t)
{
	static char path[PATH_MAX + 32];
	char name[32];
	const char *p;

	snprintf(name, sizeof(name), "xmbuf-%s", t->name);
	p = xm_example_path(name, t->env, path, sizeof(path));
	cr_assert(p, "%s not found (make examples, or set %s)", name, t->env);
	return p;
}

/*
 * Starts tool t with its arguments, after pre (a wrapper such as nohup,
 * NULL: none) and before extra (NULL-terminated, NULL: none).
 */
static void child_spawn(struct child *c, const struct tool *t,
			const char *pre, const char *const *extra)
{
	const char *argv[24];
	int n = 0;

	memset(c, 0, sizeof(*c));
	if (pre)
		argv[n++] = pre;
	argv[n++] = tool_path(t);
	for (int i = 0; t->args[i]; i++) {
		const char *a = t->args[i];

		argv[n++] = !strcmp(a, "@IF") ? v1.a :
			    !strcmp(a, "@OUT") ? out_path :
			    !strcmp(a, "@CONF") ? conf_path : a;
	}
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	c->pid = xm_proc_spawn(&ns_tool, argv, 0, &c->out_fd, &c->err_fd);
	cr_assert(c->pid > 0, "spawn xmbuf-%s: %s", t->name,
		  strerror(-c->pid));
	live_child = c->pid;
}

static bool child_pump(struct child *c, int timeout_ms)
{
	return xm_proc_pump(&c->out_fd, c->out, &c->out_len, &c->err_fd,
			    c->err, &c->err_len, OUT_MAX, timeout_ms);
}

static bool child_wait_err(struct child *c, const char *needle, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;

	while (!strstr(c->err, needle) && xm_now_ms() < end)
		if (!child_pump(c, 50))
			break;
	return strstr(c->err, needle) != NULL;
}

/* True while the child runs (not exited, not a zombie). */
static bool child_alive(struct child *c)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, (id_t)c->pid, &si,
		      WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

/*
 * Sends sig (0: none), reads the output to EOF and reaps the child
 * within ms (SIGKILL when it overstays).  @return the wait status, or -1
 * when it had to be killed.
 */
static int child_finish(struct child *c, int sig, int ms)
{
	uint64_t end = xm_now_ms() + (uint64_t)ms;
	int status = 0;
	pid_t r;

	if (sig)
		kill(c->pid, sig);
	while (xm_now_ms() < end && child_pump(c, 50))
		;
	while ((r = waitpid(c->pid, &status, WNOHANG)) == 0 &&
	       xm_now_ms() < end)
		usleep(10000);
	if (r == 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		live_child = 0;
		cr_log_error("overstayed; stderr:\n%s", c->err);
		return -1;
	}
	live_child = 0;
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	return status;
}

/* Starts tool t and waits until it has attached. */
static void start_tool(struct child *c, const struct tool *t,
		       const char *pre)
{
	child_spawn(c, t, pre, NULL);
	if (!child_wait_err(c, t->ready, READY_MS)) {
		child_finish(c, SIGKILL, 2000);
		cr_assert_fail("xmbuf-%s did not come up; stderr:\n%s",
			       t->name, c->err);
	}
}

/*
 * The hugepages the running tool maps; 0 when its UMEM fell back to
 * 4 KiB pages (it said so on stderr: then there is nothing to check).
 */
static long tool_hugepages(struct child *c, const struct tool *t)
{
	long fp;

	if (!t->regions)
		return 0;
	fp = xm_hp_footprint(c->pid);
	cr_assert_geq(fp, 0, "smaps of xmbuf-%s: %s", t->name,
		      strerror((int)-fp));
	if (fp == 0) {
		cr_assert_not_null(strstr(c->err, "4 KiB pages"), "xmbuf-%s "
				   "maps no hugepages and did not say why; "
				   "stderr:\n%s", t->name, c->err);
		cr_log_info("xmbuf-%s: UMEM on 4 KiB pages, no hugepages to "
			    "check: %s", t->name, c->err);
	}
	return fp;
}

static void expect_released(struct xm_hp_watch *w, const struct tool *t,
			    long pages)
{
	struct xm_hp_snap last;
	bool strict;
	int err;

	if (pages == 0) {
		xm_hp_watch_end(w);
		return;
	}
	err = xm_hp_watch_released(w, t->regions, RELEASE_MS, &last,
				   &strict);
	cr_log_info("xmbuf-%s held %ld hugepages; HugePages_Total %ld -> "
		    "%ld, surplus %ld -> %ld, mapped by all %ld -> %ld (%s)",
		    t->name, pages, w->before.total, last.total,
		    w->before.surplus, last.surplus, w->before.mapped,
		    last.mapped, strict ? "quiet" : "others active");
	cr_expect_eq(err, 0, "the %ld hugepages of xmbuf-%s are not free "
		     "again (%s check): HugePages_Total %ld -> %ld, surplus "
		     "%ld -> %ld, free %ld -> %ld, mapped by all %ld -> %ld",
		     pages, t->name, strict ? "strict" : "lenient",
		     w->before.total, last.total, w->before.surplus,
		     last.surplus, w->before.free, last.free,
		     w->before.mapped, last.mapped);
}

static void begin_watch(struct xm_hp_watch *w, const struct tool *t)
{
	int err;

	w->in_fd = -1;
	if (!t->regions || !xm_hp_supported())
		return;
	err = xm_hp_watch_begin(w);
	cr_assert_eq(err, 0, "watch %s: %s", XM_HP_LOCK, strerror(-err));
}

/* A pcapng file begins with a section header block. */
static void expect_pcapng(void)
{
	unsigned char magic[4] = { 0 };
	int fd = open(out_path, O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", out_path, strerror(errno));
	cr_expect_eq(read(fd, magic, 4), 4, "%s is empty", out_path);
	close(fd);
	cr_expect(magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d &&
		  magic[3] == 0x0a, "%s is not a pcapng file", out_path);
}

/* ------------------------------------------------------- stop signals */

struct stop_case {
	int tool;			/* T_* */
	int sig;
};

ParameterizedTestParameters(lifecycle, stop_signal_is_a_clean_stop)
{
	static struct stop_case cases[] = {
		{ T_FWD, SIGHUP }, { T_FWD, SIGQUIT },
		{ T_CAPTURE, SIGHUP }, { T_CAPTURE, SIGQUIT },
		{ T_PKTGEN, SIGHUP }, { T_PKTGEN, SIGQUIT },
		{ T_DECAP, SIGHUP }, { T_DECAP, SIGQUIT },
		{ T_LB, SIGQUIT },
	};

	return cr_make_param_array(struct stop_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

/*
 * A stop signal: exit 0, the signal named in the summary, the program
 * detached, the hugepages free again.
 */
ParameterizedTest(struct stop_case *sc, lifecycle,
		  stop_signal_is_a_clean_stop)
{
	const struct tool *t = &tools[sc->tool];
	const char *name = sigabbrev_np(sc->sig);
	struct xm_hp_watch w;
	struct child c;
	char want[64];
	long pages;
	int status;

	net_setup();
	begin_watch(&w, t);
	start_tool(&c, t, NULL);
	pages = tool_hugepages(&c, t);
	status = child_finish(&c, sc->sig, STOP_MS);
	cr_assert(status >= 0 && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0, "xmbuf-%s on SIG%s: %s %d; "
		  "stderr:\n%s", t->name, name,
		  status >= 0 && WIFSIGNALED(status) ? "killed by signal" :
		  "exit status",
		  status < 0 ? -1 : WIFSIGNALED(status) ? WTERMSIG(status) :
		  WEXITSTATUS(status), c.err);
	cr_expect(xdp_detached(), "xmbuf-%s left its XDP program on %s "
		  "after SIG%s", t->name, v1.a, name);
	if (t->stopped_by) {
		snprintf(want, sizeof(want), "\"stopped_by\":\"SIG%s\"", name);
		cr_expect_not_null(strstr(c.out, want), "xmbuf-%s summary "
				   "lacks %s:\n%s", t->name, want, c.out);
	}
	if (sc->tool == T_CAPTURE)
		expect_pcapng();
	expect_released(&w, t, pages);
}

/* ------------------------------------------------------------ SIGKILL */

ParameterizedTestParameters(lifecycle, sigkill_then_the_next_start)
{
	static int cases[] = { T_FWD, T_CAPTURE, T_PKTGEN, T_LB, T_DECAP };

	return cr_make_param_array(int, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

/*
 * SIGKILL: the program stays (nothing ran to detach it) but the
 * hugepages are free again; the next start replaces the program and
 * stops clean, or (xmbuf-decap) refuses until --unload.
 */
ParameterizedTest(int *ti, lifecycle, sigkill_then_the_next_start)
{
	const struct tool *t = &tools[*ti];
	static const char *const unload[] = { "--unload", NULL };
	struct xm_hp_watch w;
	struct child c;
	long pages;
	int status;

	net_setup();
	begin_watch(&w, t);
	start_tool(&c, t, NULL);
	pages = tool_hugepages(&c, t);
	status = child_finish(&c, SIGKILL, STOP_MS);
	cr_assert(status >= 0 && WIFSIGNALED(status) &&
		  WTERMSIG(status) == SIGKILL, "xmbuf-%s: status %#x",
		  t->name, status);
	cr_expect_not(xdp_detached(), "no XDP program on %s after a SIGKILL "
		      "of xmbuf-%s: the README says it stays", v1.a, t->name);
	expect_released(&w, t, pages);

	if (t->restart_refused) {
		child_spawn(&c, t, NULL, NULL);
		status = child_finish(&c, 0, STOP_MS);
		cr_assert(status >= 0 && WIFEXITED(status) &&
			  WEXITSTATUS(status) == 1, "xmbuf-%s over the "
			  "program left behind: status %#x; stderr:\n%s",
			  t->name, status, c.err);
		cr_expect_not_null(strstr(c.err, "--unload"), "no hint at "
				   "--unload:\n%s", c.err);
		child_spawn(&c, t, NULL, unload);
		status = child_finish(&c, 0, STOP_MS);
		cr_assert(status >= 0 && WIFEXITED(status) &&
			  WEXITSTATUS(status) == 0, "--unload: status %#x; "
			  "stderr:\n%s", status, c.err);
		cr_assert(xdp_detached(), "--unload left the program");
	}
	/* the next start, then a stop that cleans up */
	start_tool(&c, t, NULL);
	status = child_finish(&c, SIGTERM, STOP_MS);
	cr_assert(status >= 0 && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0, "xmbuf-%s after the SIGKILL: "
		  "status %#x; stderr:\n%s", t->name, status, c.err);
	cr_expect(xdp_detached(), "xmbuf-%s's second run left its program",
		  t->name);
}

/* -------------------------------------------------------------- nohup */

/*
 * Started under nohup(1), a tool keeps running through SIGHUP (the user
 * asked it to outlive the terminal) and still stops clean on SIGTERM.
 */
Test(lifecycle, nohup_keeps_running_through_a_hangup)
{
	const struct tool *t = &tools[T_FWD];
	struct child c;
	uint64_t end;
	int status;

	net_setup();
	if (access("/usr/bin/nohup", X_OK) != 0)
		cr_skip_test("no /usr/bin/nohup");
	start_tool(&c, t, "/usr/bin/nohup");
	cr_assert_eq(kill(c.pid, SIGHUP), 0);
	/* nothing is to happen: watch it for a second */
	end = xm_now_ms() + 1000;
	while (xm_now_ms() < end && child_alive(&c))
		child_pump(&c, 50);
	cr_assert(child_alive(&c), "xmbuf-fwd under nohup ended on SIGHUP; "
		  "stderr:\n%s", c.err);
	status = child_finish(&c, SIGTERM, STOP_MS);
	cr_assert(status >= 0 && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0, "status %#x; stderr:\n%s", status,
		  c.err);
	cr_expect_not_null(strstr(c.out, "\"stopped_by\":\"SIGTERM\""),
			   "%s", c.out);
	cr_expect(xdp_detached(), "xmbuf-fwd left its XDP program");
}

/* ----------------------------------------------------- blocked output */

/* True once pid's main thread sleeps in write() (syscall 1 on x86-64). */
static bool main_thread_in_write(pid_t pid)
{
	char path[64], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	return strncmp(line, "1 ", 2) == 0;
}

/*
 * A reader that stopped reading stderr (a paused pager): the stats line
 * blocks the main thread; a stop signal interrupts that write, and the
 * tool detaches and exits 0 all the same.
 */
Test(lifecycle, a_blocked_stderr_does_not_hold_a_stop)
{
	const struct tool *t = &tools[T_FWD];
	char path[64], junk[512];
	struct child c;
	uint64_t end;
	int wfd, status = 0;
	pid_t r = 0;

#if !defined(__x86_64__)
	cr_skip_test("reads the syscall number of x86-64's write()");
#endif
	net_setup();
	start_tool(&c, t, NULL);
	/* fill what is left of the pipe, through the tool's own stderr */
	snprintf(path, sizeof(path), "/proc/%d/fd/2", (int)c.pid);
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(wfd, 0, "%s: %s", path, strerror(errno));
	memset(junk, 'x', sizeof(junk));
	while (write(wfd, junk, sizeof(junk)) > 0)
		;
	cr_assert_eq(errno, EAGAIN, "filling the pipe: %s", strerror(errno));
	end = xm_now_ms() + 10000;
	while (!main_thread_in_write(c.pid) && xm_now_ms() < end)
		usleep(20000);
	cr_assert(main_thread_in_write(c.pid), "xmbuf-fwd's stats line did "
		  "not block on the full pipe");
	cr_assert_eq(kill(c.pid, SIGHUP), 0);
	/* reap without reading stderr: reading would unblock it */
	end = xm_now_ms() + STOP_MS;
	while ((r = waitpid(c.pid, &status, WNOHANG)) == 0 &&
	       xm_now_ms() < end)
		usleep(10000);
	close(wfd);
	if (r == 0) {
		kill(c.pid, SIGKILL);
		waitpid(c.pid, NULL, 0);
	}
	live_child = 0;
	close(c.out_fd);
	close(c.err_fd);
	cr_assert_neq(r, 0, "xmbuf-fwd still runs 15 s after SIGHUP with its "
		      "stderr blocked");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "status %#x", status);
	cr_expect(xdp_detached(), "xmbuf-fwd left its XDP program");
}

/* ---------------------------------------------------------- busy poll */

/* A socket option of one of pid's AF_XDP sockets, read via pidfd_getfd. */
struct xsk_opts {
	int sockets;			/* AF_XDP sockets pid holds */
	int prefer_min, prefer_max;	/* SO_PREFER_BUSY_POLL over them */
	int usecs_min, usecs_max;	/* SO_BUSY_POLL over them */
};

static int sock_opt(int fd, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	cr_assert_eq(getsockopt(fd, SOL_SOCKET, opt, &v, &len), 0,
		     "getsockopt %d: %s", opt, strerror(errno));
	return v;
}

/*
 * Reads the busy-poll options of every AF_XDP socket the running tool
 * holds: a copy of each of its socket descriptors comes over with
 * pidfd_getfd(2) (we are root), and SO_DOMAIN tells the AF_XDP ones.
 */
static void tool_xsk_opts(pid_t pid, struct xsk_opts *o)
{
	char dir[64], path[64 + 256], link[64];
	struct dirent *de;
	int pidfd;
	DIR *d;

	memset(o, 0, sizeof(*o));
	o->prefer_min = o->usecs_min = INT_MAX;
	o->prefer_max = o->usecs_max = INT_MIN;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(pidfd, 0, "pidfd_open: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		ssize_t n;
		int fd, v;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, "socket:", 7) != 0)
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		if (fd < 0)
			continue;	/* closed meanwhile */
		if (sock_opt(fd, SO_DOMAIN) == AF_XDP) {
			o->sockets++;
			v = sock_opt(fd, SO_PREFER_BUSY_POLL);
			o->prefer_min = v < o->prefer_min ? v : o->prefer_min;
			o->prefer_max = v > o->prefer_max ? v : o->prefer_max;
			v = sock_opt(fd, SO_BUSY_POLL);
			o->usecs_min = v < o->usecs_min ? v : o->usecs_min;
			o->usecs_max = v > o->usecs_max ? v : o->usecs_max;
		}
		close(fd);
	}
	closedir(d);
	close(pidfd);
}

ParameterizedTestParameters(lifecycle, busy_poll_reaches_every_socket)
{
	static int cases[] = { T_FWD, T_CAPTURE, T_PKTGEN, T_LB };

	return cr_make_param_array(int, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

/*
 * --busy-poll N, which every tool that opens ports takes, ends up on each
 * of its AF_XDP sockets as preferred busy polling (SO_PREFER_BUSY_POLL 1,
 * SO_BUSY_POLL the port's default of XM_PORT_BUSY_POLL_USECS; the budget
 * can be set, not read back); without it the sockets have neither.
 */
ParameterizedTest(int *ti, lifecycle, busy_poll_reaches_every_socket)
{
	const struct tool *t = &tools[*ti];
	static const char *const busy[] = { "--busy-poll", "24", NULL };
	struct xsk_opts o;
	struct child c;
	int status;

	net_setup();
	for (int run = 0; run < 2; run++) {
		child_spawn(&c, t, NULL, run ? busy : NULL);
		if (!child_wait_err(&c, t->ready, READY_MS)) {
			child_finish(&c, SIGKILL, 2000);
			cr_assert_fail("xmbuf-%s did not come up; stderr:\n%s",
				       t->name, c.err);
		}
		tool_xsk_opts(c.pid, &o);
		status = child_finish(&c, SIGTERM, STOP_MS);
		cr_assert(status >= 0 && WIFEXITED(status) &&
			  WEXITSTATUS(status) == 0, "xmbuf-%s: status %#x; "
			  "stderr:\n%s", t->name, status, c.err);
		cr_log_info("xmbuf-%s%s: %d AF_XDP socket(s), "
			    "SO_PREFER_BUSY_POLL %d..%d, SO_BUSY_POLL %d..%d",
			    t->name, run ? " --busy-poll 24" : "", o.sockets,
			    o.prefer_min, o.prefer_max, o.usecs_min,
			    o.usecs_max);
		cr_assert_gt(o.sockets, 0, "xmbuf-%s holds no AF_XDP socket",
			     t->name);
		cr_expect(o.prefer_min == run && o.prefer_max == run,
			  "xmbuf-%s%s: SO_PREFER_BUSY_POLL %d..%d", t->name,
			  run ? " --busy-poll 24" : "", o.prefer_min,
			  o.prefer_max);
		cr_expect(o.usecs_min == (run ? XM_PORT_BUSY_POLL_USECS : 0) &&
			  o.usecs_max == (run ? XM_PORT_BUSY_POLL_USECS : 0),
			  "xmbuf-%s%s: SO_BUSY_POLL %d..%d", t->name,
			  run ? " --busy-poll 24" : "", o.usecs_min,
			  o.usecs_max);
	}
}

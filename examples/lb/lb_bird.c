// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_bird.c - the balancer drives BIRD 2, which speaks BGP to the
 * routers; xmbuf-lb speaks no BGP itself.
 *
 *   xmbuf-lb                          BIRD (same host, same namespace)
 *   --------                          ------------------------------
 *   holds TUN device xlb-IF (fd) ---- protocol device: sees it come,
 *                                     go up, down, and vanish
 *   writes FILE, FILE.v6:             protocol static xmbuf_lb4 {
 *     route VIP/32 via "xlb-IF";        ipv4; include "FILE"; }
 *   birdc -s SOCK configure  -------> re-reads them
 *                                     protocol bgp: exports xmbuf_lb4/6
 *                                     (next hop self) -> router: ECMP
 *
 * What is announced (the files): each VIP address with at least one
 * service that can take new flows: a backend with a weight, and up when
 * health checks run.  A VIP address whose services all have no healthy
 * backend is left out, so the routers send its traffic to balancers that
 * can serve it.  The files change only when the set does (start, a
 * reload, a backend going up or down), and BIRD is told then, through
 * its documented control interface (`birdc configure`, which re-reads
 * the configuration and applies only what differs: the BGP sessions
 * stay).  If birdc fails (BIRD not running yet, or stopped), it is tried
 * again each second until it works, and said once.
 *
 * Why the device: a route BIRD announces must go when the balancer does,
 * however it goes.  A clean stop could rewrite the file, but SIGKILL, an
 * OOM kill or a crash runs nothing.  A static route "via" an interface
 * is active in BIRD only while that interface exists and is up, and
 * BIRD learns of interface changes from the kernel's netlink events at
 * once (protocol device), not by polling.  A TUN device that is not
 * persistent exists exactly as long as a file descriptor holds it: the
 * kernel removes it when the process's last descriptor closes, which
 * happens in every kind of exit.  So the kernel itself withdraws the
 * routes of a dead balancer, through BIRD, within milliseconds
 * (measured: under 250 ms from SIGKILL to the route gone from the
 * router's table), with no timer to tune.  The alternatives were
 * weighed: BFD detects a dead *BIRD* or link, not a dead balancer beside
 * a living BIRD; a BGP hold timer is seconds at best; an address on an
 * interface would make the VIP local to the balancer host's stack.
 *
 * The device also gives a switch for the whole host: down withdraws
 * every VIP at once (`drain-host`), up announces them again, without
 * rewriting anything.  The balancer brings it up once its workers run
 * (not before: a route must never lead to a balancer that does not
 * forward yet), and closes it at a stop as soon as the workers are done,
 * before the port closes and the program is detached.
 *
 * No packet ever goes through the device: it carries no address, and
 * the routes are not exported to the balancer host's kernel table (its
 * BIRD has no kernel protocol exporting them), only to BGP.
 *
 * KPI: lb_bird_routes, lb_bird_open, lb_bird_set, lb_bird_poll,
 *      lb_bird_updown, lb_bird_close
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_bird.h"

#define BIRDC_TIMEOUT_MS	5000

/* ---------------------------------------------------------- the set */

/* A growing text buffer. */
struct text {
	char *t;
	size_t len, cap;
	bool oom;
};

static void text_add(struct text *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(x->t ? x->t + x->len : NULL,
			      x->t ? x->cap - x->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			x->oom = true;
			return;
		}
		if (x->t && x->len + (size_t)n < x->cap) {
			x->len += (size_t)n;
			return;
		}
		char *t = realloc(x->t, x->cap * 2 + (size_t)n + 256);

		if (!t) {
			x->oom = true;
			return;
		}
		x->t = t;
		x->cap = x->cap * 2 + (size_t)n + 256;
	}
}

static bool weighted(void *ctx, const struct lb_config *c, uint32_t vi)
{
	(void)ctx;
	return c->c_vips[vi].v_nactive > 0;
}

static bool same_addr(const struct lb_vip *a, const struct lb_vip *b)
{
	return a->v_family == b->v_family &&
	       !memcmp(&a->v_addr, &b->v_addr, sizeof(a->v_addr));
}

int lb_bird_routes(const struct lb_config *c, const char *tun,
		   lb_bird_service_up_fn *up, void *ctx, char **text4,
		   char **text6, uint32_t *announced, uint32_t *addresses)
{
	static const char head[] =
		"# Written by xmbuf-lb: the VIP addresses it can serve now.\n"
		"# Included in a static protocol of BIRD's configuration\n"
		"# (examples/lb/bird/); the routes are active while the\n"
		"# device \"%s\" is up, i.e. while the balancer runs.\n";
	struct text t4 = { 0 }, t6 = { 0 };
	char name[INET6_ADDRSTRLEN];

	if (!up)
		up = weighted;
	*announced = *addresses = 0;
	text_add(&t4, head, tun);
	text_add(&t6, head, tun);
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		bool first = true, any = false;

		/* Each address once: at its first service. */
		for (uint32_t k = 0; k < vi && first; k++)
			first = !same_addr(&c->c_vips[k], v);
		if (!first)
			continue;
		for (uint32_t k = vi; k < c->c_nvips && !any; k++)
			any = same_addr(&c->c_vips[k], v) && up(ctx, c, k);
		(*addresses)++;
		if (!any)
			continue;
		(*announced)++;
		inet_ntop(v->v_family == 4 ? AF_INET : AF_INET6, &v->v_addr,
			  name, sizeof(name));
		text_add(v->v_family == 4 ? &t4 : &t6,
			 "route %s/%d via \"%s\";\n", name,
			 v->v_family == 4 ? 32 : 128, tun);
	}
	if (t4.oom || t6.oom) {
		free(t4.t);
		free(t6.t);
		return -ENOMEM;
	}
	*text4 = t4.t;
	*text6 = t6.t;
	return 0;
}

/* --------------------------------------------------------- the device */

static int tun_flags(const char *name, bool up)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		e = -errno;
		goto out_socket;
	}
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		e = -errno;
out_socket:
	close(s);
	return e;
}

int lb_bird_open(struct lb_bird *b, const char *routes, const char *sock,
		 const char *birdc, const char *tun, char *err, size_t errlen)
{
	struct ifreq ifr;
	int e;

	memset(b, 0, sizeof(*b));
	b->b_tun_fd = -1;
	if (strlen(routes) >= sizeof(b->b_routes4) - 8 ||
	    strlen(sock) >= sizeof(b->b_sock) ||
	    strlen(tun) >= sizeof(b->b_tun) || !tun[0]) {
		snprintf(err, errlen, "bird: a path or device name is too "
			 "long (socket: %zu bytes, device: %d)",
			 sizeof(b->b_sock) - 1, IF_NAMESIZE - 1);
		return -ENAMETOOLONG;
	}
	snprintf(b->b_routes4, sizeof(b->b_routes4), "%s", routes);
	snprintf(b->b_routes6, sizeof(b->b_routes6), "%s.v6", routes);
	snprintf(b->b_sock, sizeof(b->b_sock), "%s", sock);
	snprintf(b->b_tun, sizeof(b->b_tun), "%s", tun);
	b->b_birdc = birdc;

	b->b_tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (b->b_tun_fd < 0) {
		e = errno;
		snprintf(err, errlen, "bird: /dev/net/tun: %s", strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tun);
	/* IFF_TUN_EXCL: never attach to a device someone else holds or
	 * left persistent; that one's life is not ours. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL;
	if (ioctl(b->b_tun_fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "bird: cannot create the device %s: %s%s",
			 tun, strerror(e), e == EBUSY || e == EEXIST ?
			 " (another balancer holds it, or a persistent device "
			 "of that name exists)" : "");
		close(b->b_tun_fd);
		b->b_tun_fd = -1;
		return -e;
	}
	return 0;
}

/* --------------------------------------------------------- the files */

/* path whole or not at all: BIRD may read it at any moment. */
static int write_whole(const char *path, const char *text, char *err,
		       size_t errlen)
{
	char tmp[4096 + 16];
	size_t len = strlen(text);
	int fd, e = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "bird: %s: %s", tmp, strerror(e));
		return -e;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "bird: %s: %s", tmp, strerror(e));
		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		e = errno;
		snprintf(err, errlen, "bird: %s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
	return 0;
}

int lb_bird_set(struct lb_bird *b, const struct lb_config *c,
		lb_bird_service_up_fn *up, void *ctx, char *err,
		size_t errlen)
{
	char *t4, *t6;
	int e;

	e = lb_bird_routes(c, b->b_tun, up, ctx, &t4, &t6, &b->b_announced,
			   &b->b_addresses);
	if (e) {
		snprintf(err, errlen, "bird: out of memory");
		return e;
	}
	if (b->b_text4 && !strcmp(t4, b->b_text4) && b->b_text6 &&
	    !strcmp(t6, b->b_text6)) {
		free(t4);
		free(t6);
		return 0;
	}
	errno = 0;
	e = write_whole(b->b_routes4, t4, err, errlen);
	if (!e)
		e = write_whole(b->b_routes6, t6, err, errlen);
	if (e) {
		free(t4);
		free(t6);
		return e;
	}
	free(b->b_text4);
	free(b->b_text6);
	b->b_text4 = t4;
	b->b_text6 = t6;
	b->b_pending = true;
	b->b_retry_ns = 0;
	return 0;
}

/* ----------------------------------------------------------- birdc */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Runs `birdc -s SOCK configure`, output into out.  birdc's exit status
 * says little (it is 0 after a refused configuration), so the verdict is
 * BIRD's reply: "Reconfigured", "Reconfiguration in progress" (queued
 * behind one in progress, which then re-reads the same files), or
 * "Reconfiguration ignored" (nothing changed).  @return true on those.
 */
static bool birdc_configure(struct lb_bird *b, char *out, size_t cap)
{
	const char *argv[] = { b->b_birdc, "-s", b->b_sock, "configure", NULL };
	uint64_t end = mono_ms() + BIRDC_TIMEOUT_MS;
	size_t len = 0;
	int pfd[2], status;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(out, cap, "pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(out, cap, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return false;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		/* SIGPIPE is ignored in the balancer; birdc gets the
		 * default (handlers are reset by exec, ignored signals are
		 * not). */
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		/* Only async-signal-safe calls here (a threaded parent). */
		(void)!write(1, "cannot run birdc\n", 17);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		uint64_t now = mono_ms();
		ssize_t n;

		if (now >= end) {
			kill(pid, SIGKILL);
			snprintf(out + len, cap - len, "%sbirdc: no answer in "
				 "%d ms", len ? "; " : "", BIRDC_TIMEOUT_MS);
			break;
		}
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		n = read(pfd[0], out + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
		if (len == cap - 1)
			break;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* One line for messages. */
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return strstr(out, "Reconfigured") ||
	       strstr(out, "Reconfiguration in progress") ||
	       strstr(out, "Reconfiguration ignored");
}

int lb_bird_poll(struct lb_bird *b, uint64_t now_ns)
{
	char out[sizeof(b->b_msg)];

	if (!b->b_pending || now_ns < b->b_retry_ns)
		return 0;
	if (birdc_configure(b, out, sizeof(out))) {
		b->b_pending = false;
		b->b_failing = false;
		b->b_configures++;
		return 1;
	}
	b->b_configure_failures++;
	b->b_retry_ns = now_ns + LB_BIRD_RETRY_NS;
	snprintf(b->b_msg, sizeof(b->b_msg), "%s", out);
	return -1;
}

int lb_bird_updown(struct lb_bird *b, bool up)
{
	int e;

	if (b->b_tun_fd < 0)
		return -EBADF;
	e = tun_flags(b->b_tun, up);
	if (!e)
		b->b_up = up;
	return e;
}

void lb_bird_close(struct lb_bird *b)
{
	if (b->b_tun_fd >= 0)
		close(b->b_tun_fd);
	b->b_tun_fd = -1;
	b->b_up = false;
	free(b->b_text4);
	free(b->b_text6);
	b->b_text4 = b->b_text6 = NULL;
}

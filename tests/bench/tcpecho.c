// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcpecho.c - xm-tcpecho: the TCP service and the long-lived clients of
 * `make demo-lb` and `make bench B=lb-ecmp` (the suites use the same
 * code, tests/lib/tcp_echo.c, in-process).
 *
 *   xm-tcpecho serve ADDR:PORT NS=ID...
 *       an echo server on ADDR:PORT in each namespace NS, greeting new
 *       connections with "B<ID>"; until SIGINT or SIGTERM.
 *   xm-tcpecho client NS ADDR:PORT N
 *       opens N connections from namespace NS, says how they spread over
 *       the backends, then reads commands on stdin, one a line:
 *         check              one echo on every connection:
 *                            "check: A of N answered, R reset, T no answer"
 *         watch SEC MS       an echo on every connection every MS
 *                            milliseconds for SEC seconds (an offered
 *                            rate), then "watch: ..., L lost" where a
 *                            lost connection was reset or stopped
 *                            answering for good
 *         quit
 *
 * Exit status: 0, 1 on a setup error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../lib/netns.h"
#include "../lib/tcp_echo.h"

#define CONN_MAX	4096
#define ECHO_MS		1000	/* an echo's timeout once connected */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int ns_by_name(struct xm_netns *ns, const char *name)
{
	char path[128];

	snprintf(ns->name, sizeof(ns->name), "%s", name);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0) {
		fprintf(stderr, "xm-tcpecho: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_addr(const char *s, uint32_t *addr, uint16_t *port)
{
	char a[64];
	const char *c = strrchr(s, ':');

	if (!c || (size_t)(c - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(c - s));
	a[c - s] = '\0';
	*port = (uint16_t)atoi(c + 1);
	return inet_pton(AF_INET, a, addr) == 1 && *port ? 0 : -1;
}

static int serve(int argc, char **argv)
{
	static struct xm_tcpe_srv srv;
	struct xm_netns ns;
	uint32_t addr;
	uint16_t port;

	if (argc < 2 || parse_addr(argv[0], &addr, &port))
		return 2;
	xm_tcpe_srv_init(&srv);
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int e;

		if (!eq)
			return 2;
		*eq = '\0';
		if (ns_by_name(&ns, argv[i]))
			return 1;
		e = xm_tcpe_srv_listen(&srv, &ns, addr, port, atoi(eq + 1));
		close(ns.fd);
		if (e) {
			fprintf(stderr, "xm-tcpecho: listen in %s: %s\n",
				argv[i], strerror(-e));
			return 1;
		}
	}
	if (xm_tcpe_srv_start(&srv))
		return 1;
	while (!stop)
		pause();
	xm_tcpe_srv_stop(&srv);
	return 0;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* One echo on each live connection.  Counts into ok/reset/silent. */
static void round_all(int *fd, int n, uint32_t seq, int *ok, int *reset,
		      int *silent, bool *lost)
{
	*ok = *reset = *silent = 0;
	for (int i = 0; i < n; i++) {
		int e;

		if (fd[i] < 0) {
			(*reset)++;
			continue;
		}
		e = xm_tcpe_echo(fd[i], 64, seq * 7919u + (uint32_t)i);
		if (e == 0) {
			(*ok)++;
			if (lost)
				lost[i] = false;
		} else if (e == -ETIMEDOUT) {
			(*silent)++;
			if (lost)
				lost[i] = true;
		} else {
			(*reset)++;
			close(fd[i]);
			fd[i] = -1;
		}
	}
}

static uint64_t now_ms(void)
{
	return xm_now_ms();
}

static int client(int argc, char **argv)
{
	static int fd[CONN_MAX], be[CONN_MAX];
	static bool lost[CONN_MAX];
	int n, per[10] = { 0 }, ok, reset, silent;
	struct xm_netns ns;
	uint32_t addr, seq = 0;
	uint16_t port;
	char line[128];

	if (argc != 3 || parse_addr(argv[1], &addr, &port))
		return 2;
	n = atoi(argv[2]);
	if (n < 1 || n > CONN_MAX)
		return 2;
	if (ns_by_name(&ns, argv[0]))
		return 1;
	for (int i = 0; i < n; i++) {
		fd[i] = xm_tcpe_connect(&ns, addr, port, 5000, &be[i]);
		if (fd[i] < 0) {
			fprintf(stderr, "xm-tcpecho: connection %d: %s\n", i,
				strerror(-fd[i]));
			return 1;
		}
		set_timeout(fd[i], ECHO_MS);
		per[be[i] % 10]++;
	}
	printf("opened %d connections: backend 1 %d, backend 2 %d, backend 3 "
	       "%d\n", n, per[1], per[2], per[3]);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		int secs, ms;

		if (!strncmp(line, "check", 5)) {
			round_all(fd, n, ++seq, &ok, &reset, &silent, NULL);
			printf("check: %d of %d answered, %d reset, %d no "
			       "answer\n", ok, n, reset, silent);
		} else if (sscanf(line, "watch %d %d", &secs, &ms) == 2 &&
			   secs > 0 && secs <= 600 && ms > 0) {
			uint64_t end = now_ms() + (uint64_t)secs * 1000, next;
			int rounds = 0, l = 0;

			memset(lost, 0, sizeof(lost));
			while (now_ms() < end) {
				next = now_ms() + (uint64_t)ms;
				round_all(fd, n, ++seq, &ok, &reset, &silent,
					  lost);
				rounds++;
				while (now_ms() < next)
					usleep(1000);
			}
			/* Silent at the end, or reset: lost. */
			for (int i = 0; i < n; i++)
				l += fd[i] < 0 || lost[i];
			printf("watch: %d rounds of %d echoes, last round %d "
			       "answered, %d reset, %d lost\n", rounds, n, ok,
			       reset, l);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("?\n");
		}
		fflush(stdout);
	}
	for (int i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "serve")) {
		int r = serve(argc - 2, argv + 2);

		if (r == 2)
			fprintf(stderr, "usage: xm-tcpecho serve ADDR:PORT "
				"NS=ID...\n");
		return r;
	}
	if (argc >= 2 && !strcmp(argv[1], "client")) {
		int r = client(argc - 2, argv + 2);

		if (r == 2)
			fprintf(stderr, "usage: xm-tcpecho client NS "
				"ADDR:PORT N\n");
		return r;
	}
	fprintf(stderr, "usage: xm-tcpecho serve ADDR:PORT NS=ID... | client "
		"NS ADDR:PORT N\n");
	return 2;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_ctl_client.c - `xmbuf-lb ctl [--ctl PATH | -i IF] COMMAND [ARG]
 * [--json]`: sends one command line to a running balancer's control
 * socket (lb_ctl.h) and prints the answer: the body on stdout (status 0),
 * or the error line on stderr (status 1).  Usage errors: status 2.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lb_ctl.h"

#define CLIENT_WAIT_MS		15000	/* a reload may take seconds */

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "xmbuf-lb ctl: %s\n", msg);
	fprintf(stderr, "usage: xmbuf-lb ctl [--ctl PATH | -i IF] COMMAND "
		"[ARG] [--json]\n"
		"  PATH defaults to " LB_CTL_DIR "/IF.sock; COMMAND: status, "
		"services,\n  backends, flows [VIP], drain ADDR, undrain ADDR, "
		"drain-host,\n  undrain-host, reload, help\n");
	return 2;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int lb_ctl_client_main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[LB_CTL_LINE_MAX + 1], *reply = NULL, *nl;
	const char *path = NULL, *ifname = NULL;
	size_t len = 0, cap = 0, ll = 0;
	uint64_t end;
	int fd, i, n;

	for (i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--json");
	     i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(NULL);
			return 0;
		}
		if (i + 1 >= argc)
			return usage("an option without its value");
		if (!strcmp(argv[i], "--ctl"))
			path = argv[++i];
		else if (!strcmp(argv[i], "-i") || !strcmp(argv[i], "--iface"))
			ifname = argv[++i];
		else
			return usage("unknown option");
	}
	if (i >= argc)
		return usage("no command");
	if (path == NULL && ifname == NULL)
		return usage("which balancer? --ctl PATH or -i IF");
	if (path == NULL) {
		if (strchr(ifname, '/') || strlen(ifname) > 15)
			return usage("not an interface name");
		n = snprintf(sa.sun_path, sizeof(sa.sun_path),
			     LB_CTL_DIR "/%s.sock", ifname);
	} else {
		n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	}
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return usage("socket path too long");
	for (; i < argc; i++) {
		n = snprintf(line + ll, sizeof(line) - ll, "%s%s",
			     ll ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - ll - 1)
			return usage("command too long");
		ll += (size_t)n;
	}
	line[ll++] = '\n';

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "xmbuf-lb ctl: %s: %s\n", sa.sun_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (send(fd, line, ll, MSG_NOSIGNAL) != (ssize_t)ll) {
		fprintf(stderr, "xmbuf-lb ctl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	end = mono_ms() + CLIENT_WAIT_MS;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = mono_ms();
		ssize_t r;

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0) {
			fprintf(stderr, "xmbuf-lb ctl: no answer within %d "
				"ms\n", CLIENT_WAIT_MS);
			close(fd);
			free(reply);
			return 1;
		}
		if (len + 4096 > cap) {
			char *nr = realloc(reply, cap + 65536);

			if (nr == NULL) {
				close(fd);
				free(reply);
				return 1;
			}
			reply = nr;
			cap += 65536;
		}
		r = recv(fd, reply + len, cap - len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (reply == NULL || len == 0) {
		fprintf(stderr, "xmbuf-lb ctl: empty answer\n");
		free(reply);
		return 1;
	}
	reply[len] = '\0';
	nl = strchr(reply, '\n');
	if (nl && !strncmp(reply, "ok\n", 3)) {
		fwrite(nl + 1, 1, len - (size_t)(nl + 1 - reply), stdout);
		free(reply);
		return 0;
	}
	fprintf(stderr, "xmbuf-lb ctl: %s%s", reply, nl ? "" : "\n");
	free(reply);
	return 1;
}

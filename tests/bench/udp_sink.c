// SPDX-License-Identifier: BSD-2-Clause
/*
 * udp_sink.c - xm-udpsink, the capture benchmark's host: a UDP socket
 * bound to ADDR:PORT that reads what arrives (recvmmsg, 64 at a time)
 * and counts it, so a trial can tell whether the host still got every
 * packet while a capture tool watched the interface.
 *
 *   xm-udpsink -a ADDR -p PORT [-b RCVBUF_BYTES] [-c CPU]
 *
 * Prints "ready" on stderr once bound; at SIGINT or SIGTERM prints
 * "received N" on stdout and exits 0 (1 on a runtime error, 2 on a
 * usage error).  The socket's drops (a full receive buffer) are what the
 * host lost: SO_RXQ_OVFL is not needed, the count says it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SINK_BATCH	64
#define SINK_PKT	2048

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int main(int argc, char **argv)
{
	static char bufs[SINK_BATCH][SINK_PKT];
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t got = 0;
	int opt, fd, rcvbuf = 64 << 20, cpu = -1;

	while ((opt = getopt(argc, argv, "a:p:b:c:")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &a.sin_addr) != 1)
				return 2;
			break;
		case 'p':
			a.sin_port = htons((uint16_t)atoi(optarg));
			break;
		case 'b':
			rcvbuf = atoi(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: xm-udpsink -a ADDR -p PORT "
				"[-b RCVBUF] [-c CPU]\n");
			return 2;
		}
	}
	if (!a.sin_port) {
		fprintf(stderr, "xm-udpsink: -p PORT is required\n");
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "xm-udpsink: %s\n", strerror(errno));
		return 1;
	}
	/* FORCE: above net.core.rmem_max, as root */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (int i = 0; i < SINK_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = SINK_PKT;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fprintf(stderr, "ready\n");
	while (!stop_requested) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int n = recvmmsg(fd, msgs, SINK_BATCH, MSG_DONTWAIT, NULL);

		if (n > 0) {
			got += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "xm-udpsink: %s\n", strerror(errno));
			return 1;
		}
		poll(&pf, 1, 50);
	}
	printf("received %llu\n", (unsigned long long)got);
	close(fd);
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink.c - xm-sink, the traffic sink of the pktgen benchmark: an XDP
 * program on the receiving veth end that drops every IP frame and counts
 * it (tests/bpf/xm_test_dropk.bpf.c with k = 1), so every sender under test is
 * measured by the same counter at the same place.
 *
 *   sender (CPU 0) --> vA ====== vB [xm_test_dropk, k=1: XDP_DROP, count]
 *                                 ^ runs in the sender's softirq (veth)
 *
 * Prints "ready" on stderr once attached, then one line per 100 ms on
 * stdout: "<CLOCK_REALTIME seconds> <frames dropped so far>", so a script
 * can take the rate over a window that leaves out every sender's start-up
 * and wind-down.  Detaches (the link goes with the process) at SIGINT,
 * SIGTERM or after -d seconds.
 * Exit: 0 on success, 1 on a runtime error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xm_test_dropk.skel.h"

#define SINK_MAX_SECONDS	3600
#define SINK_DROPPED		1	/* xm_dropk_cnt index */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xm_test_dropk_bpf *skel;
	struct bpf_link *link;
	const char *ifname = NULL;
	unsigned long seconds = 60;
	double end;
	int opt, ifindex, fd, err;
	char *tail;

	while ((opt = getopt_long(argc, argv, "i:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			seconds = strtoul(optarg, &tail, 10);
			if (*tail || seconds < 1 || seconds > SINK_MAX_SECONDS)
				goto usage;
			break;
		case 'h':
			printf("usage: xm-sink -i IF [-d SECONDS]\n");
			return 0;
		default:
			goto usage;
		}
	}
	if (!ifname || optind != argc)
		goto usage;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xm-sink: no interface '%s'\n", ifname);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = xm_test_dropk_bpf__open();
	if (!skel) {
		fprintf(stderr, "xm-sink: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->k = 1;
	err = xm_test_dropk_bpf__load(skel);
	if (err) {
		fprintf(stderr, "xm-sink: load: %s\n", strerror(-err));
		xm_test_dropk_bpf__destroy(skel);
		return 1;
	}
	link = bpf_program__attach_xdp(skel->progs.xm_test_dropk, ifindex);
	if (!link) {
		fprintf(stderr, "xm-sink: attach to %s: %s\n", ifname,
			strerror(errno));
		xm_test_dropk_bpf__destroy(skel);
		return 1;
	}
	fd = bpf_map__fd(skel->maps.xm_dropk_cnt);
	fprintf(stderr, "xm-sink: ready on %s\n", ifname);
	end = realtime_s() + (double)seconds;
	while (!stop_requested && realtime_s() < end) {
		uint32_t key = SINK_DROPPED;
		uint64_t v = 0;

		if (bpf_map_lookup_elem(fd, &key, &v)) {
			fprintf(stderr, "xm-sink: read: %s\n", strerror(errno));
			break;
		}
		printf("%.6f %llu\n", realtime_s(), (unsigned long long)v);
		fflush(stdout);
		usleep(100000);
	}
	bpf_link__destroy(link);
	xm_test_dropk_bpf__destroy(skel);
	return 0;

usage:
	fprintf(stderr, "usage: xm-sink -i IF [-d SECONDS]\n");
	return 2;
}

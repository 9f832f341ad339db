// SPDX-License-Identifier: BSD-2-Clause
/*
 * peer_raw_txpush.c - peer-raw-txpush, the baseline the pktgen benchmark
 * measures xmbuf-pktgen's AF_XDP engine against: the least an AF_XDP
 * sender can do, written on libxdp's <xdp/xsk.h> rings and nothing else
 * (xdpsock's txonly, reduced to its loop).
 *
 *   frames built once:  | f0 | f1 | ... | f(n-1) |   (the same 64 bytes)
 *   loop: reserve a batch of TX descriptors -> addresses of the next
 *         frames -> submit -> sendto() when the kernel asks (copy mode:
 *         always) -> reap the completion ring
 *
 * Nothing is written into a frame after start-up: no sequence number, no
 * timestamp, no checksum update; a descriptor per packet is all the
 * loop costs.  One UMEM of 2 KiB chunks, one socket, no XDP program (TX
 * only).  The socket gets the same TX ring as xmbuf-pktgen's port; the
 * copy-mode send budget (XDP_MAX_TX_SKB_BUDGET, descriptors per sendto())
 * stays the kernel's 32 as in any plain libxdp loop unless -B sets it
 * (pktgen.sh runs it both ways: -B 2048 is what xmbuf's port sets).
 *
 * Runs until SIGINT/SIGTERM or -d seconds.  Output (stdout, "key value"):
 *   sent N (completions), elapsed_s T (first submit to the end),
 *   tx_mpps R (N / T).
 * Exit: 0 on success, 1 on a runtime error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "bench_util.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET	9	/* 6.18: copy-mode TX per sendto */
#endif

#define RAW_FRAME_SIZE		2048
#define RAW_MAX_SECONDS		3600
#define RAW_MIN_SIZE		60
#define RAW_MAX_SIZE		1514

struct raw_tx {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;	/* fill ring (unused: no RX) */
	struct xsk_ring_cons cq;	/* completion ring */
	struct xsk_ring_prod tx;	/* TX ring */
	void *buf;
	size_t buf_size;
	uint32_t nframes;		/* twice the TX ring */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint16_t ip_csum(const uint8_t *h, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* UDP/IPv4 198.18.0.1:1024 -> 198.18.0.2:9, UDP checksum 0 (none). */
static void build_frame(uint8_t *f, unsigned int size, const uint8_t *dst,
			const uint8_t *src)
{
	unsigned int ip_len = size - 14, udp_len = ip_len - 20;
	uint16_t c;

	memset(f, 0, size);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[20] = 0x40;			/* DF */
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, (uint8_t[]){ 198, 18, 0, 1 }, 4);
	memcpy(f + 30, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	c = ip_csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	f[34] = 1024 >> 8;
	f[35] = 1024 & 0xff;
	f[37] = 9;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;
}

static void raw_close(struct raw_tx *r)
{
	if (r->xsk)
		xsk_socket__delete(r->xsk);
	if (r->umem)
		xsk_umem__delete(r->umem);
	if (r->buf)
		munmap(r->buf, r->buf_size);
}

static int raw_open(struct raw_tx *r, const char *ifname, uint32_t queue,
		    uint32_t ring, uint32_t budget, unsigned int size,
		    const uint8_t *dst, const uint8_t *src)
{
	struct xsk_umem_config ucfg = {
		.fill_size = 64,
		.comp_size = ring,
		.frame_size = RAW_FRAME_SIZE,
	};
	struct xsk_socket_config scfg = {
		.rx_size = 0,
		.tx_size = ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	int err;

	r->nframes = ring * 2;
	r->buf_size = (size_t)r->nframes * RAW_FRAME_SIZE;
	r->buf = mmap(NULL, r->buf_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		err = -errno;
		fprintf(stderr, "peer-raw-txpush: mmap: %s\n", strerror(-err));
		return err;
	}
	for (uint32_t i = 0; i < r->nframes; i++)
		build_frame((uint8_t *)r->buf + (size_t)i * RAW_FRAME_SIZE,
			    size, dst, src);
	err = xsk_umem__create(&r->umem, r->buf, r->buf_size, &r->fq, &r->cq,
			       &ucfg);
	if (err) {
		r->umem = NULL;
		fprintf(stderr, "peer-raw-txpush: xsk_umem__create: %s\n",
			strerror(-err));
		return err;
	}
	err = xsk_socket__create(&r->xsk, ifname, queue, r->umem, NULL,
				 &r->tx, &scfg);
	if (err) {
		r->xsk = NULL;
		fprintf(stderr, "peer-raw-txpush: xsk_socket__create(%s, %u): "
			"%s\n", ifname, queue, strerror(-err));
		return err;
	}
	if (budget && setsockopt(xsk_socket__fd(r->xsk), SOL_XDP,
				 XDP_MAX_TX_SKB_BUDGET, &budget,
				 sizeof(budget))) {
		err = -errno;
		fprintf(stderr, "peer-raw-txpush: XDP_MAX_TX_SKB_BUDGET %u: "
			"%s\n", budget, strerror(-err));
		return err;
	}
	return 0;
}

static int if_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static bool parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: peer-raw-txpush -i IF [options]\n"
"Minimal AF_XDP txonly on libxdp's xsk.h rings (the benchmark baseline).\n"
"  -i, --iface IF       interface (required)\n"
"  -q, --queue Q        queue id (default 0)\n"
"  -d, --duration SEC   time limit, 1..%d (default 5)\n"
"  -c, --cpu CPU        pin to CPU\n"
"  -s, --size BYTES     frame size without FCS, %d..%d (default 64)\n"
"  -r, --ring N         TX ring size, a power of two (default 2048)\n"
"  -b, --batch N        descriptors per submit (default 64)\n"
"  -B, --budget N       copy-mode descriptors per sendto()\n"
"                       (XDP_MAX_TX_SKB_BUDGET, 32..ring; 0: leave the\n"
"                       kernel's default of 32; default 0)\n"
"      --dst-mac MAC    destination MAC (default 02:00:00:00:00:02)\n"
"  -h, --help           this text\n", RAW_MAX_SECONDS, RAW_MIN_SIZE,
		RAW_MAX_SIZE);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "queue", required_argument, NULL, 'q' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "ring", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "budget", required_argument, NULL, 'B' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long queue = 0, seconds = 5, ring = 2048, size = 64;
	unsigned long batch = 64, budget = 0, v;
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6];
	struct raw_tx r = {};
	const char *ifname = NULL;
	uint64_t sent = 0, next = 0, outstanding = 0;
	double start, end;
	long cpu = -1;
	int opt, fd;

	while ((opt = getopt_long(argc, argv, "i:q:d:c:s:r:b:B:h", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'q':
			if (!bench_parse_ulong(optarg, 0, 4095, &queue))
				goto bad;
			break;
		case 'd':
			if (!bench_parse_ulong(optarg, 1, RAW_MAX_SECONDS, &seconds))
				goto bad;
			break;
		case 'c':
			if (!bench_parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			cpu = (long)v;
			break;
		case 's':
			if (!bench_parse_ulong(optarg, RAW_MIN_SIZE, RAW_MAX_SIZE,
					 &size))
				goto bad;
			break;
		case 'r':
			if (!bench_parse_ulong(optarg, 64, 32768, &ring) ||
			    (ring & (ring - 1)))
				goto bad;
			break;
		case 'b':
			if (!bench_parse_ulong(optarg, 1, 1024, &batch))
				goto bad;
			break;
		case 'B':
			if (!bench_parse_ulong(optarg, 0, 32768, &budget) ||
			    (budget && budget < 32))
				goto bad;
			break;
		case 'M':
			if (!parse_mac(optarg, dst))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || optind != argc || budget > ring)
		goto bad;
	if (!if_nametoindex(ifname) || if_mac(ifname, src)) {
		fprintf(stderr, "peer-raw-txpush: no interface '%s'\n", ifname);
		return 1;
	}
	if (bench_pin_or_report("peer-raw-txpush", cpu))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (raw_open(&r, ifname, (uint32_t)queue, (uint32_t)ring,
		     (uint32_t)budget, (unsigned int)size, dst, src)) {
		raw_close(&r);
		return 1;
	}
	fd = xsk_socket__fd(r.xsk);

	start = now_s();
	end = start + (double)seconds;
	while (!stop_requested) {
		uint32_t idx = 0, n, done;

		/* reap: the kernel is done with these frames */
		done = xsk_ring_cons__peek(&r.cq, (uint32_t)ring, &idx);
		if (done) {
			xsk_ring_cons__release(&r.cq, done);
			outstanding -= done;
			sent += done;
		}
		n = (uint32_t)batch;
		if (outstanding + n > r.nframes)
			n = (uint32_t)(r.nframes - outstanding);
		if (n)
			n = xsk_ring_prod__reserve(&r.tx, n, &idx);
		for (uint32_t i = 0; i < n; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&r.tx,
								    idx + i);

			d->addr = (next++ % r.nframes) * RAW_FRAME_SIZE;
			d->len = (uint32_t)size;
		}
		if (n) {
			xsk_ring_prod__submit(&r.tx, n);
			outstanding += n;
		}
		if (xsk_ring_prod__needs_wakeup(&r.tx))
			sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		if (now_s() >= end)
			break;
	}
	end = now_s();
	printf("sent %llu\nelapsed_s %.6f\ntx_mpps %.4f\n",
	       (unsigned long long)sent, end - start,
	       (double)sent / (end - start) / 1e6);
	raw_close(&r);
	return 0;

bad:
	usage(stderr);
	return 2;
}

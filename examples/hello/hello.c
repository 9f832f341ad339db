// SPDX-License-Identifier: BSD-2-Clause
/*
 * hello.c - a first xmbuf program: open a UMEM and an AF_XDP port on IF,
 * receive a burst, look at the first packet's headers, free the packets.
 * Build it against the installed library with
 *	cc hello.c $(pkg-config --cflags --libs xmbuf) -o hello
 * and run it as root: ./hello IF [SECONDS] (exit 0 once a packet came).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xm_mbuf.h>
#include <xm_pkt.h>
#include <xm_port.h>

int main(int argc, char **argv)
{
	struct xm_umem *u;
	struct xm_port *p;
	struct xm_mbuf *pkts[64];
	struct xm_pkt_info pi;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af, ret = 1;
	long ms = argc > 2 ? atol(argv[2]) * 1000 : 10000;
	uint16_t n = 0;
	unsigned int q;

	if (argc < 2) {
		fprintf(stderr, "usage: hello IF [SECONDS]\n");
		return 2;
	}
	/* the UMEM: one region carved into zones of frames and mbufs */
	u = xm_umem_create(NULL);
	if (!u)
		return 1;
	/* a socket on each RX queue of IF, where the XDP program steers
	 * every packet */
	p = xm_port_open(u, argv[1], NULL);
	if (!p)
		goto destroy_umem;
	for (; n == 0 && ms > 0; ms--) {	/* a burst: up to 64 packets */
		for (q = 0; n == 0 && q < xm_port_queue_count(p); q++)
			n = xm_port_rx_burst(p, q, pkts, 64);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	if (n == 0) {
		fprintf(stderr, "hello: no packet on %s\n", argv[1]);
		goto close_port;
	}
	/* the packet is an mbuf chain wrapping the frame it arrived in */
	if (xm_pkt_parse_mbuf(&pkts[0], &pi) == 0 && pi.pi_flags &
	    (XM_PKT_F_IPV4 | XM_PKT_F_IPV6)) {
		af = (pi.pi_flags & XM_PKT_F_IPV4) ? AF_INET : AF_INET6;
		inet_ntop(af, &pi.pi_ip.ip_src, src, sizeof(src));
		inet_ntop(af, &pi.pi_ip.ip_dst, dst, sizeof(dst));
		printf("%u packet(s); the first: %u bytes, %s -> %s, "
		       "protocol %u\n", n, pi.pi_len, src, dst, pi.pi_proto);
	} else {
		printf("%u packet(s); the first is not IP\n", n);
	}
	ret = 0;
	/* freeing an mbuf gives its frame back to the fill ring */
	xm_freem_bulk(pkts, n);
close_port:
	xm_port_close(p);
destroy_umem:
	xm_umem_destroy(u);
	return ret;
}

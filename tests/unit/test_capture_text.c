// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_capture_text.c - xmbuf-capture's line per packet without -w
 * (examples/capture/cap_text.c): tcpdump -n -q's words for ICMP echo,
 * UDP, TCP, ARP, IPv6 (extension headers walked), the direction and an XDP verdict, a frame cut by
 * the snap length, and a full buffer left untouched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/capture/cap_run.h"

/* Ethernet + IPv4 (20 bytes) + what follows. */
static size_t ip4(uint8_t *f, uint8_t proto, uint16_t l4len)
{
	static const uint8_t src[4] = { 198, 18, 7, 1 };
	static const uint8_t dst[4] = { 198, 18, 7, 2 };
	uint16_t tot = (uint16_t)(20 + l4len);

	memset(f, 0, 14 + tot);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	f[14 + 8] = 64;
	f[14 + 9] = proto;
	memcpy(f + 14 + 12, src, 4);
	memcpy(f + 14 + 16, dst, 4);
	return 14 + tot;
}

static char *line(const uint8_t *f, uint32_t caplen, uint32_t wirelen,
		  uint32_t dir, uint32_t verdict)
{
	static char buf[512];
	size_t len = 0;

	cr_assert_eq(cap_text_line(buf, &len, sizeof(buf) - 1, 0, f, caplen,
				   wirelen, dir, verdict), 0);
	buf[len] = '\0';
	/* the time is local; what follows it is checked */
	return strchr(buf, ' ') + 1;
}

TestSuite(capture_text);

Test(capture_text, icmp_echo)
{
	uint8_t f[128];
	size_t n = ip4(f, 1, 64);

	f[34] = 8;
	f[38] = 0x5a; f[39] = 0x5a;
	f[41] = 3;
	cr_assert_str_eq(line(f, (uint32_t)n, (uint32_t)n, CAP_DIR_IN,
			      UINT32_MAX),
			 "In  IP 198.18.7.1 > 198.18.7.2: ICMP echo request, "
			 "id 23130, seq 3, length 64\n");
	f[34] = 0;
	cr_assert_str_eq(line(f, (uint32_t)n, (uint32_t)n, CAP_DIR_OUT,
			      UINT32_MAX),
			 "Out IP 198.18.7.1 > 198.18.7.2: ICMP echo reply, "
			 "id 23130, seq 3, length 64\n");
}

Test(capture_text, udp_tcp_and_verdict)
{
	uint8_t f[256];
	size_t n = ip4(f, 17, 8 + 18);

	f[34] = 0x9c; f[35] = 0x40;	/* 40000 */
	f[37] = 9;
	f[39] = 26;
	cr_assert_str_eq(line(f, (uint32_t)n, (uint32_t)n, 0, 3),
			 "IP 198.18.7.1.40000 > 198.18.7.2.9: UDP, length 18, "
			 "XDP_TX\n");
	n = ip4(f, 6, 20 + 100);
	f[34] = 0; f[35] = 80;
	f[36] = 0x13; f[37] = 0x88;	/* 5000 */
	f[46] = 5 << 4;
	cr_assert_str_eq(line(f, 60, (uint32_t)n, 0, UINT32_MAX),
			 "IP 198.18.7.1.80 > 198.18.7.2.5000: tcp 100\n");
}

Test(capture_text, arp_ipv6_and_cut_frames)
{
	uint8_t f[128] = { 0 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	f[12] = 0x08; f[13] = 0x06;
	f[14 + 2] = 0x08; f[14 + 4] = 6; f[14 + 5] = 4; f[14 + 7] = 1;
	f[14 + 14] = 198; f[14 + 15] = 18; f[14 + 16] = 7; f[14 + 17] = 1;
	f[14 + 24] = 198; f[14 + 25] = 18; f[14 + 26] = 7; f[14 + 27] = 2;
	cr_assert_str_eq(line(f, 42, 60, 0, UINT32_MAX),
			 "ARP, Request who-has 198.18.7.2 tell 198.18.7.1, "
			 "length 46\n");
	memset(f, 0, sizeof(f));
	f[12] = 0x86; f[13] = 0xdd;
	f[14 + 5] = 8;
	f[14 + 6] = 17;
	memcpy(f + 14 + 8, a6, 16);
	memcpy(f + 14 + 24, a6, 16);
	f[14 + 24 + 15] = 2;
	f[54] = 0x13; f[55] = 0x88; f[57] = 53; f[59] = 8;
	cr_assert_str_eq(line(f, 62, 62, 0, UINT32_MAX),
			 "IP6 2001:db8::1.5000 > 2001:db8::2.53: UDP, length 0\n");
	cr_assert_str_eq(line(f, 30, 62, 0, UINT32_MAX), "IP6 truncated\n");
	cr_assert_str_eq(line(f, 10, 62, 0, UINT32_MAX),
			 "[|ether], length 62\n");
}

Test(capture_text, a_full_buffer_is_left_alone)
{
	uint8_t f[128];
	size_t n = ip4(f, 17, 8), len = 5;
	char buf[40] = "abcde";

	cr_assert_eq(cap_text_line(buf, &len, sizeof(buf), 0, f, (uint32_t)n,
				   (uint32_t)n, 0, UINT32_MAX), -ENOSPC);
	cr_assert_eq(len, 5);
}

/* An MLDv2 report behind a hop-by-hop header (router alert) prints as
 * ICMP6, not as "ip-proto-0"; a later fragment prints as a fragment. */
Test(capture_text, ipv6_extension_headers)
{
	uint8_t f[128] = { 0 };
	size_t n = 14 + 40 + 8 + 28;

	f[12] = 0x86; f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 8 + 28;			/* payload length */
	f[20] = 0;			/* hop-by-hop */
	f[21] = 1;
	f[22] = 0xfe; f[23] = 0x80; f[37] = 1;	/* fe80::1 */
	f[38] = 0xff; f[39] = 0x02; f[53] = 0x16;	/* ff02::16 */
	f[54] = 58;			/* then ICMPv6 */
	f[55] = 0;			/* 8 bytes */
	f[56] = 5; f[57] = 2;		/* router alert */
	f[62] = 143;			/* MLDv2 report */
	cr_assert_str_eq(line(f, (uint32_t)n, (uint32_t)n, 0, UINT32_MAX),
			 "IP6 fe80::1 > ff02::16: ICMP6 type 143 code 0, "
			 "length 28\n");
	/* cut inside the hop-by-hop header: its own number is printed */
	cr_assert_str_eq(line(f, 14 + 40 + 4, (uint32_t)n, 0, UINT32_MAX),
			 "IP6 fe80::1 > ff02::16: ip-proto-0 36\n");
	/* a fragment with a non-zero offset */
	f[20] = 44;
	f[54] = 17; f[55] = 0; f[56] = 0; f[57] = 0x10;
	cr_assert_str_eq(line(f, (uint32_t)n, (uint32_t)n, 0, UINT32_MAX),
			 "IP6 fe80::1 > ff02::16: ip-proto-17 (fragment)\n");
}

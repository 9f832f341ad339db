/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_lb_path.c - libFuzzer target for xmbuf-lb's packet path
 * (examples/lb/lb_path.c, and through it xm_pkt_parse(), the connection
 * table and the Maglev lookup): every input is a received frame.
 *
 * The frame sits in a buffer with the headroom and tailroom an RX frame
 * has, so a write outside them is an ASan report.  The configuration has
 * IPv4 and IPv6 services, a mixed-family pool, GUE, a small MTU (so the
 * too-big path runs), a 'frag' owner and an ambiguous fragment address,
 * and a connection table small enough to evict.  Properties checked:
 * the verdict is one of three; a forwarded frame starts within the
 * headroom, ends within the buffer and parses as an outer IP packet
 * around the inner one; the fast parse of the common frame agrees with
 * xm_pkt_parse() byte for byte; a reply parses with good checksums; every drop
 * is counted; the connection table stays sound.
 *
 * The first byte of an input chooses the encapsulation and whether the
 * frame is run twice (a table hit), the rest is the frame.
 *
 * Built and run by `make fuzz` (fuzz_lb_path_SRCS in the Makefile);
 * --seed-dir=DIR (ignored by libFuzzer) writes a seed corpus into an
 * empty DIR: frames for each service and family, fragments, frames over
 * the MTU, and the packet library's own seeds (tests/fuzz/
 * pkt_fuzz_common.h), each under every selector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_fuzz_common.h"
#include "fuzz_seed_dir.h"
#include "../../examples/lb/lb_config.h"
#include "../../examples/lb/lb_lru.h"
#include "../../examples/lb/lb_path.h"

#define HEADROOM	256
#define MAX_FRAME	4096
#define TAILROOM	512

static const char conf_text[] =
	"key 00112233445566778899aabbccddeeff\n"
	"table-size 251\nlru-size 64\nmtu 700\nicmp-rate 0\n"
	"src-prefix 198.18.128.0/17\nsrc-prefix 2001:2:0:8000::/64\n"
	"gateway 02:00:00:00:00:fe\n"
	"vip 198.18.2.1 udp 53\nbackend 198.18.1.11\nbackend 2001:2::12 weight 2\n"
	"vip 198.18.2.1 tcp 80\nbackend 198.18.1.13\n"
	"vip 198.18.2.2 udp 53\nbackend 198.18.1.11\n"
	"vip 198.18.2.2 udp 54\nbackend 198.18.1.11\n"
	"vip 2001:2::1 udp 53 frag\nbackend 2001:2::11\nbackend 198.18.1.14\n"
	"vip 2001:2::1 udp 54\nbackend 2001:2::11 weight 0\n";

static struct lb_config *cfg[3];	/* ipip, gue, gue-direct */
static struct lb_path w;
static uint8_t buf[HEADROOM + MAX_FRAME + TAILROOM];

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_lb_path: property broken: %s\n", why);
	abort();
}


static void write_seed(const char *dir, int *n, uint8_t sel,
		       const uint8_t *frame, uint32_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/lb-seed-%03d", dir, (*n)++);
	(void)fuzz_write_seed(path, &sel, 1, frame, len);
}

/* Frames for the services above, through the library's builder. */
static void write_seeds(const char *dir)
{
	static struct pkt_seed seeds[PKT_SEEDS];
	static const struct {
		int version;
		uint8_t proto;
		uint16_t dport;
		uint16_t frag;
		uint32_t payload;
	} kinds[] = {
		{ 4, XM_PKT_IPPROTO_UDP, 53, 0, 32 },
		{ 4, XM_PKT_IPPROTO_TCP, 80, 0, 0 },
		{ 4, XM_PKT_IPPROTO_UDP, 53, XM_PKT_IP_MF, 64 },
		{ 4, XM_PKT_IPPROTO_UDP, 53, 8, 64 },
		{ 4, XM_PKT_IPPROTO_UDP, 53, XM_PKT_IP_DF, 900 },
		{ 6, XM_PKT_IPPROTO_UDP, 53, 0, 32 },
		{ 6, XM_PKT_IPPROTO_UDP, 54, 0, 32 },
		{ 6, XM_PKT_IPPROTO_UDP, 53, 0, 900 },
	};
	uint8_t frame[2048];
	int n = 0, ns = pkt_seeds(seeds);

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct xm_pkt_tmpl t;
		int len;

		memset(&t, 0, sizeof(t));
		memcpy(t.t_eth.eth_src, "\x02\0\0\0\0\x01", 6);
		memcpy(t.t_eth.eth_dst, "\x02\0\0\0\0\x02", 6);
		t.t_eth.eth_nvlan = (uint8_t)(k == 1);
		t.t_ip.ip_version = (uint8_t)kinds[k].version;
		t.t_ip.ip_frag = kinds[k].frag;
		if (kinds[k].version == 4) {
			t.t_ip.ip_src.a_v4 = htonl(0xc6120005u);
			t.t_ip.ip_dst.a_v4 = htonl(0xc6120201u);
		} else {
			memcpy(t.t_ip.ip_src.a_v6,
			       "\x20\x01\0\x02\0\0\0\0\0\0\0\0\0\0\0\x05", 16);
			memcpy(t.t_ip.ip_dst.a_v6,
			       "\x20\x01\0\x02\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		}
		t.t_proto = kinds[k].proto;
		t.t_sport = (uint16_t)(1000 + k);
		t.t_dport = kinds[k].dport;
		t.t_tcp.tcp_flags = XM_PKT_TCP_SYN;
		t.t_payload_len = kinds[k].payload;
		len = xm_pkt_build_frame(frame, sizeof(frame), &t);
		if (len <= 0)
			continue;
		for (uint8_t sel = 0; sel < 3; sel++)
			write_seed(dir, &n, (uint8_t)(sel | 4), frame,
				   (uint32_t)len);
	}
	for (int i = 0; i < ns; i++)
		write_seed(dir, &n, 0xf0, seeds[i].s_buf, seeds[i].s_len);
	fprintf(stderr, "fuzz_lb_path: wrote %d seeds to %s\n", n, dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const encap[3] = { "encap ipip\n",
					      "encap gue 6080\n",
					      "encap gue-direct 6081\n" };
	char text[2048], err[LB_ERRLEN];

	fuzz_seed_dirs(*argc, *argv, write_seeds);
	for (int i = 0; i < 3; i++) {
		int n = snprintf(text, sizeof(text), "%s%s", encap[i],
				 conf_text);

		cfg[i] = lb_config_parse(text, (size_t)n, "fuzz", NULL, err,
					 sizeof(err));
		if (cfg[i] == NULL ||
		    lb_config_build(cfg[i], NULL, 1, err, sizeof(err)))
			fail(err);
	}
	w.p_lru = lb_lru_create(cfg[0]->c_lru_size, &cfg[0]->c_sipkey);
	if (w.p_lru == NULL)
		fail("no connection table");
	memcpy(w.p_mac, "\x02\0\0\0\0\x02", 6);
	w.p_if_mtu = 1500;
	return 0;
}

static uint64_t drops(const struct lb_path_stats *s)
{
	return s->malformed + s->not_ip + s->not_tcp_udp + s->no_service +
	       s->no_backend + s->frag_no_owner + s->too_big_dropped +
	       s->no_headroom;
}

static void one(const struct lb_config *c, const uint8_t *data, size_t size,
		uint64_t now)
{
	uint8_t *frame = buf + HEADROOM;
	struct lb_path_stats before = w.p_st;
	struct xm_pkt_info pi;
	struct lb_result r;
	enum lb_verdict v;

	memcpy(frame, data, size);
	/* The fast parse of the common frame is xm_pkt_parse() exactly. */
	if (lb_path_parse_fast(frame, (uint32_t)size, &pi)) {
		struct xm_pkt_info full;

		if (xm_pkt_parse(frame, (uint32_t)size, &full) != 0 ||
		    memcmp(&pi, &full, sizeof(pi)) != 0)
			fail("fast parse differs from xm_pkt_parse()");
	}
	v = lb_path_process(&w, c, frame, (uint32_t)size, HEADROOM,
			    (uint32_t)(sizeof(buf) - HEADROOM - size), now, &r);
	if (w.p_st.rx != before.rx + 1)
		fail("rx not counted");
	switch (v) {
	case LB_FORWARD:
		if (r.r_off > 0 || -r.r_off > HEADROOM ||
		    HEADROOM + r.r_off + r.r_len > sizeof(buf))
			fail("forwarded frame outside the buffer");
		if (xm_pkt_parse(frame + r.r_off, r.r_len, &pi) != 0)
			fail("forwarded frame does not parse");
		if (!xm_pkt_csum_ok(frame + r.r_off, &pi))
			fail("outer checksum");
		if (w.p_st.forwarded != before.forwarded + 1)
			fail("forward not counted");
		break;
	case LB_REPLY:
		if (r.r_off != 0 || r.r_len > size + TAILROOM)
			fail("reply outside the frame");
		if (xm_pkt_parse(frame, r.r_len, &pi) != 0 ||
		    !xm_pkt_csum_ok(frame, &pi))
			fail("reply does not parse or verify");
		if (w.p_st.icmp_sent != before.icmp_sent + 1)
			fail("reply not counted");
		break;
	case LB_DROP:
		if (drops(&w.p_st) != drops(&before) + 1)
			fail("drop without exactly one reason");
		break;
	default:
		fail("unknown verdict");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now;
	const struct lb_config *c;
	const char *why;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	if (size > MAX_FRAME)
		size = MAX_FRAME;
	c = cfg[(sel & 3) % 3];
	now += 1000000;
	one(c, data, size, now);
	if (sel & 4)
		one(c, data, size, now);	/* the same flow again */
	if ((sel & 0xf0) == 0xf0) {
		why = lb_lru_check(w.p_lru);
		if (why)
			fail(why);
	}
	return 0;
}

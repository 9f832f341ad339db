/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_capture_filter.c - libFuzzer target: random filter expressions
 * and random frames through libpcap and through xmbuf-capture's kernel
 * pre-filter (the translator, the library's rule encoding and the XDP
 * program's own matcher, tests/fuzz/capture_filter_diff.h).  Aborts
 * when a frame libpcap accepts would be kept in the kernel by the rules.
 *
 * An input is read as a stream of small choices:
 *
 *   byte 0: bit 0 the netmask (0 or a /24), bit 1 the expression as
 *           raw text up to the first NUL (else built from a grammar of
 *           libpcap's primitives, qualifiers, IDs, and/or/not, parens)
 *   then:   the expression's choices, then up to 8 frames (a spec from
 *           cfd_spec_pick, plus one byte overwritten anywhere)
 *
 * An expression libpcap refuses is skipped: nothing to compare.
 *
 * Built and run by `make fuzz` (and for a few seconds by `make test`):
 *   build/fuzz/fuzz_capture_filter --seed-dir=DIR DIR -max_total_time=60
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_filter_diff.h"
#include "fuzz_seed_dir.h"

#define EXPR_MAX	512
#define FRAMES_MAX	8

static const char *const protos[] = {
	"", "", "ip ", "ip6 ", "arp ", "rarp ", "tcp ", "udp ", "sctp ",
};
static const char *const dirs[] = {
	"", "", "src ", "dst ", "src or dst ", "src and dst ",
};
static const char *const types[] = { "", "host ", "net ", "port " };
static const char *const ids[] = {
	"198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.5.5", "198.18",
	"198.18.1.0/24", "198.18.0.0/15", "198.18.0.0/020", "198", "0306",
	"2001:2::1", "2001:2::/48", "2001:2::/32", "2001:3::1", "10.1.2.3",
	"53", "053", "0x35", "80", "161", "443", "5000", "0", "255.255.255.255",
};
static const char *const alone[] = {
	"udp", "tcp", "sctp", "icmp", "icmp6", "ip", "ip6", "arp", "rarp",
	"vlan", "vlan 100", "vlan 200", "vlan 7", "vlan 0", "vlan 0x64",
	"less 64", "greater 200", "broadcast", "multicast", "ip broadcast",
	"ip multicast", "ip6 multicast", "ip[9] = 17", "ether broadcast",
};

struct gen {
	struct cfd_pick k;
	char *out;
	size_t len, max;
};

static void emit(struct gen *g, const char *s)
{
	size_t n = strlen(s);

	if (g->len + n + 1 >= g->max)
		return;
	memcpy(g->out + g->len, s, n + 1);
	g->len += n;
}

static void gen_expr(struct gen *g, int depth);

static void gen_term(struct gen *g, int depth)
{
	unsigned int t = cfd_take(&g->k, 16);

	if (t == 0)
		emit(g, "not ");
	t = cfd_take(&g->k, 8);
	if (t == 0 && depth < 4) {
		emit(g, "(");
		gen_expr(g, depth + 1);
		emit(g, ")");
	} else if (t < 3) {
		emit(g, alone[cfd_take(&g->k, CFD_NELEM(alone))]);
	} else if (t < 4) {
		emit(g, ids[cfd_take(&g->k, CFD_NELEM(ids))]);	/* bare */
	} else {
		emit(g, protos[cfd_take(&g->k, CFD_NELEM(protos))]);
		emit(g, dirs[cfd_take(&g->k, CFD_NELEM(dirs))]);
		emit(g, types[cfd_take(&g->k, CFD_NELEM(types))]);
		emit(g, ids[cfd_take(&g->k, CFD_NELEM(ids))]);
	}
}

static void gen_expr(struct gen *g, int depth)
{
	unsigned int n = 1 + cfd_take(&g->k, 4);

	gen_term(g, depth);
	for (unsigned int i = 1; i < n; i++) {
		emit(g, cfd_take(&g->k, 2) ? " and " : " or ");
		gen_term(g, depth);
	}
}

/* Seeds: byte 0 (bit 1: raw text), the text and its NUL, frame choices. */
static void write_seeds(const char *dir)
{
	static const char *const seeds[] = {
		"ip src 198.18.1.1 or (ip dst 198.18.1.2) or 198.18.1.3",
		"vlan 100 or ip", "not vlan and udp", "vlan 100 and vlan 200",
		"ip broadcast", "port 053", "net 2001:2::/48", "vlan and udp",
	};
	char path[4096];
	uint8_t buf[160];

	for (size_t i = 0; i < CFD_NELEM(seeds); i++) {
		size_t n = strlen(seeds[i]), len = 1 + n + 1 + 48;
		int err;

		buf[0] = (uint8_t)(2 | (i & 1));
		memcpy(buf + 1, seeds[i], n + 1);
		for (size_t k = n + 2; k < len; k++)
			buf[k] = (uint8_t)(k * 37 + i);
		snprintf(path, sizeof(path), "%s/seed-%02zu", dir, i);
		err = fuzz_write_seed(path, NULL, 0, buf, len);
		if (err)
			fprintf(stderr, "%s: %s\n", path, strerror(-err));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_seed_dirs(*argc, *argv, write_seeds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pcap_t *p;
	static struct cfd_filter f;
	static uint8_t frame[CFD_FRAME_MAX];
	static char expr[EXPR_MAX];
	struct gen g = { .out = expr, .max = sizeof(expr) };
	uint32_t netmask;
	char why[128] = "";
	int rc;

	if (size < 1)
		return 0;
	if (!p)
		p = pcap_open_dead(DLT_EN10MB, 262144);
	if (!p)
		abort();
	netmask = data[0] & 1 ? htonl(0xffffff00) : 0;
	g.k.p = data + 1;
	g.k.n = size - 1;
	g.k.rng = 0x9e3779b97f4a7c15ULL ^ size;
	expr[0] = '\0';
	if (data[0] & 2) {
		size_t n = 0;

		while (n < g.k.n && n < EXPR_MAX - 1 && g.k.p[n])
			n++;
		memcpy(expr, g.k.p, n);
		expr[n] = '\0';
		g.k.p += n < g.k.n ? n + 1 : n;
		g.k.n -= n < g.k.n ? n + 1 : n;
	} else {
		gen_expr(&g, 0);
	}
	rc = cfd_compile(p, expr, netmask, &f, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "'%s': %s\n", expr, why);
		abort();
	}
	if (rc > 0)
		return 0;
	for (int i = 0; i < FRAMES_MAX && (i == 0 || g.k.n); i++) {
		struct cfd_spec s;
		uint32_t len, at;

		cfd_spec_pick(&g.k, &s);
		len = cfd_build(frame, &s);
		at = (uint32_t)cfd_take(&g.k, 256) % 120;
		if (at < len && cfd_take(&g.k, 2))
			frame[at] = (uint8_t)cfd_take(&g.k, 256);
		if (cfd_libpcap(&f, frame, len) && !cfd_kernel(&f, frame, len)) {
			fprintf(stderr, "fuzz_capture_filter: '%s' (netmask "
				"%08x): libpcap accepts frame %d (%u bytes), "
				"the rules keep it in the kernel:\n", expr,
				netmask, i, len);
			for (uint32_t b = 0; b < len && b < 128; b++)
				fprintf(stderr, "%02x", frame[b]);
			fputc('\n', stderr);
			abort();
		}
	}
	cfd_free(&f);
	return 0;
}

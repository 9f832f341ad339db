// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_pcap.c - the generator's capture reader
 * (examples/pktgen/pg_pcap.c, libpcap underneath): classic pcap in both
 * timestamp precisions and both byte orders, and pcapng, parse to the
 * exact packet bytes and nanosecond times; a link type other than
 * Ethernet is refused by its name; every kind of bad or truncated file
 * is refused with an error that names the record; files on disk load,
 * missing ones say so; and random damage to a good file never reads out
 * of bounds (run under ASan by `make sanitize`).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../examples/pktgen/pg_pcap.h"

#define MAGIC_US	0xa1b2c3d4u
#define MAGIC_NS	0xa1b23c4du

TestSuite(pktgen_pcap, .timeout = 30);

struct img {
	uint8_t b[65536];
	size_t n;
	int swap;
};

static struct pg_pcap pc;
static char err[1024];

static void fini(void)
{
	pg_pcap_free(&pc);
}

static void put32(struct img *m, uint32_t v)
{
	if (m->swap)
		v = __builtin_bswap32(v);
	memcpy(m->b + m->n, &v, 4);	/* host order = little-endian here */
	m->n += 4;
}

static void put16(struct img *m, uint16_t v)
{
	if (m->swap)
		v = __builtin_bswap16(v);
	memcpy(m->b + m->n, &v, 2);
	m->n += 2;
}

static void header(struct img *m, uint32_t magic, uint32_t snap,
		   uint32_t link)
{
	m->n = 0;
	put32(m, magic);
	put16(m, 2);
	put16(m, 4);
	put32(m, 0);
	put32(m, 0);
	put32(m, snap);
	put32(m, link);
}

static void record(struct img *m, uint32_t sec, uint32_t frac, uint32_t incl,
		   uint32_t orig, uint8_t fill)
{
	put32(m, sec);
	put32(m, frac);
	put32(m, incl);
	put32(m, orig);
	for (uint32_t i = 0; i < incl; i++)
		m->b[m->n++] = (uint8_t)(fill + i);
}

static struct img good;

/* Three packets of 60, 1514 and 9000 bytes. */
static void make_good(int swap, uint32_t magic)
{
	good.swap = swap;
	header(&good, magic, 65535, 1);
	record(&good, 10, 5, 60, 60, 0x10);
	record(&good, 11, 6, 1514, 1514, 0x20);
	record(&good, 12, 7, 9000, 9000, 0x30);
}

static void check_good(int nsec)
{
	cr_assert_eq(pc.pc_npkts, 3);
	cr_assert_eq(pc.pc_max_len, 9000);
	cr_assert_eq(pc.pc_bytes, 60 + 1514 + 9000);
	cr_assert_eq(pc.pc_pkts[0].pp_len, 60);
	cr_assert_eq(pc.pc_pkts[1].pp_len, 1514);
	cr_assert_eq(pc.pc_pkts[2].pp_len, 9000);
	cr_assert_eq(pc.pc_pkts[0].pp_data[0], 0x10);
	cr_assert_eq(pc.pc_pkts[1].pp_data[1513], (uint8_t)(0x20 + 1513));
	cr_assert_eq(pc.pc_pkts[2].pp_data[8999], (uint8_t)(0x30 + 8999));
	cr_assert_eq(pc.pc_pkts[1].pp_ts_ns,
		     11000000000ull + (nsec ? 6 : 6000));
	/* back to back in file order, in the reader's own buffer */
	cr_assert_eq(pc.pc_pkts[1].pp_data, pc.pc_pkts[0].pp_data + 60);
	cr_assert_eq(pc.pc_pkts[2].pp_data, pc.pc_pkts[1].pp_data + 1514);
}

Test(pktgen_pcap, all_four_pcap_variants_parse, .fini = fini)
{
	static const struct {
		int swap;
		uint32_t magic;
		int nsec;
	} v[] = {
		{ 0, MAGIC_US, 0 }, { 1, MAGIC_US, 0 },
		{ 0, MAGIC_NS, 1 }, { 1, MAGIC_NS, 1 },
	};

	for (unsigned int i = 0; i < 4; i++) {
		make_good(v[i].swap, v[i].magic);
		cr_assert_eq(pg_pcap_parse(good.b, good.n, 100, 9000, &pc, err,
					   sizeof(err)), 0, "variant %u: %s", i,
			     err);
		cr_assert_str_eq(pc.pc_format, "pcap");
		check_good(v[i].nsec);
		pg_pcap_free(&pc);
	}
}

/* pcapng: a section header, an interface of link type link (default
 * microsecond resolution), and enhanced packet blocks. */
static void ng_block(struct img *m, uint32_t type, const uint8_t *body,
		     uint32_t len)
{
	uint32_t total = 12 + ((len + 3) & ~3u);

	put32(m, type);
	put32(m, total);
	memcpy(m->b + m->n, body, len);
	memset(m->b + m->n + len, 0, total - 12 - len);
	m->n += total - 12;
	put32(m, total);
}

static void ng_header(struct img *m, uint16_t link)
{
	uint8_t shb[16] = { 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
			    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t idb[8] = { (uint8_t)link, (uint8_t)(link >> 8), 0, 0,
			   0xff, 0xff, 0, 0 };

	m->n = 0;
	m->swap = 0;
	ng_block(m, 0x0a0d0d0a, shb, sizeof(shb));
	ng_block(m, 1, idb, sizeof(idb));
}

static void ng_packet(struct img *m, uint64_t us, uint32_t len,
		      uint32_t orig, uint8_t fill)
{
	uint8_t b[20 + 9000];
	uint32_t w[5] = { 0, (uint32_t)(us >> 32), (uint32_t)us, len, orig };

	memcpy(b, w, sizeof(w));
	for (uint32_t i = 0; i < len; i++)
		b[20 + i] = (uint8_t)(fill + i);
	ng_block(m, 6, b, 20 + len);
}

Test(pktgen_pcap, pcapng_parses, .fini = fini)
{
	struct img m = {};

	ng_header(&m, 1);
	ng_packet(&m, 10000005, 60, 60, 0x10);
	ng_packet(&m, 11000006, 1514, 1514, 0x20);
	ng_packet(&m, 12000007, 9000, 9000, 0x30);
	cr_assert_eq(pg_pcap_parse(m.b, m.n, 100, 9000, &pc, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(pc.pc_format, "pcapng");
	check_good(0);
}

/* Parses m expecting failure whose message holds every string given. */
static void expect_bad(const uint8_t *b, size_t n, uint32_t max_pkts,
		       uint32_t max_len, const char *w1, const char *w2)
{
	err[0] = '\0';
	cr_assert_eq(pg_pcap_parse(b, n, max_pkts, max_len, &pc, err,
				   sizeof(err)), -EINVAL, "accepted");
	cr_assert_eq(pc.pc_npkts, 0);
	cr_assert_null(pc.pc_pkts);
	cr_assert_null(pc.pc_buf);
	cr_assert(strstr(err, w1), "'%s' lacks '%s'", err, w1);
	if (w2)
		cr_assert(strstr(err, w2), "'%s' lacks '%s'", err, w2);
}

Test(pktgen_pcap, truncated_files_name_the_record, .fini = fini)
{
	make_good(0, MAGIC_US);
	expect_bad(good.b, 10, 100, 9000, "not a pcap or pcapng", NULL);
	expect_bad(good.b, 2, 100, 9000, "not a pcap or pcapng", NULL);
	/* inside the second record's header */
	expect_bad(good.b, 24 + 16 + 60 + 9, 100, 9000, "record 2",
		   "truncated");
	/* inside the third packet's bytes */
	expect_bad(good.b, good.n - 1, 100, 9000, "record 3", "truncated");
}

Test(pktgen_pcap, other_link_types_are_refused_by_name, .fini = fini)
{
	struct img m = {};

	header(&m, MAGIC_US, 65535, 105);	/* 802.11 */
	record(&m, 0, 0, 60, 60, 0);
	expect_bad(m.b, m.n, 100, 9000, "link type IEEE802_11", "Ethernet");
	ng_header(&m, 113);			/* Linux cooked */
	ng_packet(&m, 1, 60, 60, 0);
	expect_bad(m.b, m.n, 100, 9000, "link type LINUX_SLL", NULL);
}

Test(pktgen_pcap, bad_headers, .fini = fini)
{
	struct img m = {};

	header(&m, 0x12345678, 65535, 1);
	expect_bad(m.b, m.n, 100, 9000, "not a pcap or pcapng file", NULL);
	/* a header alone holds no packet */
	header(&m, MAGIC_US, 65535, 1);
	expect_bad(m.b, m.n, 100, 9000, "no packets", NULL);
	ng_header(&m, 1);
	expect_bad(m.b, m.n, 100, 9000, "no packets", NULL);
}

Test(pktgen_pcap, bad_records, .fini = fini)
{
	struct img m = {};

	header(&m, MAGIC_US, 65535, 1);
	record(&m, 0, 0, 60, 60, 0);
	record(&m, 0, 0, 100, 1500, 0);
	expect_bad(m.b, m.n, 100, 9000, "cut at capture", "record 2");

	ng_header(&m, 1);
	ng_packet(&m, 1, 60, 60, 0);
	ng_packet(&m, 2, 100, 1500, 0);
	expect_bad(m.b, m.n, 100, 9000, "cut at capture", "record 2");

	header(&m, MAGIC_US, 65535, 1);
	record(&m, 0, 0, 10, 10, 0);
	expect_bad(m.b, m.n, 100, 9000, "shorter than an Ethernet", NULL);

	header(&m, MAGIC_US, 65535, 1);
	record(&m, 0, 0, 2000, 2000, 0);
	expect_bad(m.b, m.n, 100, 1514, "longer than the 1514", NULL);

	header(&m, MAGIC_US, 65535, 1);
	for (int i = 0; i < 4; i++)
		record(&m, 0, 0, 60, 60, 0);
	expect_bad(m.b, m.n, 3, 9000, "more than 3 packets", NULL);

	/* a length past anything a file holds */
	header(&m, MAGIC_US, 0, 1);
	record(&m, 0, 0, 0, 0, 0);
	memcpy(m.b + 24 + 8, "\xf0\xff\xff\xff", 4);
	memcpy(m.b + 24 + 12, "\xf0\xff\xff\xff", 4);
	expect_bad(m.b, m.n, 100, UINT32_MAX, "record 1", NULL);
}

Test(pktgen_pcap, files_load_and_missing_ones_say_so, .fini = fini)
{
	char path[] = "/tmp/test_pktgen_pcap.XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	make_good(0, MAGIC_NS);
	cr_assert_eq(write(fd, good.b, good.n), (ssize_t)good.n);
	close(fd);
	cr_assert_eq(pg_pcap_load(path, 100, 9000, &pc, err, sizeof(err)), 0,
		     "%s", err);
	check_good(1);
	pg_pcap_free(&pc);

	/* the same file cut short: the path and the record are named */
	cr_assert_eq(truncate(path, (off_t)good.n - 5), 0);
	cr_assert_eq(pg_pcap_load(path, 100, 9000, &pc, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, path) && strstr(err, "record 3"), "%s", err);
	cr_assert_eq(truncate(path, 0), 0);
	cr_assert_eq(pg_pcap_load(path, 100, 9000, &pc, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, path) && strstr(err, "0 bytes"), "%s", err);
	unlink(path);

	cr_assert_eq(pg_pcap_load(path, 100, 9000, &pc, err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "No such file"), "%s", err);
	cr_assert_eq(pg_pcap_load("/tmp", 100, 9000, &pc, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "regular file"), "%s", err);
}

Test(pktgen_pcap, random_damage_stays_in_bounds, .fini = fini)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t *copy;

	make_good(0, MAGIC_US);
	for (int iter = 0; iter < 5000; iter++) {
		size_t n;
		int rc;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (size_t)(x % (good.n + 1));
		/* an exact-size heap copy, so ASan sees any overread */
		copy = malloc(n ? n : 1);
		cr_assert(copy);
		memcpy(copy, good.b, n);
		for (int k = 0; k < 4 && n; k++)
			copy[(x >> (8 * k)) % n] ^= (uint8_t)(x >> (32 + k));
		rc = pg_pcap_parse(copy, n, 100, 9000, &pc, err, sizeof(err));
		cr_assert(rc == 0 || rc == -EINVAL, "%d: %s", rc, err);
		for (uint32_t i = 0; rc == 0 && i < pc.pc_npkts; i++) {
			const uint8_t *d = pc.pc_pkts[i].pp_data;

			cr_assert(d >= pc.pc_buf && d + pc.pc_pkts[i].pp_len <=
				  pc.pc_buf + pc.pc_bytes);
			cr_assert(pc.pc_pkts[i].pp_len >= 14 &&
				  pc.pc_pkts[i].pp_len <= 9000);
		}
		pg_pcap_free(&pc);
		free(copy);
	}
}

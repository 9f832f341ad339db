// SPDX-License-Identifier: BSD-2-Clause
/*
 * fuzz_pcap.c - libFuzzer target for xmbuf-pktgen's capture reader
 * (examples/pktgen/pg_pcap.c: libpcap, then its own checks).
 *
 * Every input is a file image (pcap or pcapng).  pg_pcap_parse() must
 * return 0 or -EINVAL with a message (or -ENOMEM), read nothing outside
 * the input (ASan catches that in the reader's own code: libFuzzer hands
 * an exact-size buffer; libpcap itself is not instrumented), and on
 * success describe packets that lie back to back in its buffer, in file
 * order, each 14..max_len bytes, no more of them than allowed, their
 * bytes adding up to pc_bytes.  A broken property aborts with its name.
 *
 * Built and run by `make fuzz` (the Makefile's fuzz_pcap_SRCS), corpus in
 * $(BUILD)/fuzz/corpus/fuzz_pcap; --seed-dir=DIR (ignored by libFuzzer)
 * writes a few good files into an empty DIR to start from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/pktgen/pg_pcap.h"
#include "fuzz_seed_dir.h"

#define FUZZ_MAX_PKTS	64
#define FUZZ_MAX_LEN	9000

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_pcap: property broken: %s\n", why);
	abort();
}

/* A good classic pcap file: header (µs or ns, either byte order) and n
 * records. */
static size_t make_seed(uint8_t *b, int nsec, int swap, int n)
{
	uint32_t hdr[6] = { nsec ? 0xa1b23c4du : 0xa1b2c3d4u, 0x00040002u, 0,
			    0, 65535, 1 };
	size_t off = 0;

	for (int i = 0; i < 6; i++) {
		uint32_t v = swap ? __builtin_bswap32(hdr[i]) : hdr[i];

		if (swap && i == 1)	/* two 16-bit fields, each swapped */
			v = 0x04000200u;	/* bytes 00 02 00 04 */
		memcpy(b + off, &v, 4);
		off += 4;
	}
	for (int p = 0; p < n; p++) {
		uint32_t len = (uint32_t)(60 + 37 * p);
		uint32_t rec[4] = { (uint32_t)p, 5, len, len };

		for (int i = 0; i < 4; i++) {
			uint32_t v = swap ? __builtin_bswap32(rec[i]) : rec[i];

			memcpy(b + off, &v, 4);
			off += 4;
		}
		for (uint32_t k = 0; k < len; k++)
			b[off++] = (uint8_t)(k * 7 + (uint32_t)p);
	}
	return off;
}


static void write_seeds(const char *dir)
{
	static uint8_t b[8192];
	char path[4096];
	int k = 0;

	for (int nsec = 0; nsec < 2; nsec++) {
		for (int swap = 0; swap < 2; swap++) {
			size_t n = make_seed(b, nsec, swap, 1 + nsec + 2 * swap);
			int err;

			snprintf(path, sizeof(path), "%s/seed-%d", dir, k++);
			err = fuzz_write_seed(path, NULL, 0, b, n);
			if (err)
				fprintf(stderr, "%s: %s\n", path,
					strerror(-err));
		}
	}
	{
		/* pcapng: section header, an Ethernet interface, a packet */
		static const uint32_t ng[] = {
			0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff,
			28,
			1, 20, 1, 0xffff, 20,
			6, 32 + 60, 0, 0, 5, 60, 60,
		};
		size_t n = sizeof(ng);
		int err;

		memcpy(b, ng, n);
		memset(b + n, 0x5a, 60);
		n += 60;
		memcpy(b + n, &ng[13], 4);	/* the block's length again */
		n += 4;
		snprintf(path, sizeof(path), "%s/seed-%d", dir, k++);
		err = fuzz_write_seed(path, NULL, 0, b, n);
		if (err)
			fprintf(stderr, "%s: %s\n", path, strerror(-err));
	}
	fprintf(stderr, "fuzz_pcap: wrote %d seeds to %s\n", k, dir);
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
	struct pg_pcap pc;
	char err[1024] = "";
	const uint8_t *prev;
	uint64_t bytes = 0;
	int rc;

	rc = pg_pcap_parse(data, size, FUZZ_MAX_PKTS, FUZZ_MAX_LEN, &pc, err,
			   sizeof(err));
	if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
		fail("unexpected return value");
	if (rc != 0) {
		if (err[0] == '\0')
			fail("an error without a message");
		if (pc.pc_npkts || pc.pc_pkts)
			fail("an error left packets behind");
		return 0;
	}
	if (pc.pc_npkts == 0 || pc.pc_npkts > FUZZ_MAX_PKTS)
		fail("packet count out of bounds");
	prev = pc.pc_buf;
	for (uint32_t i = 0; i < pc.pc_npkts; i++) {
		const struct pg_pcap_pkt *p = &pc.pc_pkts[i];

		if (p->pp_len < PG_PCAP_MIN_PKT || p->pp_len > FUZZ_MAX_LEN ||
		    p->pp_len > pc.pc_max_len)
			fail("packet length out of bounds");
		if (p->pp_data != prev)
			fail("packets not back to back in file order");
		prev = p->pp_data + p->pp_len;
		bytes += p->pp_len;
	}
	if (bytes != pc.pc_bytes)
		fail("packet bytes do not add up");
	pg_pcap_free(&pc);
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_pkt.c - libFuzzer target for the packet header code (xm_pkt.h).
 *
 * Every input is a frame.  It goes through xm_pkt_parse() and, when that
 * succeeds, through checksum fill/verify, incremental rewrites, the
 * too-big reply builder and encapsulation (pkt_check() in
 * pkt_fuzz_common.h holds the properties); the last 4 bytes of the input
 * also choose rewrite values and reply sizes.  ASan and UBSan catch any
 * read past the input or any undefined arithmetic; a broken property
 * aborts with its name.
 *
 * Built and run by `make fuzz` (FUZZ_SECONDS, default 60, per target):
 *   clang -fsanitize=fuzzer,address,undefined -DINVARIANTS, against
 *   userspace/pkt.c, userspace/pkt_build.c and common/print.c compiled
 *   with clang; corpus in $(BUILD)/fuzz/corpus/fuzz_pkt.
 * `make test` runs it for a few seconds when libFuzzer is installed, and
 * tests/unit/test_pkt_fuzz.c replays the seeds plus mutations without it.
 *
 * By hand:  build/fuzz/fuzz_pkt --seed-dir=DIR DIR -max_total_time=60
 * --seed-dir=DIR (ignored by libFuzzer, which skips "--" flags) writes the
 * seed corpus into DIR when DIR is empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_fuzz_common.h"
#include "fuzz_seed_dir.h"


static void write_seeds(const char *dir)
{
	static struct pkt_seed seeds[PKT_SEEDS];
	char path[4096];
	int n = pkt_seeds(seeds);

	for (int i = 0; i < n; i++) {
		int err;

		snprintf(path, sizeof(path), "%s/seed-%02d", dir, i);
		err = fuzz_write_seed(path, NULL, 0, seeds[i].s_buf,
				      seeds[i].s_len);
		if (err)
			fprintf(stderr, "%s: %s\n", path, strerror(-err));
	}
	fprintf(stderr, "fuzz_pkt: wrote %d seeds to %s\n", n, dir);
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
	uint32_t mix = 0x9e3779b9;
	const char *why;

	if (size >= 4)
		memcpy(&mix, data + size - 4, 4);
	why = pkt_check(data, size > PKT_CHECK_MAX ? PKT_CHECK_MAX
						   : (uint32_t)size, mix);
	if (why != NULL) {
		fprintf(stderr, "fuzz_pkt: property broken: %s\n", why);
		abort();
	}
	return 0;
}

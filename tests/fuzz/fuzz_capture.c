/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_capture.c - libFuzzer target for xmbuf-capture's pure parts: the
 * filter-subset translator (examples/capture/cap_filter.c) and the
 * pcap/pcapng record encoder with its writev batch
 * (examples/capture/cap_pcap.c), read back by an independent reader.
 * The properties are in capture_fuzz_common.h (an input's first byte
 * picks which); a broken one aborts with its name.
 *
 * Built and run by `make fuzz` (FUZZ_SECONDS, default 60, per target):
 *   clang -fsanitize=fuzzer,address,undefined -DINVARIANTS, against
 *   examples/capture/cap_pcap.c and cap_filter.c compiled with clang;
 *   corpus in $(BUILD)/fuzz/corpus/fuzz_capture.
 * `make test` runs it for a few seconds when libFuzzer is installed, and
 * tests/unit/test_capture_fuzz.c replays the seeds plus mutations
 * without it.
 *
 * By hand:  build/fuzz/fuzz_capture --seed-dir=DIR DIR -max_total_time=60
 * --seed-dir=DIR (ignored by libFuzzer, which skips "--" flags) writes the
 * seed corpus into DIR when DIR is empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_fuzz_common.h"
#include "fuzz_seed_dir.h"


static void write_seeds(const char *dir)
{
	static struct cap_fuzz_seed seeds[CAP_FUZZ_SEEDS];
	char path[4096];
	int n = cap_fuzz_seeds(seeds);

	for (int i = 0; i < n; i++) {
		int err;

		snprintf(path, sizeof(path), "%s/seed-%02d", dir, i);
		err = fuzz_write_seed(path, NULL, 0, seeds[i].s_buf,
				      seeds[i].s_len);
		if (err)
			fprintf(stderr, "%s: %s\n", path, strerror(-err));
	}
	fprintf(stderr, "fuzz_capture: wrote %d seeds to %s\n", n, dir);
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
	static struct cap_fuzz_state s;
	const char *why = cap_fuzz_check(&s, data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_capture: property broken: %s\n", why);
		abort();
	}
	return 0;
}

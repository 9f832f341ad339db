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
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture_fuzz_common.h"

static int dir_is_empty(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int empty = 1;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

static void write_seeds(const char *dir)
{
	static struct cap_fuzz_seed seeds[CAP_FUZZ_SEEDS];
	char path[4096];
	int n = cap_fuzz_seeds(seeds);

	for (int i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%02d", dir, i);
		f = fopen(path, "wb");
		if (f == NULL) {
			perror(path);
			continue;
		}
		fwrite(seeds[i].s_buf, 1, seeds[i].s_len, f);
		fclose(f);
	}
	fprintf(stderr, "fuzz_capture: wrote %d seeds to %s\n", n, dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char opt[] = "--seed-dir=";

	for (int i = 1; i < *argc; i++) {
		const char *a = (*argv)[i];

		if (strncmp(a, opt, sizeof(opt) - 1) == 0) {
			a += sizeof(opt) - 1;
			mkdir(a, 0755);
			if (dir_is_empty(a))
				write_seeds(a);
		}
	}
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

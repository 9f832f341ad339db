/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_seed_dir.h - the --seed-dir=DIR convention shared by every
 * libFuzzer target in tests/fuzz.
 *
 * libFuzzer ignores arguments that start with "--", so a target can take
 * its own flag next to libFuzzer's: --seed-dir=DIR creates DIR and, only
 * when it is empty, fills it with the target's seed corpus.  An existing
 * corpus is never touched, so the inputs a long run found survive the
 * next run.  `make fuzz` passes the corpus directory this way.
 *
 * Header-only: each target is one translation unit built by clang with
 * the fuzzer flags, and the test suites that replay the seeds do not
 * link it.
 */
#ifndef XM_FUZZ_SEED_DIR_H
#define XM_FUZZ_SEED_DIR_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* True when path is a readable directory with no entry but . and .. */
static inline bool fuzz_dir_is_empty(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	bool empty = true;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/*
 * Writes one seed file: head (hlen bytes, may be 0, e.g. a selector
 * byte) then body.  @return 0 or -errno; the caller decides whether a
 * seed that could not be written is worth a message.
 */
static inline int fuzz_write_seed(const char *path, const void *head,
				  size_t hlen, const void *body, size_t blen)
{
	FILE *f = fopen(path, "wb");
	int err = 0;

	if (f == NULL)
		return -errno;
	if ((hlen && fwrite(head, 1, hlen, f) != hlen) ||
	    (blen && fwrite(body, 1, blen, f) != blen))
		err = -EIO;
	if (fclose(f) != 0 && err == 0)
		err = -errno;
	return err;
}

/*
 * For every --seed-dir=DIR in argv: creates DIR and, when it is empty,
 * calls write_seeds(DIR).  Called from LLVMFuzzerInitialize().
 */
static inline void fuzz_seed_dirs(int argc, char **argv,
				  void (*write_seeds)(const char *dir))
{
	static const char opt[] = "--seed-dir=";

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, opt, sizeof(opt) - 1))
			continue;
		a += sizeof(opt) - 1;
		mkdir(a, 0755);
		if (fuzz_dir_is_empty(a))
			write_seeds(a);
	}
}

#endif /* XM_FUZZ_SEED_DIR_H */

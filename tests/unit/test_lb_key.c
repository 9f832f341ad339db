// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_lb_key.c - the key kept in the state directory when a balancer's
 * configuration has no key line (examples/lb/lb_key.c): drawn once, mode
 * 0600, read back the same by every later start; a file others may read,
 * or that is not a key, is refused and left alone; a missing directory
 * is created 0700.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../examples/lb/lb_key.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/xmbuf-lbkey.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(lb_key, .init = setup, .fini = teardown, .timeout = 30);

static int state(const char *d, uint8_t key[LB_KEY_LEN], bool *created,
		 char *err)
{
	char path[256];

	return lb_key_state(d, key, created, path, sizeof(path), err, 256);
}

Test(lb_key, drawn_once_then_kept)
{
	uint8_t k1[LB_KEY_LEN], k2[LB_KEY_LEN], zero[LB_KEY_LEN] = { 0 };
	char err[256], path[128], text[64];
	struct stat st;
	bool created;
	FILE *f;

	cr_assert_eq(state(dir, k1, &created, err), 0, "%s", err);
	cr_assert(created);
	cr_assert_neq(memcmp(k1, zero, LB_KEY_LEN), 0);
	snprintf(path, sizeof(path), "%s/key", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	/* As a key line spells it. */
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(text, sizeof(text), f));
	fclose(f);
	cr_assert_eq(strlen(text), 33);
	for (int i = 0; i < LB_KEY_LEN; i++) {
		unsigned int b;

		cr_assert_eq(sscanf(text + 2 * i, "%2x", &b), 1);
		cr_assert_eq(b, k1[i]);
	}

	cr_assert_eq(state(dir, k2, &created, err), 0, "%s", err);
	cr_assert_not(created);
	cr_assert_eq(memcmp(k1, k2, LB_KEY_LEN), 0);
}

Test(lb_key, a_missing_directory_is_created_private)
{
	uint8_t k[LB_KEY_LEN];
	char sub[128], err[256];
	struct stat st;
	bool created;

	snprintf(sub, sizeof(sub), "%s/state", dir);
	cr_assert_eq(state(sub, k, &created, err), 0, "%s", err);
	cr_assert(created);
	cr_assert_eq(stat(sub, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
}

Test(lb_key, a_key_others_can_read_is_refused)
{
	uint8_t k[LB_KEY_LEN];
	char err[256], path[128];
	bool created;

	cr_assert_eq(state(dir, k, &created, err), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/key", dir);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(state(dir, k, &created, err), -EPERM);
	cr_assert_not_null(strstr(err, "0600"), "%s", err);
	/* the group alone, or others alone, is one reader too many */
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(state(dir, k, &created, err), -EPERM, "0640");
	cr_assert_eq(chmod(path, 0604), 0);
	cr_assert_eq(state(dir, k, &created, err), -EPERM, "0604");
}

Test(lb_key, a_file_that_is_not_a_key_is_refused_and_kept)
{
	static const char *bad[] = {
		"", "0011", "000102030405060708090a0b0c0d0e0f",	/* no LF */
		"000102030405060708090a0b0c0d0e0g\n",
		"000102030405060708090a0b0c0d0e0f0\n",
	};
	uint8_t k[LB_KEY_LEN];
	char err[256], path[128];
	bool created;

	snprintf(path, sizeof(path), "%s/key", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct stat st;

		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, bad[i], strlen(bad[i])),
			     (ssize_t)strlen(bad[i]));
		close(fd);
		cr_assert_eq(state(dir, k, &created, err), -EINVAL,
			     "'%s' taken", bad[i]);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_size, (off_t)strlen(bad[i]), "rewritten");
	}
}

Test(lb_key, a_key_line_spelling_is_read)
{
	static const uint8_t want[LB_KEY_LEN] = {
		0x5c, 0xa1, 0xab, 0x1e, 0x0d, 0xdb, 0xa1, 0x1c,
		0xaf, 0xef, 0x00, 0xd1, 0x5e, 0xa5, 0xe0, 0x00 };
	uint8_t k[LB_KEY_LEN];
	char err[256], path[128];
	bool created;
	int fd;

	snprintf(path, sizeof(path), "%s/key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "5CA1AB1E0DDBA11CAFEF00D15EA5E000\n", 33), 33);
	close(fd);
	cr_assert_eq(state(dir, k, &created, err), 0, "%s", err);
	cr_assert_not(created);
	cr_assert_eq(memcmp(k, want, LB_KEY_LEN), 0);
}

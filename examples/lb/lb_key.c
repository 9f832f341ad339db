// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_key.c - a key that survives restarts.
 *
 * Without a `key` line the key used to be random per start.  The key
 * decides every flow's Maglev slot, so a balancer restarted after a
 * crash (or an upgrade) sent most established connections to other
 * backends, which answer them with resets.  Now the first start draws a
 * key and keeps it in the state directory (/var/lib/xmbuf-lb/key, what
 * systemd's StateDirectory= creates), and every later start reads it
 * back: a restart changes no flow's backend.
 *
 * The file holds the key as a configuration's `key` line spells it (32
 * hex digits and a newline), so an operator can copy it into the
 * configuration of the balancers that must agree with this one (ECMP).
 *
 * It is a secret (whoever knows it can aim a flood of flows at one
 * backend), so it is created 0600 and a file that group or others may
 * read or write is refused, as ssh refuses a readable private key.
 *
 * Creation is whole or not at all, and first come wins: the key is
 * written and synced under a temporary name, then link()ed to its name,
 * which fails if another process (a second balancer on the same host,
 * starting at the same moment) got there first; then that one's key is
 * read instead.  A crash leaves at most a temporary file, never a short
 * key file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_key.h"

#define KEY_TEXT_LEN	(2 * LB_KEY_LEN + 1)	/* digits and newline */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* @return 0, -ENOENT when there is no file, or another error (err). */
static int key_read(const char *path, uint8_t key[LB_KEY_LEN], char *err,
		    size_t errlen)
{
	char text[KEY_TEXT_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e != ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out_fd;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO) || st.st_uid != geteuid()) {
		e = EPERM;
		snprintf(err, errlen, "%s: mode %04o, owner %u: the key is a "
			 "secret; it must be the balancer's own and mode 0600 "
			 "(chmod 600 %s)", path, (unsigned int)(st.st_mode & 07777),
			 (unsigned int)st.st_uid, path);
		goto out_fd;
	}
	n = read(fd, text, sizeof(text));
	if (n < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out_fd;
	}
	e = EINVAL;
	if (n != KEY_TEXT_LEN || text[2 * LB_KEY_LEN] != '\n') {
		snprintf(err, errlen, "%s: not a key (32 hex digits and a "
			 "newline); remove it to have a new one drawn", path);
		goto out_fd;
	}
	for (int i = 0; i < LB_KEY_LEN; i++) {
		int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "%s: not a key (32 hex digits "
				 "and a newline); remove it to have a new one "
				 "drawn", path);
			goto out_fd;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	e = 0;
out_fd:
	close(fd);
	return -e;
}

/* Writes a new key under a temporary name and links it to path.
 * @return 0, -EEXIST when another process created path first, or
 * another error (err). */
static int key_create(const char *dir, const char *path,
		      uint8_t key[LB_KEY_LEN], char *err, size_t errlen)
{
	char tmp[4096 + 32], text[KEY_TEXT_LEN + 1];
	int fd, dfd, e = 0;

	if (getrandom(key, LB_KEY_LEN, 0) != LB_KEY_LEN) {
		e = errno;
		snprintf(err, errlen, "cannot draw a random key: %s",
			 strerror(e));
		return -e;
	}
	for (int i = 0; i < LB_KEY_LEN; i++)
		snprintf(text + 2 * i, 3, "%02x", key[i]);
	text[2 * LB_KEY_LEN] = '\n';

	snprintf(tmp, sizeof(tmp), "%s/.key.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create a key file in %s: %s",
			 dir, strerror(e));
		return -e;
	}
	errno = 0;
	if (fchmod(fd, 0600) < 0 ||
	    write(fd, text, KEY_TEXT_LEN) != KEY_TEXT_LEN || fsync(fd) < 0) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
		goto out_tmp;
	}
	if (link(tmp, path) < 0) {
		e = errno;
		if (e != EEXIST)
			snprintf(err, errlen, "cannot create %s: %s", path,
				 strerror(e));
		goto out_tmp;
	}
	/* The new name must survive a crash as the file's data does. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out_tmp:
	close(fd);
	unlink(tmp);
	return -e;
}

int lb_key_state(const char *dir, uint8_t key[LB_KEY_LEN], bool *created,
		 char *path, size_t pathlen, char *err, size_t errlen)
{
	int e;

	*created = false;
	if (snprintf(path, pathlen, "%s/%s", dir, LB_KEY_FILE) >= (int)pathlen) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	e = key_read(path, key, err, errlen);
	if (e != -ENOENT)
		return e;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		e = errno;
		snprintf(err, errlen, "cannot create the state directory %s: "
			 "%s", dir, strerror(e));
		return -e;
	}
	e = key_create(dir, path, key, err, errlen);
	if (e == -EEXIST)
		return key_read(path, key, err, errlen);
	if (e == 0)
		*created = true;
	return e;
}

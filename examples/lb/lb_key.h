/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_key.h - the balancer's SipHash key when the configuration has no
 * `key` line: generated once, kept in a state directory (model in
 * lb_key.c).
 */
#ifndef LB_KEY_H
#define LB_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_hash.h"

#define LB_STATE_DIR_DEFAULT	"/var/lib/xmbuf-lb"
#define LB_KEY_FILE		"key"

/**
 * Reads the key kept in dir/key, or creates it (random, mode 0600, the
 * directory 0700 if it does not exist) when there is none.  Two
 * balancers starting at once on one host end with the same key.
 * @param dir the state directory
 * @param key where the key goes
 * @param created set to true when this call created the file
 * @param path, pathlen where the file's path goes (for messages)
 * @param err, errlen where a message goes
 * @return 0, on success; negative error code, otherwise (message in
 * err): a file that is not 32 hex digits, or that others may read or
 * write, is refused and left alone.
 */
int lb_key_state(const char *dir, uint8_t key[LB_KEY_LEN], bool *created,
		 char *path, size_t pathlen, char *err, size_t errlen);

#endif /* LB_KEY_H */

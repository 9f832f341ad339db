/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_config_int.h - what lb_config.c (the whole file: checks, lookups,
 * build, reload) and lb_config_parse.c (one line: words, directives)
 * share.  Private to the two.
 */
#ifndef LB_CONFIG_INT_H
#define LB_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lb_config.h"

#define LB_MAX_WORDS		20	/* words per line (a full 'health'
					 * line has 16) */
#define LB_MAX_TOTAL_BACKENDS	65536	/* over every VIP */

struct parser {
	struct lb_config *c;		/* being filled */
	const char *name;		/* file name for messages */
	char *err;			/* message buffer */
	size_t errlen;
	uint32_t line;			/* current line */
	/* Lines of the directives that may appear once (0: not yet). */
	uint32_t l_key;			/* key */
	uint32_t l_table;		/* table-size */
	uint32_t l_lru;			/* lru-size */
	uint32_t l_gw;			/* gateway */
	uint32_t l_mtu;			/* mtu */
	uint32_t l_encap;		/* encap */
	uint32_t l_icmp;		/* icmp-rate */
	uint32_t l_pin_rate;		/* pin-rate */
	uint32_t l_pin_burst;		/* pin-burst */
	uint32_t l_steer;		/* steer */
	uint32_t vcap;			/* c_vips allocated */
	uint32_t *bcap;			/* per VIP: v_be allocated */
};

/* Writes "name:line: message" into the parser's buffer.  @return -EINVAL. */
int lb_cfg_perr(struct parser *p, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One line (changed in place): its directive into p->c.  @return 0 or
 * -EINVAL after lb_cfg_perr(). */
int lb_cfg_parse_line(struct parser *p, char *buf);

#endif /* LB_CONFIG_INT_H */

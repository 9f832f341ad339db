/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_json.h - a small JSON reader for the plot command: what
 * xmbuf-pktgen writes (--json summaries, --json-stream lines) read back
 * as a tree.  Strict JSON (RFC 8259), at most PG_JSON_DEPTH levels deep;
 * \u escapes outside ASCII become '?' (nothing plotted needs them).
 */
#ifndef PG_JSON_H
#define PG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define PG_JSON_DEPTH		32

enum pg_jtype {
	PG_J_NULL = 0,
	PG_J_BOOL,
	PG_J_NUM,
	PG_J_STR,
	PG_J_ARR,
	PG_J_OBJ,
};

struct pg_jval {
	enum pg_jtype t;
	bool b;
	double num;
	char *str;			/* PG_J_STR */
	size_t n;			/* PG_J_ARR, PG_J_OBJ: members */
	struct pg_jval *kids;		/* [n] */
	char **keys;			/* PG_J_OBJ: [n] */
};

/**
 * Parses one value at text[*pos] (leading white space skipped), leaving
 * *pos after it.  @return 0; -EINVAL with err saying what and where;
 * -ENOMEM.  On error *v is empty.
 */
int pg_json_parse(const char *text, size_t len, size_t *pos,
		  struct pg_jval *v, char *err, size_t errlen);
void pg_json_free(struct pg_jval *v);
/** Member key of an object, NULL when absent (or v is no object). */
const struct pg_jval *pg_json_get(const struct pg_jval *v, const char *key);
/** Number under key, def when absent or not a number. */
double pg_json_num(const struct pg_jval *v, const char *key, double def);
/** String under key, NULL when absent or not a string. */
const char *pg_json_str(const struct pg_jval *v, const char *key);

#endif /* PG_JSON_H */

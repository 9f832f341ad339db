/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_json.c - the JSON reader of pg_json.h: recursive descent over a
 * bounded buffer, every read checked against its end, depth bounded.
 *
 * KPI: pg_json_parse, pg_json_free, pg_json_get, pg_json_num,
 *      pg_json_str.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_json.h"

struct pg_jp {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
};

static int jp_fail(struct pg_jp *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
	return -EINVAL;
}

static void jp_ws(struct pg_jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool jp_word(struct pg_jp *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n))
		return false;
	p->pos += n;
	return true;
}

static int jp_hex4(struct pg_jp *p, unsigned int *u)
{
	*u = 0;
	if (p->len - p->pos < 4)
		return jp_fail(p, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		*u <<= 4;
		if (c >= '0' && c <= '9')
			*u |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*u |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*u |= (unsigned int)(c - 'A' + 10);
		else
			return jp_fail(p, "bad \\u escape");
	}
	return 0;
}

/* A string at p->pos (its opening quote). */
static int jp_string(struct pg_jp *p, char **out)
{
	size_t cap = 16, n = 0;
	char *b = malloc(cap);

	*out = NULL;
	if (!b)
		return -ENOMEM;
	p->pos++;
	for (;;) {
		char c;

		if (p->pos >= p->len) {
			free(b);
			return jp_fail(p, "unterminated string");
		}
		c = p->s[p->pos++];
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20) {
			free(b);
			return jp_fail(p, "control character in a string");
		}
		if (c == '\\') {
			unsigned int u;

			if (p->pos >= p->len) {
				free(b);
				return jp_fail(p, "unterminated string");
			}
			c = p->s[p->pos++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (jp_hex4(p, &u)) {
					free(b);
					return -EINVAL;
				}
				c = u < 0x80 ? (char)u : '?';
				break;
			default:
				free(b);
				return jp_fail(p, "bad escape");
			}
		}
		if (n + 2 > cap) {
			char *nb = realloc(b, cap *= 2);

			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		b[n++] = c;
	}
	b[n] = '\0';
	*out = b;
	return 0;
}

static int jp_number(struct pg_jp *p, double *v)
{
	size_t start = p->pos;
	char buf[64], *end;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		return jp_fail(p, "bad number");
	while (p->pos < p->len &&
	       ((p->s[p->pos] >= '0' && p->s[p->pos] <= '9') ||
		p->s[p->pos] == '.' || p->s[p->pos] == 'e' ||
		p->s[p->pos] == 'E' || p->s[p->pos] == '+' ||
		p->s[p->pos] == '-'))
		p->pos++;
	if (p->pos - start >= sizeof(buf))
		return jp_fail(p, "number too long");
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = '\0';
	*v = strtod(buf, &end);
	if (*end)
		return jp_fail(p, "bad number");
	return 0;
}

static int jp_value(struct pg_jp *p, struct pg_jval *v, int depth);

/* Appends a member (and its key, for objects) to v. */
static struct pg_jval *jp_push(struct pg_jval *v, size_t *cap)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct pg_jval *k = realloc(v->kids, nc * sizeof(*k));

		if (!k)
			return NULL;
		v->kids = k;
		if (v->t == PG_J_OBJ) {
			char **ks = realloc(v->keys, nc * sizeof(*ks));

			if (!ks)
				return NULL;
			v->keys = ks;
		}
		*cap = nc;
	}
	memset(&v->kids[v->n], 0, sizeof(v->kids[0]));
	if (v->t == PG_J_OBJ)
		v->keys[v->n] = NULL;
	return &v->kids[v->n++];
}

static int jp_container(struct pg_jp *p, struct pg_jval *v, int depth)
{
	char close = v->t == PG_J_OBJ ? '}' : ']';
	size_t cap = 0;
	int rc;

	p->pos++;
	jp_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct pg_jval *k = jp_push(v, &cap);

		if (!k)
			return -ENOMEM;
		jp_ws(p);
		if (v->t == PG_J_OBJ) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return jp_fail(p, "expected a key");
			rc = jp_string(p, &v->keys[v->n - 1]);
			if (rc)
				return rc;
			jp_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return jp_fail(p, "expected ':'");
			p->pos++;
		}
		rc = jp_value(p, k, depth + 1);
		if (rc)
			return rc;
		jp_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return jp_fail(p, v->t == PG_J_OBJ ? "expected ',' or '}'" :
			       "expected ',' or ']'");
	}
}

static int jp_value(struct pg_jp *p, struct pg_jval *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (depth > PG_JSON_DEPTH)
		return jp_fail(p, "nested too deep");
	jp_ws(p);
	if (p->pos >= p->len)
		return jp_fail(p, "unexpected end");
	switch (p->s[p->pos]) {
	case '{':
		v->t = PG_J_OBJ;
		return jp_container(p, v, depth);
	case '[':
		v->t = PG_J_ARR;
		return jp_container(p, v, depth);
	case '"':
		v->t = PG_J_STR;
		return jp_string(p, &v->str);
	case 't':
	case 'f':
		v->t = PG_J_BOOL;
		v->b = p->s[p->pos] == 't';
		if (!jp_word(p, v->b ? "true" : "false"))
			return jp_fail(p, "bad word");
		return 0;
	case 'n':
		if (!jp_word(p, "null"))
			return jp_fail(p, "bad word");
		return 0;
	default:
		v->t = PG_J_NUM;
		return jp_number(p, &v->num);
	}
}

void pg_json_free(struct pg_jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		pg_json_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

int pg_json_parse(const char *text, size_t len, size_t *pos,
		  struct pg_jval *v, char *err, size_t errlen)
{
	struct pg_jp p = { .s = text, .len = len, .pos = *pos, .err = err,
			   .errlen = errlen };
	int rc = jp_value(&p, v, 0);

	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		pg_json_free(v);
		return rc;
	}
	*pos = p.pos;
	return 0;
}

const struct pg_jval *pg_json_get(const struct pg_jval *v, const char *key)
{
	if (!v || v->t != PG_J_OBJ)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (v->keys[i] && !strcmp(v->keys[i], key))
			return &v->kids[i];
	return NULL;
}

double pg_json_num(const struct pg_jval *v, const char *key, double def)
{
	const struct pg_jval *k = pg_json_get(v, key);

	return k && k->t == PG_J_NUM ? k->num : def;
}

const char *pg_json_str(const struct pg_jval *v, const char *key)
{
	const struct pg_jval *k = pg_json_get(v, key);

	return k && k->t == PG_J_STR ? k->str : NULL;
}

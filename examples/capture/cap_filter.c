// SPDX-License-Identifier: BSD-2-Clause
/*
 * cap_filter.c - tcpdump expression -> superset of XDP steering rules
 * (what is translated and why a superset: cap_filter.h).
 *
 * A set is a union of terms; a term is one xm_port_rule (a conjunction
 * of field tests) or a "non-IP" term standing for ARP/RARP frames (with
 * at most a VLAN test), which no rule can single out.  Conjunction is the
 * pairwise merge of two sets' terms (empty merges vanish), disjunction
 * their concatenation; both drop terms another term already covers.
 * Negation and anything not understood become the universal term.
 * The algebra of terms and sets is in cap_filter_set.c.
 *
 *   "udp and (dst port 53 or host 198.18.0.1)"
 *     udp                  {proto 17}
 *     dst port 53          {dport 53}
 *     host 198.18.0.1      {v4 src /32} u {v4 dst /32} u {non-IP}
 *     or                   {dport 53} u {src} u {dst} u {non-IP}
 *     and                  {17,dport 53} u {17,src} u {17,dst}
 *                          (udp and non-IP: empty)
 *
 * The grammar is libpcap's as far as it goes here: "and" and "or" have
 * equal precedence and associate left to right, "not" binds tighter, and
 * a bare address or number after and/or reuses the qualifiers of the
 * primitive before it ("port 53 or 80").  The expression has already
 * passed pcap_compile, so an input this parser rejects is valid libpcap
 * it does not know: the answer is then "push nothing", never an error.
 *
 * KPI (example-private): cap_filter_translate, cap_filter_rule_str,
 * cap_filter_netmask
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cap_filter.h"
#include "cap_filter_set.h"

#define TOK_MAX		128	/* tokens in an expression we translate */
#define TOK_LEN		64	/* characters in one token */
#define DEPTH_MAX	32	/* nesting of parentheses and "not" */

enum tok_kind {
	T_END,
	T_WORD,
	T_LP,
	T_RP,
	T_AND,
	T_OR,
	T_NOT,
};

/* Qualifiers of a primitive, kept for a following bare ID. */
enum q_proto { QP_NONE, QP_IP, QP_IP6, QP_ARP, QP_TCP, QP_UDP, QP_SCTP };
enum q_dir { QD_ANY, QD_SRC, QD_DST, QD_AND };
enum q_type { QT_NONE, QT_HOST, QT_NET, QT_PORT };

struct qual {
	enum q_proto proto;		/* ip, ip6, arp, tcp, udp, sctp */
	enum q_dir dir;			/* src, dst, src or/and dst */
	enum q_type type;		/* host, net, port */
};

struct parser {
	enum tok_kind kind[TOK_MAX + 1];	/* tokens, T_END last */
	char text[TOK_MAX + 1][TOK_LEN];	/* their words */
	unsigned int ntok;			/* tokens */
	unsigned int pos;			/* next token */
	unsigned int vlans;			/* "vlan" keywords seen */
	unsigned int depth;			/* recursion */
	struct qual last;			/* previous primitive */
	bool have_last;				/* last is set */
	bool failed;				/* not translatable */
	char why[160];				/* first reason */
};

static void fail(struct parser *ps, const char *fmt, const char *arg)
{
	if (ps->failed)
		return;
	ps->failed = true;
	snprintf(ps->why, sizeof(ps->why), fmt, arg ? arg : "");
}

/* ------------------------------------------------------------ tokens */

static bool word_char(int c)
{
	return isalnum(c) || c == '.' || c == ':' || c == '/' || c == '-' ||
	       c == '_';
}

static void tokenize(struct parser *ps, const char *s)
{
	unsigned int n = 0;

	while (*s && !ps->failed) {
		enum tok_kind k = T_WORD;
		size_t len = 0;

		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (n == TOK_MAX) {
			fail(ps, "expression too long to translate%s", NULL);
			break;
		}
		ps->text[n][0] = '\0';
		if (*s == '(' || *s == ')') {
			k = *s == '(' ? T_LP : T_RP;
			s++;
		} else if (s[0] == '&' && s[1] == '&') {
			k = T_AND;
			s += 2;
		} else if (s[0] == '|' && s[1] == '|') {
			k = T_OR;
			s += 2;
		} else if (s[0] == '!' && s[1] != '=') {
			k = T_NOT;
			s++;
		} else if (word_char((unsigned char)*s)) {
			while (word_char((unsigned char)s[len]))
				len++;
			if (len >= TOK_LEN) {
				fail(ps, "token too long to translate%s", NULL);
				break;
			}
			memcpy(ps->text[n], s, len);
			ps->text[n][len] = '\0';
			s += len;
			if (!strcmp(ps->text[n], "and"))
				k = T_AND;
			else if (!strcmp(ps->text[n], "or"))
				k = T_OR;
			else if (!strcmp(ps->text[n], "not"))
				k = T_NOT;
		} else {
			char op[2] = { *s, '\0' };

			fail(ps, "operator '%s' is not translated", op);
			break;
		}
		ps->kind[n++] = k;
	}
	ps->kind[n] = T_END;
	ps->text[n][0] = '\0';
	ps->ntok = n;
}

static enum tok_kind peek(const struct parser *ps, unsigned int ahead)
{
	unsigned int at = ps->pos + ahead;

	return at < ps->ntok ? ps->kind[at] : T_END;
}

static const char *peek_word(const struct parser *ps, unsigned int ahead)
{
	unsigned int at = ps->pos + ahead;

	return at < ps->ntok && ps->kind[at] == T_WORD ? ps->text[at] : "";
}

/* ---------------------------------------------------------- primitives */

/*
 * A number as libpcap's scanner reads one (its NUM token): 0x... is hex,
 * a leading 0 octal, else decimal ("port 053" is port 43).  @return
 * false when s is not one, or above max.
 */
static bool parse_num(const char *s, uint32_t max, uint32_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned int d;

		if (isdigit((unsigned char)*s))
			d = (unsigned int)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned int)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return false;
		if (d >= base)
			return false;
		v = v * base + d;
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	uint32_t v;

	if (!parse_num(s, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

/*
 * An address for host/net: IPv4 dotted (1..4 octets for net: libpcap's
 * "net 10.1" is 10.1.0.0/16), IPv6 (with ':'), each with an optional
 * "/len" for net.  @return false when not numeric or not valid.
 */
static bool parse_addr(const char *s, bool net, uint8_t *family,
		       uint8_t addr[16], uint8_t *len)
{
	char buf[TOK_LEN];
	char *slash;
	long plen = -1;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		uint32_t v;

		if (!net || !parse_num(slash + 1, 255, &v))
			return false;
		*slash = '\0';
		plen = (long)v;
	}
	memset(addr, 0, 16);
	if (!strchr(buf, '.') && !strchr(buf, ':')) {
		/* libpcap's NUM: "net 10" is 10.0.0.0/8 (the number shifted
		 * up while its top byte is 0), "host 10" is 0.0.0.10 */
		uint32_t v, mask = 0xffffffff;

		if (slash || !parse_num(buf, UINT32_MAX, &v))
			return false;
		while (net && v && !(v & 0xff000000)) {
			v <<= 8;
			mask <<= 8;
		}
		v = htonl(v);
		memcpy(addr, &v, 4);
		*family = AF_INET;
		*len = 0;
		while (*len < 32 && (mask & (0x80000000u >> *len)))
			(*len)++;
		return true;
	}
	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, addr) != 1 || plen > 128)
			return false;
		*family = AF_INET6;
		*len = (uint8_t)(plen < 0 ? 128 : plen);
	} else {
		unsigned int oct = 0;
		const char *p = buf;

		while (*p) {
			char *end;
			unsigned long v;

			if (!isdigit((unsigned char)*p) || oct == 4)
				return false;
			v = strtoul(p, &end, 10);
			if (v > 255)
				return false;
			addr[oct++] = (uint8_t)v;
			if (*end == '.' && end[1])
				p = end + 1;
			else if (*end)
				return false;
			else
				p = end;
		}
		if (oct == 0 || (!net && oct != 4) || plen > 32)
			return false;
		*family = AF_INET;
		*len = (uint8_t)(plen < 0 ? (long)oct * 8 : plen);
	}
	cap_prefix_mask(addr, *len, cap_fam_bytes(*family));
	return true;
}

static void term_proto(struct term *t, uint8_t proto)
{
	memset(t, 0, sizeof(*t));
	t->r.match = XM_RULE_M_PROTO;
	t->r.ip_proto = proto;
}

/* [tcp|udp|sctp] [dir] port N */
static void prim_port(struct parser *ps, const struct qual *q, const char *id,
		      struct set *out)
{
	uint8_t protos[3];
	unsigned int np = 0;
	struct set *dst, *src;
	uint16_t port;

	if (!parse_port(id, &port)) {
		fail(ps, "port '%s' is not a number", id);
		return;
	}
	switch (q->proto) {
	case QP_NONE:
		protos[np++] = PROTO_TCP;
		protos[np++] = PROTO_UDP;
		protos[np++] = PROTO_SCTP;
		break;
	case QP_TCP:
		protos[np++] = PROTO_TCP;
		break;
	case QP_UDP:
		protos[np++] = PROTO_UDP;
		break;
	case QP_SCTP:
		protos[np++] = PROTO_SCTP;
		break;
	default:
		fail(ps, "this qualifier of 'port' is not translated%s", NULL);
		return;
	}
	dst = calloc(1, sizeof(*dst));
	src = calloc(1, sizeof(*src));
	if (!dst || !src) {
		fail(ps, "out of memory%s", NULL);
		goto out;
	}
	/*
	 * Both ports are rule fields, so "udp port 9" is exactly {17, sport
	 * 9} u {17, dport 9}.  Without a protocol a port test alone says it:
	 * the matcher fails it on a frame with no ports, as libpcap's
	 * "(tcp or udp or sctp) and port" does.
	 */
	if (q->proto == QP_NONE) {
		struct term t = { .r = { .match = XM_RULE_M_DST_PORT,
					 .dst_port = port } };

		cap_set_add(dst, &t);
		t.r.match = XM_RULE_M_SRC_PORT;
		t.r.dst_port = 0;
		t.r.src_port = port;
		cap_set_add(src, &t);
	}
	for (unsigned int i = 0; q->proto != QP_NONE && i < np; i++) {
		struct term t;

		term_proto(&t, protos[i]);
		t.r.match |= XM_RULE_M_DST_PORT;
		t.r.dst_port = port;
		cap_set_add(dst, &t);
		term_proto(&t, protos[i]);
		t.r.match |= XM_RULE_M_SRC_PORT;
		t.r.src_port = port;
		cap_set_add(src, &t);
	}
	switch (q->dir) {
	case QD_DST:
		*out = *dst;
		break;
	case QD_SRC:
		*out = *src;
		break;
	case QD_ANY:
		*out = *dst;
		cap_set_union(out, src);
		break;
	case QD_AND:
		*out = *dst;
		cap_set_meet(out, src);
		break;
	}
out:
	free(dst);
	free(src);
}

/* [ip|ip6|arp|rarp] [dir] host|net ADDR */
static void prim_addr(struct parser *ps, const struct qual *q, const char *id,
		      struct set *out)
{
	struct term s = { 0 }, d = { 0 }, nonip = { .nonip = true };
	uint8_t family, addr[16], len;

	if (!parse_addr(id, q->type == QT_NET, &family, addr, &len)) {
		fail(ps, "'%s' is not a numeric address (names are resolved "
			 "by libpcap only)", id);
		return;
	}
	if (q->proto == QP_ARP) {
		cap_set_one(out, &nonip);
		return;
	}
	if ((q->proto == QP_IP && family != AF_INET) ||
	    (q->proto == QP_IP6 && family != AF_INET6) ||
	    (q->proto != QP_NONE && q->proto != QP_IP && q->proto != QP_IP6)) {
		fail(ps, "this qualifier of an address is not translated%s",
		     NULL);
		return;
	}
	s.r.match = XM_RULE_M_SRC;
	s.r.family = family;
	memcpy(s.r.src, addr, 16);
	s.r.src_len = len;
	d.r.match = XM_RULE_M_DST;
	d.r.family = family;
	memcpy(d.r.dst, addr, 16);
	d.r.dst_len = len;
	memset(out, 0, sizeof(*out));
	switch (q->dir) {
	case QD_SRC:
		cap_set_add(out, &s);
		break;
	case QD_DST:
		cap_set_add(out, &d);
		break;
	case QD_ANY:
		cap_set_add(out, &s);
		cap_set_add(out, &d);
		break;
	case QD_AND: {
		struct term both;

		if (cap_term_meet(&s, &d, &both))
			cap_set_add(out, &both);
		break;
	}
	}
	/* libpcap: an IPv4 host/net without "ip" is also ARP's and RARP's
	 * sender or target */
	if (q->proto == QP_NONE && family == AF_INET)
		cap_set_add(out, &nonip);
}

static bool word_proto(const char *w, enum q_proto *p)
{
	static const struct {
		const char *name;
		enum q_proto proto;
	} names[] = {
		{ "ip", QP_IP }, { "ip6", QP_IP6 }, { "arp", QP_ARP },
		{ "rarp", QP_ARP }, { "tcp", QP_TCP }, { "udp", QP_UDP },
		{ "sctp", QP_SCTP },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(w, names[i].name)) {
			*p = names[i].proto;
			return true;
		}
	}
	return false;
}

static bool word_type(const char *w, enum q_type *t)
{
	if (!strcmp(w, "host"))
		*t = QT_HOST;
	else if (!strcmp(w, "net"))
		*t = QT_NET;
	else if (!strcmp(w, "port"))
		*t = QT_PORT;
	else
		return false;
	return true;
}

/* A protocol keyword standing alone ("udp", "ip6", "arp"). */
static void prim_proto(enum q_proto p, struct set *out)
{
	struct term t = { 0 };

	switch (p) {
	case QP_IP:
	case QP_IP6:
		t.r.match = XM_RULE_M_FAMILY;
		t.r.family = p == QP_IP ? AF_INET : AF_INET6;
		break;
	case QP_ARP:
		t.nonip = true;
		break;
	case QP_TCP:
		term_proto(&t, PROTO_TCP);
		break;
	case QP_UDP:
		term_proto(&t, PROTO_UDP);
		break;
	case QP_SCTP:
		term_proto(&t, PROTO_SCTP);
		break;
	case QP_NONE:
		break;
	}
	cap_set_one(out, &t);
}

static bool is_id(const char *w)
{
	return isdigit((unsigned char)w[0]) || strchr(w, ':') != NULL;
}

static void primitive_body(struct parser *ps, struct set *out,
			   unsigned int *conj)
{
	struct qual q = { QP_NONE, QD_ANY, QT_NONE };
	const char *w = peek_word(ps, 0);
	bool any = false;

	cap_set_universe(out);
	if (peek(ps, 0) != T_WORD) {
		fail(ps, "unexpected token%s", NULL);
		return;
	}
	if (!strcmp(w, "vlan")) {
		ps->pos++;
		ps->vlans++;
		if (ps->vlans > 2) {
			fail(ps, "more than two 'vlan' keywords%s", NULL);
			return;
		}
		w = peek_word(ps, 0);
		*conj = 1u << (ps->vlans - 1);
		if (*w && isdigit((unsigned char)*w)) {
			uint32_t id;

			ps->pos++;
			if (!parse_num(w, 4095, &id)) {
				fail(ps, "vlan id '%s' is not translated", w);
				return;
			}
			/* only the first tag is a rule field (a later "vlan"
			 * reads the next tag in); id 0 (priority tagged)
			 * reads as "untagged" to the rules */
			if (ps->vlans == 1 && id != 0) {
				struct term t = { .r = {
					.match = XM_RULE_M_VLAN,
					.vlan_id = (uint16_t)id } };

				cap_set_one(out, &t);
			}
		}
		return;
	}
	/* primitives no rule can narrow, but whose extent is known: they
	 * stand for everything and leave the rest of the expression to be
	 * translated ("udp and greater 200" still pushes "udp") */
	if (!strcmp(w, "less") || !strcmp(w, "greater")) {
		uint16_t n;

		ps->pos++;
		if (!parse_port(peek_word(ps, 0), &n)) {
			fail(ps, "'%s' takes a number here", w);
			return;
		}
		ps->pos++;
		return;
	}
	if (!strcmp(w, "broadcast") || !strcmp(w, "multicast") ||
	    !strcmp(w, "inbound") || !strcmp(w, "outbound")) {
		ps->pos++;
		return;
	}
	if (!strcmp(w, "icmp") || !strcmp(w, "icmp6")) {
		struct term t;

		term_proto(&t, w[4] ? PROTO_ICMP6 : PROTO_ICMP);
		t.r.match |= XM_RULE_M_FAMILY;
		t.r.family = w[4] ? AF_INET6 : AF_INET;
		ps->pos++;
		cap_set_one(out, &t);
		return;
	}
	if (word_proto(w, &q.proto)) {
		ps->pos++;
		any = true;
	}
	w = peek_word(ps, 0);
	if (!strcmp(w, "src") || !strcmp(w, "dst")) {
		bool src = w[0] == 's';

		ps->pos++;
		any = true;
		q.dir = src ? QD_SRC : QD_DST;
		/* "src or dst", "dst and src", ... (libpcap's dqual) */
		if ((peek(ps, 0) == T_OR || peek(ps, 0) == T_AND) &&
		    !strcmp(peek_word(ps, 1), src ? "dst" : "src")) {
			q.dir = peek(ps, 0) == T_OR ? QD_ANY : QD_AND;
			ps->pos += 2;
		}
	}
	w = peek_word(ps, 0);
	if (word_type(w, &q.type)) {
		ps->pos++;
		any = true;
	}
	w = peek_word(ps, 0);
	if ((q.proto == QP_IP || q.proto == QP_IP6) && q.dir == QD_ANY &&
	    q.type == QT_NONE &&
	    (!strcmp(w, "broadcast") || !strcmp(w, "multicast"))) {
		/* a destination test within IP (v6): no rule field */
		ps->pos++;
		prim_proto(q.proto, out);
		return;
	}
	if (!*w || !is_id(w)) {
		/* a protocol alone, or an unknown keyword */
		if (q.dir == QD_ANY && q.type == QT_NONE && q.proto != QP_NONE) {
			prim_proto(q.proto, out);
			return;
		}
		fail(ps, *w ? "'%s' is not translated" :
			      "incomplete primitive%s", w);
		return;
	}
	if (!any) {
		/* a bare ID reuses the previous primitive's qualifiers */
		if (!ps->have_last) {
			fail(ps, "bare '%s' is not translated", w);
			return;
		}
		q = ps->last;
	}
	ps->pos++;
	if (q.type == QT_NONE)
		q.type = QT_HOST;
	ps->last = q;
	ps->have_last = true;
	if (q.type == QT_PORT)
		prim_port(ps, &q, w, out);
	else
		prim_addr(ps, &q, w, out);
}

/*
 * libpcap's "vlan" moves every test compiled after it 4 bytes further in,
 * whatever branch that test is in ("vlan 100 or ip" reads an untagged
 * frame's bytes 16-17 as its type).  The rules read the frame as it is
 * tagged, which agrees with that reading only on frames carrying the
 * tags the earlier "vlan"s test for.  So a primitive after n "vlan"s is
 * translated only where each of those n is a conjunct in force (ctx: bit
 * i for the (i+1)th "vlan", ANDed before it and not negated), and
 * stands for everything elsewhere.  *conj gets the "vlan"s this
 * primitive asserts.
 */
static void parse_primitive(struct parser *ps, unsigned int ctx,
			    struct set *out, unsigned int *conj)
{
	unsigned int need = (1u << ps->vlans) - 1;

	*conj = 0;
	primitive_body(ps, out, conj);
	if ((ctx & need) != need)
		cap_set_universe(out);
}

static void parse_expr(struct parser *ps, unsigned int ctx, struct set *out,
		       unsigned int *conj);

/* ctx, conj: see parse_primitive. */
static void parse_unary(struct parser *ps, unsigned int ctx, struct set *out,
			unsigned int *conj)
{
	struct qual before = ps->last;
	bool had = ps->have_last;

	*conj = 0;
	if (++ps->depth > DEPTH_MAX) {
		fail(ps, "expression nested too deeply%s", NULL);
		cap_set_universe(out);
		return;
	}
	switch (peek(ps, 0)) {
	case T_NOT:
		ps->pos++;
		parse_unary(ps, ctx, out, conj);
		/* the complement of a superset is no superset of anything */
		cap_set_universe(out);
		*conj = 0;
		break;
	case T_LP:
		ps->pos++;
		parse_expr(ps, ctx, out, conj);
		if (peek(ps, 0) != T_RP)
			fail(ps, "unbalanced parentheses%s", NULL);
		else
			ps->pos++;
		/* libpcap: after "( ... )" a bare ID takes the qualifiers
		 * in force before the "(" ("ip src A or (ip dst B) or C":
		 * C is "ip src C") */
		ps->last = before;
		ps->have_last = had;
		break;
	default:
		parse_primitive(ps, ctx, out, conj);
		break;
	}
	ps->depth--;
}

static void parse_expr(struct parser *ps, unsigned int ctx, struct set *out,
		       unsigned int *conj)
{
	struct set *rhs = calloc(1, sizeof(*rhs));
	unsigned int rconj;

	*conj = 0;
	if (!rhs) {
		fail(ps, "out of memory%s", NULL);
		cap_set_universe(out);
		return;
	}
	parse_unary(ps, ctx, out, conj);
	while (!ps->failed && (peek(ps, 0) == T_AND || peek(ps, 0) == T_OR)) {
		bool is_and = peek(ps, 0) == T_AND;

		ps->pos++;
		if (is_and) {
			/* what the left side asserts holds on the right */
			parse_unary(ps, ctx | *conj, rhs, &rconj);
			cap_set_meet(out, rhs);
			*conj |= rconj;
		} else {
			parse_unary(ps, ctx, rhs, &rconj);
			cap_set_union(out, rhs);
			*conj = 0;
		}
	}
	free(rhs);
}

int cap_filter_translate(const char *expr, struct cap_filter_rules *out)
{
	struct parser *ps;
	struct set *s;
	bool had_nonip = false;

	if (!expr || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->all = true;
	ps = calloc(1, sizeof(*ps));
	s = calloc(1, sizeof(*s));
	if (!ps || !s) {
		snprintf(out->why, sizeof(out->why), "out of memory");
		goto out;
	}
	tokenize(ps, expr);
	if (!ps->failed && ps->ntok == 0)
		fail(ps, "empty expression%s", NULL);
	if (!ps->failed) {
		unsigned int conj;

		parse_expr(ps, 0, s, &conj);
	}
	if (!ps->failed && peek(ps, 0) != T_END)
		fail(ps, "'%s' is not translated", ps->text[ps->pos]);
	if (ps->failed) {
		snprintf(out->why, sizeof(out->why), "%s", ps->why);
		goto out;
	}
	/* Non-IP terms: a rule can only say "this VLAN", or nothing. */
	for (unsigned int i = 0; i < s->n; i++) {
		if (!s->t[i].nonip)
			continue;
		had_nonip = true;
		s->t[i].nonip = false;
		s->t[i].r.match &= XM_RULE_M_VLAN;
	}
	if (had_nonip) {
		struct set *copy = calloc(1, sizeof(*copy));

		if (!copy) {
			snprintf(out->why, sizeof(out->why), "out of memory");
			goto out;
		}
		for (unsigned int i = 0; i < s->n; i++)
			cap_set_add(copy, &s->t[i]);
		*s = *copy;
		free(copy);
	}
	if (s->n == 0) {
		snprintf(out->why, sizeof(out->why),
			 "the expression matches no packet");
	} else if (cap_set_is_universe(s)) {
		snprintf(out->why, sizeof(out->why), "%s",
			 had_nonip ? "an IPv4 'host' or 'net' without 'ip' "
				     "also matches ARP and RARP, which the "
				     "kernel rules cannot tell apart (write "
				     "'ip host ...')" :
				     "the expression can match any packet "
				     "(or uses 'not')");
	} else if (s->n > XM_PORT_MAX_RULES) {
		snprintf(out->why, sizeof(out->why),
			 "it needs %u rules, more than the %u the kernel "
			 "side holds", s->n, XM_PORT_MAX_RULES);
	} else {
		out->all = false;
		out->nrules = s->n;
		for (unsigned int i = 0; i < s->n; i++)
			out->rules[i] = s->t[i].r;
	}
out:
	free(ps);
	free(s);
	return 0;
}

const char *cap_filter_rule_str(const struct xm_port_rule *r, char *buf,
				size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t off = 0;
	int n;

	buf[0] = '\0';
#define APPEND(...)							\
	do {								\
		n = snprintf(buf + off, len - off, __VA_ARGS__);	\
		if (n > 0 && (size_t)n < len - off)			\
			off += (size_t)n;				\
	} while (0)
	if (r->match & XM_RULE_M_VLAN)
		APPEND("%svlan %u", off ? " " : "", r->vlan_id);
	if ((r->match & XM_RULE_M_FAMILY) ||
	    ((r->match & M_FAM) && !(r->match & XM_RULE_M_PROTO)))
		APPEND("%s%s", off ? " " : "",
		       r->family == AF_INET6 ? "ip6" : "ip");
	if (r->match & XM_RULE_M_PROTO) {
		const char *name = r->ip_proto == PROTO_TCP ? "tcp" :
				   r->ip_proto == PROTO_UDP ? "udp" :
				   r->ip_proto == PROTO_SCTP ? "sctp" :
				   r->ip_proto == PROTO_ICMP ? "icmp" :
				   r->ip_proto == PROTO_ICMP6 ? "icmp6" : NULL;

		if (name)
			APPEND("%s%s", off ? " " : "", name);
		else
			APPEND("%sproto %u", off ? " " : "", r->ip_proto);
	}
	if (r->match & XM_RULE_M_SRC) {
		inet_ntop(r->family, r->src, a, sizeof(a));
		APPEND("%ssrc %s/%u", off ? " " : "", a, r->src_len);
	}
	if (r->match & XM_RULE_M_DST) {
		inet_ntop(r->family, r->dst, a, sizeof(a));
		APPEND("%sdst %s/%u", off ? " " : "", a, r->dst_len);
	}
	if (r->match & XM_RULE_M_SRC_PORT)
		APPEND("%ssrc port %u", off ? " " : "", r->src_port);
	if (r->match & XM_RULE_M_DST_PORT)
		APPEND("%sdst port %u", off ? " " : "", r->dst_port);
	if (!off)
		APPEND("any");
#undef APPEND
	return buf;
}

uint32_t cap_filter_netmask(const char *ifname)
{
	char err[PCAP_ERRBUF_SIZE];
	bpf_u_int32 net, mask;

	/* tcpdump's choice: the interface's IPv4 netmask, else 0 (then
	 * "ip broadcast" means 255.255.255.255 and 0.0.0.0) */
	if (!ifname || pcap_lookupnet(ifname, &net, &mask, err) != 0)
		return 0;
	return mask;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_config_parse.c - one line of xmbuf-lb's configuration: its words
 * (numbers, addresses, prefixes, MACs, each range-checked) and its
 * directive, written into the configuration being read (lb_config.c has
 * the model: untrusted bytes, every error naming its line).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_config.h"
#include "lb_config_int.h"
#include "lb_maglev.h"

/* Writes "name:line: message" and returns -EINVAL. */
int lb_cfg_perr(struct parser *p, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err == NULL || p->errlen == 0)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- words */

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > hi)
			return false;
	}
	if (v < lo)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "aa:bb:cc:dd:ee:ff", two hex digits each, unicast and not zero. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t any = 0;

	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
		any |= mac[i];
		s += 3;
	}
	return any != 0 && !(mac[0] & 1);
}

/* An IPv4 or IPv6 address; family 4 or 6. */
static bool parse_addr(const char *s, uint8_t *family, union xm_pkt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, a->a_v6) != 1)
			return false;
		*family = 6;
	} else {
		if (inet_pton(AF_INET, s, &a->a_v4) != 1)
			return false;
		*family = 4;
	}
	return true;
}

/* Unspecified, multicast or limited broadcast: no host has it. */
static bool addr_is_host(uint8_t family, const union xm_pkt_addr *a)
{
	if (family == 4) {
		uint32_t h = ntohl(a->a_v4);

		return h != 0 && (h >> 28) != 0xe && h != 0xffffffffu;
	}
	return a->a_v6[0] != 0xff &&
	       (a->a_v6_32[0] | a->a_v6_32[1] | a->a_v6_32[2] |
		a->a_v6_32[3]) != 0;
}

static bool parse_prefix(const char *s, struct lb_prefix *pf)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	uint32_t len, max;
	size_t n;

	if (slash == NULL || (n = (size_t)(slash - s)) >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!parse_addr(buf, &pf->p_family, &pf->p_addr))
		return false;
	max = pf->p_family == 4 ? 32 : 128;
	/* At least one host bit: the flow hash has to go somewhere. */
	if (!parse_u32(slash + 1, 0, max - 1, &len))
		return false;
	pf->p_len = (uint8_t)len;
	for (uint32_t bit = len; bit < max; bit++)
		if (pf->p_addr.a_v6[bit / 8] & (0x80 >> (bit % 8)))
			return false;	/* host bits set: a typo, refuse */
	return true;
}
/* ------------------------------------------------------------ directives */

static int once(struct parser *p, uint32_t *seen, const char *what)
{
	if (*seen)
		return lb_cfg_perr(p, p->line, "'%s' given twice (first at line %u)",
			    what, *seen);
	*seen = p->line;
	return 0;
}

static int d_key(struct parser *p, char **w, int n)
{
	struct lb_config *c = p->c;
	int err = once(p, &p->l_key, "key");

	if (err)
		return err;
	if (n != 2 || strlen(w[1]) != 2 * LB_KEY_LEN)
		return lb_cfg_perr(p, p->line, "'key' takes %d hex digits", 2 * LB_KEY_LEN);
	for (int i = 0; i < LB_KEY_LEN; i++) {
		int hi = hexval(w[1][2 * i]), lo = hexval(w[1][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return lb_cfg_perr(p, p->line, "'key' takes %d hex digits",
				    2 * LB_KEY_LEN);
		c->c_key[i] = (uint8_t)(hi << 4 | lo);
	}
	c->c_key_set = 1;
	c->c_key_line = p->line;
	return 0;
}

static int d_table_size(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_table, "table-size");

	if (err)
		return err;
	if (n != 2 || !parse_u32(w[1], LB_MAGLEV_MIN_SIZE, LB_MAGLEV_MAX_SIZE,
				 &p->c->c_table_size) ||
	    !lb_is_prime(p->c->c_table_size))
		return lb_cfg_perr(p, p->line, "'table-size' takes a prime from %u "
			    "to %u (65537 is the usual)", LB_MAGLEV_MIN_SIZE,
			    LB_MAGLEV_MAX_SIZE);
	return 0;
}

static int d_lru_size(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_lru, "lru-size");

	if (err)
		return err;
	if (n != 2 || !parse_u32(w[1], 16, 1u << 24, &p->c->c_lru_size))
		return lb_cfg_perr(p, p->line, "'lru-size' takes a count from 16 to %u",
			    1u << 24);
	p->c->c_lru_line = p->line;
	return 0;
}

static int d_src_prefix(struct parser *p, char **w, int n)
{
	struct lb_prefix pf = { .p_line = p->line };
	struct lb_prefix *slot;

	if (n != 2 || !parse_prefix(w[1], &pf))
		return lb_cfg_perr(p, p->line, "'src-prefix' takes ADDRESS/LENGTH with "
			    "host bits zero and at least one host bit");
	slot = pf.p_family == 4 ? &p->c->c_src4 : &p->c->c_src6;
	if (slot->p_family)
		return lb_cfg_perr(p, p->line, "IPv%u 'src-prefix' given twice (first "
			    "at line %u)", pf.p_family, slot->p_line);
	*slot = pf;
	return 0;
}

static int d_gateway(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_gw, "gateway");

	if (err)
		return err;
	if (n != 2 || !parse_mac(w[1], p->c->c_gw_mac))
		return lb_cfg_perr(p, p->line, "'gateway' takes a unicast MAC address "
			    "(aa:bb:cc:dd:ee:ff)");
	p->c->c_has_gw = 1;
	return 0;
}

static int d_mtu(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_mtu, "mtu");

	if (err)
		return err;
	if (n != 2 || !parse_u32(w[1], LB_MTU_MIN, LB_MTU_MAX, &p->c->c_mtu))
		return lb_cfg_perr(p, p->line, "'mtu' takes a size from %u to %u",
			    LB_MTU_MIN, LB_MTU_MAX);
	return 0;
}

static int d_encap(struct parser *p, char **w, int n)
{
	struct lb_config *c = p->c;
	uint32_t port;
	int err = once(p, &p->l_encap, "encap");

	if (err)
		return err;
	if (n == 2 && !strcmp(w[1], "ipip")) {
		c->c_encap = LB_ENCAP_IPIP;
		return 0;
	}
	if (n == 3 && (!strcmp(w[1], "gue") || !strcmp(w[1], "gue-direct")) &&
	    parse_u32(w[2], 1, 65535, &port)) {
		c->c_encap = !strcmp(w[1], "gue") ? LB_ENCAP_GUE
						  : LB_ENCAP_GUE_DIRECT;
		c->c_gue_port = (uint16_t)port;
		return 0;
	}
	return lb_cfg_perr(p, p->line, "'encap' takes 'ipip', 'gue PORT' or "
		    "'gue-direct PORT'");
}

static int d_icmp_rate(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_icmp, "icmp-rate");

	if (err)
		return err;
	if (n != 2 || !parse_u32(w[1], 0, 10000000, &p->c->c_icmp_rate))
		return lb_cfg_perr(p, p->line, "'icmp-rate' takes replies per second "
			    "(0: no limit)");
	return 0;
}

static int d_pin_rate(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_pin_rate, "pin-rate");

	if (err)
		return err;
	if (n != 2 || !parse_u32(w[1], 0, LB_PIN_RATE_MAX, &p->c->c_pin_rate))
		return lb_cfg_perr(p, p->line, "'pin-rate' takes flows per second "
			    "from 0 (no limit) to %u", LB_PIN_RATE_MAX);
	return 0;
}

static int d_pin_burst(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_pin_burst, "pin-burst");

	if (err)
		return err;
	if (n != 2 || !parse_u32(w[1], 1, LB_PIN_BURST_MAX,
				 &p->c->c_pin_burst))
		return lb_cfg_perr(p, p->line, "'pin-burst' takes a number of flows "
			    "from 1 to %u", LB_PIN_BURST_MAX);
	return 0;
}

static int d_steer(struct parser *p, char **w, int n)
{
	int err = once(p, &p->l_steer, "steer");

	if (err)
		return err;
	if (n == 2 && !strcmp(w[1], "address"))
		p->c->c_steer = LB_STEER_ADDRESS;
	else if (n == 2 && !strcmp(w[1], "service"))
		p->c->c_steer = LB_STEER_SERVICE;
	else
		return lb_cfg_perr(p, p->line, "'steer' takes 'address' or 'service'");
	return 0;
}

static int d_vip(struct parser *p, char **w, int n)
{
	struct lb_config *c = p->c;
	struct lb_vip v = { .v_line = p->line };
	uint32_t port;

	if (n < 4 || n > 5)
		return lb_cfg_perr(p, p->line, "'vip' takes ADDRESS tcp|udp PORT "
			    "[frag]");
	if (!parse_addr(w[1], &v.v_family, &v.v_addr) ||
	    !addr_is_host(v.v_family, &v.v_addr))
		return lb_cfg_perr(p, p->line, "'%s' is not a unicast IPv4 or IPv6 "
			    "address", w[1]);
	if (!strcmp(w[2], "tcp"))
		v.v_proto = XM_PKT_IPPROTO_TCP;
	else if (!strcmp(w[2], "udp"))
		v.v_proto = XM_PKT_IPPROTO_UDP;
	else
		return lb_cfg_perr(p, p->line, "protocol '%s': 'tcp' or 'udp'", w[2]);
	if (!parse_u32(w[3], 1, 65535, &port))
		return lb_cfg_perr(p, p->line, "port '%s': 1 to 65535", w[3]);
	v.v_port = (uint16_t)port;
	if (n == 5) {
		if (strcmp(w[4], "frag"))
			return lb_cfg_perr(p, p->line, "unknown 'vip' option '%s' "
				    "(only 'frag')", w[4]);
		v.v_frag = 1;
	}
	if (c->c_nvips == LB_MAX_VIPS)
		return lb_cfg_perr(p, p->line, "more than %d services", LB_MAX_VIPS);
	if (c->c_nvips == p->vcap) {
		uint32_t ncap = p->vcap ? 2 * p->vcap : 8;
		struct lb_vip *nv = realloc(c->c_vips, ncap * sizeof(*nv));
		uint32_t *nb = realloc(p->bcap, ncap * sizeof(*nb));

		if (nv)
			c->c_vips = nv;
		if (nb)
			p->bcap = nb;
		if (nv == NULL || nb == NULL)
			return -ENOMEM;
		p->vcap = ncap;
	}
	p->bcap[c->c_nvips] = 0;
	c->c_vips[c->c_nvips++] = v;
	return 0;
}

/* "2", "0.5", "1.250": seconds with up to three decimals, as ms. */
static bool parse_seconds(const char *s, uint32_t *ms)
{
	uint64_t v = 0;
	int frac = -1;

	if (*s == '\0' || *s == '.')
		return false;
	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac == 3)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (frac >= 0)
			frac++;
		if (v > (uint64_t)LB_HEALTH_MS_MAX * 1000)
			return false;
	}
	if (frac == 0)
		return false;		/* "1." */
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++)
		v *= 10;
	if (v < LB_HEALTH_MS_MIN || v > LB_HEALTH_MS_MAX)
		return false;
	*ms = (uint32_t)v;
	return true;
}

/* An HTTP request path: '/' then visible ASCII only, so that it cannot
 * end the request line or add a header. */
static bool path_ok(const char *s)
{
	if (s[0] != '/' || strlen(s) >= LB_HEALTH_PATH_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/*
 * health tcp [PORT] | http PATH [PORT] [expect CODE] | none, then any of
 * interval SEC, timeout SEC, rise N, fall N, on-down reset|keep; for the
 * service of the last 'vip' line.
 */
static int d_health(struct parser *p, char **w, int n)
{
	struct lb_health h = {
		.h_expect = 200, .h_interval_ms = 2000, .h_timeout_ms = 1000,
		.h_rise = 2, .h_fall = 3, .h_line = p->line,
	};
	struct lb_vip *v;
	uint32_t u, seen = 0;
	int i = 2;

	if (p->c->c_nvips == 0)
		return lb_cfg_perr(p, p->line, "'health' before any 'vip'");
	v = &p->c->c_vips[p->c->c_nvips - 1];
	if (v->v_health.h_line)
		return lb_cfg_perr(p, p->line, "'health' given twice for this "
				   "service (first at line %u)",
				   v->v_health.h_line);
	if (n < 2)
		goto usage;
	if (!strcmp(w[1], "none")) {
		h.h_kind = LB_HEALTH_NONE;
	} else if (!strcmp(w[1], "tcp")) {
		h.h_kind = LB_HEALTH_TCP;
	} else if (!strcmp(w[1], "http")) {
		h.h_kind = LB_HEALTH_HTTP;
		if (n < 3 || !path_ok(w[2]))
			return lb_cfg_perr(p, p->line, "'health http' takes a "
					   "PATH: '/' and up to %d visible "
					   "characters", LB_HEALTH_PATH_MAX - 2);
		strcpy(h.h_path, w[2]);
		i = 3;
	} else {
		goto usage;
	}
	if (h.h_kind != LB_HEALTH_NONE && i < n &&
	    w[i][0] >= '0' && w[i][0] <= '9') {
		if (!parse_u32(w[i], 1, 65535, &u))
			return lb_cfg_perr(p, p->line, "health port '%s': 1 to "
					   "65535", w[i]);
		h.h_port = (uint16_t)u;
		i++;
	}
	for (; i < n; i += 2) {
		const char *opt = w[i], *val = i + 1 < n ? w[i + 1] : NULL;
		static const char *const names[] = { "expect", "interval",
			"timeout", "rise", "fall", "on-down" };
		unsigned int k;

		for (k = 0; k < 6 && strcmp(opt, names[k]); k++)
			;
		if (k == 6 || (seen & 1u << k) || val == NULL ||
		    (k == 0 && h.h_kind != LB_HEALTH_HTTP))
			return lb_cfg_perr(p, p->line, "unknown, repeated or "
					   "incomplete 'health' option '%.40s'",
					   opt);
		seen |= 1u << k;
		if (k == 0 && !parse_u32(val, 100, 599, &u))
			return lb_cfg_perr(p, p->line, "expect '%.40s': an "
					   "HTTP status, 100 to 599", val);
		if (k == 0)
			h.h_expect = (uint16_t)u;
		if ((k == 1 && !parse_seconds(val, &h.h_interval_ms)) ||
		    (k == 2 && !parse_seconds(val, &h.h_timeout_ms)))
			return lb_cfg_perr(p, p->line, "%s '%.40s': seconds "
					   "from 0.1 to %u (up to 3 decimals)",
					   opt, val, LB_HEALTH_MS_MAX / 1000);
		if ((k == 3 && !parse_u32(val, 1, LB_HEALTH_COUNT_MAX,
					  &h.h_rise)) ||
		    (k == 4 && !parse_u32(val, 1, LB_HEALTH_COUNT_MAX,
					  &h.h_fall)))
			return lb_cfg_perr(p, p->line, "%s '%.40s': a count "
					   "from 1 to %u", opt, val,
					   LB_HEALTH_COUNT_MAX);
		if (k == 5 && strcmp(val, "reset") && strcmp(val, "keep"))
			return lb_cfg_perr(p, p->line, "on-down '%.40s': "
					   "'reset' or 'keep'", val);
		if (k == 5)
			h.h_reset = !strcmp(val, "reset");
	}
	/* A check that outlives its interval would overlap the next. */
	if (h.h_timeout_ms > h.h_interval_ms) {
		if (seen & 1u << 2)
			return lb_cfg_perr(p, p->line, "health timeout %u ms is "
					   "longer than the interval %u ms",
					   h.h_timeout_ms, h.h_interval_ms);
		h.h_timeout_ms = h.h_interval_ms;
	}
	v->v_health = h;
	return 0;
usage:
	return lb_cfg_perr(p, p->line, "'health' takes 'tcp [PORT]', 'http "
			   "PATH [PORT] [expect CODE]' or 'none', then any of "
			   "interval SEC, timeout SEC, rise N, fall N, on-down "
			   "reset|keep");
}

static int d_backend(struct parser *p, char **w, int n)
{
	struct lb_config *c = p->c;
	struct lb_backend b = { .be_line = p->line,
				.be_weight = LB_WEIGHT_DEFAULT };
	bool have_weight = false;
	struct lb_vip *v;
	uint32_t vi;

	if (c->c_nvips == 0)
		return lb_cfg_perr(p, p->line, "'backend' before any 'vip'");
	vi = c->c_nvips - 1;
	v = &c->c_vips[vi];
	if (n < 2 || n % 2)
		return lb_cfg_perr(p, p->line, "'backend' takes ADDRESS [weight W] "
			    "[mac MAC]");
	if (!parse_addr(w[1], &b.be_family, &b.be_addr) ||
	    !addr_is_host(b.be_family, &b.be_addr))
		return lb_cfg_perr(p, p->line, "'%s' is not a unicast IPv4 or IPv6 "
			    "address", w[1]);
	for (int i = 2; i < n; i += 2) {
		if (!strcmp(w[i], "weight") && !have_weight) {
			if (!parse_u32(w[i + 1], 0, LB_MAGLEV_MAX_WEIGHT,
				       &b.be_weight))
				return lb_cfg_perr(p, p->line, "weight '%s': 0 to %u",
					    w[i + 1], LB_MAGLEV_MAX_WEIGHT);
			have_weight = true;
		} else if (!strcmp(w[i], "mac") && !b.be_has_mac) {
			if (!parse_mac(w[i + 1], b.be_mac))
				return lb_cfg_perr(p, p->line, "mac '%s': a unicast "
					    "MAC address", w[i + 1]);
			b.be_has_mac = 1;
		} else {
			return lb_cfg_perr(p, p->line, "unknown or repeated 'backend' "
				    "option '%s'", w[i]);
		}
	}
	if (v->v_nbe == LB_MAX_BACKENDS)
		return lb_cfg_perr(p, p->line, "more than %d backends in one service",
			    LB_MAX_BACKENDS);
	if (c->c_nbackends == LB_MAX_TOTAL_BACKENDS)
		return lb_cfg_perr(p, p->line, "more than %d backends in all",
			    LB_MAX_TOTAL_BACKENDS);
	if (v->v_nbe == p->bcap[vi]) {
		uint32_t ncap = p->bcap[vi] ? 2 * p->bcap[vi] : 4;
		struct lb_backend *nb = realloc(v->v_be, ncap * sizeof(*nb));

		if (nb == NULL)
			return -ENOMEM;
		v->v_be = nb;
		p->bcap[vi] = ncap;
	}
	b.be_conf_weight = b.be_weight;
	v->v_be[v->v_nbe++] = b;
	c->c_nbackends++;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct parser *p, char **w, int n);
} directives[] = {
	{ "key", d_key },
	{ "table-size", d_table_size },
	{ "lru-size", d_lru_size },
	{ "src-prefix", d_src_prefix },
	{ "gateway", d_gateway },
	{ "mtu", d_mtu },
	{ "encap", d_encap },
	{ "icmp-rate", d_icmp_rate },
	{ "pin-rate", d_pin_rate },
	{ "pin-burst", d_pin_burst },
	{ "steer", d_steer },
	{ "vip", d_vip },
	{ "backend", d_backend },
	{ "health", d_health },
};

/* One line, NUL-terminated in buf (which it may modify). */
int lb_cfg_parse_line(struct parser *p, char *buf)
{
	char *w[LB_MAX_WORDS + 1];
	char *s = buf, *hash = strchr(buf, '#');
	int n = 0;

	if (hash)
		*hash = '\0';
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == LB_MAX_WORDS)
			return lb_cfg_perr(p, p->line, "more than %d words",
				    LB_MAX_WORDS);
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	if (n == 0)
		return 0;
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!strcmp(w[0], directives[i].name))
			return directives[i].fn(p, w, n);
	return lb_cfg_perr(p, p->line, "unknown directive '%.40s'", w[0]);
}

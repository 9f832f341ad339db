// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_config.c - the configuration parser and builder (format and life
 * cycle in lb_config.h; reference in examples/lb/README.md).
 *
 * The parser reads untrusted bytes (tests/fuzz/fuzz_lb_config.c runs it
 * under libFuzzer): lines are copied into a bounded buffer before anything
 * looks at them, every number is range-checked, and every error names the
 * line that caused it.  Validation that needs the whole file (a backend's
 * next hop, duplicate services, steering rules) runs after the last line,
 * still naming the line of the directive at fault.
 *
 * Stable identities: each VIP and backend gets a 32-bit id that a reload
 * carries over when the same VIP (address, protocol, port) and the same
 * backend address appear again.  The connection table stores a backend's
 * id with the generation it was resolved in, so after a reload a flow
 * finds its backend again by id (lb_config_backend_by_id()), whatever
 * index it has now, and a flow whose backend was removed is rescheduled.
 *
 * The lines themselves (words and directives) are read in
 * lb_config_parse.c; this file checks the whole, builds the lookups and
 * carries identities and counters across a reload.
 *
 * KPI:
 *   lb_config_parse(), lb_config_read(), lb_config_build(),
 *   lb_config_load(), lb_config_free()
 *   lb_config_vip(), lb_config_frag_vip(), lb_config_backend_by_id()
 *   lb_config_carry_stats(), lb_config_slot_total()
 *   lb_vip_name(), lb_addr_name()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_config.h"
#include "lb_config_int.h"
#include "lb_maglev.h"


static int addr_cmp(uint8_t fa, const union xm_pkt_addr *a, uint8_t fb,
		    const union xm_pkt_addr *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a->a_v6, b->a_v6, 16);
}

const char *lb_addr_name(uint8_t family, const union xm_pkt_addr *a,
			 char *buf, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf,
		      (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *lb_vip_name(const struct lb_vip *v, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	lb_addr_name(v->v_family, &v->v_addr, a, sizeof(a));
	snprintf(buf, len, v->v_family == 4 ? "%s:%u/%s" : "[%s]:%u/%s", a,
		 v->v_port, v->v_proto == XM_PKT_IPPROTO_TCP ? "tcp" : "udp");
	return buf;
}

/* ------------------------------------------------------ whole-file checks */

static int cmp_backend(const void *a, const void *b)
{
	const struct lb_backend *x = a, *y = b;

	return addr_cmp(x->be_family, &x->be_addr, y->be_family, &y->be_addr);
}

static uint32_t key_hash(uint8_t family, const union xm_pkt_addr *a,
			 uint8_t proto, uint16_t port)
{
	uint32_t h = (uint32_t)family * 0x9e3779b1u ^ (uint32_t)proto << 16 ^
		     port;

	for (int i = 0; i < 4; i++) {
		h = (h ^ a->a_v6_32[i]) * 0x85ebca6bu;
		h ^= h >> 15;
	}
	return h;
}

int lb_config_vip(const struct lb_config *c, uint8_t family,
		  const union xm_pkt_addr *addr, uint8_t proto, uint16_t port)
{
	uint32_t i = key_hash(family, addr, proto, port) & c->c_hash_mask;

	for (;;) {
		uint16_t v = c->c_vip_hash[i];

		if (v == LB_HASH_EMPTY)
			return -1;
		if (lb_vip_is(&c->c_vips[v], family, addr, proto, port))
			return v;
		i = (i + 1) & c->c_hash_mask;
	}
}

/*
 * Slot of (family, addr, proto) in c_frag_hash, which holds a VIP of that
 * key (any one: it is what the key is compared against), or the free slot
 * where it would go.
 */
static uint32_t frag_slot(const struct lb_config *c, uint8_t family,
			  const union xm_pkt_addr *addr, uint8_t proto)
{
	uint32_t i = key_hash(family, addr, proto, 0) & c->c_hash_mask;

	for (;;) {
		uint16_t v = c->c_frag_hash[i];
		const struct lb_vip *x;

		if (v == LB_HASH_EMPTY)
			return i;
		x = &c->c_vips[v];
		if (x->v_family == family && x->v_proto == proto &&
		    !memcmp(&x->v_addr, addr, sizeof(*addr)))
			return i;
		i = (i + 1) & c->c_hash_mask;
	}
}

int lb_config_frag_vip(const struct lb_config *c, uint8_t family,
		       const union xm_pkt_addr *addr, uint8_t proto)
{
	uint32_t i = frag_slot(c, family, addr, proto);

	if (c->c_frag_hash[i] == LB_HASH_EMPTY)
		return -1;
	return c->c_frag_owner[i] == LB_FRAG_AMBIGUOUS ? -2
						       : c->c_frag_owner[i];
}

/*
 * Validates what needs every line and builds the lookups the packet path
 * uses.  Fragment owners: each (address, protocol) maps to its one
 * service, or to the one marked 'frag'; with several and no mark the
 * fragments have no owner (counted and dropped: lb_path.c).
 * Long (about 155 lines): one paragraph per whole-file check, in the
 * order their messages should reach the file's author (services, pools,
 * steering rules, what a reload may not change).
 */
static int finish(struct parser *p, const struct lb_config *running)
{
	struct lb_config *c = p->c;
	uint32_t nslots = 16, last = c->c_lines ? c->c_lines : 1;

	if (c->c_nvips == 0)
		return lb_cfg_perr(p, last, "no 'vip' directive: nothing to balance");
	while (nslots < 2 * c->c_nvips)
		nslots <<= 1;
	c->c_hash_mask = nslots - 1;
	c->c_vip_hash = malloc(nslots * sizeof(uint16_t));
	c->c_frag_hash = malloc(nslots * sizeof(uint16_t));
	c->c_frag_owner = malloc(nslots * sizeof(uint16_t));
	if (c->c_vip_hash == NULL || c->c_frag_hash == NULL ||
	    c->c_frag_owner == NULL)
		return -ENOMEM;
	memset(c->c_vip_hash, 0xff, nslots * sizeof(uint16_t));
	memset(c->c_frag_hash, 0xff, nslots * sizeof(uint16_t));
	memset(c->c_frag_owner, 0xff, nslots * sizeof(uint16_t));

	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		struct lb_vip *v = &c->c_vips[vi];
		uint32_t i, fs;
		int dup;
		char name[80];

		dup = lb_config_vip(c, v->v_family, &v->v_addr, v->v_proto,
				    v->v_port);
		if (dup >= 0)
			return lb_cfg_perr(p, v->v_line, "service %s defined twice "
				    "(first at line %u)",
				    lb_vip_name(v, name, sizeof(name)),
				    c->c_vips[dup].v_line);
		i = key_hash(v->v_family, &v->v_addr, v->v_proto, v->v_port) &
		    c->c_hash_mask;
		while (c->c_vip_hash[i] != LB_HASH_EMPTY)
			i = (i + 1) & c->c_hash_mask;
		c->c_vip_hash[i] = (uint16_t)vi;

		/* Fragment owner: the only service, or the 'frag' one. */
		fs = frag_slot(c, v->v_family, &v->v_addr, v->v_proto);
		if (c->c_frag_hash[fs] == LB_HASH_EMPTY) {
			c->c_frag_hash[fs] = (uint16_t)vi;
			c->c_frag_owner[fs] = (uint16_t)vi;
		} else {
			uint16_t o = c->c_frag_owner[fs];
			bool o_frag = o != LB_FRAG_AMBIGUOUS &&
				      c->c_vips[o].v_frag;

			if (v->v_frag && o_frag)
				return lb_cfg_perr(p, v->v_line, "two 'frag' services "
					    "on one address and protocol "
					    "(first at line %u)",
					    c->c_vips[o].v_line);
			if (v->v_frag)
				c->c_frag_owner[fs] = (uint16_t)vi;
			else if (!o_frag)
				c->c_frag_owner[fs] = LB_FRAG_AMBIGUOUS;
		}

		/* The pool: sorted by address (the table does not depend on
		 * line order), duplicates refused, a next hop for each. */
		if (v->v_nbe > 1)
			qsort(v->v_be, v->v_nbe, sizeof(*v->v_be), cmp_backend);
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			struct lb_backend *be = &v->v_be[b];
			const struct lb_prefix *src = be->be_family == 4 ?
						      &c->c_src4 : &c->c_src6;

			if (b > 0 && cmp_backend(be, be - 1) == 0) {
				const struct lb_backend *o = be - 1;
				uint32_t l1 = o->be_line, l2 = be->be_line;

				return lb_cfg_perr(p, l1 > l2 ? l1 : l2, "backend %s "
					    "listed twice in this service "
					    "(first at line %u)",
					    lb_addr_name(be->be_family,
							 &be->be_addr, name,
							 sizeof(name)),
					    l1 < l2 ? l1 : l2);
			}
			if (!be->be_has_mac && !c->c_has_gw)
				return lb_cfg_perr(p, be->be_line, "backend has no next "
					    "hop: give it 'mac MAC' or add a "
					    "'gateway MAC' line");
			if (!src->p_family)
				return lb_cfg_perr(p, be->be_line, "an IPv%u backend "
					    "needs an IPv%u 'src-prefix' for "
					    "the outer source address",
					    be->be_family, be->be_family);
			if (be->be_weight)
				v->v_nactive++;
		}
		if (v->v_nbe > c->c_table_size)
			return lb_cfg_perr(p, v->v_line, "%u backends do not fit a "
				    "table of %u slots ('table-size')",
				    v->v_nbe, c->c_table_size);
	}

	/* Steering rules, in line order so the one too many is named. */
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		struct lb_rule r = {
			.r_family = v->v_family,
			.r_proto = v->v_proto,
			.r_port = c->c_steer == LB_STEER_SERVICE ? v->v_port : 0,
			.r_addr = v->v_addr,
		};
		bool have = false;

		for (uint32_t i = 0; i < c->c_nrules && !have; i++)
			have = !memcmp(&c->c_rules[i], &r, sizeof(r));
		if (have)
			continue;
		if (c->c_nrules == LB_MAX_RULES)
			return lb_cfg_perr(p, v->v_line, "this service needs steering "
				    "rule %d, more than the port's %d (%s)",
				    LB_MAX_RULES + 1, LB_MAX_RULES,
				    c->c_steer == LB_STEER_SERVICE ?
				    "use fewer services" :
				    "use fewer VIP addresses");
		c->c_rules[c->c_nrules++] = r;
	}

	/* A source's bucket: four seconds' worth unless told. */
	if (p->l_pin_burst && c->c_pin_rate == 0)
		return lb_cfg_perr(p, p->l_pin_burst, "'pin-burst' needs a pin-rate "
			    "above 0 (pin-rate 0 pins every flow)");
	if (!p->l_pin_burst)
		c->c_pin_burst = c->c_pin_rate > LB_PIN_BURST_MAX / 4 ?
				 LB_PIN_BURST_MAX : c->c_pin_rate * 4;

	/* What a reload may not change. */
	if (running && c->c_key_set &&
	    memcmp(c->c_key, running->c_key, LB_KEY_LEN))
		return lb_cfg_perr(p, c->c_key_line, "the key differs from the "
			    "running one; restart to change the key");
	if (running && c->c_lru_size != running->c_lru_size)
		return lb_cfg_perr(p, c->c_lru_line ? c->c_lru_line : last,
			    "lru-size %u differs from the running %u; restart "
			    "to resize the connection tables", c->c_lru_size,
			    running->c_lru_size);
	if (!c->c_key_set) {
		if (running) {
			memcpy(c->c_key, running->c_key, LB_KEY_LEN);
		} else if (getrandom(c->c_key, LB_KEY_LEN, 0) != LB_KEY_LEN) {
			int e = errno;

			snprintf(p->err, p->errlen, "%s: cannot draw a random "
				 "key: %s", p->name, strerror(e));
			return -e;
		}
	}
	lb_sipkey_init(&c->c_sipkey, c->c_key);
	return 0;
}

/* ----------------------------------------------------------------- API */

static void config_defaults(struct lb_config *c)
{
	c->c_table_size = LB_MAGLEV_DEFAULT_SIZE;
	c->c_lru_size = LB_LRU_DEFAULT;
	c->c_icmp_rate = LB_ICMP_RATE_DEFAULT;
	c->c_pin_rate = LB_PIN_RATE_DEFAULT;
	c->c_encap = LB_ENCAP_IPIP;
	c->c_steer = LB_STEER_ADDRESS;
}

struct lb_config *lb_config_parse(const char *text, size_t len,
				  const char *name,
				  const struct lb_config *running, char *err,
				  size_t errlen)
{
	struct parser p = { .name = name ? name : "config", .err = err,
			    .errlen = err ? errlen : 0 };
	char buf[LB_MAX_LINE + 1];
	size_t off = 0;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	if (text == NULL && len) {
		errno = EINVAL;
		return NULL;
	}
	if (len > LB_MAX_FILE) {
		snprintf(err, err ? errlen : 0, "%s: larger than %u bytes",
			 p.name, LB_MAX_FILE);
		errno = EINVAL;
		return NULL;
	}
	p.c = calloc(1, sizeof(*p.c));
	if (p.c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	config_defaults(p.c);

	while (off < len && ret == 0) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t raw = nl ? (size_t)(nl - (text + off)) : len - off;
		size_t n = raw;

		p.line++;
		if (n && text[off + n - 1] == '\r')
			n--;
		if (n > LB_MAX_LINE) {
			ret = lb_cfg_perr(&p, p.line, "longer than %d bytes",
				   LB_MAX_LINE);
			break;
		}
		memcpy(buf, text + off, n);
		buf[n] = '\0';
		if (memchr(buf, '\0', n) != NULL) {
			ret = lb_cfg_perr(&p, p.line, "NUL byte in the line");
			break;
		}
		ret = lb_cfg_parse_line(&p, buf);
		off += raw + (nl ? 1 : 0);
	}
	p.c->c_lines = p.line;
	if (ret == 0)
		ret = finish(&p, running);
	free(p.bcap);
	if (ret) {
		if (ret == -ENOMEM && err && errlen)
			snprintf(err, errlen, "%s: out of memory", p.name);
		lb_config_free(p.c);
		errno = -ret;
		return NULL;
	}
	return p.c;
}

static int cmp_idmap(const void *a, const void *b)
{
	const struct lb_idmap *x = a, *y = b;

	return x->im_id < y->im_id ? -1 : x->im_id > y->im_id;
}

const struct lb_idmap *lb_config_backend_by_id(const struct lb_config *c,
					       uint32_t id)
{
	struct lb_idmap k = { .im_id = id };

	return bsearch(&k, c->c_idmap, c->c_nbackends, sizeof(k), cmp_idmap);
}

int lb_config_build(struct lb_config *c, const struct lb_config *running,
		    unsigned int nworkers, char *err, size_t errlen)
{
	struct lb_maglev_backend *mb = NULL;
	uint32_t next_id = running ? running->c_next_id : 1, stat = 0, nid = 0;
	unsigned int slots = lb_config_slots(c);
	int ret = 0;

	if (c->c_built || nworkers == 0)
		return -EINVAL;
	c->c_gen = running ? running->c_gen + 1 : 1;
	c->c_idmap = calloc(c->c_nbackends ? c->c_nbackends : 1,
			    sizeof(*c->c_idmap));
	c->c_stats = calloc(nworkers, sizeof(*c->c_stats));
	c->c_carry = calloc(slots, sizeof(*c->c_carry));
	if (c->c_idmap == NULL || c->c_stats == NULL || c->c_carry == NULL)
		goto out_nomem;
	c->c_nworkers = nworkers;
	for (unsigned int w = 0; w < nworkers; w++) {
		size_t sz = ((size_t)slots * sizeof(struct lb_cnt) + 63) & ~63ul;

		/* Each worker's counters on lines of their own. */
		c->c_stats[w] = aligned_alloc(64, sz);
		if (c->c_stats[w] == NULL)
			goto out_nomem;
		memset(c->c_stats[w], 0, sz);
	}

	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		struct lb_vip *v = &c->c_vips[vi];
		const struct lb_vip *rv = NULL;
		int r = running ? lb_config_vip(running, v->v_family, &v->v_addr,
						v->v_proto, v->v_port) : -1;

		if (r >= 0)
			rv = &running->c_vips[r];
		v->v_id = rv ? rv->v_id : next_id++;
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			struct lb_backend *be = &v->v_be[b];
			const struct lb_backend *rb = NULL;

			if (rv && rv->v_nbe)
				rb = bsearch(be, rv->v_be, rv->v_nbe,
					     sizeof(*be), cmp_backend);
			be->be_id = rb ? rb->be_id : next_id++;
			be->be_stat = stat++;
			c->c_idmap[nid].im_id = be->be_id;
			c->c_idmap[nid].im_vip = (uint16_t)vi;
			c->c_idmap[nid].im_be = (uint16_t)b;
			nid++;
		}

		v->v_table = malloc((size_t)c->c_table_size * sizeof(uint16_t));
		mb = realloc(mb, (v->v_nbe ? v->v_nbe : 1) * sizeof(*mb));
		if (v->v_table == NULL || mb == NULL)
			goto out_nomem;
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			const struct lb_backend *be = &v->v_be[b];
			uint8_t name[17];

			/* The backend's name: family and address. */
			name[0] = be->be_family;
			memcpy(name + 1, be->be_addr.a_v6, 16);
			lb_maglev_perm(&c->c_sipkey, name, sizeof(name),
				       c->c_table_size, &mb[b]);
			mb[b].mb_weight = be->be_weight;
		}
		ret = lb_maglev_populate(v->v_table, c->c_table_size, mb,
					 v->v_nbe);
		if (ret) {
			if (err && errlen)
				snprintf(err, errlen, "line %u: cannot build "
					 "the Maglev table: %s", v->v_line,
					 strerror(-ret));
			goto out;
		}
	}
	qsort(c->c_idmap, nid, sizeof(*c->c_idmap), cmp_idmap);
	c->c_next_id = next_id;
	c->c_built = true;
	free(mb);
	return 0;

out_nomem:
	ret = -ENOMEM;
	if (err && errlen)
		snprintf(err, errlen, "out of memory building the configuration");
out:
	free(mb);
	return ret;
}

struct lb_config *lb_config_read(const char *path,
				 const struct lb_config *running, char *err,
				 size_t errlen)
{
	struct lb_config *c;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	/*
	 * Non-blocking, and checked before anything is read: opening a
	 * FIFO (or a device) for reading may wait for a writer forever, and
	 * this runs on the thread that answers SIGHUP.  O_NONBLOCK changes
	 * nothing for a regular file.  Symlinks are followed: pointing the
	 * path at the file in force is a normal way to deploy one.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		goto out_errno;
	if (fstat(fd, &st) < 0)
		goto out_close;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, err ? errlen : 0, "%s: not a regular file (%s)",
			 path, S_ISFIFO(st.st_mode) ? "a FIFO" :
			 S_ISDIR(st.st_mode) ? "a directory" :
			 S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ?
			 "a device" : S_ISSOCK(st.st_mode) ? "a socket" :
			 "not a file");
		errno = EINVAL;
		return NULL;
	}
	if ((uint64_t)st.st_size > LB_MAX_FILE) {
		close(fd);
		snprintf(err, err ? errlen : 0, "%s: %llu bytes, more than "
			 "the %u a configuration may have", path,
			 (unsigned long long)st.st_size, LB_MAX_FILE);
		errno = EINVAL;
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL)
		goto out_close;
	/* Read to EOF: the file may have changed since fstat(). */
	while ((n = read(fd, text + len, (size_t)st.st_size + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			close(fd);
			free(text);
			snprintf(err, err ? errlen : 0, "%s: changed while "
				 "being read; try again", path);
			errno = EAGAIN;
			return NULL;
		}
	}
	if (n < 0)
		goto out_close;
	close(fd);

	c = lb_config_parse(text, len, path, running, err, errlen);
	free(text);
	return c;

out_close:
	e = errno;
	close(fd);
	free(text);
	errno = e;
out_errno:
	e = errno;
	snprintf(err, err ? errlen : 0, "%s: %s", path, strerror(e));
	errno = e;
	return NULL;
}

struct lb_config *lb_config_load(const char *path,
				 const struct lb_config *running,
				 unsigned int nworkers, char *err,
				 size_t errlen)
{
	struct lb_config *c = lb_config_read(path, running, err, errlen);
	int e;

	if (c == NULL)
		return NULL;
	e = lb_config_build(c, running, nworkers, err, errlen);
	if (e) {
		lb_config_free(c);
		errno = -e;
		return NULL;
	}
	return c;
}

void lb_config_free(struct lb_config *c)
{
	if (c == NULL)
		return;
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		free(c->c_vips[vi].v_be);
		free(c->c_vips[vi].v_table);
	}
	free(c->c_vips);
	free(c->c_vip_hash);
	free(c->c_frag_hash);
	free(c->c_frag_owner);
	free(c->c_idmap);
	if (c->c_stats)
		for (unsigned int w = 0; w < c->c_nworkers; w++)
			free(c->c_stats[w]);
	free(c->c_stats);
	free(c->c_carry);
	free(c);
}

void lb_config_slot_total(const struct lb_config *c, unsigned int slot,
			  struct lb_cnt *out)
{
	*out = c->c_carry[slot];
	for (unsigned int w = 0; w < c->c_nworkers; w++) {
		const struct lb_cnt *s = &c->c_stats[w][slot];

		out->packets += __atomic_load_n(&s->packets, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
		out->new_flows += __atomic_load_n(&s->new_flows,
						  __ATOMIC_RELAXED);
		out->lru_misses += __atomic_load_n(&s->lru_misses,
						   __ATOMIC_RELAXED);
	}
}

static void cnt_add(struct lb_cnt *to, const struct lb_cnt *v)
{
	to->packets += v->packets;
	to->bytes += v->bytes;
	to->new_flows += v->new_flows;
	to->lru_misses += v->lru_misses;
}

void lb_config_carry_stats(struct lb_config *c, const struct lb_config *old)
{
	for (uint32_t vi = 0; vi < old->c_nvips; vi++) {
		const struct lb_vip *ov = &old->c_vips[vi];
		struct lb_cnt t;
		int nv = lb_config_vip(c, ov->v_family, &ov->v_addr,
				       ov->v_proto, ov->v_port);

		if (nv < 0 || c->c_vips[nv].v_id != ov->v_id)
			continue;
		lb_config_slot_total(old, vi, &t);
		cnt_add(&c->c_carry[nv], &t);
		for (uint32_t b = 0; b < ov->v_nbe; b++) {
			const struct lb_idmap *im =
				lb_config_backend_by_id(c, ov->v_be[b].be_id);

			if (im == NULL)
				continue;
			lb_config_slot_total(old, old->c_nvips +
					     ov->v_be[b].be_stat, &t);
			cnt_add(&c->c_carry[c->c_nvips + c->c_vips[im->im_vip]
					    .v_be[im->im_be].be_stat], &t);
		}
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_state.c - drains and health over the configuration (model in
 * lb_state.h): a copy of the running configuration with the weights the
 * moment calls for, built and published as a new generation.
 *
 * KPI:
 *   lb_config_clone(), lb_state_apply(), lb_state_backend_id()
 *   lb_config_vip_healthy()
 *   lb_state_parse_addr(), lb_drains_has(), lb_drains_add(),
 *   lb_drains_del(), lb_config_count_addr()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_state.h"

static int cmp_addr(const void *a, const void *b)
{
	const struct lb_backend *x = a, *y = b;

	if (x->be_family != y->be_family)
		return x->be_family < y->be_family ? -1 : 1;
	return memcmp(x->be_addr.a_v6, y->be_addr.a_v6, 16);
}

static void *dup_mem(const void *p, size_t len)
{
	void *q = malloc(len ? len : 1);

	if (q && len)
		memcpy(q, p, len);
	return q;
}

struct lb_config *lb_config_clone(const struct lb_config *c)
{
	size_t slots = (size_t)c->c_hash_mask + 1;
	struct lb_config *n = malloc(sizeof(*n));

	if (n == NULL)
		return NULL;
	*n = *c;
	/* What lb_config_build() makes is made again. */
	n->c_built = false;
	n->c_gen = 0;
	n->c_idmap = NULL;
	n->c_stats = NULL;
	n->c_carry = NULL;
	n->c_nworkers = 0;
	n->c_vip_hash = dup_mem(c->c_vip_hash, slots * sizeof(uint16_t));
	n->c_frag_hash = dup_mem(c->c_frag_hash, slots * sizeof(uint16_t));
	n->c_frag_owner = dup_mem(c->c_frag_owner, slots * sizeof(uint16_t));
	n->c_vips = calloc(c->c_nvips ? c->c_nvips : 1, sizeof(*n->c_vips));
	if (n->c_vip_hash == NULL || n->c_frag_hash == NULL ||
	    n->c_frag_owner == NULL || n->c_vips == NULL) {
		/* lb_config_free() walks c_nvips services: none yet. */
		n->c_nvips = 0;
		goto out_free;
	}
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		struct lb_vip *v = &n->c_vips[vi];

		*v = c->c_vips[vi];
		v->v_table = NULL;
		v->v_be = dup_mem(c->c_vips[vi].v_be,
				  v->v_nbe * sizeof(*v->v_be));
		if (v->v_be == NULL) {
			n->c_nvips = vi + 1;
			goto out_free;
		}
	}
	return n;

out_free:
	lb_config_free(n);
	errno = ENOMEM;
	return NULL;
}

uint32_t lb_state_backend_id(const struct lb_config *c,
			     const struct lb_vip *v,
			     const struct lb_backend *be)
{
	const struct lb_backend *rb;
	int r;

	if (c == NULL || !c->c_built)
		return 0;
	r = lb_config_vip(c, v->v_family, &v->v_addr, v->v_proto, v->v_port);
	if (r < 0 || c->c_vips[r].v_nbe == 0)
		return 0;
	rb = bsearch(be, c->c_vips[r].v_be, c->c_vips[r].v_nbe, sizeof(*be),
		     cmp_addr);
	return rb ? rb->be_id : 0;
}

/* The weight be has in running's table (its file weight if none). */
static uint32_t last_weight(const struct lb_config *running,
			    const struct lb_vip *v,
			    const struct lb_backend *be)
{
	int r = running ? lb_config_vip(running, v->v_family, &v->v_addr,
					v->v_proto, v->v_port) : -1;
	const struct lb_backend *rb = NULL;

	if (r >= 0 && running->c_vips[r].v_nbe)
		rb = bsearch(be, running->c_vips[r].v_be,
			     running->c_vips[r].v_nbe, sizeof(*be), cmp_addr);
	return rb ? rb->be_weight : be->be_conf_weight;
}

unsigned int lb_state_apply(struct lb_config *n,
			    const struct lb_config *running,
			    const struct lb_drains *d, lb_down_fn *down,
			    void *ctx)
{
	unsigned int became = 0;

	for (uint32_t vi = 0; vi < n->c_nvips; vi++) {
		struct lb_vip *v = &n->c_vips[vi];
		uint32_t candidates = 0, up = 0;
		bool was_all_down = false;
		int r;

		for (uint32_t b = 0; b < v->v_nbe; b++) {
			struct lb_backend *be = &v->v_be[b];
			uint32_t id = lb_state_backend_id(running, v, be);

			be->be_drained = d && lb_drains_has(d, be->be_family,
							    &be->be_addr);
			be->be_down = down && id && v->v_health.h_kind !=
				      LB_HEALTH_NONE && down(ctx, id);
			if (be->be_conf_weight && !be->be_drained) {
				candidates++;
				up += !be->be_down;
			}
		}
		v->v_all_down = candidates > 0 && up == 0;
		v->v_nactive = 0;
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			struct lb_backend *be = &v->v_be[b];

			if (be->be_drained)
				be->be_weight = 0;
			else if (v->v_all_down)
				be->be_weight = last_weight(running, v, be);
			else
				be->be_weight = be->be_down ? 0 :
						be->be_conf_weight;
			be->be_reset = be->be_down && !v->v_all_down &&
				       v->v_health.h_reset;
			v->v_nactive += be->be_weight != 0;
		}
		r = running ? lb_config_vip(running, v->v_family, &v->v_addr,
					    v->v_proto, v->v_port) : -1;
		if (r >= 0)
			was_all_down = running->c_vips[r].v_all_down;
		became += v->v_all_down && !was_all_down;
	}
	return became;
}

bool lb_state_parse_addr(const char *s, uint8_t *family,
			 union xm_pkt_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->a_v4) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->a_v6) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

static int drain_index(const struct lb_drains *d, uint8_t family,
		       const union xm_pkt_addr *a)
{
	for (uint32_t i = 0; i < d->d_n; i++)
		if (d->d_addr[i].family == family &&
		    !memcmp(&d->d_addr[i].addr, a, sizeof(*a)))
			return (int)i;
	return -1;
}

bool lb_drains_has(const struct lb_drains *d, uint8_t family,
		   const union xm_pkt_addr *a)
{
	return d->d_n && drain_index(d, family, a) >= 0;
}

int lb_drains_add(struct lb_drains *d, uint8_t family,
		  const union xm_pkt_addr *a)
{
	if (drain_index(d, family, a) >= 0)
		return -EEXIST;
	if (d->d_n == LB_MAX_DRAINS)
		return -ENOSPC;
	d->d_addr[d->d_n].family = family;
	d->d_addr[d->d_n].addr = *a;
	d->d_n++;
	return 0;
}

int lb_drains_del(struct lb_drains *d, uint8_t family,
		  const union xm_pkt_addr *a)
{
	int i = drain_index(d, family, a);

	if (i < 0)
		return -ENOENT;
	d->d_addr[i] = d->d_addr[--d->d_n];
	return 0;
}

unsigned int lb_config_count_addr(const struct lb_config *c, uint8_t family,
				  const union xm_pkt_addr *a)
{
	unsigned int n = 0;

	for (uint32_t vi = 0; vi < c->c_nvips; vi++)
		for (uint32_t b = 0; b < c->c_vips[vi].v_nbe; b++) {
			const struct lb_backend *be = &c->c_vips[vi].v_be[b];

			n += be->be_family == family &&
			     !memcmp(&be->be_addr, a, sizeof(*a));
		}
	return n;
}

bool lb_config_vip_healthy(const struct lb_config *c, uint8_t family,
			   const union xm_pkt_addr *addr)
{
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];

		if (v->v_family != family ||
		    memcmp(&v->v_addr, addr, sizeof(*addr)))
			continue;
		for (uint32_t b = 0; b < v->v_nbe; b++)
			if (v->v_be[b].be_conf_weight &&
			    !v->v_be[b].be_down && !v->v_be[b].be_drained)
				return true;
	}
	return false;
}

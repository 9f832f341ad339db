// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_snapshot.c - the parts of a snapshot (lb_snapshot.h) that read the
 * configuration, the health monitor and the zones, and the one sum of
 * losses.
 *
 * KPI:
 *   lb_path_drops(), lb_losses_fill(), lb_losses_total()
 *   lb_snap_config(), lb_snap_free()
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_snapshot.h"

uint64_t lb_path_drops(const struct lb_totals *t)
{
	const struct lb_path_stats *p = &t->p;

	return p->malformed + p->not_ip + p->not_tcp_udp + p->no_service +
	       p->no_backend + p->frag_no_owner + p->too_big_dropped +
	       p->no_headroom + t->tx_full + t->multi_buffer;
}

void lb_losses_fill(struct lb_losses *l, const struct lb_totals *t,
		    const struct xm_port_stats *st)
{
	memset(l, 0, sizeof(*l));
	l->path = lb_path_drops(t);
	if (st == NULL)
		return;
	l->rx_ring_full = st->rx_ring_full;
	l->fill_ring_empty = st->rx_fill_ring_empty_descs;
	l->rx_other = st->rx_dropped > st->rx_fill_ring_empty_descs ?
		      st->rx_dropped - st->rx_fill_ring_empty_descs : 0;
	l->rx_port = st->rx_dropped_sw;
	l->tx_port = st->tx_dropped;
	l->invalid_descs = st->rx_invalid_descs + st->tx_invalid_descs;
	l->no_socket = st->xdp_no_socket;
}

uint64_t lb_losses_total(const struct lb_losses *l)
{
	return l->path + l->rx_ring_full + l->fill_ring_empty + l->rx_other +
	       l->rx_port + l->tx_port + l->invalid_descs + l->no_socket;
}

static const char *kind_name(uint8_t k)
{
	return k == LB_HEALTH_TCP ? "tcp" : k == LB_HEALTH_HTTP ? "http" :
	       "none";
}

int lb_snap_config(struct lb_snap *s, const struct lb_config *c,
		   struct lb_health_mon *hm, struct xm_umem *u)
{
	uint32_t k = 0;

	s->generation = c->c_gen;
	s->nvips = c->c_nvips;
	s->nbe = c->c_nbackends;
	s->vips = calloc(s->nvips ? s->nvips : 1, sizeof(*s->vips));
	s->be = calloc(s->nbe ? s->nbe : 1, sizeof(*s->be));
	if (s->vips == NULL || s->be == NULL)
		return -ENOMEM;
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		struct lb_snap_vip *sv = &s->vips[vi];

		lb_vip_name(v, sv->name, sizeof(sv->name));
		lb_addr_name(v->v_family, &v->v_addr, sv->addr,
			     sizeof(sv->addr));
		sv->port = v->v_port;
		sv->proto = v->v_proto == XM_PKT_IPPROTO_TCP ? "tcp" : "udp";
		sv->health = kind_name(v->v_health.h_kind);
		sv->all_down = v->v_all_down;
		lb_config_slot_total(c, vi, &sv->cnt);
		sv->be0 = k;
		sv->nbe = v->v_nbe;
		for (uint32_t b = 0; b < v->v_nbe; b++, k++) {
			const struct lb_backend *be = &v->v_be[b];
			struct lb_snap_be *sb = &s->be[k];

			sb->vip = vi;
			lb_addr_name(be->be_family, &be->be_addr, sb->addr,
				     sizeof(sb->addr));
			sb->weight = be->be_weight;
			sb->conf_weight = be->be_conf_weight;
			sb->drained = be->be_drained;
			sb->down = be->be_down;
			sb->checked = hm && v->v_health.h_kind !=
				      LB_HEALTH_NONE &&
				      lb_health_info(hm, be->be_id,
						     &sb->health);
			/* The checks' word, even before the table follows. */
			if (sb->checked)
				sb->down = !sb->health.hi_up;
			lb_config_slot_total(c, c->c_nvips + be->be_stat,
					     &sb->cnt);
		}
	}
	s->nzones = 0;
	for (int id = 0; u && id < XM_ZONE_MAX; id++) {
		struct xm_zone *z = xm_umem_zone(u, (enum xm_zone_id)id);

		if (z && xm_zone_stats(z, &s->zones[s->nzones]) == 0)
			s->nzones++;
	}
	return 0;
}

void lb_snap_free(struct lb_snap *s)
{
	free(s->vips);
	free(s->be);
	free(s->worker_flows);
	s->vips = NULL;
	s->be = NULL;
	s->worker_flows = NULL;
}

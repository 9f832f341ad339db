/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_ctl.c - control of AF_XDP ports: what a port is (accessors), what
 * it counted (statistics) and which traffic it takes (steering rules, kept
 * by the XDP program in xdp.c).  Any thread may call these, but not
 * concurrently with open, close or each other on the same port.
 *
 * Official port KPI (xm_port.h): xm_port_fd, xm_port_queue_count,
 * xm_port_queue_id, xm_port_ifindex, xm_port_name, xm_port_mode,
 * xm_port_mode_name, xm_port_multi_buffer, xm_port_mtu,
 * xm_port_tx_budget, xm_port_umem, xm_port_index, xm_port_stats,
 * xm_port_queue_stats, xm_port_rule_add, xm_port_rule_replace,
 * xm_port_rule_clear, xm_port_rule_all, xm_port_rule_count,
 * xm_port_rule_steers_all.
 * Hidden (tests): _xm_port_need_wakeup, _xm_port_has_prog,
 * _xm_port_prog_multi.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "xm_port_int.h"

/* ----------------------------------------------------------- accessors */

int xm_port_fd(const struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq)
		return -EINVAL;
	return p->p_q[qidx].q_fd;
}

unsigned int xm_port_queue_count(const struct xm_port *p)
{
	return p ? p->p_nq : 0;
}

uint32_t xm_port_queue_id(const struct xm_port *p, unsigned int qidx)
{
	if (p == NULL || qidx >= p->p_nq)
		return UINT32_MAX;
	return p->p_q[qidx].q_queue_id;
}

int xm_port_ifindex(const struct xm_port *p)
{
	return p ? p->p_ifindex : -EINVAL;
}

const char *xm_port_name(const struct xm_port *p)
{
	return p ? p->p_name : NULL;
}

enum xm_port_mode xm_port_mode(const struct xm_port *p)
{
	return p ? p->p_mode : XM_PORT_MODE_AUTO;
}

const char *xm_port_mode_name(enum xm_port_mode mode)
{
	switch (mode) {
	case XM_PORT_MODE_AUTO:
		return "auto";
	case XM_PORT_MODE_ZEROCOPY:
		return "zero-copy";
	case XM_PORT_MODE_COPY:
		return "copy";
	case XM_PORT_MODE_SKB:
		return "skb";
	}
	return "?";
}

bool xm_port_multi_buffer(const struct xm_port *p)
{
	return p && p->p_sg;
}

bool _xm_port_need_wakeup(const struct xm_port *p)
{
	return p && p->p_need_wakeup;
}

uint32_t xm_port_mtu(const struct xm_port *p)
{
	return p ? p->p_mtu : 0;
}

uint32_t xm_port_tx_budget(const struct xm_port *p)
{
	if (p == NULL || !p->p_tx || p->p_mode == XM_PORT_MODE_ZEROCOPY)
		return 0;
	return p->p_tx_budget;
}

struct xm_umem *xm_port_umem(const struct xm_port *p)
{
	return p ? p->p_umem : NULL;
}

uint16_t xm_port_index(const struct xm_port *p)
{
	return p ? p->p_index : 0;
}

bool _xm_port_has_prog(const struct xm_port *p)
{
	return p && p->p_has_prog;
}

bool _xm_port_prog_multi(const struct xm_port *p)
{
	return p && p->p_has_prog && p->p_xdp.x_multi;
}

/* ---------------------------------------------------------- statistics */

static void xm_queue_stats(struct xm_port_queue *q, struct xm_port_stats *st)
{
	struct xm_xdp_statistics xs;
	socklen_t optlen = sizeof(xs);

	st->rx_packets += q->q_rx_packets;
	st->rx_bytes += q->q_rx_bytes;
	st->rx_descs += q->q_rx_descs;
	st->rx_dropped_sw += q->q_rx_dropped_sw;
	st->tx_packets += q->q_tx_packets;
	st->tx_bytes += q->q_tx_bytes;
	st->tx_descs += q->q_tx_descs;
	st->tx_copied += q->q_tx_copied;
	st->tx_dropped += q->q_tx_dropped;
	st->tx_completions += q->q_tx_completions;
	st->tx_wakeups += q->q_tx_wakeups;
	st->rx_wakeups += q->q_rx_wakeups;
	st->fill_added += q->q_fill_added;
	st->fill_recycled += q->q_fill_recycled;
	st->fill_starved += q->q_fill_starved;
	st->fill_reserve += q->q_fill_reserve;

	memset(&xs, 0, sizeof(xs));
	if (getsockopt(q->q_fd, SOL_XDP, XDP_STATISTICS, &xs, &optlen) == 0) {
		st->rx_dropped += xs.rx_dropped;
		st->rx_invalid_descs += xs.rx_invalid_descs;
		st->tx_invalid_descs += xs.tx_invalid_descs;
		st->rx_ring_full += xs.rx_ring_full;
		st->rx_fill_ring_empty_descs += xs.rx_fill_ring_empty_descs;
		st->tx_ring_empty_descs += xs.tx_ring_empty_descs;
	}
	if (q->q_rx.r_map)
		st->rx_ring_used += xm_load_acquire(q->q_rx.r_producer) -
				    q->q_rx.r_cached_cons;
	if (q->q_fill.r_map)
		st->fill_ring_used += q->q_fill.r_cached_prod -
				      xm_load_acquire(q->q_fill.r_consumer);
	if (q->q_tx.r_map)
		st->tx_ring_used += q->q_tx.r_cached_prod -
				    xm_load_acquire(q->q_tx.r_consumer);
	if (q->q_comp.r_map)
		st->comp_ring_used += xm_load_acquire(q->q_comp.r_producer) -
				      q->q_comp.r_cached_cons;
	st->frames_lent += q->q_lent_cnt + (q->q_fifo_tail - q->q_fifo_head);
}

int xm_port_queue_stats(struct xm_port *p, unsigned int qidx,
			struct xm_port_stats *st)
{
	if (p == NULL || st == NULL || qidx >= p->p_nq)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	xm_queue_stats(&p->p_q[qidx], st);
	return p->p_has_prog ? _xm_xdp_stats(&p->p_xdp, st) : 0;
}

int xm_port_stats(struct xm_port *p, struct xm_port_stats *st)
{
	if (p == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < p->p_nq; i++)
		xm_queue_stats(&p->p_q[i], st);
	return p->p_has_prog ? _xm_xdp_stats(&p->p_xdp, st) : 0;
}

/* --------------------------------------------------------------- rules */

int xm_port_rule_add(struct xm_port *p, const struct xm_port_rule *r)
{
	if (p == NULL || r == NULL)
		return -EINVAL;
	if (!p->p_has_prog)
		return -EOPNOTSUPP;
	return _xm_xdp_rule_add(&p->p_xdp, r);
}

int xm_port_rule_replace(struct xm_port *p, const struct xm_port_rule *rules,
			 unsigned int n)
{
	if (p == NULL || (rules == NULL && n))
		return -EINVAL;
	if (!p->p_has_prog)
		return -EOPNOTSUPP;
	return _xm_xdp_rule_replace(&p->p_xdp, rules, n);
}

int xm_port_rule_clear(struct xm_port *p)
{
	if (p == NULL)
		return -EINVAL;
	if (!p->p_has_prog)
		return -EOPNOTSUPP;
	return _xm_xdp_rule_clear(&p->p_xdp);
}

int xm_port_rule_all(struct xm_port *p)
{
	if (p == NULL)
		return -EINVAL;
	if (!p->p_has_prog)
		return -EOPNOTSUPP;
	return _xm_xdp_rule_all(&p->p_xdp);
}

unsigned int xm_port_rule_count(const struct xm_port *p)
{
	return p && p->p_has_prog ? p->p_xdp.x_set.nrules : 0;
}

bool xm_port_rule_steers_all(const struct xm_port *p)
{
	return p && p->p_has_prog &&
	       (p->p_xdp.x_set.flags & XM_XDP_SET_ALL) != 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xdp_rule_int.h - a steering rule as the redirect program reads it
 * (xdp_rule.c).  Apart from xm_port_int.h so that code which also
 * includes libpcap (whose bpf.h clashes with linux/bpf.h) can use it: the
 * capture filter's differential test and fuzz target.
 */
#ifndef XDP_RULE_INT_H
#define XDP_RULE_INT_H

#include <stddef.h>

#include <linux/types.h>

#include "xm_common_int.h"
#include "xm_port.h"
#include "../bpf/xm_redirect_shared.h"

/*
 * Checks r and writes it as the program reads it (pure: no maps, no
 * printing).  @return 0, or -EINVAL with the reason in why.
 */
XM_HIDDEN int _xm_xdp_rule_encode(const struct xm_port_rule *r,
				  struct xm_xdp_rule *kr, char *why,
				  size_t whylen);

#endif /* XDP_RULE_INT_H */

// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_redirect.bpf.c - the XDP side of an xmbuf port: steer matching
 * packets into the AF_XDP socket of their RX queue, let the rest through.
 *
 *   packet --> seen++ --> rule set? --"all" set------------+
 *                           |                              |
 *                           +-- first match i: hits[i]++ --+--> metadata
 *                           |                                      |
 *                           +-- no match, no rule, no set:         |
 *                               passed++, XDP_PASS                 v
 *              bpf_redirect_map(xsks, rx_queue, XDP_PASS)
 *                 socket bound: redirected++   none: no_socket++ (stack)
 *
 * The XDP_PASS default of bpf_redirect_map is what keeps a queue without
 * a socket (a port not opened yet, a process that died) reachable: the
 * program never drops.
 *
 * The rule set is one value in an inner map reached through the
 * array-of-maps "xm_rules" (struct xm_xdp_ruleset): userspace replaces
 * it whole, so the program sees the old set or the new one, never a
 * mixture, and an empty set steers nothing.  Steering everything is a
 * flag of the set (XM_XDP_SET_ALL), never the absence of rules.
 *
 * Metadata (struct xm_xdp_meta, bpf/xm_redirect_shared.h) goes in front
 * of the packet through bpf_xdp_adjust_meta: a receive timestamp and the
 * RSS hash.  The driver's values come from the metadata kfuncs, which the
 * verifier accepts only in a device-bound program; so this file builds
 * four objects from bpf/xm_redirect_prog.h, selected by macros:
 *
 *   xm_redirect.bpf.c           SEC("xdp")        ktime timestamp only
 *   xm_redirect_frags.bpf.c     SEC("xdp.frags")  same, multi-buffer
 *   xm_redirect_kf.bpf.c        SEC("xdp")        kfuncs (dev-bound)
 *   xm_redirect_kf_frags.bpf.c  SEC("xdp.frags")  kfuncs, multi-buffer
 *
 * The plain builds can run under libxdp's dispatcher (an freplace target
 * cannot be device-bound); the kfunc builds only as a single program.
 * Every program name starts with "xm_redirect": that is how a later
 * process recognises a program left behind by one that died.
 */
#include "xm_redirect_prog.h"

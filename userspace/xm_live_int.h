/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xm_live_int.h - live.c's hidden calls, for tests.  Not installed.
 */
#ifndef XM_LIVE_INT_H
#define XM_LIVE_INT_H

#include "xm_common_int.h"
#include "xm_live.h"

/* The interface index frames go out of; -EINVAL for NULL. */
XM_HIDDEN int _xm_live_ifindex(const struct xm_live *l);

#endif /* XM_LIVE_INT_H */

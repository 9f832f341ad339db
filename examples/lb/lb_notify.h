/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lb_notify.h - telling systemd how the balancer is doing (sd_notify:
 * READY, RELOADING, STOPPING, STATUS).  Model in lb_notify.c.
 */
#ifndef LB_NOTIFY_H
#define LB_NOTIFY_H

#include <stdbool.h>

/** True when a service manager listens (NOTIFY_SOCKET is set). */
bool lb_notify_supervised(void);
/** READY=1 with a STATUS= line (printf-style). */
void lb_notify_ready(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/** RELOADING=1 (with MONOTONIC_USEC=, as systemd 253 asks). */
void lb_notify_reloading(void);
/** STOPPING=1. */
void lb_notify_stopping(void);

#endif /* LB_NOTIFY_H */

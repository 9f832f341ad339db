// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_notify.c - the balancer's side of systemd's notify protocol, through
 * libsystemd's sd_notify() (the unit is examples/lb/xmbuf-lb@.service,
 * Type=notify):
 *
 *   start: configuration good, port open, rules in, workers running
 *          -> READY=1, STATUS=<services, generation>
 *   SIGHUP -> RELOADING=1 + MONOTONIC_USEC=; the reload's verdict
 *          -> READY=1, STATUS=<generation, or why it was refused>
 *   stop   -> STOPPING=1 (then the teardown: drain, detach, audit)
 *
 * So `systemctl start` returns once traffic is balanced, not when the
 * process exists, and `systemctl reload` once the new configuration is
 * in force or refused (ExecReload= sends SIGHUP).  Outside systemd
 * (NOTIFY_SOCKET unset) each call is a no-op in libsystemd.  A failed
 * notification is not the balancer's business: ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "lb_notify.h"

bool lb_notify_supervised(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s != NULL && s[0] != '\0';
}

void lb_notify_ready(const char *fmt, ...)
{
	char status[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void lb_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			 (unsigned long long)ts.tv_sec * 1000000ull +
			 (unsigned long long)ts.tv_nsec / 1000ull);
}

void lb_notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

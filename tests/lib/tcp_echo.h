/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcp_echo.h - real TCP through the balancer, for the suites that need
 * the kernel's own stacks at both ends (checksum offloads, restarts,
 * failover): an echo server in backend namespaces and a client in the
 * client's namespace.
 *
 *   server: one thread, one poll loop over every listener and
 *           connection; a new connection is greeted with "B<k>\n" (k the
 *           listener's id: which backend took it), then every byte it
 *           sends comes back.
 *   client: blocking sockets with timeouts; xm_tcpe_connect() returns
 *           once the greeting is read, so a connection counts only when
 *           the whole path (client -> balancer -> backend -> client)
 *           worked.
 *
 * Functions return 0, a count or -errno; none aborts, so a test decides
 * what is fatal and a .fini can always clean up.
 */
#ifndef XM_TEST_TCP_ECHO_H
#define XM_TEST_TCP_ECHO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.h"

#define XM_TCPE_LISTEN_MAX	8
#define XM_TCPE_CONN_MAX	1024
#define XM_TCPE_BUF		65536

struct xm_tcpe_conn {
	int fd;				/* -1: free */
	uint32_t off, len;		/* pending echo in buf */
	uint8_t *buf;
};

struct xm_tcpe_srv {
	int lfd[XM_TCPE_LISTEN_MAX];	/* listeners, -1 when none */
	int id[XM_TCPE_LISTEN_MAX];	/* greeting digit of each */
	unsigned int nlisten;
	struct xm_tcpe_conn conn[XM_TCPE_CONN_MAX];
	pthread_t thread;
	bool running;
	volatile bool stop;
	volatile uint64_t accepted;	/* connections taken, all listeners */
};

/** Zeroes srv (every fd -1). */
void xm_tcpe_srv_init(struct xm_tcpe_srv *srv);
/**
 * Adds a listener on addr:port (IPv4, network order addr) inside ns,
 * greeting with id (0..9).  Before xm_tcpe_srv_start() only.
 */
int xm_tcpe_srv_listen(struct xm_tcpe_srv *srv, const struct xm_netns *ns,
		       uint32_t addr, uint16_t port, int id);
/** Starts the thread. */
int xm_tcpe_srv_start(struct xm_tcpe_srv *srv);
/** Stops the thread, closes everything.  Safe after a partial start. */
void xm_tcpe_srv_stop(struct xm_tcpe_srv *srv);

/**
 * Connects from ns (NULL: here) to addr:port within timeout_ms, reads
 * the greeting, sets timeout_ms as the socket's read and write timeout.
 * @return the fd, with *id the greeting's digit; or -errno (-ECONNRESET,
 * -ECONNREFUSED: reset; -ETIMEDOUT).
 */
int xm_tcpe_connect(const struct xm_netns *ns, uint32_t addr, uint16_t port,
		    int timeout_ms, int *id);
/**
 * Sends len bytes (a pattern from seed) and reads them back, in chunks
 * of at most XM_TCPE_BUF / 2.  @return 0, -EPROTO when what came back
 * differs, or -errno.
 */
int xm_tcpe_echo(int fd, size_t len, uint32_t seed);

#endif /* XM_TEST_TCP_ECHO_H */

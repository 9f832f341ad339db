// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_echo.c - the TCP echo server and client of the balancer suites
 * (model in tcp_echo.h).
 *
 * The server never blocks: a connection with an echo pending is polled
 * for POLLOUT only, and read again once it is flushed, so a client that
 * stops reading stalls its own connection and no other.
 *
 * KPI: xm_tcpe_srv_init, xm_tcpe_srv_listen, xm_tcpe_srv_start,
 *      xm_tcpe_srv_stop, xm_tcpe_connect, xm_tcpe_echo
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tcp_echo.h"

void xm_tcpe_srv_init(struct xm_tcpe_srv *srv)
{
	memset(srv, 0, sizeof(*srv));
	for (int i = 0; i < XM_TCPE_LISTEN_MAX; i++)
		srv->lfd[i] = -1;
	for (int i = 0; i < XM_TCPE_CONN_MAX; i++)
		srv->conn[i].fd = -1;
}

int xm_tcpe_srv_listen(struct xm_tcpe_srv *srv, const struct xm_netns *ns,
		       uint32_t addr, uint16_t port, int id)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = addr };
	int saved, fd, one = 1, err = 0;

	if (srv->nlisten == XM_TCPE_LISTEN_MAX)
		return -ENOSPC;
	err = xm_netns_enter(ns, &saved);
	if (err)
		return err;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = -errno;
	xm_netns_leave(saved);
	if (err)
		return err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1024) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	srv->lfd[srv->nlisten] = fd;
	srv->id[srv->nlisten] = id;
	srv->nlisten++;
	return 0;
}

static void conn_close(struct xm_tcpe_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->off = c->len = 0;
}

/* Writes what is pending.  @return false when the connection is gone. */
static bool conn_flush(struct xm_tcpe_conn *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		c->off += (uint32_t)n;
	}
	c->off = c->len = 0;
	return true;
}

static void srv_accept(struct xm_tcpe_srv *srv, int li)
{
	for (;;) {
		int fd = accept4(srv->lfd[li], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct xm_tcpe_conn *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < XM_TCPE_CONN_MAX; i++)
			if (srv->conn[i].fd < 0) {
				c = &srv->conn[i];
				break;
			}
		if (!c || (!c->buf && !(c->buf = malloc(XM_TCPE_BUF)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->buf[0] = 'B';
		c->buf[1] = (uint8_t)('0' + srv->id[li]);
		c->buf[2] = '\n';
		c->off = 0;
		c->len = 3;
		srv->accepted++;
		if (!conn_flush(c))
			conn_close(c);
	}
}

static void *srv_main(void *arg)
{
	struct xm_tcpe_srv *srv = arg;
	static __thread struct pollfd p[XM_TCPE_LISTEN_MAX + XM_TCPE_CONN_MAX];
	static __thread int who[XM_TCPE_CONN_MAX];

	while (!srv->stop) {
		nfds_t n = 0;
		int nc = 0;

		for (unsigned int i = 0; i < srv->nlisten; i++) {
			p[n].fd = srv->lfd[i];
			p[n++].events = POLLIN;
		}
		for (int i = 0; i < XM_TCPE_CONN_MAX; i++) {
			struct xm_tcpe_conn *c = &srv->conn[i];

			if (c->fd < 0)
				continue;
			p[n].fd = c->fd;
			p[n].events = c->len ? POLLOUT : POLLIN;
			who[nc++] = i;
			n++;
		}
		if (poll(p, n, 100) <= 0)
			continue;
		for (unsigned int i = 0; i < srv->nlisten; i++)
			if (p[i].revents & POLLIN)
				srv_accept(srv, (int)i);
		for (int k = 0; k < nc; k++) {
			struct pollfd *q = &p[srv->nlisten + (unsigned int)k];
			struct xm_tcpe_conn *c = &srv->conn[who[k]];
			ssize_t r;

			if (!q->revents)
				continue;
			if (c->len) {
				if (!conn_flush(c))
					conn_close(c);
				continue;
			}
			r = recv(c->fd, c->buf, XM_TCPE_BUF, MSG_DONTWAIT);
			if (r <= 0) {
				if (r == 0 || (errno != EAGAIN &&
					       errno != EWOULDBLOCK))
					conn_close(c);
				continue;
			}
			c->off = 0;
			c->len = (uint32_t)r;
			if (!conn_flush(c))
				conn_close(c);
		}
	}
	return NULL;
}

int xm_tcpe_srv_start(struct xm_tcpe_srv *srv)
{
	int err;

	srv->stop = false;
	err = pthread_create(&srv->thread, NULL, srv_main, srv);
	if (err)
		return -err;
	srv->running = true;
	return 0;
}

void xm_tcpe_srv_stop(struct xm_tcpe_srv *srv)
{
	if (srv->running) {
		srv->stop = true;
		pthread_join(srv->thread, NULL);
		srv->running = false;
	}
	for (int i = 0; i < XM_TCPE_CONN_MAX; i++) {
		if (srv->conn[i].fd >= 0)
			conn_close(&srv->conn[i]);
		free(srv->conn[i].buf);
		srv->conn[i].buf = NULL;
	}
	for (unsigned int i = 0; i < srv->nlisten; i++)
		if (srv->lfd[i] >= 0) {
			close(srv->lfd[i]);
			srv->lfd[i] = -1;
		}
	srv->nlisten = 0;
}

/* ------------------------------------------------------------- client */

static int set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* Reads exactly len bytes.  @return 0 or -errno (-ECONNRESET at EOF). */
static int read_all(int fd, uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, buf, len, 0);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			       -ETIMEDOUT : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int xm_tcpe_connect(const struct xm_netns *ns, uint32_t addr, uint16_t port,
		    int timeout_ms, int *id)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = addr };
	struct pollfd p;
	uint8_t hello[3];
	int fd, saved = -1, err = 0, one = 1;
	socklen_t el = sizeof(err);

	if (ns) {
		err = xm_netns_enter(ns, &saved);
		if (err)
			return err;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = -errno;
	if (ns)
		xm_netns_leave(saved);
	if (err)
		return err;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		err = -errno;
		goto out_fd;
	}
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, timeout_ms) != 1) {
		err = -ETIMEDOUT;
		goto out_fd;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		err = err ? -err : -errno;
		goto out_fd;
	}
	if (fcntl(fd, F_SETFL, 0) < 0 || (err = set_timeouts(fd, timeout_ms)))
		goto out_fd;
	err = read_all(fd, hello, sizeof(hello));
	if (err)
		goto out_fd;
	if (hello[0] != 'B' || hello[2] != '\n') {
		err = -EPROTO;
		goto out_fd;
	}
	*id = hello[1] - '0';
	return fd;
out_fd:
	close(fd);
	return err;
}

int xm_tcpe_echo(int fd, size_t len, uint32_t seed)
{
	static __thread uint8_t out[XM_TCPE_BUF / 2], in[XM_TCPE_BUF / 2];
	uint32_t x = seed * 2654435761u + 1;

	while (len) {
		size_t n = len < sizeof(out) ? len : sizeof(out);
		ssize_t w;
		int err;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			out[i] = (uint8_t)(x >> 16);
		}
		for (size_t done = 0; done < n; done += (size_t)w) {
			w = send(fd, out + done, n - done, MSG_NOSIGNAL);
			if (w < 0)
				return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		err = read_all(fd, in, n);
		if (err)
			return err;
		if (memcmp(in, out, n))
			return -EPROTO;
		len -= n;
	}
	return 0;
}

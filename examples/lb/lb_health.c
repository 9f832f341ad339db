// SPDX-License-Identifier: BSD-2-Clause
/*
 * lb_health.c - the health checks (model in lb_health.h).
 *
 * One thread, one poll() over the checks in progress and an eventfd
 * that sync and stop use to wake it.  Every socket is non-blocking, and
 * a check's time limit is enforced by the loop, so no check waits on
 * another and none blocks anything but this thread.  The targets and
 * their states sit under one mutex, taken around each pass of the loop
 * and by the readers (lb_health_down(), lb_health_info()): never across
 * the poll.  A sync replaces the targets while the thread polls; the
 * thread notices by the epoch and does not apply events it polled for
 * the old array.
 *
 * KPI:
 *   lb_health_start(), lb_health_stop(), lb_health_sync()
 *   lb_health_down(), lb_health_info(), lb_health_transitions()
 *   lb_health_step(), lb_health_http_status()   (pure, unit-tested)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lb_health.h"

#define NS_PER_MS		1000000ull
#define LB_HEALTH_MAX_WAIT_MS	1000	/* longest poll, whatever is due */
#define LB_HEALTH_STAGGER_MS	1000	/* first checks spread over this */

enum phase {
	PH_IDLE = 0,			/* waiting for due_ns */
	PH_CONNECT,			/* connect() in progress */
	PH_READ,			/* HTTP: request sent, reading */
};

struct target {
	uint32_t id;			/* backend's stable id */
	uint8_t family;			/* 4 or 6 */
	union xm_pkt_addr addr;		/* backend */
	uint16_t port;			/* checked port */
	struct lb_health h;		/* the service's check */
	char name[64];			/* "198.18.1.12:80" */
	char svc[80];			/* "198.18.2.1:80/tcp" */
	struct lb_hstate st;		/* up / down, runs */
	struct lb_health_info info;	/* counters, last reason */
	/* the check in progress */
	uint8_t phase;			/* enum phase */
	int fd;				/* -1 when idle */
	uint64_t due_ns;		/* next check starts */
	uint64_t deadline_ns;		/* this one fails */
	char *resp;			/* HTTP: LB_HEALTH_RESP_MAX bytes */
	uint32_t resp_len;
};

struct lb_health_mon {
	pthread_t thread;
	bool started;			/* thread created */
	pthread_mutex_t lock;		/* targets, epoch */
	atomic_bool stop;
	atomic_uint_fast64_t transitions;
	int wake_fd;			/* eventfd: sync, stop */
	struct target *t;		/* sorted by id */
	uint32_t n;
	uint32_t inflight;		/* targets not idle */
	uint64_t epoch;			/* bumped by each sync */
};

/* ------------------------------------------------------------- pure */

bool lb_health_step(struct lb_hstate *s, bool ok, uint32_t rise,
		    uint32_t fall)
{
	if (ok) {
		s->hs_fail_run = 0;
		s->hs_ok_run++;
		if (!s->hs_up && s->hs_ok_run >= rise) {
			s->hs_up = true;
			return true;
		}
	} else {
		s->hs_ok_run = 0;
		s->hs_fail_run++;
		if (s->hs_up && s->hs_fail_run >= fall) {
			s->hs_up = false;
			return true;
		}
	}
	return false;
}

int lb_health_http_status(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	int code = 0;
	size_t i;

	/* "HTTP/" DIGIT "." DIGIT SP 3DIGIT (RFC 9112 4); HTTP/1.0 and
	 * 1.1 only, what a GET with HTTP/1.0 may get back. */
	if (len >= 5 && memcmp(buf, "HTTP/", 5))
		return -EINVAL;
	if (len < 5 && memcmp(buf, "HTTP/", len))
		return -EINVAL;
	if (nl == NULL)
		return len >= LB_HEALTH_RESP_MAX ? -EINVAL : -EAGAIN;
	len = (size_t)(nl - buf);
	if (len < 12 || buf[5] != '1' || buf[6] != '.' ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
		return -EINVAL;
	for (i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		code = code * 10 + (buf[i] - '0');
	}
	if (len > 12 && buf[12] != ' ' && buf[12] != '\r')
		return -EINVAL;
	return code >= 100 && code <= 599 ? code : -EINVAL;
}

/* ----------------------------------------------------------- checks */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void close_check(struct lb_health_mon *m, struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->resp);
	t->resp = NULL;
	t->resp_len = 0;
	if (t->phase != PH_IDLE)
		m->inflight--;
	t->phase = PH_IDLE;
}

/* The check ended: count, step, log a change once, schedule the next. */
static void finish(struct lb_health_mon *m, struct target *t, bool ok,
		   const char *reason, uint64_t now)
{
	uint32_t run;

	close_check(m, t);
	t->info.hi_checks++;
	t->info.hi_failures += !ok;
	snprintf(t->info.hi_reason, sizeof(t->info.hi_reason), "%s", reason);
	if (lb_health_step(&t->st, ok, t->h.h_rise, t->h.h_fall)) {
		t->info.hi_transitions++;
		t->info.hi_up = t->st.hs_up;
		run = ok ? t->st.hs_ok_run : t->st.hs_fail_run;
		fprintf(stderr, "xmbuf-lb: %s %s: %s %u/%u (%s)\n", t->name,
			ok ? "up" : "down", reason, run,
			ok ? t->h.h_rise : t->h.h_fall, t->svc);
		atomic_fetch_add(&m->transitions, 1);
	}
	/* On the interval's grid, unless the check ran past it. */
	t->due_ns += (uint64_t)t->h.h_interval_ms * NS_PER_MS;
	if (t->due_ns < now)
		t->due_ns = now;
}

static void fail_errno(struct lb_health_mon *m, struct target *t,
		       const char *what, int err, uint64_t now)
{
	char reason[LB_HEALTH_REASON];

	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(err));
	finish(m, t, false, reason, now);
}

/* Connected: a TCP check is done; an HTTP one sends its request. */
static void connected(struct lb_health_mon *m, struct target *t,
		      uint64_t now)
{
	char req[LB_HEALTH_PATH_MAX + 160], host[INET6_ADDRSTRLEN];
	int len;
	ssize_t n;

	if (t->h.h_kind == LB_HEALTH_TCP) {
		finish(m, t, true, "connect ok", now);
		return;
	}
	inet_ntop(t->family == 4 ? AF_INET : AF_INET6, &t->addr, host,
		  sizeof(host));
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s%s%s\r\n"
		       "User-Agent: xmbuf-lb\r\nConnection: close\r\n\r\n",
		       t->h.h_path, t->family == 6 ? "[" : "", host,
		       t->family == 6 ? "]" : "");
	t->resp = malloc(LB_HEALTH_RESP_MAX);
	if (t->resp == NULL) {
		fail_errno(m, t, "http", ENOMEM, now);
		return;
	}
	/* A fresh socket's send buffer takes a few hundred bytes whole. */
	n = send(t->fd, req, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n != len) {
		fail_errno(m, t, "http send", n < 0 ? errno : EAGAIN, now);
		return;
	}
	t->phase = PH_READ;
}

static void start_check(struct lb_health_mon *m, struct target *t,
			uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (t->family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		s4->sin_addr.s_addr = t->addr.a_v4;
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		memcpy(&s6->sin6_addr, t->addr.a_v6, 16);
		sl = sizeof(*s6);
	}
	t->fd = socket(t->family == 4 ? AF_INET : AF_INET6,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	t->phase = PH_CONNECT;
	m->inflight++;
	t->deadline_ns = now + (uint64_t)t->h.h_timeout_ms * NS_PER_MS;
	if (t->fd < 0) {
		fail_errno(m, t, "socket", errno, now);
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&ss, sl) == 0)
		connected(m, t, now);
	else if (errno != EINPROGRESS)
		fail_errno(m, t, "connect", errno, now);
}

/* poll() said something about t's socket. */
static void on_event(struct lb_health_mon *m, struct target *t,
		     short revents, uint64_t now)
{
	char reason[LB_HEALTH_REASON];
	int err = 0, code;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (t->phase == PH_CONNECT) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err)
			fail_errno(m, t, "connect", err, now);
		else if (revents & (POLLOUT | POLLERR | POLLHUP))
			connected(m, t, now);
		return;
	}
	n = recv(t->fd, t->resp + t->resp_len,
		 LB_HEALTH_RESP_MAX - t->resp_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail_errno(m, t, "http recv", errno, now);
		return;
	}
	t->resp_len += (uint32_t)n;
	code = lb_health_http_status(t->resp, t->resp_len);
	if (code == -EAGAIN && n > 0 && t->resp_len < LB_HEALTH_RESP_MAX)
		return;
	if (code < 0) {
		finish(m, t, false, code == -EAGAIN ? "http: no status line" :
		       "http: not an HTTP response", now);
		return;
	}
	snprintf(reason, sizeof(reason), "http status %d", code);
	finish(m, t, code == t->h.h_expect, reason, now);
}

static void *health_main(void *arg)
{
	struct lb_health_mon *m = arg;
	struct pollfd pfd[LB_HEALTH_INFLIGHT + 1];
	uint32_t idx[LB_HEALTH_INFLIGHT];

	while (!atomic_load(&m->stop)) {
		uint64_t now = mono_ns(), next, epoch;
		int k = 0, wait_ms, ready;

		pthread_mutex_lock(&m->lock);
		next = now + (uint64_t)LB_HEALTH_MAX_WAIT_MS * NS_PER_MS;
		for (uint32_t i = 0; i < m->n; i++) {
			struct target *t = &m->t[i];

			if (t->phase == PH_IDLE && t->due_ns <= now &&
			    m->inflight < LB_HEALTH_INFLIGHT)
				start_check(m, t, now);
			if (t->phase != PH_IDLE && t->deadline_ns <= now)
				finish(m, t, false, t->phase == PH_CONNECT ?
				       "connect timeout" : "http timeout", now);
			if (t->phase != PH_IDLE) {
				pfd[k].fd = t->fd;
				pfd[k].events = t->phase == PH_CONNECT ?
						POLLOUT : POLLIN;
				pfd[k].revents = 0;
				idx[k++] = i;
				if (t->deadline_ns < next)
					next = t->deadline_ns;
			} else if (t->due_ns < next &&
				   m->inflight < LB_HEALTH_INFLIGHT) {
				next = t->due_ns;
			}
		}
		epoch = m->epoch;
		pthread_mutex_unlock(&m->lock);

		pfd[k].fd = m->wake_fd;
		pfd[k].events = POLLIN;
		pfd[k].revents = 0;
		wait_ms = next > now ? (int)((next - now + NS_PER_MS - 1) /
					     NS_PER_MS) : 0;
		ready = poll(pfd, (nfds_t)k + 1, wait_ms);
		if (ready <= 0)
			continue;
		if (pfd[k].revents & POLLIN) {
			uint64_t v;

			if (read(m->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
		}
		pthread_mutex_lock(&m->lock);
		now = mono_ns();
		/* A sync replaced the array: these events are the old one's. */
		if (epoch == m->epoch)
			for (int i = 0; i < k; i++)
				if (pfd[i].revents &&
				    m->t[idx[i]].phase != PH_IDLE)
					on_event(m, &m->t[idx[i]],
						 pfd[i].revents, now);
		pthread_mutex_unlock(&m->lock);
	}
	return NULL;
}

/* -------------------------------------------------------------- API */

static void wake(struct lb_health_mon *m)
{
	uint64_t one = 1;

	if (write(m->wake_fd, &one, sizeof(one)) < 0)
		return;		/* the counter is full: it is awake anyway */
}

struct lb_health_mon *lb_health_start(void)
{
	struct lb_health_mon *m = calloc(1, sizeof(*m));
	int e;

	if (m == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->stop, false);
	atomic_init(&m->transitions, 0);
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake_fd < 0) {
		e = errno;
		goto out_free;
	}
	e = pthread_create(&m->thread, NULL, health_main, m);
	if (e)
		goto out_fd;
	m->started = true;
	return m;

out_fd:
	close(m->wake_fd);
out_free:
	pthread_mutex_destroy(&m->lock);
	free(m);
	errno = e;
	return NULL;
}

void lb_health_stop(struct lb_health_mon *m)
{
	if (m == NULL)
		return;
	atomic_store(&m->stop, true);
	wake(m);
	if (m->started)
		pthread_join(m->thread, NULL);
	for (uint32_t i = 0; i < m->n; i++)
		close_check(m, &m->t[i]);
	free(m->t);
	close(m->wake_fd);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int cmp_target(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static bool same_check(const struct target *a, const struct target *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr)) &&
	       a->h.h_kind == b->h.h_kind &&
	       a->h.h_expect == b->h.h_expect &&
	       a->h.h_interval_ms == b->h.h_interval_ms &&
	       a->h.h_timeout_ms == b->h.h_timeout_ms &&
	       a->h.h_rise == b->h.h_rise && a->h.h_fall == b->h.h_fall &&
	       !strcmp(a->h.h_path, b->h.h_path);
}

int lb_health_sync(struct lb_health_mon *m, const struct lb_config *c)
{
	struct target *nt;
	uint32_t n = 0, k = 0;
	uint64_t now = mono_ns();

	for (uint32_t vi = 0; vi < c->c_nvips; vi++)
		if (c->c_vips[vi].v_health.h_kind != LB_HEALTH_NONE)
			n += c->c_vips[vi].v_nbe;
	nt = calloc(n ? n : 1, sizeof(*nt));
	if (nt == NULL)
		return -ENOMEM;
	for (uint32_t vi = 0; vi < c->c_nvips; vi++) {
		const struct lb_vip *v = &c->c_vips[vi];
		char a[INET6_ADDRSTRLEN];

		if (v->v_health.h_kind == LB_HEALTH_NONE)
			continue;
		for (uint32_t b = 0; b < v->v_nbe; b++) {
			const struct lb_backend *be = &v->v_be[b];
			struct target *t = &nt[k];

			t->id = be->be_id;
			t->family = be->be_family;
			t->addr = be->be_addr;
			t->h = v->v_health;
			t->port = t->h.h_port ? t->h.h_port : v->v_port;
			lb_addr_name(be->be_family, &be->be_addr, a,
				     sizeof(a));
			snprintf(t->name, sizeof(t->name),
				 t->family == 4 ? "%s:%u" : "[%s]:%u", a,
				 t->port);
			lb_vip_name(v, t->svc, sizeof(t->svc));
			t->st.hs_up = true;
			t->info.hi_up = true;
			snprintf(t->info.hi_reason, sizeof(t->info.hi_reason),
				 "not checked yet");
			t->fd = -1;
			/* Spread the first checks over a second (or the
			 * interval, if shorter). */
			t->due_ns = now + (uint64_t)k * NS_PER_MS *
				    (t->h.h_interval_ms < LB_HEALTH_STAGGER_MS ?
				     t->h.h_interval_ms : LB_HEALTH_STAGGER_MS) /
				    (n ? n : 1);
			k++;
		}
	}
	qsort(nt, n, sizeof(*nt), cmp_target);

	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < n; i++) {
		struct target *t = &nt[i], *o;

		o = m->n ? bsearch(t, m->t, m->n, sizeof(*t), cmp_target)
			 : NULL;
		if (o == NULL || !same_check(o, t))
			continue;
		/* Same backend, same check: its state, turn and any check in
		 * progress move over (the old entry forgets them). */
		t->st = o->st;
		t->info = o->info;
		t->phase = o->phase;
		t->fd = o->fd;
		t->due_ns = o->due_ns;
		t->deadline_ns = o->deadline_ns;
		t->resp = o->resp;
		t->resp_len = o->resp_len;
		o->phase = PH_IDLE;
		o->fd = -1;
		o->resp = NULL;
	}
	for (uint32_t i = 0; i < m->n; i++)
		close_check(m, &m->t[i]);
	free(m->t);
	m->t = nt;
	m->n = n;
	m->inflight = 0;
	for (uint32_t i = 0; i < n; i++)
		m->inflight += nt[i].phase != PH_IDLE;
	m->epoch++;
	pthread_mutex_unlock(&m->lock);
	wake(m);
	return 0;
}

static struct target *find(struct lb_health_mon *m, uint32_t id)
{
	struct target k = { .id = id };

	return m->n ? bsearch(&k, m->t, m->n, sizeof(k), cmp_target) : NULL;
}

bool lb_health_down(struct lb_health_mon *m, uint32_t be_id)
{
	struct target *t;
	bool down;

	pthread_mutex_lock(&m->lock);
	t = find(m, be_id);
	down = t && !t->st.hs_up;
	pthread_mutex_unlock(&m->lock);
	return down;
}

bool lb_health_info(struct lb_health_mon *m, uint32_t be_id,
		    struct lb_health_info *out)
{
	struct target *t;

	pthread_mutex_lock(&m->lock);
	t = find(m, be_id);
	if (t) {
		*out = t->info;
		out->hi_up = t->st.hs_up;
	}
	pthread_mutex_unlock(&m->lock);
	return t != NULL;
}

uint64_t lb_health_transitions(struct lb_health_mon *m)
{
	return atomic_load(&m->transitions);
}

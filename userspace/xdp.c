/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xdp.c - the XDP program of a port: load, attach, steering rules,
 * counters (the kernel half lives in bpf/xm_redirect*.bpf.c).
 *
 * Which build of the program, and how it is attached:
 *
 *   existing program on the interface?
 *     ours (name "xm_redirect*"), owner alive -----------> EBUSY
 *     ours, owner dead (pid gone, zombie or reused) ------> atomic replace
 *         (XDP_FLAGS_REPLACE with the old fd: traffic never goes
 *          without a program; while the dead process's sockets are
 *          gone the old one already passes everything to the stack)
 *     someone else's single program ---------------------> EBUSY
 *     a libxdp dispatcher ---------------------------------> join it
 *   XM_PORT_F_XDP_LINK: our own build through a bpf_link (kfunc build
 *     first), never libxdp; a dead process's program is taken off first
 *   none: libxdp xdp_program__attach() of the plain build
 *     dispatcher loaded: a component (coexists with other programs)
 *     libxdp fell back to a single program (freplace refused, as on the
 *     project's machines): upgrade in place, atomically, to the
 *     device-bound kfunc build when metadata is wanted, so the driver's
 *     RX timestamp and RSS hash reach the mbuf
 *
 * The xdp.frags builds are used when the MTU needs multi-buffer; a
 * program without frags support cannot attach to a veth with a large MTU.
 *
 * Owner identity: the program's "xm_config" map holds the attaching
 * process's pid, pid namespace and start time; a later process reads it
 * through the program's map ids, with no pinning and no files to clean up.
 *
 * Steering rules: the program reads one whole rule set through the
 * array-of-maps "xm_rules" (bpf/xm_redirect_shared.h).  Every change,
 * one rule added or the whole set replaced, builds the next set aside in
 * a new inner map and publishes it with one update of the outer slot:
 *
 *   x_set (what is in force) --copy, edit--> next
 *   next --> new inner map (bpf_map_create + one update)
 *        --> xm_rules[0] = inner        one write: old set or new, never
 *                                       a mixture, never an empty moment
 *   failure anywhere before that write: x_set and the slot unchanged
 *
 * "Steer everything" is a flag of the set (XM_XDP_SET_ALL), the state a
 * port opens in unless it asks for none; a set without rules steers
 * nothing.
 *
 * KPI (hidden, for port.c and port_ctl.c): _xm_xdp_attach, _xm_xdp_detach,
 * _xm_xdp_set_socket, _xm_xdp_rule_add, _xm_xdp_rule_clear,
 * _xm_xdp_rule_replace, _xm_xdp_rule_all, _xm_xdp_stats, _xm_xdp_bpffs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xm_port_int.h"

#include "xm_redirect.skel.h"
#include "xm_redirect_frags.skel.h"
#include "xm_redirect_kf.skel.h"
#include "xm_redirect_kf_frags.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC		0xcafe4a11
#endif
#define XM_BPFFS		"/sys/fs/bpf"
#define XM_PROG_PREFIX		"xm_redirect"

struct xm_xdp_build {
	const char *xb_prog;			/* program name */
	const void *(*xb_elf)(size_t *sz);	/* embedded object */
	bool xb_frags;
	bool xb_kfuncs;
};

static const struct xm_xdp_build xm_builds[] = {
	{ "xm_redirect", xm_redirect_bpf__elf_bytes, false, false },
	{ "xm_redirect_mb", xm_redirect_frags_bpf__elf_bytes, true, false },
	{ "xm_redirect_kf", xm_redirect_kf_bpf__elf_bytes, false, true },
	{ "xm_redirect_kfmb", xm_redirect_kf_frags_bpf__elf_bytes, true, true },
};

static const struct xm_xdp_build *xm_build(bool frags, bool kfuncs)
{
	for (size_t i = 0; i < sizeof(xm_builds) / sizeof(xm_builds[0]); i++)
		if (xm_builds[i].xb_frags == frags &&
		    xm_builds[i].xb_kfuncs == kfuncs)
			return &xm_builds[i];
	return NULL;
}

/*
 * libbpf and libxdp talk a lot (verifier logs, dispatcher probing): route
 * them to our sink at DEBUG while we call them, and put the application's
 * printers back afterwards; our own messages say what went wrong.
 */
static int xm_lib_vprint(const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	_xm_print(XM_PRINT_DEBUG, "%s", buf);
	return 0;
}

static int xm_libbpf_print(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	(void)level;
	return xm_lib_vprint(fmt, ap);
}

static int xm_libxdp_print(enum libxdp_print_level level, const char *fmt,
			   va_list ap)
{
	(void)level;
	return xm_lib_vprint(fmt, ap);
}

struct xm_printers {
	libbpf_print_fn_t bpf;
	libxdp_print_fn_t xdp;
};

static void xm_quiet_libs(struct xm_printers *saved)
{
	saved->bpf = libbpf_set_print(xm_libbpf_print);
	saved->xdp = libxdp_set_print(xm_libxdp_print);
}

static void xm_restore_libs(const struct xm_printers *saved)
{
	libbpf_set_print(saved->bpf);
	libxdp_set_print(saved->xdp);
}

void _xm_xdp_bpffs(void)
{
	struct statfs sfs;

	if (statfs(XM_BPFFS, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return;
	(void)mkdir(XM_BPFFS, 0700);
	if (mount("bpf", XM_BPFFS, "bpf", 0, "mode=0700") != 0)
		xm_pr_info("cannot mount bpffs at %s (%s): libxdp's dispatcher "
			   "needs it; a single program will be attached\n",
			   XM_BPFFS, strerror(errno));
	else
		xm_pr_info("mounted bpffs at %s for libxdp\n", XM_BPFFS);
}

/* ------------------------------------------------------------ ownership */

static uint64_t xm_self_pidns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) != 0)
		return 0;
	return st.st_ino;
}

/* Field 22 of /proc/PID/stat (start time in ticks); 0 when unreadable. */
static uint64_t xm_proc_start_time(pid_t pid, char *state)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: skip past it */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0')
		return 0;
	p += 2;
	if (state)
		*state = *p;
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p == NULL || sscanf(p, "%llu", &start) != 1)
		return 0;
	return start;
}

static void xm_owner_self(struct xm_xdp_owner *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = (uint32_t)getpid();
	o->pidns_ino = xm_self_pidns();
	o->start_time = xm_proc_start_time(getpid(), NULL);
}

/*
 * True when the owner recorded in the program whose fd is prog_fd may
 * still be running (or we cannot tell); *pid gets its pid.
 */
static bool xm_owner_alive(int prog_fd, uint32_t *pid)
{
	struct bpf_prog_info info;
	uint32_t map_ids[16];
	uint32_t len = sizeof(info);
	struct xm_xdp_config cfg;
	struct xm_xdp_owner o;
	bool found = false;
	char state = 0;

	*pid = 0;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
		return true;
	for (uint32_t i = 0; i < info.nr_map_ids && i < 16 && !found; i++) {
		struct bpf_map_info minfo;
		uint32_t mlen = sizeof(minfo);
		uint32_t zero = 0;
		int fd = bpf_map_get_fd_by_id(map_ids[i]);

		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		if (bpf_obj_get_info_by_fd(fd, &minfo, &mlen) == 0 &&
		    strcmp(minfo.name, "xm_config") == 0 &&
		    minfo.value_size == sizeof(cfg) &&
		    bpf_map_lookup_elem(fd, &zero, &cfg) == 0)
			found = true;
		close(fd);
	}
	if (!found)
		return true;		/* not one of ours after all */
	o = cfg.owner;
	*pid = o.pid;
	if (o.pid == 0)
		return false;		/* never claimed */
	if (o.pidns_ino != xm_self_pidns())
		return true;		/* another pid namespace: can't tell */
	if (kill((pid_t)o.pid, 0) != 0 && errno == ESRCH)
		return false;
	if (xm_proc_start_time((pid_t)o.pid, &state) != o.start_time)
		return false;		/* the pid was reused */
	return state != 'Z' && state != 'X';
}

static bool xm_prog_is_ours(const char *name)
{
	return strncmp(name, XM_PROG_PREFIX, strlen(XM_PROG_PREFIX)) == 0;
}

static int xm_prog_name(int prog_fd, char *name, size_t size)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
		return -errno;
	snprintf(name, size, "%s", info.name);
	return 0;
}

/* ----------------------------------------------------------- loading */

static uint32_t xm_mode_flags(bool skb)
{
	return skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* Opens (not loads) one build of the program. */
static struct bpf_object *xm_open_build(const struct xm_xdp_build *b)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "xm_redirect");
	struct bpf_object *obj;
	const void *bytes;
	size_t sz = 0;

	bytes = b->xb_elf(&sz);
	obj = bpf_object__open_mem(bytes, sz, &oo);
	if (obj == NULL || libbpf_get_error(obj)) {
		errno = obj ? -(int)libbpf_get_error(obj) : errno;
		return NULL;
	}
	return obj;
}

/* Opens and loads a build ourselves; dev-bound to ifindex for kfuncs. */
static struct bpf_object *xm_load_build(const struct xm_xdp_build *b,
					int ifindex, int *prog_fd)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int err;

	obj = xm_open_build(b);
	if (obj == NULL)
		return NULL;
	prog = bpf_object__find_program_by_name(obj, b->xb_prog);
	if (prog == NULL) {
		err = -ENOENT;
		goto out_close;
	}
	if (b->xb_kfuncs) {
		bpf_program__set_ifindex(prog, (uint32_t)ifindex);
		bpf_program__set_flags(prog, bpf_program__flags(prog) |
				       BPF_F_XDP_DEV_BOUND_ONLY);
	}
	err = bpf_object__load(obj);
	if (err)
		goto out_close;
	*prog_fd = bpf_program__fd(prog);
	return obj;

out_close:
	bpf_object__close(obj);
	errno = err < 0 ? -err : err;
	return NULL;
}

static int xm_find_maps(struct xm_xdp *x, struct bpf_object *obj)
{
	x->x_xsks_fd = bpf_object__find_map_fd_by_name(obj, "xsks");
	x->x_rules_fd = bpf_object__find_map_fd_by_name(obj, "xm_rules");
	x->x_config_fd = bpf_object__find_map_fd_by_name(obj, "xm_config");
	x->x_stats_fd = bpf_object__find_map_fd_by_name(obj, "xm_stats");
	if (x->x_xsks_fd < 0 || x->x_rules_fd < 0 || x->x_config_fd < 0 ||
	    x->x_stats_fd < 0)
		return -ENOENT;
	return 0;
}

/* Flags and our identity, in one update the program sees. */
static int xm_write_config(struct xm_xdp *x)
{
	struct xm_xdp_config cfg = {
		.flags = x->x_cfg_flags,
	};
	uint32_t zero = 0;

	xm_owner_self(&cfg.owner);
	if (bpf_map_update_elem(x->x_config_fd, &zero, &cfg, BPF_ANY) != 0)
		return -errno;
	return 0;
}

/*
 * Makes set the one in force: a new inner map holding it, swapped into
 * the program's xm_rules slot with one update.  On failure the slot
 * still holds the set that was there (x->x_set is not touched).
 */
static int xm_publish(struct xm_xdp *x, const struct xm_xdp_ruleset *set)
{
	uint32_t zero = 0;
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xm_ruleset", sizeof(zero),
			    sizeof(*set), 1, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &zero, set, BPF_ANY) != 0 ||
	    bpf_map_update_elem(x->x_rules_fd, &zero, &fd, BPF_ANY) != 0)
		err = -errno;
	/* the outer map holds its own reference to a published inner map */
	close(fd);
	if (err)
		return err;
	if (set != &x->x_set)
		x->x_set = *set;
	return 0;
}

/* Finds obj's maps and writes config, owner and x's rule set into them. */
static int xm_fill_maps(struct xm_xdp *x, struct bpf_object *obj)
{
	int err = xm_find_maps(x, obj);

	if (err == 0)
		err = xm_write_config(x);
	if (err == 0)
		err = xm_publish(x, &x->x_set);
	return err;
}

/*
 * Loads build b ourselves, ready to attach: its maps found, config, owner
 * and rule set written first, since the program runs the moment it
 * attaches.  @return the object (the caller's to close) or NULL with
 * errno set.
 */
static struct bpf_object *xm_load_ready(struct xm_xdp *x,
					const struct xm_xdp_build *b,
					int *prog_fd)
{
	struct bpf_object *obj;
	int err;

	obj = xm_load_build(b, x->x_ifindex, prog_fd);
	if (obj == NULL)
		return NULL;
	err = xm_fill_maps(x, obj);
	if (err) {
		bpf_object__close(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

/* Records the attachment of build b (obj, prog_fd) in x, which owns obj. */
static void xm_attached(struct xm_xdp *x, const struct xm_xdp_build *b,
			struct bpf_object *obj, int prog_fd, bool skb)
{
	x->x_obj = obj;
	x->x_prog_fd = prog_fd;
	x->x_attach_flags = xm_mode_flags(skb);
	x->x_kfuncs = b->xb_kfuncs;
	x->x_frags = b->xb_frags;
	x->x_attached = true;
}

/*
 * Loads build b ourselves and attaches it in place of old_fd (or of
 * nothing when old_fd < 0), atomically.  On success x owns the object.
 */
static int xm_attach_own(struct xm_xdp *x, const struct xm_xdp_build *b,
			 int old_fd, bool skb)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old_fd);
	uint32_t flags = xm_mode_flags(skb);
	struct bpf_object *obj;
	int prog_fd = -1;
	int err;

	obj = xm_load_ready(x, b, &prog_fd);
	if (obj == NULL)
		return -errno;
	flags |= old_fd >= 0 ? XDP_FLAGS_REPLACE : XDP_FLAGS_UPDATE_IF_NOEXIST;
	err = bpf_xdp_attach(x->x_ifindex, prog_fd, flags,
			     old_fd >= 0 ? &ao : NULL);
	if (err) {
		bpf_object__close(obj);
		return err;
	}
	xm_attached(x, b, obj, prog_fd, skb);
	return 0;
}

/*
 * Loads build b and attaches it through a bpf_link: the kernel takes the
 * program off when the last descriptor of the link closes, so detaching
 * needs no privilege and happens at any exit of the process, SIGKILL
 * included.  A link cannot take the place of a program attached by
 * netlink nor join a libxdp dispatcher: -EBUSY then.
 */
static int xm_attach_link(struct xm_xdp *x, const struct xm_xdp_build *b,
			  bool skb)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = xm_mode_flags(skb));
	struct bpf_object *obj;
	int prog_fd = -1;
	int fd, err;

	obj = xm_load_ready(x, b, &prog_fd);
	if (obj == NULL)
		return -errno;
	fd = bpf_link_create(prog_fd, x->x_ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		err = -errno;
		bpf_object__close(obj);
		return err;
	}
	x->x_link_fd = fd;
	xm_attached(x, b, obj, prog_fd, skb);
	return 0;
}

/* Attaches the plain build through libxdp (dispatcher or its fallback). */
static int xm_attach_libxdp(struct xm_xdp *x, const struct xm_xdp_build *b,
			    bool skb)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, po, .prog_name = b->xb_prog);
	struct xdp_multiprog *mp;
	struct xdp_program *xp;
	struct bpf_object *obj;
	int err;

	obj = xm_open_build(b);
	if (obj == NULL)
		return -errno;
	po.obj = obj;
	xp = xdp_program__create(&po);
	err = (int)libxdp_get_error(xp);
	if (err) {
		xp = NULL;
		goto out_close_obj;
	}
	if (b->xb_frags)
		(void)xdp_program__set_xdp_frags_support(xp, true);
	err = xdp_program__attach(xp, x->x_ifindex,
				  skb ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	if (err)
		goto out_close_prog;
	x->x_xprog = xp;
	x->x_obj = obj;
	x->x_prog_fd = xdp_program__fd(xp);
	x->x_attach_flags = xm_mode_flags(skb);
	x->x_frags = b->xb_frags;
	x->x_kfuncs = false;
	x->x_attached = true;
	mp = xdp_multiprog__get_from_ifindex(x->x_ifindex);
	x->x_multi = !libxdp_get_error(mp) && mp &&
		     !xdp_multiprog__is_legacy(mp);
	if (!libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	/* until the rule set is published the slot is empty: nothing is
	 * steered, the stack gets everything */
	err = xm_fill_maps(x, obj);
	if (err) {
		_xm_xdp_detach(x);
		return err;
	}
	return 0;

out_close_prog:
	xdp_program__close(xp);
out_close_obj:
	bpf_object__close(obj);
	return err;
}

/*
 * Looks at what is attached to the interface now.  @return 0 when
 * nothing is in the way, with *replace_fd >= 0 (and *replace_skb) when a
 * dead process's single program is to be replaced; -EBUSY otherwise.
 */
static int xm_inspect(struct xm_xdp *x, int *replace_fd, bool *replace_skb)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	struct xdp_multiprog *mp;
	uint32_t id, pid = 0;
	int fd, err;

	*replace_fd = -1;
	*replace_skb = false;
	err = bpf_xdp_query(x->x_ifindex, 0, &q);
	if (err)
		return 0;	/* cannot ask: let the attach report it */
	id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (id == 0)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return 0;	/* detached meanwhile */
	if (xm_prog_name(fd, name, sizeof(name)) != 0)
		name[0] = '\0';

	if (xm_prog_is_ours(name)) {
		if (xm_owner_alive(fd, &pid)) {
			xm_pr_warn("%s: already steered by xmbuf program %s "
				   "(id %u) of live process %u\n",
				   x->x_ifname, name, id, pid);
			close(fd);
			return -EBUSY;
		}
		xm_pr_info("%s: replacing program %s (id %u) left by process "
			   "%u, which is gone\n", x->x_ifname, name, id, pid);
		*replace_fd = fd;
		*replace_skb = q.drv_prog_id == 0;
		return 0;
	}
	close(fd);

	/* a libxdp dispatcher: join it, after pruning our dead components */
	mp = xdp_multiprog__get_from_ifindex(x->x_ifindex);
	if (libxdp_get_error(mp) || mp == NULL || xdp_multiprog__is_legacy(mp)) {
		if (!libxdp_get_error(mp) && mp)
			xdp_multiprog__close(mp);
		xm_pr_warn("%s: XDP program %s (id %u) is attached and is not "
			   "a libxdp dispatcher; detach it first\n",
			   x->x_ifname, name, id);
		return -EBUSY;
	}
	for (struct xdp_program *c = xdp_multiprog__next_prog(NULL, mp); c;
	     c = xdp_multiprog__next_prog(c, mp)) {
		if (!xm_prog_is_ours(xdp_program__name(c)))
			continue;
		if (xm_owner_alive(xdp_program__fd(c), &pid)) {
			xm_pr_warn("%s: already steered by xmbuf program %s of "
				   "live process %u\n", x->x_ifname,
				   xdp_program__name(c), pid);
			xdp_multiprog__close(mp);
			return -EBUSY;
		}
		xm_pr_info("%s: removing dispatcher component %s left by "
			   "process %u\n", x->x_ifname, xdp_program__name(c),
			   pid);
		(void)xdp_program__detach(c, x->x_ifindex,
					  xdp_multiprog__attach_mode(mp), 0);
		break;
	}
	xdp_multiprog__close(mp);
	return 0;
}

static void xm_xdp_reset(struct xm_xdp *x)
{
	x->x_xprog = NULL;
	x->x_obj = NULL;
	x->x_prog_fd = -1;
	x->x_prog_id = 0;
	x->x_attached = false;
	x->x_link_fd = -1;
	x->x_multi = false;
	x->x_kfuncs = false;
	x->x_frags = false;
	x->x_xsks_fd = x->x_rules_fd = x->x_config_fd = -1;
	x->x_stats_fd = -1;
	memset(&x->x_set, 0, sizeof(x->x_set));
}

static const char *xm_attach_errstr(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return "not permitted: CAP_NET_ADMIN and CAP_BPF (or "
		       "CAP_SYS_ADMIN) are needed";
	case -ERANGE:
		return "the MTU is too large for XDP on this device";
	default:
		return strerror(-err);
	}
}

int _xm_xdp_attach(struct xm_xdp *x, int ifindex, const char *ifname,
		   bool frags, bool skb, bool meta, bool steer_all,
		   bool link)
{
	const struct xm_xdp_build *plain = xm_build(frags, false);
	const struct xm_xdp_build *kf = xm_build(frags, true);
	struct xm_printers saved;
	bool replace_skb = false;
	int replace_fd = -1;
	int err;

	xm_xdp_reset(x);
	x->x_ifindex = ifindex;
	snprintf(x->x_ifname, sizeof(x->x_ifname), "%s", ifname);
	x->x_skb = skb;
	x->x_cfg_flags = meta ? XM_XDP_CFG_META : 0;
	x->x_set.flags = steer_all ? XM_XDP_SET_ALL : 0;

	_xm_xdp_bpffs();
	xm_quiet_libs(&saved);
	err = xm_inspect(x, &replace_fd, &replace_skb);
	if (err)
		goto out;

	if (link) {
		if (replace_fd >= 0) {
			/*
			 * A link cannot take the place of a netlink
			 * attachment: the dead process's program comes off
			 * first (only if it is still that one).  Meanwhile
			 * the stack gets the traffic, as it did already.
			 */
			LIBBPF_OPTS(bpf_xdp_attach_opts, ao,
				    .old_prog_fd = replace_fd);

			(void)bpf_xdp_detach(ifindex,
					     xm_mode_flags(replace_skb) |
					     XDP_FLAGS_REPLACE, &ao);
			close(replace_fd);
		}
		/* kfunc build first: a dev-bound program cannot run generic */
		err = -EOPNOTSUPP;
		if (meta && !skb)
			err = xm_attach_link(x, kf, skb);
		if (err)
			err = xm_attach_link(x, plain, skb);
		if (err == -EBUSY)
			xm_pr_warn("%s: another XDP program is attached (a libxdp "
				   "dispatcher?): a bpf_link cannot join it\n",
				   ifname);
		goto out_report;
	}

	if (replace_fd >= 0 && replace_skb == skb) {
		/* kfunc build first: a dev-bound program cannot run generic */
		err = -EOPNOTSUPP;
		if (meta && !skb)
			err = xm_attach_own(x, kf, replace_fd, skb);
		if (err)
			err = xm_attach_own(x, plain, replace_fd, skb);
		close(replace_fd);
		goto out_report;
	}
	if (replace_fd >= 0) {
		/*
		 * The dead program is in the other mode, and one device runs
		 * native and generic XDP exclusively: remove it, then attach.
		 * Meanwhile the stack gets the traffic, as it did already.
		 */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = replace_fd);

		(void)bpf_xdp_detach(ifindex, xm_mode_flags(replace_skb) |
				     XDP_FLAGS_REPLACE, &ao);
		close(replace_fd);
	}

	err = xm_attach_libxdp(x, plain, skb);
	if (err == 0 && !x->x_multi && meta && !skb) {
		/*
		 * libxdp attached a single program: swap in the kfunc build
		 * atomically.  If the driver or kernel refuses, the plain
		 * build stays and timestamps come from bpf_ktime_get_ns().
		 */
		struct xm_xdp keep = *x;
		int uerr;

		x->x_obj = NULL;
		x->x_xprog = NULL;
		uerr = xm_attach_own(x, kf, keep.x_prog_fd, skb);
		if (uerr == 0) {
			xdp_program__close(keep.x_xprog);
			bpf_object__close(keep.x_obj);
		} else {
			*x = keep;
			xm_pr_debug("%s: kfunc build not attached (%s); RX "
				    "timestamps from bpf_ktime_get_ns\n",
				    ifname, strerror(-uerr));
		}
	}

out_report:
	if (err) {
		xm_pr_warn("%s: cannot attach XDP program in %s mode: %s\n",
			   ifname, skb ? "SKB" : "native",
			   xm_attach_errstr(err));
		goto out;
	}
	{
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(x->x_prog_fd, &info, &len) == 0)
			x->x_prog_id = info.id;
	}
	xm_pr_debug("%s: XDP program %s attached (%s, %s mode, id %u)\n",
		    ifname, x->x_kfuncs ? kf->xb_prog : plain->xb_prog,
		    x->x_multi ? "libxdp dispatcher" :
		    x->x_link_fd >= 0 ? "bpf_link" : "single program",
		    skb ? "SKB" : "native", x->x_prog_id);
out:
	xm_restore_libs(&saved);
	return err;
}

void _xm_xdp_detach(struct xm_xdp *x)
{
	struct xm_printers saved;

	if (!x->x_attached && x->x_obj == NULL && x->x_xprog == NULL)
		return;
	xm_quiet_libs(&saved);
	if (x->x_attached) {
		int err;

		if (x->x_link_fd >= 0) {
			/* the last descriptor of the link: the kernel takes
			 * the program off, no privilege needed */
			err = close(x->x_link_fd) == 0 ? 0 : -errno;
			x->x_link_fd = -1;
		} else if (x->x_xprog) {
			err = xdp_program__detach(x->x_xprog, x->x_ifindex,
						  x->x_skb ? XDP_MODE_SKB :
						  XDP_MODE_NATIVE, 0);
		} else {
			/* only if it is still ours: never remove another's */
			LIBBPF_OPTS(bpf_xdp_attach_opts, ao,
				    .old_prog_fd = x->x_prog_fd);

			err = bpf_xdp_detach(x->x_ifindex, x->x_attach_flags |
					     XDP_FLAGS_REPLACE, &ao);
		}
		if (err && err != -ENODEV && err != -ENOENT)
			xm_pr_warn("%s: detaching XDP program: %s\n",
				   x->x_ifname, strerror(-err));
	}
	if (x->x_xprog)
		xdp_program__close(x->x_xprog);
	if (x->x_obj)
		bpf_object__close(x->x_obj);
	xm_restore_libs(&saved);
	xm_xdp_reset(x);
}

int _xm_xdp_set_socket(struct xm_xdp *x, uint32_t queue_id, int fd)
{
	if (queue_id >= XM_XDP_MAX_QUEUES)
		return -EINVAL;
	if (bpf_map_update_elem(x->x_xsks_fd, &queue_id, &fd, BPF_ANY) != 0)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------- rules */

/* Checks r and writes it as the program reads it.  @return 0 or -EINVAL. */
static int xm_rule_encode(struct xm_xdp *x, const struct xm_port_rule *r,
			  struct xm_xdp_rule *kr)
{
	char why[96];
	int err = _xm_xdp_rule_encode(r, kr, why, sizeof(why));

	if (err)
		xm_pr_warn("%s: %s\n", x->x_ifname, why);
	return err;
}

static int xm_table_full(struct xm_xdp *x)
{
	xm_pr_warn("%s: rule table full (%d rules)\n", x->x_ifname,
		   XM_XDP_MAX_RULES);
	return -ENOSPC;
}

int _xm_xdp_rule_add(struct xm_xdp *x, const struct xm_port_rule *r)
{
	struct xm_xdp_ruleset next = x->x_set;
	int err;

	/* the first rule after "everything" starts a set of its own */
	if (next.flags & XM_XDP_SET_ALL) {
		next.flags &= ~XM_XDP_SET_ALL;
		next.nrules = 0;
	}
	if (next.nrules >= XM_XDP_MAX_RULES)
		return xm_table_full(x);
	err = xm_rule_encode(x, r, &next.rules[next.nrules]);
	if (err)
		return err;
	next.nrules++;
	err = xm_publish(x, &next);
	if (err)
		return err;
	return (int)next.nrules - 1;
}

int _xm_xdp_rule_replace(struct xm_xdp *x, const struct xm_port_rule *rules,
			 unsigned int n)
{
	struct xm_xdp_ruleset next;
	int err;

	if (n > XM_XDP_MAX_RULES)
		return xm_table_full(x);
	memset(&next, 0, sizeof(next));
	for (unsigned int i = 0; i < n; i++) {
		err = xm_rule_encode(x, &rules[i], &next.rules[i]);
		if (err)
			return err;
	}
	next.nrules = n;
	return xm_publish(x, &next);
}

int _xm_xdp_rule_clear(struct xm_xdp *x)
{
	return _xm_xdp_rule_replace(x, NULL, 0);
}

int _xm_xdp_rule_all(struct xm_xdp *x)
{
	struct xm_xdp_ruleset next;

	memset(&next, 0, sizeof(next));
	next.flags = XM_XDP_SET_ALL;
	return xm_publish(x, &next);
}

/* ---------------------------------------------------------- counters */

int _xm_xdp_stats(struct xm_xdp *x, struct xm_port_stats *st)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xm_xdp_stats *v;
	uint32_t zero = 0;

	if (ncpus <= 0)
		return -EINVAL;
	/* per-CPU values come back 8-byte aligned, one per possible CPU */
	_Static_assert(sizeof(struct xm_xdp_stats) % 8 == 0, "stats align");
	v = calloc((size_t)ncpus, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	if (bpf_map_lookup_elem(x->x_stats_fd, &zero, v) != 0) {
		int err = -errno;

		free(v);
		return err;
	}
	for (int c = 0; c < ncpus; c++) {
		st->xdp_seen += v[c].seen;
		st->xdp_redirected += v[c].redirected;
		st->xdp_no_socket += v[c].no_socket;
		st->xdp_passed += v[c].passed;
		st->xdp_meta_failed += v[c].meta_failed;
		for (int i = 0; i < XM_XDP_MAX_RULES; i++)
			st->xdp_rule_hits[i] += v[c].rule_hits[i];
	}
	free(v);
	return 0;
}

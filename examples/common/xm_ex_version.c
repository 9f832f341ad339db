// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_ex_version.c - what a tool's --version says: the xmbuf it runs with
 * (xm_version(), the one version of the VERSION file), the libbpf and
 * libxdp it was loaded with, and the AF_XDP and BPF features the running
 * kernel has.  A bug report then carries what decides the tool's
 * behaviour, without the reporter knowing which of those matter.
 *
 * Everything is found at run time, never from the headers the tool was
 * built with: a distribution upgrades libbpf, libxdp and the kernel under
 * the binary.  The kernel's features are read from its BTF
 * (/sys/kernel/btf/vmlinux), which needs no privilege and no interface:
 * the fields and enumerators named below came in with the features
 * themselves, so their presence says the feature is there.
 *   XDP_USE_SG             struct xdp_sock has "sg" (Linux 6.6)
 *   XDP_MAX_TX_SKB_BUDGET  struct xdp_sock has "max_tx_budget" (6.17)
 *   tcx                    enum bpf_attach_type has BPF_TCX_INGRESS (6.6)
 * A kernel without BTF says "unknown" for each.
 *
 * libxdp has no version call: its version is read from the name of the
 * shared object the dynamic linker loaded (libxdp.so.1.3.0).
 *
 * KPI: xm_ex_version.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <xdp/libxdp.h>

#include "xm_example.h"

enum feat { FEAT_NO, FEAT_YES, FEAT_UNKNOWN };

static const char *const feat_word[] = { "no", "yes", "unknown" };

/* Whether struct `sname` of btf has a member named `member`. */
static enum feat btf_member(const struct btf *btf, const char *sname,
			    const char *member)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id;

	id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	if (id < 0)
		return FEAT_UNKNOWN;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);

		if (n && !strcmp(n, member))
			return FEAT_YES;
	}
	return FEAT_NO;
}

/* Whether enum `ename` of btf has an enumerator named `value`. */
static enum feat btf_enumerator(const struct btf *btf, const char *ename,
				const char *value)
{
	const struct btf_enum *e;
	const struct btf_type *t;
	int id;

	id = btf__find_by_name_kind(btf, ename, BTF_KIND_ENUM);
	if (id < 0)
		return FEAT_UNKNOWN;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++, e++) {
		const char *n = btf__name_by_offset(btf, e->name_off);

		if (n && !strcmp(n, value))
			return FEAT_YES;
	}
	return FEAT_NO;
}

/* "1.3.0" from the file the loaded libxdp came from, or "unknown". */
static void libxdp_version(char *buf, size_t len)
{
	char real[PATH_MAX];
	const char *so;
	Dl_info info;

	snprintf(buf, len, "unknown");
	if (!dladdr((void *)libxdp_set_print, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, real))
		return;
	so = strstr(real, ".so.");
	if (so && so[4])
		snprintf(buf, len, "%s", so + 4);
}

int xm_ex_version(const char *tool, FILE *out)
{
	enum feat sg = FEAT_UNKNOWN, budget = FEAT_UNKNOWN, tcx = FEAT_UNKNOWN;
	libbpf_print_fn_t saved;
	const char *bpf_ver;
	char xdp_ver[64];
	struct utsname u;
	struct btf *btf;

	fprintf(out, "xmbuf-%s %s\n", tool ? tool : "tool", xm_version());
	libxdp_version(xdp_ver, sizeof(xdp_ver));
	bpf_ver = libbpf_version_string();	/* "v1.1" */
	fprintf(out, "libbpf %s, libxdp %s\n",
		bpf_ver[0] == 'v' ? bpf_ver + 1 : bpf_ver, xdp_ver);
	/* a kernel without BTF is answered by "unknown", not by libbpf's
	 * warning */
	saved = libbpf_set_print(NULL);
	btf = btf__load_vmlinux_btf();
	libbpf_set_print(saved);
	if (btf) {
		sg = btf_member(btf, "xdp_sock", "sg");
		budget = btf_member(btf, "xdp_sock", "max_tx_budget");
		tcx = btf_enumerator(btf, "bpf_attach_type",
				     "BPF_TCX_INGRESS");
		btf__free(btf);
	}
	fprintf(out, "kernel %s: XDP_USE_SG %s, XDP_MAX_TX_SKB_BUDGET %s, "
		"tcx %s\n", uname(&u) ? "unknown" : u.release, feat_word[sg],
		feat_word[budget], feat_word[tcx]);
	return 0;
}

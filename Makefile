# SPDX-License-Identifier: BSD-2-Clause
#
# xmbuf: one entry point.  `make help` lists the targets.
#
# Build variants (objects under build/obj/<variant>):
#   rel   -O2, what `make` and `make install` ship
#   dbg   -O1 -DINVARIANTS, what `make test` runs (assertions, poisoning,
#         double-free detection)
#   asan  dbg + ASan/UBSan, what `make sanitize` runs
#
# Quiet by default; V=1 shows every command.

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all
.SUFFIXES:

V ?= 0
ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BUILD   := build
BIN     := $(BUILD)/bin
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
# The tools go to sbin and their pages to section 8: they need root (or
# CAP_NET_ADMIN, CAP_BPF) to attach XDP programs, as xdp-loader(8).
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/xmbuf
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
# The one place the version is written: xm_version(), xmbuf.pc, the
# shared object's file name and every tool's --version read it here.
VERSION := $(shell cat VERSION)
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CC      := gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

# Debian 12 packages that building, testing and the demo need (`make
# deps`), and those only the benchmarks need (`make deps-bench`, which
# `make bench` runs).  The commands the scripts run are in the table of
# tests/bench/lib.sh; tests/check_deps.sh holds the two to each other.
DEPS_PKGS := gcc make pkg-config clang llvm libbpf-dev libxdp-dev xdp-tools \
	     bpftool libelf-dev zlib1g-dev libcriterion-dev iproute2 \
	     libpcap-dev tcpdump tshark procps util-linux kmod mawk mount \
	     libclang-rt-14-dev libmicrohttpd-dev libsystemd-dev \
	     python3-prometheus-client bird2 doxygen bash-completion man-db \
	     groff-base systemd wireshark-common
BENCH_PKGS := libdpdk-dev dpdk dpdk-dev librte-net-af-xdp23 netsniff-ng \
	      ethtool valgrind

WARN    := -Wall -Wextra -Werror
INCS    := -Icommon -Iumem -Iuserspace -I$(BUILD)/bpf -Iexamples/common
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -fPIC -fvisibility=hidden \
	       -pthread $(INCS)
rel_CFLAGS  := -O2 -g
dbg_CFLAGS  := -O1 -g -DINVARIANTS
asan_CFLAGS := -O1 -g -DINVARIANTS -fsanitize=address,undefined \
	       -fno-omit-frame-pointer -fno-sanitize-recover=undefined
rel_LDFLAGS  :=
dbg_LDFLAGS  :=
asan_LDFLAGS := -fsanitize=address,undefined
LIBS    := $(shell $(PKG_CONFIG) --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf) \
	   -lelf -lz -pthread -lm
TEST_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null || echo -lcriterion)

VARIANTS := rel dbg asan

# ---------------------------------------------------------------- sources
LIB_SRCS   := $(sort $(wildcard common/*.c umem/*.c userspace/*.c))
# BPF programs by owner: the library's (bpf/), a tool's (examples/NAME/),
# the tests' (tests/bpf/).  All build to $(BUILD)/bpf/NAME.{bpf.o,skel.h};
# `make install` ships the library's and the tools', never the tests'.
BPF_LIB_SRCS  := $(sort $(wildcard bpf/*.bpf.c))
BPF_TOOL_SRCS := $(sort $(wildcard examples/*/*.bpf.c))
BPF_TEST_SRCS := $(sort $(wildcard tests/bpf/*.bpf.c))
BPF_SRCS   := $(BPF_LIB_SRCS) $(BPF_TOOL_SRCS) $(BPF_TEST_SRCS)
BPF_DIRS   := $(sort $(patsubst %/,%,$(dir $(BPF_SRCS))))
bpf_objs_of = $(patsubst %.bpf.c,$(BUILD)/bpf/%.bpf.o,$(notdir $(1)))
BPF_OBJS   := $(call bpf_objs_of,$(BPF_SRCS))
BPF_INSTALL_OBJS := $(call bpf_objs_of,$(BPF_LIB_SRCS) $(BPF_TOOL_SRCS))
BPF_SKELS  := $(patsubst %.bpf.o,%.skel.h,$(BPF_OBJS))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
INTEG_SRCS := $(sort $(wildcard tests/integration/test_*.c))
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
EXAMPLE_SRCS := $(filter-out %.bpf.c,$(wildcard examples/*/*.c))
# examples/hello is the first-program walk-through (README, xmbuf(7)):
# built beside the tools, never installed.
EXAMPLE_DIRS := $(filter-out examples/common examples/hello,$(patsubst %/,%,$(sort $(dir $(EXAMPLE_SRCS)))))
TOOLS      := $(foreach d,$(EXAMPLE_DIRS),xmbuf-$(notdir $(d)))
MAN_PAGES  := $(sort $(wildcard man/*.[1-8]))
# Every tool's systemd units (examples/NAME/*.service), whichever exist.
UNITS      := $(sort $(wildcard examples/*/*.service))
COMMON_SRCS := $(sort $(wildcard examples/common/*.c))
PUB_HDRS   := $(sort $(wildcard common/xm_*.h umem/xm_*.h userspace/xm_*.h))
PUB_HDRS   := $(filter-out %_int.h,$(PUB_HDRS))

objs_of = $(patsubst %.c,$(BUILD)/obj/$(1)/%.o,$(2))

# ------------------------------------------------------------ top targets
.PHONY: all build deps deps-bench test test-unit test-integration sanitize docs \
	bench demo install uninstall clean help check check_abi fuzz mutate

all: deps
	$(Q)$(MAKE) --no-print-directory build

build: $(BUILD)/libxmbuf.a $(BUILD)/libxmbuf.so examples

help:
	@echo 'xmbuf targets:'
	@echo '  make            deps, then libxmbuf.a, libxmbuf.so and the examples (build/, build/bin)'
	@echo '  make deps       install the Debian packages building and testing need'
	@echo '  make test       unit suites (dbg, then ASan+UBSan), then integration suites when root'
	@echo '  make sanitize   the same suites under ASan+UBSan'
	@echo '  make bench      every benchmark (B=alloc runs one); installs the peers'
	@echo '  make demo       the main job, end to end, on its own veth pair'
	@echo '  make demo-lb    two balancers behind ECMP and BGP (BIRD): a failover keeps every connection'
	@echo '  make install    PREFIX=/usr/local: the tools (sbin), man pages, bash completion,'
	@echo '                  systemd units, headers, libraries, xmbuf.pc, BPF objects, API docs'
	@echo '  make uninstall  removes what make install installed (same PREFIX, DESTDIR)'
	@echo '  make docs       the API reference (build/doc/html); fails on an undocumented function'
	@echo '  make check      layering rules (tests/check_layers.sh), the exported-symbol check, packages vs commands'
	@echo '  make fuzz       every libFuzzer target for FUZZ_SECONDS (default 60) each'
	@echo '  make mutate     mutation testing of the unit suites (tests/mutate/mutants.txt)'
	@echo '  make clean      remove build/'
	@echo '  V=1             show every command'

# Installs what is missing; quiet when everything is present.
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
			grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: missing packages:$$missing (run 'make deps' as root)" >&2; \
			exit 1; \
		fi; \
		echo "deps: installing$$missing"; \
		apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi

deps-bench: deps
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(BENCH_PKGS)"

# ------------------------------------------------------------------ BPF
$(BUILD)/bpf/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	$(Q)mv $@.tmp $@

# One pattern rule per source directory; a program includes headers of
# its own directory and of bpf/.
define bpf_rule
$(BUILD)/bpf/%.tmp.bpf.o: $(1)/%.bpf.c $(BUILD)/bpf/vmlinux.h $(wildcard bpf/*.h $(1)/*.h)
	$$(call msg,BPF,$$@)
	$$(Q)$$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$$(ARCH) -Werror -Wall \
		-I$$(BUILD)/bpf -Ibpf -I$(1) -c $$< -o $$@
endef
$(foreach d,$(BPF_DIRS),$(eval $(call bpf_rule,$(d))))

$(BUILD)/bpf/%.bpf.o: $(BUILD)/bpf/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp
	$(Q)mv $@.tmp $@

# -------------------------------------------------------------- library
define variant_rules
$(BUILD)/obj/$(1)/%.o: %.c | $(BPF_SKELS)
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$($(1)_CFLAGS) -MMD -MP -c $$< -o $$@

$(BUILD)/obj/$(1)/libxmbuf.a: $(call objs_of,$(1),$(LIB_SRCS))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@
	$$(Q)ar rcs $$@ $$^

-include $(patsubst %.o,%.d,$(call objs_of,$(1),$(LIB_SRCS) $(UNIT_SRCS) $(INTEG_SRCS) $(TESTLIB_SRCS) $(BENCH_SRCS) $(COMMON_SRCS) $(EXAMPLE_SRCS) tests/bench/livegen.c tests/bench/tcpecho.c tests/bench/peer_raw_rxdrop.c))
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))
# xm_version(), which every tool's --version prints
$(foreach v,$(VARIANTS),$(BUILD)/obj/$(v)/common/version.o): \
	BASE_CFLAGS += -DXM_LIB_VERSION='"$(VERSION)"'
$(foreach v,$(VARIANTS),$(BUILD)/obj/$(v)/common/version.o): VERSION

$(BUILD)/libxmbuf.a: $(BUILD)/obj/rel/libxmbuf.a
	$(Q)cp $< $@

$(BUILD)/libxmbuf.so: $(call objs_of,rel,$(LIB_SRCS)) libxmbuf.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,--version-script=libxmbuf.map \
		-Wl,-soname,libxmbuf.so.0 -o $@ $(call objs_of,rel,$(LIB_SRCS)) $(LIBS)

# ------------------------------------------------------------- examples
# examples/NAME/*.c + examples/common/*.c -> build/bin/xmbuf-NAME, linked
# against the shipped static library and the public headers only.
define example_rule
$(BIN)/xmbuf-$(notdir $(1)): $(call objs_of,rel,$(filter $(1)/%,$(EXAMPLE_SRCS)) $(COMMON_SRCS)) $(BUILD)/obj/rel/libxmbuf.a
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) -o $$@ $$^ $$(LIBS) -lpcap
endef
$(foreach d,$(EXAMPLE_DIRS),$(eval $(call example_rule,$(d))))
# xmbuf-lb serves /metrics with libmicrohttpd and tells systemd how it
# is doing (examples/lb/lb_notify.c: libsystemd)
$(BIN)/xmbuf-lb: LIBS += -lmicrohttpd -lsystemd
examples: $(foreach d,$(EXAMPLE_DIRS),$(BIN)/xmbuf-$(notdir $(d))) $(BIN)/hello

# The walk-through: public headers and the library only, as a user's
# program (tests/install/check.sh builds it again against the installed
# xmbuf.pc).
$(BIN)/hello: $(BUILD)/obj/rel/examples/hello/hello.o $(BUILD)/obj/rel/libxmbuf.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(LIBS)
.PHONY: examples

# ---------------------------------------------------------------- tests
# tests/unit/test_X.c -> build/test/<variant>/unit/test_X (Criterion),
# linked with the variant's static library and tests/lib helpers.
define test_rules
$(BUILD)/test/$(1)/%: $(BUILD)/obj/$(1)/tests/%.o $(call objs_of,$(1),$(TESTLIB_SRCS)) $(BUILD)/obj/$(1)/libxmbuf.a
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS) -lpcap
endef
$(foreach v,dbg asan,$(eval $(call test_rules,$(v))))

# tests/unit/test_lb_*.c also link the load balancer's pure parts: every
# examples/lb/*.c but its main (lb.c) and its systemd notifications
# (lb_notify.c), with the tools' runtime (the JSON writer) and
# libmicrohttpd (lb_metrics.c).  A more specific pattern than the
# one above, so make prefers it.
LB_PURE_SRCS := $(filter-out examples/lb/lb.c examples/lb/lb_notify.c,$(wildcard examples/lb/*.c))
define lb_test_rules
$(BUILD)/test/$(1)/unit/test_lb_%: $(BUILD)/obj/$(1)/tests/unit/test_lb_%.o $(call objs_of,$(1),$(TESTLIB_SRCS) $(LB_PURE_SRCS) $(COMMON_SRCS)) $(BUILD)/obj/$(1)/libxmbuf.a
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS) -lpcap -lmicrohttpd
endef
$(foreach v,dbg asan,$(eval $(call lb_test_rules,$(v))))

# tests/unit/test_pktgen_*.c link the generator's pure parts (token
# bucket, schedules, meter, pcap reader, frames, flow set); not its
# threads or main.
PG_PURE_SRCS := $(addprefix examples/pktgen/,pg_rate.c pg_sched.c \
	pg_meter.c pg_pcap.c pg_frame.c pg_tuples.c pg_json.c pg_plot.c)
define pg_test_rules
$(BUILD)/test/$(1)/unit/test_pktgen_%: $(BUILD)/obj/$(1)/tests/unit/test_pktgen_%.o $(call objs_of,$(1),$(TESTLIB_SRCS) $(PG_PURE_SRCS) $(COMMON_SRCS)) $(BUILD)/obj/$(1)/libxmbuf.a
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS) -lpcap
endef
$(foreach v,dbg asan,$(eval $(call pg_test_rules,$(v))))

# tests/unit/test_capture_*.c link the capture tool's pure parts the same
# way: every examples/capture/*.c but its main and run (capture.c,
# cap_setup.c, cap_worker.c, cap_passive.c, cap_copy.c: threads, ports,
# programs) and its command line.
CAPTURE_PURE_SRCS := $(filter-out $(addprefix examples/capture/,capture.c \
	cap_setup.c cap_worker.c cap_opts.c cap_passive.c cap_copy.c),$(filter-out %.bpf.c,$(wildcard examples/capture/*.c)))
define capture_test_rules
$(BUILD)/test/$(1)/unit/test_capture_%: $(BUILD)/obj/$(1)/tests/unit/test_capture_%.o $(call objs_of,$(1),$(TESTLIB_SRCS) $(CAPTURE_PURE_SRCS)) $(BUILD)/obj/$(1)/libxmbuf.a
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS) -lpcap
endef
$(foreach v,dbg asan,$(eval $(call capture_test_rules,$(v))))

# tests/unit/test_example_*.c link the tools' runtime (examples/common).
define example_test_rules
$(BUILD)/test/$(1)/unit/test_example_%: $(BUILD)/obj/$(1)/tests/unit/test_example_%.o $(call objs_of,$(1),$(TESTLIB_SRCS) $(COMMON_SRCS)) $(BUILD)/obj/$(1)/libxmbuf.a
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$($(1)_LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(LIBS) -lpcap
endef
$(foreach v,dbg asan,$(eval $(call example_test_rules,$(v))))
# Named, so that make looks for their pattern rule when the test needs
# them (the runtime's objects are otherwise built for rel only; so are
# the pure parts of the balancer, the capture tool and pktgen, which
# their unit tests link).
$(foreach v,dbg asan,$(call objs_of,$(v),$(COMMON_SRCS) $(LB_PURE_SRCS) \
	$(CAPTURE_PURE_SRCS) $(PG_PURE_SRCS))):

unit_bins  = $(patsubst tests/%.c,$(BUILD)/test/$(1)/%,$(UNIT_SRCS))
integ_bins = $(patsubst tests/%.c,$(BUILD)/test/$(1)/%,$(INTEG_SRCS))

TEST_VARIANT ?= dbg
# Variants whose unit suites run too, after TEST_VARIANT's, in the same
# summary: `make test` adds the ASan+UBSan build (about a minute more;
# some bugs, such as an index one past an array, only UBSan sees).
TEST_UNIT_ALSO ?=
test_unit_bins = $(call unit_bins,$(TEST_VARIANT)) \
	$(foreach v,$(filter-out $(TEST_VARIANT),$(TEST_UNIT_ALSO)),$(call unit_bins,$(v)))
# The fuzz smoke runs first so that the runner's summary line
# ("tests: N passed, N failed, N skipped") is the last thing printed.
test: deps
	$(Q)tests/check_deps.sh "$(DEPS_PKGS)" "$(BENCH_PKGS)"
	$(Q)$(MAKE) --no-print-directory build
	$(Q)tests/check_layers.sh . $(BUILD)/obj/rel
	$(Q)tests/install/check.sh $(BUILD)
	$(Q)tests/check_man.sh $(BIN) man examples/hello/hello.c
	$(Q)tests/check_vocabulary.sh $(BIN)
	$(Q)tests/check_docs.sh $(BUILD)/doc/doxygen.log
	$(Q)$(MAKE) --no-print-directory _fuzz_smoke
	$(Q)$(MAKE) --no-print-directory _run_tests TEST_VARIANT=$(TEST_VARIANT) \
		TEST_UNIT_ALSO=asan

sanitize: deps
	$(Q)$(MAKE) --no-print-directory _run_tests TEST_VARIANT=asan

_run_tests: $(test_unit_bins) $(call integ_bins,$(TEST_VARIANT)) examples
	$(Q)tests/run.sh $(BUILD)/test-results/$(TEST_VARIANT) \
		$(test_unit_bins) -- $(call integ_bins,$(TEST_VARIANT))
.PHONY: _run_tests

# ---------------------------------------------------------------- bench
B ?=
BENCH_NAMES := $(patsubst tests/bench/bench_%.c,%,$(BENCH_SRCS))
# Benchmarks that are only a function of tests/bench/run.sh (no
# bench_NAME.c of their own): they run the examples.
BENCH_SCRIPTS := lb pktgen capture lb-ecmp xdp-cost
$(BIN)/bench-%: $(BUILD)/obj/rel/tests/bench/bench_%.o $(BUILD)/obj/rel/libxmbuf.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(LIBS)

# Traffic source and raw libxdp baseline for the port benchmark (bench
# tools, not bench_* programs): the source is a command line over the
# library's live-frames engine; the baseline is libbpf/libxdp only.
BENCH_TOOLS := $(BIN)/xm-livegen $(BIN)/peer-raw-rxdrop
$(BIN)/xm-livegen: $(BUILD)/obj/rel/tests/bench/livegen.o $(BUILD)/obj/rel/libxmbuf.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(LIBS)

$(BIN)/peer-raw-rxdrop: $(BUILD)/obj/rel/tests/bench/peer_raw_rxdrop.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(LIBS)

# The TCP service and long-lived clients of demo-lb and the lb-ecmp
# benchmark (the suites use tests/lib/tcp_echo.c in-process).
BENCH_TOOLS += $(BIN)/xm-tcpecho
$(BIN)/xm-tcpecho: $(call objs_of,rel,tests/bench/tcpecho.c tests/lib/tcp_echo.c tests/lib/netns.c)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ -pthread

# The pktgen benchmark's raw libxdp txonly baseline and its XDP sink.
BENCH_TOOLS += $(BIN)/peer-raw-txpush $(BIN)/xm-sink
$(BIN)/peer-raw-txpush: $(BUILD)/obj/rel/tests/bench/peer_raw_txpush.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(LIBS)

$(BIN)/xm-sink: $(BUILD)/obj/rel/tests/bench/sink.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(LIBS)

# The capture benchmark's host: a counting UDP socket.
BENCH_TOOLS += $(BIN)/xm-udpsink
$(BIN)/xm-udpsink: $(BUILD)/obj/rel/tests/bench/udp_sink.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^

# Peers the benchmarks compare against, built by `make bench` only (never
# by `make` or `make test`): DPDK comes in through pkg-config, read when
# the rule runs so that a machine without libdpdk-dev still builds the rest.
PEER_BINS := $(BIN)/peer-dpdk-alloc
$(BIN)/peer-dpdk-alloc: tests/bench/peer_dpdk_alloc.c tests/bench/bench_util.h
	$(call msg,CC-LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(WARN) -D_GNU_SOURCE -pthread $(rel_CFLAGS) \
		$$($(PKG_CONFIG) --cflags libdpdk) -o $@ $< \
		$$($(PKG_CONFIG) --libs libdpdk)

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory build
	$(Q)$(MAKE) --no-print-directory $(addprefix $(BIN)/bench-,$(BENCH_NAMES)) $(BENCH_TOOLS) $(PEER_BINS)
	$(Q)BIN=$(BIN) tests/bench/run.sh $(if $(B),$(B),$(BENCH_NAMES) $(BENCH_SCRIPTS))

# ----------------------------------------------------------------- demo
demo: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)BIN=$(BIN) tests/demo.sh

# Two balancers behind a router's ECMP route, announced by BGP (BIRD).
demo-lb: deps
	$(Q)$(MAKE) --no-print-directory build $(BIN)/xm-tcpecho
	$(Q)BIN=$(BIN) tests/demo_lb.sh
.PHONY: demo-lb

# -------------------------------------------------------------- install
# The library (headers, libxmbuf.a and .so, xmbuf.pc, the BPF objects of
# the library and the tools, never the tests'), the tools, their man
# pages, bash completion and systemd units, xmbuf(7) and the API
# reference.  uninstall removes exactly that.  DESTDIR for packagers.
install: all
	$(Q)$(MAKE) --no-print-directory _docs_html
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(INCDIR)/xmbuf $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(LIBDIR)/bpf $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR) \
		$(sort $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))))
	$(Q)install -m 0644 $(PUB_HDRS) $(DESTDIR)$(INCDIR)/xmbuf/
	$(Q)install -m 0644 $(BUILD)/libxmbuf.a $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 0755 $(BUILD)/libxmbuf.so $(DESTDIR)$(LIBDIR)/libxmbuf.so.$(VERSION)
	$(Q)ln -sf libxmbuf.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libxmbuf.so.0
	$(Q)ln -sf libxmbuf.so.0 $(DESTDIR)$(LIBDIR)/libxmbuf.so
	$(Q)$(if $(BPF_INSTALL_OBJS),install -m 0644 $(BPF_INSTALL_OBJS) $(DESTDIR)$(LIBDIR)/bpf/,true)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		xmbuf.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/xmbuf.pc
	$(Q)install -m 0755 $(addprefix $(BIN)/,$(TOOLS)) $(DESTDIR)$(SBINDIR)/
	$(Q)for m in $(MAN_PAGES); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; \
	done
	$(Q)for t in $(TOOLS); do \
		install -m 0644 completion/xmbuf.bash $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; \
	done
	$(Q)$(if $(UNITS),install -d $(DESTDIR)$(UNITDIR),true)
	$(Q)for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	$(Q)install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)install -m 0644 examples/lb/README.md $(DESTDIR)$(DOCDIR)/lb.md
	$(Q)install -m 0644 examples/hello/hello.c $(DESTDIR)$(DOCDIR)/hello.c
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)/html
	$(Q)cp -R $(BUILD)/doc/html $(DESTDIR)$(DOCDIR)/html

uninstall:
	$(Q)rm -rf $(DESTDIR)$(INCDIR)/xmbuf $(DESTDIR)$(LIBDIR)/pkgconfig/xmbuf.pc \
		$(DESTDIR)$(DOCDIR)
	$(Q)rm -f $(DESTDIR)$(LIBDIR)/libxmbuf.a $(DESTDIR)$(LIBDIR)/libxmbuf.so \
		$(DESTDIR)$(LIBDIR)/libxmbuf.so.0 $(DESTDIR)$(LIBDIR)/libxmbuf.so.$(VERSION) \
		$(addprefix $(DESTDIR)$(LIBDIR)/bpf/,$(notdir $(BPF_INSTALL_OBJS))) \
		$(addprefix $(DESTDIR)$(SBINDIR)/,$(TOOLS)) \
		$(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(TOOLS)) \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
		$(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))

# ----------------------------------------------------------------- docs
# The API reference from the public headers' doxygen comments
# (build/doc/html); `make docs` fails when a public function has none
# (tests/check_docs.sh, which `make test` runs too).
docs: deps
	$(Q)$(MAKE) --no-print-directory _docs_html
	$(Q)tests/check_docs.sh $(BUILD)/doc/doxygen.log

_docs_html: $(BUILD)/doc/html/index.html
$(BUILD)/doc/html/index.html: doc/Doxyfile $(PUB_HDRS) VERSION
	$(call msg,DOXYGEN,$(BUILD)/doc/html)
	$(Q)rm -rf $(BUILD)/doc && mkdir -p $(BUILD)/doc
	$(Q)( cat doc/Doxyfile; \
	      echo 'PROJECT_NUMBER = $(VERSION)'; \
	      echo 'INPUT = $(PUB_HDRS)'; \
	      echo 'OUTPUT_DIRECTORY = $(BUILD)/doc'; \
	      echo 'WARN_LOGFILE = $(BUILD)/doc/doxygen.log' ) | doxygen - >/dev/null
.PHONY: docs _docs_html

# ---------------------------------------------------------------- check
# Layering: each layer includes only what lies below it (the table in
# tests/check_layers.sh); umem/ knows no mbuf, ring or socket header
# either.  ABI: every default-visibility symbol is in the version script
# and the .so exports exactly those.
check: check_abi
	@if grep -nE '<linux/if_xdp.h>|<xdp/xsk.h>' umem/*.c umem/*.h; then \
		echo "check: umem/ must not include xsk headers" >&2; exit 1; fi
	$(Q)tests/check_layers.sh . $(BUILD)/obj/rel
	$(Q)tests/check_deps.sh "$(DEPS_PKGS)" "$(BENCH_PKGS)"

check_abi: $(BUILD)/libxmbuf.so $(BUILD)/obj/rel/libxmbuf.a
	$(Q)tests/check_abi.sh $(BUILD)/obj/rel/libxmbuf.a $(BUILD)/libxmbuf.so libxmbuf.map

# --------------------------------------------------------------- mutate
# Mutation testing of the unit suites: each mutant of
# tests/mutate/mutants.txt is applied to a scratch copy of the tree, its
# suites rebuilt (dbg) and run; prints BENCH mutation_score and
# mutation_count, lists the survivors, fails below MUTATE_MIN_SCORE (0.95).
# No root, no network; about 2-3 minutes on 2 cores.
mutate: deps
	$(Q)tests/mutate/run.sh

# ----------------------------------------------------------------- fuzz
# tests/fuzz/fuzz_NAME.c -> $(BUILD)/fuzz/fuzz_NAME, a libFuzzer target:
# clang -fsanitize=fuzzer,address,undefined -DINVARIANTS, linked with the
# library sources listed in fuzz_NAME_SRCS compiled by clang as well (not
# the gcc archive).  `make fuzz` runs each for FUZZ_SECONDS with its corpus
# in $(BUILD)/fuzz/corpus/fuzz_NAME (a target may seed an empty corpus from
# its --seed-dir=DIR flag, which libFuzzer ignores); crashes are written to
# $(BUILD)/fuzz/.  `make test` runs every target for FUZZ_TEST_SECONDS
# when clang's libFuzzer (libclang-rt-14-dev) is installed.
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -g -O1 -DINVARIANTS \
	       -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	       -fno-omit-frame-pointer $(INCS)
fuzz_pkt_SRCS := userspace/pkt.c userspace/pkt_build.c common/print.c
fuzz_lb_path_SRCS := $(fuzz_pkt_SRCS) examples/lb/lb_path.c examples/lb/lb_csum.c \
	examples/lb/lb_config.c examples/lb/lb_config_parse.c \
	examples/lb/lb_lru.c examples/lb/lb_maglev.c examples/lb/lb_hash.c
fuzz_lb_config_SRCS := examples/lb/lb_config.c \
	examples/lb/lb_config_parse.c examples/lb/lb_state.c \
	examples/lb/lb_maglev.c \
	examples/lb/lb_hash.c
fuzz_pcap_SRCS := examples/pktgen/pg_pcap.c
fuzz_pcap_LIBS := -lpcap
fuzz_capture_SRCS := examples/capture/cap_pcap.c examples/capture/cap_filter.c \
	examples/capture/cap_filter_set.c
fuzz_capture_LIBS := -lpcap
fuzz_capture_filter_SRCS := examples/capture/cap_filter.c \
	examples/capture/cap_filter_set.c userspace/xdp_rule.c
fuzz_capture_filter_LIBS := -lpcap

$(BUILD)/fuzz/obj/%.o: %.c
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

define fuzz_rule
$(BUILD)/fuzz/$(1): $(BUILD)/fuzz/obj/tests/fuzz/$(1).o $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$($(1)_SRCS))
	$$(call msg,LD,$$@)
	$$(Q)$$(CLANG) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $$($(1)_LIBS)
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(f))))
-include $(patsubst %.c,$(BUILD)/fuzz/obj/%.d,$(FUZZ_SRCS) $(foreach f,$(FUZZ_NAMES),$($(f)_SRCS)))

fuzz: deps
	$(Q)$(MAKE) --no-print-directory _fuzz

_fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
	$(Q)for f in $(FUZZ_NAMES); do \
		c=$(BUILD)/fuzz/corpus/$$f; log=$(BUILD)/fuzz/$$f.log; \
		mkdir -p $$c; \
		echo "=== $$f: $(FUZZ_SECONDS) s, corpus $$c, log $$log"; \
		if ! $(BUILD)/fuzz/$$f --seed-dir=$$c $$c \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/$$f- >$$log 2>&1; then \
			tail -n 60 $$log; echo "fuzz: $$f FAILED" >&2; exit 1; \
		fi; \
		grep -E '^#[0-9]+.*DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' $$log; \
	done

# The smoke run of `make test`; loudly skipped without libFuzzer.
_fuzz_smoke:
	$(Q)mkdir -p $(BUILD)/fuzz
	$(Q)if printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' | \
		$(CLANG) -x c -fsanitize=fuzzer -o $(BUILD)/fuzz/.probe - >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory _fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS); \
	else \
		echo "################################################################"; \
		echo "# SKIPPED: fuzz smoke run: clang cannot link -fsanitize=fuzzer"; \
		echo "# (install libclang-rt-14-dev: 'make deps')"; \
		echo "################################################################"; \
	fi
.PHONY: _fuzz _fuzz_smoke

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

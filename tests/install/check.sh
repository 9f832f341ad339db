#!/usr/bin/env bash
# The promise of `make install`, checked as a packager and a new user
# would: `make install DESTDIR=ROOT PREFIX=/usr` into a scratch ROOT, then
#   - every installed header compiles on its own; a program builds through
#     the installed xmbuf.pc (PKG_CONFIG_SYSROOT_DIR=ROOT), shared and
#     static, and runs;
#   - the BPF objects are exactly the library's and the tools' (none of
#     tests/bpf/);
#   - every tool runs --version and --help with exit 0 from ROOT, and its
#     --version names the VERSION file's version, as xmbuf.pc does;
#   - every man page renders without a warning (MANWIDTH=80 man --warnings
#     -l), and documents exactly its tool's options (tests/check_man.sh);
#   - every bash completion file passes bash -n, and completes its tool's
#     options in bash with bash-completion loaded;
#   - every systemd unit passes systemd-analyze verify (its ExecStart
#     pointed into ROOT, its man: documentation found in ROOT);
#   - the API reference is there;
#   - as root: examples/hello, built from ROOT's copy of hello.c through
#     pkg-config, receives a packet the installed xmbuf-pktgen sends it
#     over a veth pair in two network namespaces of its own;
#   - `make uninstall` with the same DESTDIR and PREFIX leaves no file.
#   tests/install/check.sh BUILD_DIR
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/xmbuf-install.XXXXXX)
ns_a="" ns_b=""
cleanup() {
	[ -n "$ns_a" ] && ip netns del "$ns_a" 2>/dev/null
	[ -n "$ns_b" ] && ip netns del "$ns_b" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
root=$tmp/root
fail() { echo "install: $*" >&2; exit 1; }
. "$top/tests/bench/lib.sh"
xm_need_cmds install man doxygen || exit 1

make -C "$top" --no-print-directory BUILD="$build" install DESTDIR="$root" \
	PREFIX=/usr >/dev/null
version=$(cat "$top/VERSION")
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
[ "$(pkg-config --modversion xmbuf)" = "$version" ] ||
	fail "xmbuf.pc says $(pkg-config --modversion xmbuf), VERSION $version"

# ------------------------------------------------------------ library
# Every installed header compiles on its own: it includes nothing that was
# not installed beside it (a private header shipped by mistake, which
# includes xm_common_int.h, fails here too).
for h in "$root/usr/include/xmbuf"/*.h; do
	if ! printf '#include <%s>\n' "$(basename "$h")" |
	     cc -std=gnu11 -Wall -Wextra -Werror -fsyntax-only \
		-I"$root/usr/include/xmbuf" -x c - 2>"$tmp/hdr.err"; then
		echo "install: $(basename "$h") does not compile on its own:" >&2
		cat "$tmp/hdr.err" >&2
		exit 1
	fi
done

cat > "$tmp/app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <xm_mbuf.h>
#include <xm_port.h>

int main(int argc, char **argv)
{
	XM_OPTS(xm_umem_opts, uo, .maxmbufmem = 4ULL << 20,
		.flags = XM_UMEM_F_NO_HUGEPAGES);
	struct xm_umem *u = xm_umem_create(&uo);
	struct xm_mbuf *m;
	uint64_t held = 1;

	if (argc < 2 || strcmp(xm_version(), argv[1]))
		return 4;
	if (u == NULL)
		return 1;
	m = xm_getcl(u, XM_NOWAIT, XM_MT_DATA, XM_PKTHDR);
	if (m == NULL || xm_append(m, 5, "hello") != 0 || xm_length(m, NULL) != 5)
		return 2;
	xm_freem(m);
	if (xm_umem_audit(u, &held) != 0 || held != 0)
		return 3;
	xm_umem_destroy(u);
	printf("ok\n");
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Wextra -Werror "$tmp/app.c" -o "$tmp/app-shared" \
	$(pkg-config --cflags --libs xmbuf)
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Wextra -Werror "$tmp/app.c" -o "$tmp/app-static" \
	$(pkg-config --cflags xmbuf) "$root/usr/lib/libxmbuf.a" \
	$(pkg-config --static --libs-only-l xmbuf | sed 's/-lxmbuf//')
LD_LIBRARY_PATH=$root/usr/lib "$tmp/app-shared" "$version" >/dev/null ||
	fail "the program linked with libxmbuf.so failed (xm_version() is not $version?)"
"$tmp/app-static" "$version" >/dev/null || fail "the static program failed"

# BPF objects: exactly what the library and the tools load (bpf/,
# examples/*/), none of the tests' own (tests/bpf/).
want=$(cd "$top" && for f in bpf/*.bpf.c examples/*/*.bpf.c; do
	basename "$f" .c; done | sed 's/$/.o/' | sort)
have=$(ls "$root/usr/lib/bpf" | sort)
if [ "$want" != "$have" ]; then
	echo "install: BPF objects installed differ from the library's and tools':" >&2
	diff <(echo "$want") <(echo "$have") >&2 || true
	exit 1
fi
for f in "$top"/tests/bpf/*.bpf.c; do
	o=$(basename "$f" .c).o
	[ -e "$root/usr/lib/bpf/$o" ] && fail "test program $o was installed"
done

# -------------------------------------------------------------- tools
tools=$(cd "$top" && for d in examples/*/; do
	d=${d%/}; n=${d##*/}
	case $n in common|hello) continue ;; esac
	echo "xmbuf-$n"; done)
ntools=0
for t in $tools; do
	b=$root/usr/sbin/$t
	[ -x "$b" ] || fail "$t is not installed in /usr/sbin"
	for a in --version --help; do
		if ! LD_LIBRARY_PATH=$root/usr/lib "$b" $a >"$tmp/out" 2>"$tmp/err"; then
			cat "$tmp/err" >&2
			fail "$t $a exits $?"
		fi
	done
	LD_LIBRARY_PATH=$root/usr/lib "$b" --version >"$tmp/out"
	head -n 1 "$tmp/out" | grep -qx "$t $version" ||
		fail "$t --version says '$(head -n 1 "$tmp/out")', not '$t $version'"
	grep -q '^libbpf .*, libxdp ' "$tmp/out" || fail "$t --version names no libbpf/libxdp"
	grep -q '^kernel .*XDP_USE_SG.*XDP_MAX_TX_SKB_BUDGET.*tcx' "$tmp/out" ||
		fail "$t --version names no kernel features"
	ntools=$((ntools + 1))
done
[ "$ntools" -ge 5 ] || fail "only $ntools tools"

# --------------------------------------------------------- man pages
pages=$(find "$root/usr/share/man" -type f | sort)
npages=0
for p in $pages; do
	if ! MANWIDTH=80 man --warnings -l "$p" >"$tmp/man.out" 2>"$tmp/man.err" ||
	   [ -s "$tmp/man.err" ]; then
		cat "$tmp/man.err" >&2
		fail "man page ${p#"$root"} does not render cleanly"
	fi
	npages=$((npages + 1))
done
for t in $tools; do
	[ -e "$root/usr/share/man/man8/$t.8" ] || fail "no man page for $t"
done
[ -e "$root/usr/share/man/man7/xmbuf.7" ] || fail "no xmbuf(7)"
"$top/tests/check_man.sh" "$root/usr/sbin" "$root/usr/share/man/man8" >/dev/null

# -------------------------------------------------------- completion
comp=$root/usr/share/bash-completion/completions
for t in $tools; do
	[ -e "$comp/$t" ] || fail "no bash completion for $t"
	bash -n "$comp/$t" || fail "bash -n ${comp#"$root"}/$t"
	# loaded as bash-completion loads it, it completes the tool's options
	got=$(PATH=$root/usr/sbin:$PATH bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"
		COMP_WORDS=("$2" --he); COMP_CWORD=1
		COMP_LINE="$2 --he"; COMP_POINT=${#COMP_LINE}
		_xmbuf_tool "$2" --he "$2"
		printf "%s\n" "${COMPREPLY[@]}"' - "$comp/$t" "$t" 2>&1)
	[ "$got" = "--help" ] || fail "completion of '$t --he' gave '$got', not --help"
done

# ----------------------------------------------------- systemd units
units=$(find "$root/usr/lib/systemd/system" -name '*.service' 2>/dev/null | sort)
nunits=0
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/units"
	for u in $units; do
		# the binaries of ROOT, the pages of ROOT
		sed "s|/usr/sbin/|$root/usr/sbin/|g" "$u" > "$tmp/units/${u##*/}"
		if ! MANPATH=$root/usr/share/man systemd-analyze verify \
			"$tmp/units/${u##*/}" >"$tmp/sd.out" 2>&1 || [ -s "$tmp/sd.out" ]; then
			cat "$tmp/sd.out" >&2
			fail "systemd-analyze verify ${u#"$root"}"
		fi
		nunits=$((nunits + 1))
	done
	[ "$nunits" -ge 1 ] || fail "no systemd unit installed"
else
	echo "install: SKIPPED: systemd-analyze verify (no systemd-analyze: 'make deps')"
fi

# ----------------------------------------------------------- docs
[ -s "$root/usr/share/doc/xmbuf/html/index.html" ] || fail "no API reference"
grep -rqs 'xm_port_rx_burst' "$root/usr/share/doc/xmbuf/html" ||
	fail "the API reference does not document xm_port_rx_burst"

# ------------------------------------------------------------ hello
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Wextra -Werror "$root/usr/share/doc/xmbuf/hello.c" \
	-o "$tmp/hello" $(pkg-config --cflags --libs xmbuf)
hello_said="built"
if [ "$(id -u)" = 0 ]; then
	id=$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))
	ns_a=xminst-a-$id ns_b=xminst-b-$id
	ip netns add "$ns_a" && ip netns add "$ns_b" ||
		fail "cannot create namespaces"
	ip link add "xia$id" netns "$ns_a" type veth peer name "xib$id" \
		netns "$ns_b" || fail "cannot create a veth pair"
	# no IPv6: its router solicitations and MLD reports would come first
	for n in "$ns_a" "$ns_b"; do
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$ns_a" link set "xia$id" up
	ip -n "$ns_b" link set "xib$id" up
	ip netns exec "$ns_b" env LD_LIBRARY_PATH="$root/usr/lib" \
		"$tmp/hello" "xib$id" 30 >"$tmp/hello.out" 2>"$tmp/hello.err" &
	hpid=$!
	# hello says nothing until a packet came: send one every 0.2 s
	# until it exits (bounded: 100 packets, 20 s)
	for _ in $(seq 1 100); do
		kill -0 "$hpid" 2>/dev/null || break
		ip netns exec "$ns_a" "$root/usr/sbin/xmbuf-pktgen" tx -i "xia$id" \
			--src 198.18.7.1 --dst 198.18.7.2 -n 1 -Q \
			>/dev/null 2>>"$tmp/gen.err" || true
		sleep 0.2
	done
	kill "$hpid" 2>/dev/null || true
	if ! wait "$hpid"; then
		cat "$tmp/hello.err" "$tmp/gen.err" >&2
		fail "hello received no packet"
	fi
	grep -q '198.18.7.1 -> 198.18.7.2, protocol 17' "$tmp/hello.out" ||
		fail "hello printed '$(cat "$tmp/hello.out")'"
	hello_said="received: $(cat "$tmp/hello.out")"
else
	echo "################################################################"
	echo "# SKIPPED: examples/hello receiving a packet (needs root: netns)"
	echo "################################################################"
fi

# -------------------------------------------------------- uninstall
make -C "$top" --no-print-directory BUILD="$build" uninstall DESTDIR="$root" \
	PREFIX=/usr >/dev/null
left=$(find "$root" ! -type d)
if [ -n "$left" ]; then
	echo "install: make uninstall left:" >&2
	echo "$left" | sed "s|^$root|  |" >&2
	exit 1
fi
echo "install: headers, libraries, xmbuf.pc (shared and static, version $version);" \
	"$(echo "$have" | wc -l) BPF objects, none of the tests'; $ntools tools" \
	"(--version, --help); $npages man pages; completion; $nunits unit(s);" \
	"API reference; hello $hello_said; uninstall leaves nothing"

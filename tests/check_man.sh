#!/usr/bin/env bash
# check_man: each tool's man page documents exactly the options the tool
# takes.  The tool's side is its hidden --list-options (one line per
# option from the table its parser uses: "LONG SHORT METAVAR ALIAS OLD",
# tab-separated, "-" for none); the page's side is the tags of its
# OPTIONS section, the line after each .TP or .TQ, in which every
# \-\-name and \-x in bold (\fB...\fR) is a spelling the page
# documents (metavars are in italics).  Every spelling in
# one and not the other is named, with the tool's --help text for the
# options a page lacks, so the page can be brought up to date from the
# output alone.  Also: every page has the sections a man page has.
# Given HELLO (examples/hello/hello.c), xmbuf(7)'s first example must be
# that program, from its first #include on.
#   tests/check_man.sh BIN_DIR MAN_DIR [HELLO]
set -eu
bin=${1:?usage: check_man.sh BIN_DIR MAN_DIR [HELLO]}
man=${2:?usage: check_man.sh BIN_DIR MAN_DIR [HELLO]}
hello=${3:-}
SECTIONS=("NAME" "SYNOPSIS" "DESCRIPTION" "OPTIONS" "EXIT STATUS" "FILES"
	  "EXAMPLES" "SEE ALSO")

# The spellings a page documents, one a line, from its OPTIONS tags.
page_spellings() {
	awk '/^\.SH /{ opts = ($0 ~ /^\.SH "?OPTIONS"?$/) ; next }
	     opts && /^\.(TP|TQ)/ { tag = 1; next }
	     opts && tag { print; tag = 0 }' "$1" |
		grep -oP '\\fB(?:(?!\\f).)*' |
		sed -e 's/\\fB//' -e 's/\\-/-/g' -e 's/\\&//g' |
		grep -oP '(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[A-Za-z0-9])(?![\w-])' |
		sort -u
}

# The spellings a tool takes, one a line, from --list-options.
tool_spellings() {
	awk -F'\t' '{ for (i = 1; i <= 5; i++) if (i != 3 && $i != "-") print $i }' \
		<<<"$1" | sort -u
}

# The --list-options row a spelling belongs to, and its --help text.
describe() { # SPELLING TABLE HELP
	local s=$1 row
	row=$(awk -F'\t' -v s="$s" '$1 == s || $2 == s || $4 == s || $5 == s' <<<"$2" | head -n 1)
	IFS=$'\t' read -r long short mv alias old <<<"$row"
	local what="$s"
	if [ "$old" = "$s" ]; then
		what="$what: the deprecated letter of $long"
	elif [ "$alias" = "$s" ]; then
		what="$what: an alias of $long"
	elif [ "$long" != - ] && [ "$long" != "$s" ]; then
		what="$what: the letter of $long"
	fi
	[ "$mv" != - ] && what="$what, argument $mv"
	echo "  $what"
	# the help entry of the option: its label line and the lines
	# indented under it (labels are at column 3, text at 25)
	local key=$long
	[ "$key" = - ] && key=$short
	awk -v k="$key" '
		/^  -/ || /^      --/ {
			show = 0
			n = split($0, w, /[ ,=[]+/)
			for (i = 1; i <= n; i++) if (w[i] == k) show = 1
		}
		/^[^ ]/ || /^$/ { show = 0 }
		show { print "      | " $0 }' <<<"$3"
}

rc=0 ntools=0
for tool in "$bin"/xmbuf-*; do
	[ -x "$tool" ] || continue
	name=${tool##*/}
	ntools=$((ntools + 1))
	page=$(ls "$man/$name".[1-8] 2>/dev/null | head -n 1)
	if [ -z "$page" ]; then
		echo "check_man: $name has no man page in $man" >&2
		rc=1
		continue
	fi
	for sec in "${SECTIONS[@]}"; do
		if ! grep -qE "^\.SH \"?$sec\"?\$" "$page"; then
			echo "check_man: $page has no $sec section" >&2
			rc=1
		fi
	done
	table=$("$tool" --list-options) || {
		echo "check_man: $name --list-options failed" >&2
		rc=1
		continue
	}
	help=$("$tool" --help)
	missing=$(comm -23 <(tool_spellings "$table") <(page_spellings "$page"))
	extra=$(comm -13 <(tool_spellings "$table") <(page_spellings "$page"))
	if [ -n "$missing" ]; then
		echo "check_man: $name takes options its page $page does not document:" >&2
		while read -r s; do
			describe "$s" "$table" "$help"
		done <<<"$missing" >&2
		rc=1
	fi
	if [ -n "$extra" ]; then
		echo "check_man: $page documents options $name does not take:" >&2
		sed 's/^/  /' <<<"$extra" >&2
		rc=1
	fi
done
if [ -n "$hello" ]; then
	# the first .EX block of EXAMPLES, troff escapes undone
	if ! diff -u <(sed -n '/^#include/,$p' "$hello") \
		<(awk '/^\.SH EXAMPLES/ { ex = 1 } ex && /^\.EX/ { on = 1; next }
		       on && /^\.EE/ { exit } on' "$man/xmbuf.7" |
		  sed -e 's/^\\&//' -e 's/\\-/-/g' -e 's/\\e/\\/g') >&2; then
		echo "check_man: the example of $man/xmbuf.7 is not $hello" >&2
		rc=1
	fi
fi
if [ "$ntools" = 0 ]; then
	echo "check_man: no xmbuf-* tool in $bin" >&2
	exit 1
fi
[ $rc = 0 ] && echo "check_man: $ntools tools, each page documents exactly its tool's options"
exit $rc

# SPDX-License-Identifier: BSD-2-Clause
# bash completion for the xmbuf tools (xmbuf-fwd, -pktgen, -capture, -lb,
# -decap), installed once under each tool's name in
# share/bash-completion/completions.
#
# The options come from the tool itself at completion time: its hidden
# --list-options prints one line per option, "LONG SHORT METAVAR ALIAS
# OLD" separated by tabs ("-" for none), from the table the parser uses,
# so completion cannot fall behind the tool.  A METAVAR says what the
# argument is: interfaces for IF, files for FILE and CONFIG, the words of
# a|b|c, the port modes for MODE, users for USER.  xmbuf-pktgen's first
# word is its command, read from its --help.

_xmbuf_tool()
{
	local cur prev words cword split
	_init_completion -s || return

	local cmd=${words[0]} table line long short mv alias old
	table=$("$cmd" --list-options 2>/dev/null) || return

	if [[ $cmd == *xmbuf-pktgen && $cword -eq 1 && $cur != -* ]]; then
		local cmds
		cmds=$("$cmd" --help 2>/dev/null |
			sed -n 's/^\(usage:\)\{0,1\} *[^ ]*xmbuf-pktgen \([a-z0-9]*\) .*/\2/p')
		COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		return
	fi

	# the argument of the option before the cursor
	while IFS=$'\t' read -r long short mv alias old; do
		[[ $mv == - ]] && continue
		[[ $prev == "$long" || $prev == "$short" || $prev == "$alias" ||
		   $prev == "$old" ]] || continue
		case $mv in
		IF | IF2)
			COMPREPLY=($(compgen -W "$(command ls /sys/class/net 2>/dev/null)" -- "$cur")) ;;
		FILE | CONFIG)
			_filedir ;;
		USER)
			COMPREPLY=($(compgen -u -- "$cur")) ;;
		MODE)
			COMPREPLY=($(compgen -W "auto zero-copy copy skb" -- "$cur")) ;;
		*\|*)
			COMPREPLY=($(compgen -W "${mv//|/ }" -- "$cur")) ;;
		esac
		return
	done <<<"$table"
	$split && return

	if [[ $cur == -* ]]; then
		local opts=()
		while IFS=$'\t' read -r long short mv alias old; do
			[[ $long != - ]] && opts+=("$long")
			[[ $alias != - ]] && opts+=("$alias")
			[[ $short != - ]] && opts+=("$short")
		done <<<"$table"
		COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi
	# xmbuf-capture's operands are a filter expression: nothing to offer
}

complete -F _xmbuf_tool xmbuf-fwd xmbuf-pktgen xmbuf-capture xmbuf-lb xmbuf-decap

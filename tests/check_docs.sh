#!/usr/bin/env bash
# check_docs: no public function without a doxygen comment.  Reads the
# warnings doxygen wrote while building the API reference from the public
# headers (make docs: build/doc/doxygen.log) and fails on every function
# it calls undocumented, naming it; other warnings are shown, not fatal.
#   tests/check_docs.sh DOXYGEN_LOG
set -eu
log=${1:?usage: check_docs.sh DOXYGEN_LOG}
[ -r "$log" ] || { echo "check_docs: no log $log (run make docs)" >&2; exit 1; }
undoc=$(grep -E 'warning: Member .* \(function\) of file .* is not documented' "$log" |
	sed -E 's|^.*/([^/]+:[0-9]+): warning: Member (.*) \(function\) of file .*|\1: \2|' || true)
files=$(grep -c 'warning:' "$log" || true)
if [ -n "$undoc" ]; then
	echo "check_docs: public functions without a doxygen comment:" >&2
	echo "$undoc" | sed 's/^/  /' >&2
	exit 1
fi
echo "check_docs: every public function documented (doxygen also warned $files times about fields and parameters: not checked)"

#!/usr/bin/env bash
# tests/e2e/completion.sh: the bash completion (scripts/bash-completion)
# knows every command and option `convex-provisioner --help` lists, and
# completes commands, option values and files.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
BIN=$CP_BUILD_DIR/convex-provisioner
. "$CP_SOURCE_DIR/scripts/bash-completion/convex-provisioner"
complete -p convex-provisioner | grep -q _convex_provisioner || e2e_fail "not registered"

# complete WORDS...: the completions of the last word.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_convex_provisioner
	[ ${#COMPREPLY[@]} -gt 0 ] || return 0
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

help=$("$BIN" --help)
# Every command of --help completes from its prefix.
for c in $(echo "$help" | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'); do
	case " $(complete_words convex-provisioner "${c:0:2}") " in
	*" $c "*) ;;
	*) e2e_fail "command $c does not complete" ;;
	esac
done
# Every long option of --help completes.
for o in $(echo "$help" | sed -n '/^Options/,$p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	case " $(complete_words convex-provisioner plan "$o") " in
	*" $o "*) ;;
	*) e2e_fail "option $o does not complete" ;;
	esac
done
assert_eq "$(complete_words convex-provisioner pl)" "plan " "command"
assert_eq "$(complete_words convex-provisioner --prune o)" "owned " "--prune value"
assert_eq "$(complete_words convex-provisioner plan --format '')" "json markdown text " "--format values"
assert_eq "$(complete_words convex-provisioner --drift=r)" "report " "--drift=value"
# After options and their values, the command is still found.
assert_eq "$(complete_words convex-provisioner --prune owned --team 1 sh)" "show " "command after options"
# apply FILE: files.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/convex.plan"
assert_eq "$(complete_words convex-provisioner apply "$dir/conv")" "$dir/convex.plan " "apply FILE"
assert_eq "$(complete_words convex-provisioner show '')" "" "show takes no argument"
echo "ok: bash completion"

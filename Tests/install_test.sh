#!/bin/bash
# Checks what `make install PREFIX=$1` wrote: each tool's man page renders
# (groff errors fail; its warnings about blank lines in the generated mdoc
# do not) and names its flags; each completion
# script loads in its shell and completes a flag of the tool.
set -euo pipefail
prefix=$1
fail() { echo "install-test: $*" >&2; exit 1; }
for t in ftrl-train ftrl-predict ftrl-model; do
  page=$prefix/share/man/man1/$t.1
  [ -s "$page" ] || fail "no man page $page"
  text=$(MANWIDTH=100 man -l "$page" 2>/tmp/install-test-man.err) || fail "man cannot render $page: $(cat /tmp/install-test-man.err)"
  [ "$(wc -l <<<"$text")" -gt 20 ] || fail "$page renders to almost nothing"
  grep -q -- "$t" <<<"$text" || fail "$page does not name $t"
  "$prefix/bin/$t" --help > /dev/null || fail "$t --help failed"
done
man -l "$prefix/share/man/man1/ftrl-train.1" 2>/dev/null | grep -q -- "--learning-rate" || fail "ftrl-train.1 lacks --learning-rate"
man -l "$prefix/share/man/man1/ftrl-model.1" 2>/dev/null | grep -qi "merge" || fail "ftrl-model.1 lacks its merge subcommand"

# bash: load the script, ask it to complete "ftrl-train --learn".
out=$(bash -c "
  source '$prefix/share/bash-completion/completions/ftrl-train'
  COMP_WORDS=(ftrl-train --learn); COMP_CWORD=1; COMP_LINE='ftrl-train --learn'; COMP_POINT=\${#COMP_LINE}
  _ftrl-train ftrl-train --learn ftrl-train
  complete -p ftrl-train
  printf '%s\n' \"\${COMPREPLY[@]}\"")
grep -q -- "complete .*ftrl-train" <<<"$out" || fail "the bash script registers no completion: $out"
grep -q -- "--learning-rate" <<<"$out" || fail "bash does not complete --learn to --learning-rate: $out"

# zsh: the function file parses and defines the completion function.
zsh -n "$prefix/share/zsh/site-functions/_ftrl-train" || fail "zsh cannot parse _ftrl-train"
zsh -c "fpath=('$prefix/share/zsh/site-functions' \$fpath); autoload -U compinit; compinit -u; (( \${+_comps[ftrl-train]} ))" \
  || fail "zsh does not register _ftrl-train for ftrl-train"

# fish: load each script, ask for completions (within 10 s: a bad option
# spec once made the script's parse loop spin for ever).
export PATH="$prefix/bin:$PATH"
for probe in "ftrl-train --t-mul 2 --learn|--learning-rate" "ftrl-predict --met|--metrics-json" "ftrl-model mer|merge"; do
  line=${probe%|*} want=${probe#*|} t=${probe%% *}
  out=$(timeout 10 fish -c "source '$prefix/share/fish/vendor_completions.d/$t.fish'; complete -C '$line'") \
    || fail "fish did not complete '$line' within 10 s"
  grep -q -- "$want" <<<"$out" || fail "fish does not complete '$line' to $want: $out"
done
echo "install-test: man pages render; bash, zsh and fish complete the tools' flags"

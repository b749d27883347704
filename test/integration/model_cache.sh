#!/bin/sh
# The programs' model cache (imgclass_model_options.cache_dir): where it
# lives ($IMGCLASS_CACHE_DIR, $XDG_CACHE_HOME/imgclass, ~/.cache/imgclass),
# --no-cache, what imgclass info says; the same scores with no cache, on a
# miss and on a hit; and processes racing for one entry: all answer alike,
# one whole entry is left and no temporary file.
# (The library's side, damaged entries and the rest: test_model_cache.c.)
. "$(dirname "$0")/helpers/common.sh"

$CHECK make-images "$TMP/fx" || { echo "FAIL: fixtures"; exit 1; }
G=$TMP/fx/good/a.png

# state ENV-ASSIGNMENTS...: imgclass info's cache line for tiny.pt.
state() {
    env "$@" "$IC" info --model "$M/tiny.pt" --size 8x8 2>&1 | sed -n 's/^cache: *//p'
}
entries() { find "$1" -name '*.entry' 2>/dev/null | wc -l; }
others() { find "$1" -type f ! -name '*.entry' 2>/dev/null | wc -l; }

# Where: the variable, else XDG, else HOME; an empty variable: no cache.
C=$TMP/c1
[ "$(state IMGCLASS_CACHE_DIR="$C")" = stored ] && [ "$(entries "$C")" -eq 1 ] &&
    ok "IMGCLASS_CACHE_DIR: stored" || fail "IMGCLASS_CACHE_DIR: $(state IMGCLASS_CACHE_DIR="$C")"
[ "$(state IMGCLASS_CACHE_DIR="$C")" = hit ] && ok "then a hit" || fail "no hit"
s=$(env IMGCLASS_CACHE_DIR="$C" "$IC" info --model "$M/tiny.pt" --size 8x8 --no-cache |
    sed -n 's/^cache: *//p')
[ "$s" = off ] && ok "--no-cache: off" || fail "--no-cache: $s"
[ "$(state IMGCLASS_CACHE_DIR=)" = off ] && ok "IMGCLASS_CACHE_DIR empty: off" ||
    fail "IMGCLASS_CACHE_DIR empty: $(state IMGCLASS_CACHE_DIR=)"
s=$(env -u IMGCLASS_CACHE_DIR XDG_CACHE_HOME="$TMP/xdg" "$IC" info --model "$M/tiny.pt" \
    --size 8x8 | sed -n 's/^cache: *//p')
[ "$s" = stored ] && [ "$(entries "$TMP/xdg/imgclass")" -eq 1 ] && ok "XDG_CACHE_HOME/imgclass" ||
    fail "XDG_CACHE_HOME: $s"
s=$(env -u IMGCLASS_CACHE_DIR -u XDG_CACHE_HOME HOME="$TMP/home" "$IC" info \
    --model "$M/tiny.pt" --size 8x8 | sed -n 's/^cache: *//p')
[ "$s" = stored ] && [ "$(entries "$TMP/home/.cache/imgclass")" -eq 1 ] &&
    ok "HOME/.cache/imgclass" || fail "HOME: $s"
expect_rc 0 "info --timings" env IMGCLASS_CACHE_DIR="$C" "$IC" info --model "$M/tiny.pt" \
    --size 8x8 --timings
grep -q "^  model cache" "$TMP/out" && ok "info --timings times the cache" ||
    fail "info --timings has no cache step"

# Every score, printed exactly (9 digits), the same three ways.
scores() { # DIR-or-empty EXTRA-FLAGS...
    d=$1
    shift
    # shellcheck disable=SC2086
    IMGCLASS_CACHE_DIR=$d "$IC" classify --model "$M/tiny.pt" $PP --json --topk all "$@" "$G"
}
scores "" >"$TMP/none.json" 2>"$TMP/err" || fail "classify without a cache"
C=$TMP/c2
scores "$C" >"$TMP/miss.json" 2>"$TMP/err" || fail "classify, cache miss"
scores "$C" >"$TMP/hit.json" 2>"$TMP/err" || fail "classify, cache hit"
scores "$C" --no-cache >"$TMP/nocache.json" 2>"$TMP/err" || fail "classify --no-cache"
for r in miss hit nocache; do
    cmp -s "$TMP/none.json" "$TMP/$r.json" && ok "scores ($r) as without a cache" ||
        fail "scores ($r) differ: $(cat "$TMP/$r.json")"
done

# The race: a model big enough (~20 MB) that writing its entry takes a
# while, loaded by 4 processes at once into an empty cache.
BIG=$TMP/big.pt
$PYTHON - "$BIG" <<'EOF' || fail "cannot make the big model"
import sys, torch
torch.manual_seed(0)
layers = [torch.nn.Conv2d(3, 256, 3, padding=1), torch.nn.BatchNorm2d(256), torch.nn.ReLU()]
for _ in range(8):
    layers += [torch.nn.Conv2d(256, 256, 3, padding=1), torch.nn.BatchNorm2d(256), torch.nn.ReLU()]
layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(256, 7)]
m = torch.nn.Sequential(*layers).eval()
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.5, 0.5)
        mod.running_var.uniform_(0.5, 2.0)
torch.jit.trace(m, torch.zeros(1, 3, 8, 8)).save(sys.argv[1])
EOF
big() { # DIR-or-empty OUT
    IMGCLASS_CACHE_DIR=$1 "$IC" classify --model "$BIG" $PP --json --topk all "$G" >"$2" 2>"$2.err"
}
big "" "$TMP/big.none" || fail "the big model without a cache: $(cat "$TMP/big.none.err")"
C=$TMP/race
pids=""
for i in 1 2 3 4; do
    big "$C" "$TMP/big.$i" &
    pids="$pids $!"
done
i=0
for p in $pids; do
    i=$((i + 1))
    if wait "$p"; then
        cmp -s "$TMP/big.none" "$TMP/big.$i" && ok "racer $i: the same scores" ||
            fail "racer $i: other scores"
    else
        fail "racer $i failed: $(cat "$TMP/big.$i.err")"
    fi
done
[ "$(entries "$C")" -eq 1 ] && [ "$(others "$C")" -eq 0 ] &&
    ok "after the race: one entry, no temporary file" ||
    fail "after the race: $(ls -la "$C")"
s=$(IMGCLASS_CACHE_DIR=$C "$IC" info --model "$BIG" --size 8x8 | sed -n 's/^cache: *//p')
[ "$s" = hit ] && ok "the entry the race left is whole (a hit)" || fail "after the race: $s"
big "$C" "$TMP/big.after" && cmp -s "$TMP/big.none" "$TMP/big.after" &&
    ok "and answers as without a cache" || fail "the hit after the race answers otherwise"

finish

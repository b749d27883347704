#!/bin/sh
# make check-deb: the Debian packages of `make deb` (in OUT, default
# build-deb/), installed into this machine as the README's "Install" says
# (apt-get install ./*.deb), then used as a user would:
#   - the linker cache knows libimgclass.so.1 (dpkg's ldconfig trigger);
#   - /usr/bin/imgclass classifies photos with a tiny model as PyTorch does,
#     with the engine module of libimgclass-torch;
#   - examples/api/classify_files.c builds with `pkg-config --cflags --libs
#     imgclass` (and statically, from libimgclass.a) and prints what the
#     build tree's copy prints;
#   - the system python3 imports imgclass from python3-imgclass, which finds
#     the packaged library through the linker cache, and classifies as PyTorch;
#   - the installed units pass systemd-analyze verify, and the installed
#     daemons speak the notification protocol (helpers/notify_check.py);
# then purged (apt-get purge libimgclass1, as the README says): nothing the
# packages shipped is left, the package list is the one found at the start
# (dependencies apt pulled in are purged too), the linker cache forgets the
# library.
# Needs root. Refuses to run when any of these packages is installed, or a
# file they ship exists: it would not leave the machine as it found it.
set -u
out=${1:-build-deb}
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
HELPERS=$(cd test/integration/helpers && pwd)
start=$(date +%s)
failures=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; exit 1; }
phase() { echo "=== $* ($(( $(date +%s) - start )) s)"; }

[ "$(id -u)" -eq 0 ] || die "check-deb installs packages: run it as root"
out=$(cd "$out" && pwd) || die "no folder $out (make deb)"
ls "$out"/*.deb >/dev/null 2>&1 || die "no .deb in $out (make deb)"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch
# The library as the linker cache, ldd and the loader name it: with a merged
# /usr (Debian 12), /lib/MULTIARCH is the same folder and may come first.
lib_re="(/usr)?/lib/$multiarch/libimgclass\.so\.1"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-check-deb.XXXXXX")
pkgs=""
for d in "$out"/*.deb; do pkgs="$pkgs $(dpkg-deb -f "$d" Package)"; done

installed() { # the packages of ours dpkg knows in any state
    for p in $pkgs; do
        dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -qv '^un' && echo "$p"
    done
}
dpkg_list() { dpkg-query -W -f='${binary:Package} ${Version} ${db:Status-Abbrev}\n' | sort; }
purge() { # what apt-get install added, ours and any dependency it pulled in
    extra=$(dpkg_list | comm -13 "$tmp/before" - | awk '{print $1}')
    # shellcheck disable=SC2086
    [ -z "$extra$(installed)" ] ||
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -o DPkg::Lock::Timeout=300 $pkgs $extra >"$tmp/purge.log" 2>&1
}
state=clean
cleanup() {
    # A failure half-way must not leave the packages behind.
    [ "$state" = installed ] && { echo "check-deb: purging after a failure"; purge; }
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- before -------------------------------------------------------------------
phase "before: the machine as found"
already=$(installed)
[ -z "$already" ] || die "already installed, purge first:" $already
dpkg_list > "$tmp/before"
# Every path the packages ship; which of them exist now (folders such as
# /usr/bin do; a file must not, or purging would delete what was not ours).
for d in "$out"/*.deb; do dpkg-deb --fsys-tarfile "$d" | tar -t; done |
    sed -e 's|^\.||' -e 's|/$||' | grep -v '^/*\.*$' | sort -u > "$tmp/paths"
: > "$tmp/existed"
while IFS= read -r p; do
    if [ -d "$p" ]; then
        echo "$p" >> "$tmp/existed"
    elif [ -e "$p" ] || [ -L "$p" ]; then
        die "$p exists and is not ours (a make install?): remove it first"
    fi
done < "$tmp/paths"
ldconfig -p | grep -q 'libimgclass\.so' && die "the linker cache already has a libimgclass"

M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -f "$M/tiny.pt" ]; then
    M=$tmp/models
    "$PYTHON" test/models/make_test_models.py "$M" >/dev/null || die "cannot make test models"
fi
M=$(cd "$M" && pwd)
printf 'tabby\nbee\nteapot\nvolcano\nkoala\n' > "$tmp/labels.txt"
skdata=$("$PYTHON" -c "import importlib.util as u; s = u.find_spec('skimage'); print(s.submodule_search_locations[0] + '/data' if s else '')")
photos=""
for name in chelsea.png hubble_deep_field.jpg; do
    [ -f "$skdata/$name" ] && photos="$photos $skdata/$name"
done
[ -n "$photos" ] || die "no photos in '$skdata': install python3-skimage (sh tools/deps.sh)"
# The build tree's classify_files, the reference for the installed one.
[ -x "$BUILD/examples/api/classify_files" ] || die "$BUILD/examples/api/classify_files not built (make api-examples)"
# shellcheck disable=SC2086
IMGCLASS_ENGINE_PATH=$(pwd)/$BUILD/libimgclass-torch.so "$BUILD/examples/api/classify_files" \
    "$M/tiny.pt" "$tmp/labels.txt" $photos > "$tmp/want.txt" || die "the build tree's classify_files failed"

# --- install ------------------------------------------------------------------
phase "apt-get install ./*.deb"
state=installed
(cd "$out" && DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 ./*.deb) >"$tmp/install.log" 2>&1 ||
    { tail -20 "$tmp/install.log"; die "apt-get install ./*.deb failed"; }
ok "installed:$pkgs"
extra=$(for p in $(dpkg_list | comm -13 "$tmp/before" - | awk '{print $1}' | sed 's/:.*//'); do
            case " $pkgs " in *" $p "*) ;; *) echo "$p" ;; esac
        done)
[ -z "$extra" ] || echo "note: apt-get also installed (purged at the end):" $extra

ldconfig -p | grep -Eq "libimgclass\.so\.1 .*=> $lib_re\$" &&
    ok "the linker cache knows $libdir/libimgclass.so.1" ||
    fail "ldconfig -p has no $libdir/libimgclass.so.1 (the ldconfig trigger did not run?)"

# Everything below runs outside the source tree, with no override.
unset IMGCLASS_ENGINE_PATH IMGCLASS_LIBRARY PYTHONPATH LD_LIBRARY_PATH PKG_CONFIG_PATH
engine=$libdir/imgclass/libimgclass-torch.so

phase "the installed imgclass"
ldd /usr/bin/imgclass | grep -E 'libtorch|libc10' && fail "/usr/bin/imgclass links libtorch"
# shellcheck disable=SC2086
(cd "$tmp" && LD_DEBUG=files imgclass classify --json --topk 5 --model "$M/tiny.pt" \
    --labels "$tmp/labels.txt" --size 8x8 --crop none $photos >"$tmp/cli.jsonl" 2>"$tmp/cli.trace") ||
    { grep -v '^ *[0-9]*:' "$tmp/cli.trace" | tail; fail "imgclass classify failed"; }
grep -q "file=$engine " "$tmp/cli.trace" && ok "imgclass loaded $engine" ||
    fail "imgclass did not load the engine module $engine"
# shellcheck disable=SC2086
"$PYTHON" "$HELPERS/cli_check.py" check json 5 "$M/tiny.pt" "$tmp/labels.txt" "$tmp/cli.jsonl" \
    $photos && ok "imgclass classify: the photos as PyTorch classifies them" ||
    fail "imgclass classify differs from PyTorch"
man -w imgclass-serve >/dev/null 2>&1 && man -w 3 imgclass >/dev/null 2>&1 &&
    ok "man imgclass-serve, man 3 imgclass" || fail "the manual pages are not found by man"

phase "a program built with pkg-config"
cflags=$(pkg-config --cflags --libs imgclass) || fail "pkg-config knows no imgclass"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/classify_files" examples/api/classify_files.c $cflags ||
    fail "classify_files.c does not build with pkg-config --cflags --libs imgclass"
# ... and statically from libimgclass-dev's libimgclass.a (Libs.private).
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/classify_files_static" examples/api/classify_files.c \
    $(pkg-config --cflags imgclass) -Wl,--as-needed -Wl,-Bstatic -limgclass -Wl,-Bdynamic \
    $(pkg-config --static --libs imgclass) || fail "classify_files.c does not link libimgclass.a"
ldd "$tmp/classify_files" | grep -Eq "libimgclass\.so\.1 => $lib_re " &&
    ok "classify_files links $libdir/libimgclass.so.1" || fail "classify_files does not link the packaged library"
ldd "$tmp/classify_files" | grep -E 'libtorch|libc10' && fail "classify_files links libtorch"
ldd "$tmp/classify_files_static" | grep -q libimgclass && fail "the static classify_files links libimgclass.so"
for prog in classify_files classify_files_static; do
    # shellcheck disable=SC2086
    (cd "$tmp" && LD_DEBUG=files "./$prog" "$M/tiny.pt" "$tmp/labels.txt" $photos \
        >"$tmp/$prog.txt" 2>"$tmp/$prog.trace") ||
        { grep -v '^ *[0-9]*:' "$tmp/$prog.trace" | tail -3; fail "$prog failed"; continue; }
    grep -q "file=$engine " "$tmp/$prog.trace" || fail "$prog did not load $engine"
    if cmp -s "$tmp/want.txt" "$tmp/$prog.txt"; then
        ok "$prog prints what the build tree's prints: $(head -1 "$tmp/$prog.txt")"
    else
        fail "$prog prints otherwise than the build tree's:"; diff "$tmp/want.txt" "$tmp/$prog.txt"
    fi
done

phase "the system python3 imports imgclass"
# shellcheck disable=SC2086
(cd "$tmp" && env -i PATH=/usr/bin:/bin LD_DEBUG=files /usr/bin/python3 \
    "$HELPERS/binding_classify.py" "$tmp/py.json" "$M/tiny.pt" "$tmp/labels.txt" $photos \
    >"$tmp/py.jsonl" 2>"$tmp/py.trace") ||
    { grep -v '^ *[0-9]*:' "$tmp/py.trace" | tail; fail "python3: import imgclass and classify failed"; }
"$PYTHON" - "$tmp/py.json" "$libdir" <<'PY' && ok "python3 imports the packaged module, which finds the packaged library" || fail "python3's imgclass is not the packaged one"
import json, sys
info, libdir = json.load(open(sys.argv[1])), sys.argv[2]
assert info["module"] == "/usr/lib/python3/dist-packages/imgclass/__init__.py", info
assert info["library_source"] == "find_library", info
assert info["library_path"] == "libimgclass.so.1", info
PY
grep -Eq "calling init: $lib_re\$" "$tmp/py.trace" ||
    fail "python3 did not load $libdir/libimgclass.so.1"
grep -q "file=$engine " "$tmp/py.trace" || fail "python3 did not load $engine"
# shellcheck disable=SC2086
"$PYTHON" "$HELPERS/cli_check.py" check json 5 "$M/tiny.pt" "$tmp/labels.txt" "$tmp/py.jsonl" \
    $photos && ok "python3 -c 'import imgclass': the photos as PyTorch classifies them" ||
    fail "the packaged Python module's results differ from PyTorch's"

phase "the services"
for unit in imgclass-serve@.service imgclass-watch@.service; do
    f=/lib/systemd/system/$unit
    [ -f "$f" ] || { fail "no $f"; continue; }
    grep -q "^ExecStart=/usr/bin/${unit%@.service} " "$f" || fail "$f does not start /usr/bin/${unit%@.service}"
    v=$(cd "$tmp" && systemd-analyze verify "$f" 2>&1) && [ -z "$v" ] &&
        ok "systemd-analyze verify $f" || fail "systemd-analyze verify $f: $v"
done
# The README's configuration: the example files, and the variable each unit reads.
for kind in serve watch; do
    conf=/usr/share/doc/imgclass-tools/examples/$kind-example.conf
    var=IMGCLASS_$(echo "$kind" | tr a-z A-Z)_ARGS
    grep -q "^$var=" "$conf" 2>/dev/null &&
        grep -q "^EnvironmentFile=/etc/imgclass/$kind-%i.conf" "/lib/systemd/system/imgclass-$kind@.service" &&
        grep -q "\$$var" "/lib/systemd/system/imgclass-$kind@.service" &&
        ok "$conf sets $var, which imgclass-$kind@NAME reads from /etc/imgclass/$kind-NAME.conf" ||
        fail "$conf and imgclass-$kind@.service do not agree on /etc/imgclass/$kind-NAME.conf and $var"
done
timeout 300 "$PYTHON" "$HELPERS/notify_check.py" /usr/bin "$M" > "$tmp/notify.log" 2>&1 &&
    ok "/usr/bin/imgclass-serve and imgclass-watch: READY=1, watchdog, STOPPING=1 (notify_check.py)" ||
    { cat "$tmp/notify.log"; fail "the installed daemons under a notify service manager"; }

# --- purge --------------------------------------------------------------------
phase "apt-get purge libimgclass1"
for p in $pkgs; do dpkg -L "$p"; done 2>/dev/null | grep -v '^/*\.*$' | sort -u > "$tmp/listed"
# The README's command: every other package depends on libimgclass1.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -o DPkg::Lock::Timeout=300 libimgclass1 \
    >"$tmp/purge0.log" 2>&1 || { tail -20 "$tmp/purge0.log"; fail "apt-get purge libimgclass1 failed"; }
left=$(installed)
[ -z "$left" ] && ok "apt-get purge libimgclass1 purged:$pkgs" ||
    fail "still known to dpkg after apt-get purge libimgclass1:" $left
# Whatever is left, and the dependencies apt-get install pulled in.
purge || { tail -20 "$tmp/purge.log"; fail "apt-get purge failed"; }
state=clean
dpkg_list | diff "$tmp/before" - > "$tmp/pkgdiff" &&
    ok "the package list is the one found at the start" ||
    { fail "the package list changed:"; cat "$tmp/pkgdiff"; }
# Every path shipped (and every one dpkg -L listed) that did not exist
# before is gone: files, and folders such as $libdir/imgclass and the
# python module's (with the __pycache__ py3compile made).
cat "$tmp/listed" >> "$tmp/paths"
sort -u "$tmp/paths" | comm -23 - "$tmp/existed" | while IFS= read -r p; do
    [ -e "$p" ] || [ -L "$p" ] && echo "$p"
done > "$tmp/left"
[ -s "$tmp/left" ] && { fail "left after purge:"; cat "$tmp/left"; } ||
    ok "nothing the packages shipped is left ($(wc -l < "$tmp/paths") paths checked)"
ldconfig -p | grep -q 'libimgclass\.so' && fail "the linker cache still has libimgclass" ||
    ok "the linker cache has no libimgclass"

phase "done"
[ $failures -eq 0 ] && { echo "check-deb: all checks passed in $(( $(date +%s) - start )) s"; exit 0; }
echo "check-deb: $failures check(s) failed"
exit 1

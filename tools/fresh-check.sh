#!/usr/bin/env bash
# `make fresh-check`: the README's commands, run as a newcomer runs them, on a truly fresh machine.
#
# 1. A minimal root of this machine's Debian release (mmdebstrap, variant minbase, with make, git and
#    ca-certificates), built once and cached as a tarball under FRESH_CHECK_DIR; rebuilt when it is
#    older than FRESH_CHECK_MAX_AGE_DAYS, when FRESH_CHECK_REBUILD=1, or when its package list changes.
# 2. Python 3.13 is there the way this machine's image has it: the interpreter the Makefile finds
#    (PYTHON313, pyenv's build) is bind-mounted read-only at the same path, with the Debian runtime
#    libraries it links against. So is the machine's network trust, without which nothing reaches
#    PyPI here: the CA certificates in /usr/local/share/ca-certificates and the variables that point
#    TLS clients at the bundle (SSL_CERT_FILE and the like). Nothing else of this machine is.
# 3. A clean clone of HEAD (uncommitted changes are not part of the check) goes to /root/conduit in a
#    new copy of that root. Inside it (chroot, in its own mount and PID namespaces, with /proc, /sys,
#    /dev, /dev/pts and /dev/shm mounted), `make run` runs until /api/articles answers with the demo
#    data, is stopped with Ctrl-C's signal, then `make test` runs.
# 4. It prints the wall time of each step and pytest's summaries. Every process it started lives in the
#    PID namespace and every mount in the mount namespace, so both end with it: on success, on a
#    failed step and on Ctrl-C alike. The root is then deleted (FRESH_CHECK_KEEP=1 keeps it).
#
# The root shares this machine's network (apt and PyPI are reached from inside; servers listen on its
# loopback), so FRESH_CHECK_PORT must be free. Needs root (chroot, mounts, namespaces).
#   FRESH_CHECK_DIR=var/fresh-check  FRESH_CHECK_PORT=8000  FRESH_CHECK_STEPS=run,test
#   FRESH_CHECK_RUN_TIMEOUT=900 (seconds for make run's first answer)  FRESH_CHECK_REBUILD=0
#   FRESH_CHECK_MAX_AGE_DAYS=7  FRESH_CHECK_KEEP=0
set -euo pipefail
# One compound command: bash reads all of it before running any, so editing this file while a
# check runs (it takes minutes) cannot change what the running check does next.
{
cd "$(dirname "$0")/.."
REPO=$PWD

DIR=${FRESH_CHECK_DIR:-$REPO/var/fresh-check}
PORT=${FRESH_CHECK_PORT:-8000}
STEPS=${FRESH_CHECK_STEPS:-run,test}
RUN_TIMEOUT=${FRESH_CHECK_RUN_TIMEOUT:-900}
REBUILD=${FRESH_CHECK_REBUILD:-0}
MAX_AGE_DAYS=${FRESH_CHECK_MAX_AGE_DAYS:-7}
KEEP=${FRESH_CHECK_KEEP:-0}
ROOT=$DIR/root

say() { printf '\n=== fresh-check: %s\n' "$*"; }
die() { echo "fresh-check: $*" >&2; exit 1; }
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- inside the namespaces -------------------------------------------------------------------------
# `tools/fresh-check.sh --inside PYPREFIX`: PID 1 of a new PID namespace, in a private mount namespace.
if [[ ${1:-} == --inside ]]; then
    PYPREFIX=$2
    mount -t proc proc "$ROOT/proc"
    mount --rbind /sys "$ROOT/sys"
    mount --bind /dev "$ROOT/dev"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$ROOT/dev/pts"
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"
    mkdir -p "$ROOT$PYPREFIX"
    mount --bind "$PYPREFIX" "$ROOT$PYPREFIX"
    mount -o remount,bind,ro "$ROOT$PYPREFIX"

    # A login shell's clean environment, as a new user has it; the commands are the README's.
    in_root() {
        chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
            TERM="${TERM:-dumb}" LANG=C.UTF-8 $TRUST_ENV \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            /bin/bash -c "cd /root/conduit && $1"
    }
    status=0
    if [[ ,$STEPS, == *,run,* ]]; then
        say "make run (PORT=$PORT), until /api/articles answers with the demo data"
        started=$SECONDS
        # Job control: make run gets a process group of its own and, unlike a plain background
        # command, does not ignore SIGINT, so the group can be stopped as Ctrl-C stops it.
        set -m
        in_root "PORT=$PORT make run" >"$DIR/make-run.log" 2>&1 &
        run_pid=$!
        set +m
        answer=""
        while ((SECONDS - started < RUN_TIMEOUT)); do
            if ! kill -0 "$run_pid" 2>/dev/null; then break; fi
            answer=$("$PYPREFIX/bin/python3" - "$PORT" <<'EOF' || true
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/articles", timeout=5) as r:
        body = json.load(r)
except Exception:
    sys.exit(1)
authors = sorted({a["author"]["username"] for a in body["articles"]})
if body["articlesCount"] and {"ada", "grace"} & set(authors):
    print(f"{body['articlesCount']} articles by {', '.join(authors)}")
EOF
)
            [[ -n $answer ]] && break
            sleep 2
        done
        run_seconds=$((SECONDS - started))
        kill -INT -- "-$run_pid" 2>/dev/null || true
        for _ in $(seq 40); do kill -0 "$run_pid" 2>/dev/null || break; sleep 1; done
        kill -KILL -- "-$run_pid" 2>/dev/null || true
        wait "$run_pid" 2>/dev/null || true
        # Ctrl-C must stop the server too, not only make: nothing may answer on the port after.
        left=yes
        for _ in $(seq 20); do
            port_answers "$PORT" || { left=""; break; }
            sleep 0.5
        done
        if [[ -n $left ]]; then
            status=1
            echo "make run: a server still answers on port $PORT after Ctrl-C's signal" >&2
        elif [[ -n $answer ]]; then
            echo "make run: /api/articles answered after ${run_seconds} s: $answer; Ctrl-C's signal stopped it"
        else
            status=1
            echo "make run: no demo data at /api/articles after ${run_seconds} s; its last output:" >&2
            tail -n 40 "$DIR/make-run.log" >&2
        fi
        echo "make-run-seconds=$run_seconds" >>"$DIR/times"
    fi
    if [[ $status -eq 0 && ,$STEPS, == *,test,* ]]; then
        say "make test (its output: $DIR/make-test.log)"
        started=$SECONDS
        test_status=0
        in_root "make test" 2>&1 | tee "$DIR/make-test.log" || test_status=$?
        test_seconds=$((SECONDS - started))
        echo "make-test-seconds=$test_seconds" >>"$DIR/times"
        echo "make test: exit $test_status after ${test_seconds} s"
        [[ $test_status -eq 0 ]] || status=1
    fi
    exit $status
fi

# --- on the host -----------------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "needs root (chroot, mounts and namespaces)"
PYTHON=${PYTHON313:-$(command -v python3.13 || true)}
[[ -n $PYTHON && -x $PYTHON ]] || die "no Python 3.13 (the Makefile passes PYTHON313; run it as make fresh-check)"
PYPREFIX=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')
! port_answers "$PORT" || die "port $PORT is in use: FRESH_CHECK_PORT=<free port> make fresh-check"

mkdir -p "$DIR"
exec 9>"$DIR/lock"
flock -n 9 || die "another fresh-check holds $DIR/lock"
bash tools/debian-packages.sh mmdebstrap

# The Debian packages of the libraries the interpreter and its extension modules link against.
libs=$( (ldd "$PYPREFIX/bin/python3.13"; find "$PYPREFIX/lib" -path '*/lib-dynload/*.so' -exec ldd {} \;) \
    | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | grep -v "^$PYPREFIX/")
lib_packages=$(for lib in $libs; do
    for candidate in "$lib" "${lib#/usr}" "/usr$lib" "$(realpath "$lib")"; do
        dpkg-query -S "$candidate" 2>/dev/null && break
    done
done | cut -d: -f1 | sort -u | paste -sd, -)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
include="make,git,ca-certificates,$lib_packages"
tarball=$DIR/rootfs-$suite.tar
recipe="$suite minbase $include"

if [[ $REBUILD == 1 || ! -s $tarball || "$(cat "$tarball.recipe" 2>/dev/null)" != "$recipe" ]] \
    || [[ -n $(find "$tarball" -mtime "+$MAX_AGE_DAYS" 2>/dev/null) ]]; then
    say "building a fresh Debian $suite root (mmdebstrap minbase + $include)"
    started=$SECONDS
    rm -f "$tarball" "$tarball.recipe"
    # No mirror named: mmdebstrap takes this machine's apt sources (the release and its security updates).
    mmdebstrap --quiet --variant=minbase --include="$include" "$suite" "$DIR/partial-$suite.tar"
    mv "$DIR/partial-$suite.tar" "$tarball"
    echo "$recipe" >"$tarball.recipe"
    echo "built $tarball in $((SECONDS - started)) s"
else
    echo "fresh-check: reusing $tarball ($(date -r "$tarball" '+%F %R'); FRESH_CHECK_REBUILD=1 rebuilds it)"
fi

rm -rf "$ROOT" "$DIR/times" "$DIR/make-run.log" "$DIR/make-test.log"
mkdir -p "$ROOT"
tar -xf "$tarball" -C "$ROOT"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The machine's network trust (see the top): its local CAs, and the variables that name the bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null
fi
TRUST_ENV=""
for var in SSL_CERT_FILE SSL_CERT_DIR PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE GIT_SSL_CAINFO \
    NODE_EXTRA_CA_CERTS; do
    [[ -n ${!var:-} ]] && TRUST_ENV+=" $var=${!var}"
done
# Packages install, but start nothing: services are the project's to start (as in a container).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
git clone --quiet --no-hardlinks "$REPO" "$ROOT/root/conduit"
commit=$(git -C "$ROOT/root/conduit" rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no | wc -l)
echo "fresh-check: a clean clone of $commit in $ROOT/root/conduit; Python from $PYPREFIX (read-only)"
[[ $dirty -eq 0 ]] || echo "fresh-check: $dirty changed files in this checkout are not part of the check"

inside_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $inside_pid ]] && kill -0 "$inside_pid" 2>/dev/null; then
        kill -TERM "$inside_pid" 2>/dev/null || true
        for _ in $(seq 20); do kill -0 "$inside_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$inside_pid" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if [[ $KEEP == 1 ]]; then
        echo "fresh-check: the root is kept in $ROOT (FRESH_CHECK_KEEP=1)"
    else
        rm -rf "$ROOT"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --kill-child: when this unshare dies, PID 1 of the namespace is SIGKILLed, and with it every
# process in the namespace; the mounts go with the mount namespace.
started=$SECONDS
export ROOT DIR PORT STEPS RUN_TIMEOUT TRUST_ENV
# SIGINT back to its default inside: whatever started this script in the background (CI, a
# script's `&`) started it with SIGINT ignored, everything inside would inherit that (Python then
# installs no KeyboardInterrupt), and no fresh machine runs so.
env --default-signal=INT unshare --mount --pid --fork --kill-child --propagation private \
    bash "$REPO/tools/fresh-check.sh" --inside "$PYPREFIX" &
inside_pid=$!
status=0
wait "$inside_pid" || status=$?
inside_pid=""

say "summary ($commit)"
[[ -f $DIR/times ]] && sed 's/=/: /; s/$/ s/' "$DIR/times"
if [[ -f $DIR/make-test.log ]]; then
    echo "pytest's summaries:"
    # pytest's closing lines: "=== N passed ... in Ts ===", and the quiet pass's undecorated one.
    grep -E '^(=+ )?[0-9]+ (passed|failed|errors?)\b.* in [0-9.]+s' "$DIR/make-test.log" \
        || echo "  (none)"
fi
echo "total: $((SECONDS - started)) s; $([[ $status -eq 0 ]] && echo PASSED || echo FAILED)"
exit $status
}

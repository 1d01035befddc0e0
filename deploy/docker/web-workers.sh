#!/bin/sh
# Prints how many granian worker processes to run (tools/run.sh and the image's entrypoint use it).
#
# The in-process cache (CACHE_URL unset, the embedded default) is per process: a write invalidates
# the cache of the process that served it and no other, so a second process would go on serving
# what it had cached (a favorite count, a deactivated user) to signed-in readers (ADR 0016). With
# it: one process (WEB_WORKERS=1, its threads from WEB_THREADS), and more is refused. With a shared
# cache (CACHE_URL), or the cache off (CACHE_ARTICLES=false): WEB_WORKERS, default 2.
set -eu
case "$(printf '%s' "${CACHE_ARTICLES:-true}" | tr '[:upper:]' '[:lower:]')" in
    false | 0 | no | off | n | f) cache_off=1 ;;
    *) cache_off=0 ;;
esac
if [ -n "${CACHE_URL:-}" ] || [ "$cache_off" = 1 ]; then
    echo "${WEB_WORKERS:-2}"
    exit 0
fi
if [ "${WEB_WORKERS:-1}" != 1 ]; then
    echo "WEB_WORKERS=${WEB_WORKERS} with the in-process cache: each process would keep serving what it cached after another process's write. Set CACHE_URL (redis://... or pymemcache://...) for more than one process, or CACHE_ARTICLES=false." >&2
    exit 2
fi
echo 1

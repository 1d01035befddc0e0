#!/usr/bin/env bash
# Make sure Debian packages are installed:
#   tools/debian-packages.sh chromium postgresql-15      # these packages
#   tools/debian-packages.sh -f tools/debian-packages.txt # the ones listed in a file (# comments)
# As root, missing packages are installed with apt-get (after one `apt-get update`); as another
# user, the script names what is missing and fails, so nothing is skipped silently. apt's output
# goes to a log, which is printed whole when apt fails.
set -euo pipefail
wanted=()
while [[ $# -gt 0 ]]; do
    if [[ $1 == -f ]]; then
        while read -r pkg _; do
            [[ -n $pkg && $pkg != \#* ]] && wanted+=("$pkg")
        done <"$2"
        shift 2
    else
        wanted+=("$1")
        shift
    fi
done
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/conduit-apt.XXXXXX.log)
started=$SECONDS
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "apt-get could not install: ${missing[*]} (its output is above and in $log)" >&2
    exit 1
fi
rm -f "$log"
echo "installed ${#missing[@]} Debian packages in $((SECONDS - started)) s" >&2

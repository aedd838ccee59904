#!/usr/bin/env bash
# Builds contrib/Containerfile with buildah and smoke-tests the image: the user, the
# libraries of the extras, `osfsck checks`, `osfsck check --from` a snapshot with no config
# (exit 4: one planted finding), and a config found at /etc/osfsck/osfsck.toml (exit 8: its
# database is not there).  Run from anywhere, as root:
#     contrib/smoke-test.sh                     # base image made with debootstrap (Debian's python3)
#     BASE=docker.io/library/python:3.12-slim-bookworm contrib/smoke-test.sh   # where a registry is reachable
# Needs buildah (and debootstrap without BASE): apt-get install buildah debootstrap.
# RUN steps use buildah's chroot isolation, which needs no OCI runtime; pip in them sees the
# host's pip configuration and CA bundle, when it has them.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'buildah rm osfsck-smoke >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

base=${BASE:-localhost/osfsck-base:bookworm}
if [ -z "${BASE:-}" ] && ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$work/rootfs" \
    http://deb.debian.org/debian >/dev/null
  tar -C "$work/rootfs" -c . | buildah import - "$base" >/dev/null 2>&1 \
    || tar -C "$work/rootfs" -c . | podman import - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi

mounts=()
for f in /etc/pip.conf /etc/xdg/pip "${PIP_CERT:-}"; do
  [ -n "$f" ] && [ -e "$f" ] && mounts+=(-v "$f:$f:ro")
done
buildah bud --isolation chroot --network host --layers "${mounts[@]}" --build-arg "BASE=$base" \
  -f contrib/Containerfile -t localhost/osfsck:smoke . >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }

.venv/bin/python - "$work/snap.json.gz" <<'PY'
import sys
from tests.support.world import World
w = World()
u = w.instance(host="hv1")
w.domain("hv1", u)
w.instance_dir("hv1", u)
w.instance_dir("hv1", "9d0c0b51-5c09-4b53-9c3e-3a39a3f3c0de", age=7200)  # nobody's: HV110
w.snapshot().write(sys.argv[1])
PY
printf '[nova]\napi_database = "mysql+pymysql://nova:pw@127.0.0.1:1/nova_api"\n' >"$work/osfsck.toml"
chmod 755 "$work" && chmod 644 "$work/snap.json.gz" "$work/osfsck.toml"

buildah from --name osfsck-smoke localhost/osfsck:smoke >/dev/null
# run: no config anywhere; with_config: one at /etc/osfsck/osfsck.toml, where osfsck looks
run() { buildah run --isolation chroot --user osfsck -v "$work:/data:ro" osfsck-smoke -- "$@"; }
with_config() { buildah run --isolation chroot --user osfsck -v "$work/osfsck.toml:/etc/osfsck/osfsck.toml:ro" \
                  osfsck-smoke -- "$@"; }
status() { set +e; "$@" >"$work/out" 2>&1; echo $?; set -e; }

[ "$(run id -un)" = osfsck ]
run python3 -c "import libvirt, ovsdbapp, dns, sqlalchemy, pymysql, httpx, orjson"
run osfsck checks | grep -q "HV110  orphan-instance-dir"
[ "$(status run osfsck check --select HV110 --from /data/snap.json.gz)" = 4 ] || { cat "$work/out"; exit 1; }
grep -q "orphan-instance-dir" "$work/out"
[ "$(status with_config osfsck check --select NV101)" = 8 ] || { cat "$work/out"; exit 1; }
grep -q "nova:\*\*\*@127.0.0.1:1/nova_api" "$work/out"   # the config was found, its password hidden
run sh -c 'touch /var/lib/osfsck/probe'                     # the journal's folder is osfsck's
echo "contrib/Containerfile: built and smoke-tested (base $base)"

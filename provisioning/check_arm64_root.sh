#!/usr/bin/env bash
# The Pi path without a Pi: build an arm64 Debian Bookworm root (debootstrap + qemu-user-static),
# install the appliance in it with provisioning/provision.sh itself, then run
# `appliance selftest --no-hardware` and `appliance analyze` on a short real clip there.
#
#   sudo provisioning/check_arm64_root.sh [--root DIR] [--fresh] [--clip PATH] [--frames N]
#                                          [--models DIR] [--mirror URL]
#
# What differs from a Raspberry Pi OS install, and only that:
#   - the packages that come from the Raspberry Pi archive (python3-picamera2, python3-lgpio) are
#     not installed (Debian does not have them); any other missing package fails the check;
#   - the host's own added certificate authorities (/usr/local/share/ca-certificates) are trusted
#     inside too (behind a TLS-inspecting proxy pip needs them);
#   - systemctl and hostnamectl are stand-ins that print what they were asked (no init in a chroot);
#   - with --models (default: ~/.cache/appliance/models when it has the model files) the pose model
#     files are copied in first (owned by the appliance user, created first with provision.sh's
#     useradd line), so provision.sh's `appliance fetch-model` verifies each file's sha256 instead
#     of downloading them under emulation.
# Everything else (apt packages, the appliance user, the venv with Debian's numpy pinned, the pip
# install of this repository, the spoken prompts, the settings, the PIN) is provision.sh's own work.
#
#   --root DIR     where the arm64 root lives (default /var/tmp/appliance-arm64-bookworm); kept
#                  between runs: a second run reuses the debootstrap and re-provisions (quick)
#   --fresh        delete DIR first and build it again
#   --clip PATH    the clip for `analyze` (default ../shared/data/phone_side_60fps.mp4)
#   --frames N     frames of the clip to analyse (default 60)
#   --models DIR   pose model files to copy in (see above); "none" to make provision.sh fetch them
#   --mirror URL   Debian mirror for debootstrap (default: debootstrap's own)
#
# Needs root, and installs debootstrap and qemu-user-static (Debian packages) when missing. Took
# about 10 minutes the first time on two x86 cores (debootstrap 106 s, then apt and pip under
# emulation) and 256 s with the root kept (provision 45 s, the model check and analyze the rest). Opt-in, not
# part of `./dev test` by default: run it with `./dev test --arm64` or APPLIANCE_ARM64_CHECK=1.
# Prints "arm64 check: PASS" (exit 0) or "arm64 check: FAIL: <step>" (exit 1).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=/var/tmp/appliance-arm64-bookworm
fresh=0
clip="$here/../shared/data/phone_side_60fps.mp4"
frames=60
models="${HOME:-/root}/.cache/appliance/models"
mirror=""

usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; }
say() { printf 'arm64 check: %s\n' "$*"; }
fail() { printf 'arm64 check: FAIL: %s\n' "$*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a directory}; shift ;;
    --fresh) fresh=1 ;;
    --clip) clip=${2:?--clip needs a path}; shift ;;
    --frames) frames=${2:?--frames needs a number}; shift ;;
    --models) models=${2:?--models needs a directory or none}; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option: $1" ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap and chroot need it): sudo $0"
[ -f "$clip" ] || fail "no clip at $clip: give one with --clip"
case "$frames" in ''|*[!0-9]*) fail "--frames must be a whole number" ;; esac

# Packages of provision.sh that Raspberry Pi OS gets from the Raspberry Pi archive, not Debian.
readonly RPI_ARCHIVE=(python3-picamera2 python3-lgpio)
readonly SUITE=bookworm
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ -x /usr/bin/qemu-aarch64-static ] || missing+=(qemu-user-static)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" binfmt-support >/dev/null
  fi
  # The kernel must hand arm64 binaries to qemu (binfmt_misc; F: qemu is loaded at registration,
  # so it works inside the chroot without a copy there).
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || fail "cannot mount binfmt_misc (a container without it cannot run arm64 binaries)"
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 2>/dev/null || systemctl restart systemd-binfmt 2>/dev/null || true
  fi
  grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || fail "qemu-aarch64 is not registered in binfmt_misc: update-binfmts --enable qemu-aarch64"
}

mounted=()
unmount_all() {
  local i
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
}
trap unmount_all EXIT

mount_root() {
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  # No /sys: with the host's CPU topology in sight, XNNPACK under qemu-user segfaults in the model
  # check (qemu 7.2); without it the pose runtime falls back to its defaults, as the issue's run did.
  mount --bind /dev "$root/dev" && mounted+=("$root/dev")
  if mount --bind /dev/pts "$root/dev/pts" 2>/dev/null; then mounted+=("$root/dev/pts"); fi
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # Certificate authorities this host added (a network that inspects TLS): the root trusts them too,
  # or pip cannot reach the package index from inside it.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null 2>&1 || true
  fi
}

in_root() { chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

build_root() {
  if [ "$fresh" = 1 ] && [ -d "$root" ]; then
    say "deleting $root (--fresh)"
    rm -rf --one-file-system "$root"
  fi
  if [ -x "$root/usr/bin/python3" ] && [ -f "$root/.debootstrap-done" ]; then
    say "reusing the arm64 root in $root"
    return 0
  fi
  rm -rf --one-file-system "$root"
  mkdir -p "$root"
  say "debootstrap --arch=arm64 $SUITE into $root (the slow part)"
  # shellcheck disable=SC2086
  debootstrap --arch=arm64 --variant=minbase --include=python3,ca-certificates,procps \
    "$SUITE" "$root" $mirror >"$root.debootstrap.log" 2>&1 \
    || { tail -20 "$root.debootstrap.log"; fail "debootstrap (log: $root.debootstrap.log)"; }
  touch "$root/.debootstrap-done"
  say "debootstrap done ($(elapsed))"
}

stand_ins() {
  local bin="$root/usr/local/sbin"
  mkdir -p "$bin"
  # apt-get: the same command provision.sh gives, less the Raspberry Pi archive's packages.
  cat >"$bin/apt-get" <<EOF
#!/bin/sh
# arm64 check stand-in: drop packages only the Raspberry Pi archive has (${RPI_ARCHIVE[*]}).
args=""
for a in "\$@"; do
  case " ${RPI_ARCHIVE[*]} " in
    *" \$a "*) echo "arm64 check: skipped \$a (Raspberry Pi archive)" >&2 ;;
    *) args="\$args \$a" ;;
  esac
done
# shellcheck disable=SC2086
exec /usr/bin/apt-get \$args
EOF
  for cmd in systemctl hostnamectl; do
    printf '#!/bin/sh\necho "arm64 check: (no init in a chroot) %s $*" >&2\n' "$cmd" >"$bin/$cmd"
  done
  chmod 0755 "$bin/apt-get" "$bin/systemctl" "$bin/hostnamectl"
}

copy_source() {
  local dest="$root/opt/appliance-src"
  rm -rf "$dest"
  mkdir -p "$dest"
  # The tracked files as they are in the work tree (so uncommitted changes are checked too).
  (cd "$here" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - 2>/dev/null) \
    | tar -xf - -C "$dest"
  cp "$clip" "$root/opt/clip.mp4"
  if [ "$models" != none ] && [ -f "$models/pose_detection.tflite" ]; then
    # The files must belong to the appliance user, as fetch-model would have written them: create
    # the user first with provision.sh's own useradd line (it then says "user appliance: exists").
    if ! in_root getent passwd appliance >/dev/null; then
      in_root useradd --system --user-group --home-dir /var/lib/appliance --no-create-home \
        --shell /usr/sbin/nologin --comment "treadmill appliance" appliance
    fi
    install -d -m 0750 "$root/var/lib/appliance" "$root/var/lib/appliance/models"
    cp "$models"/*.tflite "$root/var/lib/appliance/models/"
    in_root chown -R appliance:appliance /var/lib/appliance
    say "model files copied in from $models (fetch-model verifies them)"
  fi
}

provision() {
  say "provisioning/provision.sh --hostname treadmill inside the root"
  if ! in_root /bin/bash /opt/appliance-src/provisioning/provision.sh --hostname treadmill >"$root.provision.log" 2>&1; then
    tail -30 "$root.provision.log"
    fail "provision.sh (log: $root.provision.log)"
  fi
  grep -E '^arm64 check: skipped|pip|numpy|PIN' "$root.provision.log" | grep -v 'First panel PIN' || true
  local numpy litert
  numpy=$(in_root /opt/appliance/venv/bin/python -c 'import numpy; print(numpy.__version__)')
  litert=$(in_root /opt/appliance/venv/bin/python -c 'import importlib.metadata as m; print(m.version("ai-edge-litert"))' 2>/dev/null || echo none)
  say "provisioned ($(elapsed)): numpy $numpy, ai-edge-litert $litert"
}

checks() {
  local out=/tmp/arm64-analyze
  say "appliance selftest --no-hardware"
  in_root runuser -u appliance -- /usr/local/bin/appliance selftest --no-hardware \
    --config /var/lib/appliance/settings.json || fail "appliance selftest --no-hardware"
  say "appliance analyze (the first $frames frames of $(basename "$clip"))"
  rm -rf "$root$out"
  in_root /usr/local/bin/appliance analyze /opt/clip.mp4 --out "$out" --max-frames "$frames" \
    --config /var/lib/appliance/settings.json || fail "appliance analyze"
  [ -s "$root$out/report.json" ] || fail "appliance analyze wrote no report.json"
  say "written: $(find "$root$out" -maxdepth 1 -type f -printf '%f ')"
}

host_tools
build_root
mount_root
stand_ins
copy_source
provision
checks
say "PASS ($(elapsed))"

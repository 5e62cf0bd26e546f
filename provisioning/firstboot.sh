#!/usr/bin/env bash
# First boot of a card prepared on a laptop: provision from the repository copied to the boot
# partition (/boot/firmware/appliance), log to /var/log/appliance-firstboot.log (root only: it holds
# the first panel PIN), mark the card provisioned and reboot once for the boot overlays.
# Started by appliance-firstboot.service (Imager first-run script) or by cloud-init's runcmd.
# Arguments are passed to provision.sh (e.g. --hostname NAME).
set -euo pipefail

SRC_ON_BOOT=$(cd "$(dirname "$0")/.." && pwd)
readonly SRC_ON_BOOT
readonly SRC=/opt/appliance/src
readonly LOG=/var/log/appliance-firstboot.log
readonly DONE=/var/lib/appliance/.provisioned

[ "$(id -u)" -eq 0 ] || { echo "firstboot: run as root" >&2; exit 1; }
touch "$LOG"
chmod 0600 "$LOG"
exec > >(tee -a "$LOG") 2>&1
echo "firstboot: $(date -u +%FT%TZ) provisioning from $SRC_ON_BOOT"

# apt refuses repositories whose Release file is "in the future": wait for NTP (the Pi has no
# battery-backed clock by default), at most two minutes.
for _ in $(seq 60); do
  [ "$(timedatectl show --property=NTPSynchronized --value 2>/dev/null)" = yes ] && break
  sleep 2
done

# Copy the repository off the FAT partition: pip builds in place, and upgrades later run from here.
rm -rf "$SRC.new"
mkdir -p "$(dirname "$SRC")"
cp -r "$SRC_ON_BOOT" "$SRC.new"
rm -rf "$SRC"
mv "$SRC.new" "$SRC"

boot_config=/boot/firmware/config.txt
before=$(sha256sum "$boot_config" 2>/dev/null || true)
bash "$SRC/provisioning/provision.sh" "$@"
mkdir -p "$(dirname "$DONE")"
date -u +%FT%TZ >"$DONE"
systemctl disable appliance-firstboot.service 2>/dev/null || true

if [ "$(sha256sum "$boot_config" 2>/dev/null || true)" != "$before" ]; then
  echo "firstboot: boot config changed; rebooting for the camera and amplifier overlays"
  systemctl reboot
fi

#!/usr/bin/env bash
# For the Raspberry Pi Imager's first-run script (Bookworm): install and enable the unit that
# provisions the appliance once the network is up. Add this line to /boot/firmware/firstrun.sh,
# before its final `rm -f` line:
#   bash /boot/firmware/appliance/provisioning/enable-firstboot.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
install -m 0644 "$here/systemd/appliance-firstboot.service" /etc/systemd/system/appliance-firstboot.service
systemctl enable appliance-firstboot.service

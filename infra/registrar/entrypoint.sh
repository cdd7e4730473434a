#!/bin/sh
# Writes Kamailio's configuration from the environment and runs it in the foreground.
#   REGISTRAR_CONFIG_B64   the configuration (base64), with the placeholders below
#   DIAL_IN_PASSWORD       the inbound address's password (from Secrets Manager)
#   REGISTRAR_ADVERTISE    the load balancer's public address, advertised on the public socket
set -eu
: "${REGISTRAR_CONFIG_B64:?}" "${DIAL_IN_PASSWORD:?}" "${REGISTRAR_ADVERTISE:?}"
case "$DIAL_IN_PASSWORD" in *[!A-Za-z0-9]*) echo "DIAL_IN_PASSWORD must be letters and digits" >&2; exit 1 ;; esac
PRIVATE_IP=$(hostname -i | awk '{print $1}')
dir=/var/lib/roomline-registrar
echo "$REGISTRAR_CONFIG_B64" | base64 -d \
  | sed -e "s/__DIAL_IN_PASSWORD__/$DIAL_IN_PASSWORD/g" -e "s/__ADVERTISE__/$REGISTRAR_ADVERTISE/g" -e "s/__PRIVATE_IP__/$PRIVATE_IP/g" \
  > "$dir/kamailio.cfg"
chmod 0600 "$dir/kamailio.cfg"
exec kamailio -f "$dir/kamailio.cfg" -DD -E -m 64 -M 8 -P "$dir/kamailio.pid" -Y "$dir"

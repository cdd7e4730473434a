#!/bin/sh
# Writes the Janus configuration from the environment, then runs Janus in the foreground.
#
# JANUS_SDP_IP         public IPv4 the SIP plugin announces in SDP (default: asked from JANUS_PUBLIC_IP_URL)
# JANUS_PUBLIC_IP_URL  plain-text "what is my IP" service (default https://checkip.amazonaws.com)
# JANUS_WS_PORT        WebSocket API port (default 8188)
# JANUS_HEALTH_PORT    HTTP API port on 127.0.0.1, for the health check only (default 8088)
# JANUS_WEBRTC_PORTS   RTP ports of the WebRTC side, towards the workers (default 10000-10999)
# JANUS_SIP_RTP_PORTS  RTP ports of the SIP side (default 20000-20999)
# JANUS_DEBUG_LEVEL    0-7 (default 4)
# JANUS_API_SECRET     the API secret every request must carry (required; the construct injects it from Secrets Manager)
# JANUS_PINGPONG_TRIGGER_S, JANUS_PINGPONG_TIMEOUT_S
#                      a WebSocket client idle for TRIGGER s is pinged and dropped when no pong came TIMEOUT s later;
#                      its sessions are destroyed and their SIP calls hung up (BYE) (default 1 and 2: a worker cut off
#                      without a FIN leaves its SIP peer within 5 s; the lab runs the same values)
set -eu

api_secret="${JANUS_API_SECRET:-}"
if [ -z "$api_secret" ]; then
  echo "roomline-janus: no API secret (set JANUS_API_SECRET): a Janus without one obeys anything that reaches it" >&2
  exit 1
fi
case "$api_secret" in
  *'"'*|*'\'*|*'
'*) echo "roomline-janus: JANUS_API_SECRET must not contain quotes, backslashes or line breaks" >&2; exit 1 ;;
esac

ws_port="${JANUS_WS_PORT:-8188}"
health_port="${JANUS_HEALTH_PORT:-8088}"
webrtc_ports="${JANUS_WEBRTC_PORTS:-10000-10999}"
sip_rtp_ports="${JANUS_SIP_RTP_PORTS:-20000-20999}"
debug_level="${JANUS_DEBUG_LEVEL:-4}"
pingpong_trigger="${JANUS_PINGPONG_TRIGGER_S:-1}"
pingpong_timeout="${JANUS_PINGPONG_TIMEOUT_S:-2}"
ip_url="${JANUS_PUBLIC_IP_URL:-https://checkip.amazonaws.com}"

is_ipv4() {
  echo "$1" | grep -Eq '^([0-9]{1,3}\.){3}[0-9]{1,3}$'
}

sdp_ip="${JANUS_SDP_IP:-}"
if [ -z "$sdp_ip" ]; then
  attempt=1
  while [ "$attempt" -le 5 ]; do
    sdp_ip="$(curl -fsS --max-time 3 "$ip_url" | tr -d '[:space:]' || true)"
    if is_ipv4 "$sdp_ip"; then break; fi
    sdp_ip=""
    attempt=$((attempt + 1))
    sleep 1
  done
fi
if ! is_ipv4 "$sdp_ip"; then
  echo "roomline-janus: no public IPv4 address (set JANUS_SDP_IP or check access to $ip_url)" >&2
  exit 1
fi
echo "roomline-janus: SIP plugin announces $sdp_ip, WebSocket on :$ws_port"

umask 077
conf="$(mktemp -d /tmp/janus-conf.XXXXXX)"

cat > "$conf/janus.jcfg" <<JCFG
general: {
  configs_folder = "$conf"
  log_to_stdout = true
  debug_level = $debug_level
  session_timeout = 60
  server_name = "roomline-janus"
  api_secret = "$api_secret"
}
media: {
  rtp_port_range = "$webrtc_ports"
}
nat: {
  ice_ignore_list = "vmnet,169.254."
}
plugins: {
  disable = "libjanus_audiobridge.so,libjanus_echotest.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_videoroom.so,libjanus_voicemail.so,libjanus_lua.so,libjanus_duktape.so"
}
transports: {
  disable = "libjanus_pfunix.so,libjanus_mqtt.so,libjanus_rabbitmq.so,libjanus_nanomsg.so"
}
events: {
  broadcast = false
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
JCFG

cat > "$conf/janus.transport.websockets.jcfg" <<JCFG
general: {
  json = "compact"
  pingpong_trigger = $pingpong_trigger
  pingpong_timeout = $pingpong_timeout
  ws = true
  ws_port = $ws_port
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
JCFG

cat > "$conf/janus.transport.http.jcfg" <<JCFG
general: {
  json = "compact"
  base_path = "/janus"
  http = true
  port = $health_port
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
JCFG

cat > "$conf/janus.plugin.sip.jcfg" <<JCFG
general: {
  sdp_ip = "$sdp_ip"
  keepalive_interval = 120
  behind_nat = false
  register_ttl = 3600
  rtp_port_range = "$sip_rtp_ports"
  events = false
}
JCFG

exec janus -F "$conf" -o -d "$debug_level"

#!/bin/bash
# Writes the Janus configuration from the environment, then runs Janus and its SIP edge in the foreground; when either
# ends, the other is stopped and the container exits (ECS starts a new task).
#
# The SIP edge: on Fargate a task's interface has a private address and its public IP is a 1:1 translation by the
# internet gateway, so a SIP stack on that interface writes an address nobody outside can reach into its Contact and
# Via headers. Calls go out through a small Kamailio proxy beside Janus that record-routes with the public address:
# the peer's in-dialog requests (its BYE, re-INVITEs) come back through it. Media needs no such help: the SIP plugin
# announces the public address in SDP and the translation keeps its ports.
#
# JANUS_SDP_IP         public IPv4 the SIP plugin announces in SDP and the edge in Record-Route (default: asked from
#                      JANUS_PUBLIC_IP_URL)
# JANUS_PUBLIC_IP_URL  plain-text "what is my IP" service (default https://checkip.amazonaws.com)
# JANUS_LOCAL_IP       the task's own address, where SIP and RTP are bound (default: the address of its hostname)
# JANUS_SIP_EDGE_PORT  the edge's port for SIP peers (default 5060), on JANUS_LOCAL_IP
# JANUS_SIP_EDGE_LOCAL_PORT
#                      the edge's port for this node's Janus, on 127.0.0.1 (default 5062): the workers give
#                      sip:127.0.0.1:<port> as every call's outbound proxy
# JANUS_WS_PORT        WebSocket API port (default 8188)
# JANUS_HEALTH_PORT    HTTP API port on 127.0.0.1, for the health check only (default 8088)
# JANUS_WEBRTC_PORTS   RTP ports of the WebRTC side, towards the workers (default 10000-10999)
# JANUS_SIP_RTP_PORTS  RTP ports of the SIP side (default 20000-20999)
# JANUS_DEBUG_LEVEL    0-7 (default 4)
# JANUS_API_SECRET     the API secret every request must carry (required; the construct injects it from Secrets Manager)
# JANUS_PINGPONG_TRIGGER_S, JANUS_PINGPONG_TIMEOUT_S
#                      a WebSocket client idle for TRIGGER s is pinged and dropped when no pong came TIMEOUT s later;
#                      its sessions are destroyed and their SIP calls hung up (BYE) (default 1 and 3: a worker cut off
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
pingpong_timeout="${JANUS_PINGPONG_TIMEOUT_S:-3}"
ip_url="${JANUS_PUBLIC_IP_URL:-https://checkip.amazonaws.com}"
edge_port="${JANUS_SIP_EDGE_PORT:-5060}"
edge_local_port="${JANUS_SIP_EDGE_LOCAL_PORT:-5062}"

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
local_ip="${JANUS_LOCAL_IP:-$(hostname -i 2>/dev/null | awk '{print $1}')}"
if ! is_ipv4 "$local_ip"; then
  echo "roomline-janus: no local IPv4 address (set JANUS_LOCAL_IP; hostname -i gave '$local_ip')" >&2
  exit 1
fi
modules="$(ls -d /usr/lib/*/kamailio/modules 2>/dev/null | head -n 1)"
if [ -z "$modules" ] || ! command -v kamailio > /dev/null; then
  echo "roomline-janus: Kamailio (the SIP edge) is not installed" >&2
  exit 1
fi
echo "roomline-janus: SIP plugin announces $sdp_ip, binds $local_ip; SIP edge on $local_ip:$edge_port (as $sdp_ip:$edge_port); WebSocket on :$ws_port"

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
  local_ip = "$local_ip"
  sdp_ip = "$sdp_ip"
  keepalive_interval = 120
  behind_nat = false
  register_ttl = 3600
  rtp_port_range = "$sip_rtp_ports"
  events = false
}
JCFG

# The edge: new dialogs only from this node's Janus (the loopback port), out from the task's address, record-routed
# with the public one on both sides (double Record-Route); in-dialog requests follow the route, and from a peer only
# towards this node.
cat > "$conf/sip-edge.cfg" <<KCFG
#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:$edge_local_port
listen=udp:$local_ip:$edge_port advertise $sdp_ip:$edge_port
alias="$sdp_ip:$edge_port"
mpath="$modules"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
modparam("rr", "enable_double_rr", 1)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (has_totag()) {
    if (!loose_route()) {
      if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
      sl_send_reply("404", "Not Here"); exit;
    }
    if (\$Rp == $edge_port && \$rd != "$local_ip") { sl_send_reply("403", "Not Towards This Node"); exit; }
    t_relay();
    exit;
  }
  if (\$Rp != $edge_local_port || \$si != "$local_ip") { sl_send_reply("403", "New Calls Only From This Node"); exit; }
  record_route();
  force_send_socket(udp:$local_ip:$edge_port);
  if (!t_relay()) { sl_reply_error(); }
}
KCFG

kamailio -f "$conf/sip-edge.cfg" -DD -E -m 32 -M 4 -P "$conf/kamailio.pid" -Y "$conf" &
edge=$!
janus -F "$conf" -o -d "$debug_level" &
janus=$!
stopping=0
trap 'stopping=1; kill -TERM "$janus" "$edge" 2> /dev/null' TERM INT
status=0
wait -n "$janus" "$edge" || status=$?
if [ "$stopping" = 0 ]; then
  if kill -0 "$janus" 2> /dev/null; then echo "roomline-janus: the SIP edge (Kamailio) exited ($status)" >&2; else echo "roomline-janus: Janus exited ($status)" >&2; fi
fi
kill -TERM "$janus" "$edge" 2> /dev/null
wait
exit "$status"

/**
 * The start every Roomline Kamailio configuration shares: the dial-in registrar's (registrar-config.ts) and the lab's
 * authenticating trunk (lab/sip-trunk.ts). Both run without a database: the processes and sockets, the transaction,
 * record-route, digest auth, in-memory location (usrloc) and control modules, and the first steps of `request_route`
 * (hop limit, CANCEL, in-dialog requests along the recorded route). The caller goes on with the rest of the route.
 */
export interface KamailioPreludeOptions {
  /** Log level (Kamailio `debug`). */
  readonly debug: number;
  /** Where Kamailio listens, e.g. "udp:127.0.0.1:5060"; each its own `listen=` line. */
  readonly listen: readonly string[];
  /** TCP worker processes (`tcp_children`). @default Kamailio's own */
  readonly tcpChildren?: number;
  /** SIP over TLS, with this configuration file of the tls module (`enable_tls`, tls.so). @default no TLS */
  readonly tlsConfigFile?: string;
  /** Its own domain (`alias`), so that requests to it are its own. */
  readonly domain: string;
  /** Kamailio's module folder. */
  readonly modulesDir: string;
  /** The control socket (kamcmd), e.g. "unix:/run/kamailio/ctl.sock". */
  readonly ctlSocket: string;
  /** Further module parameters, each one `modparam(...)` line, set after usrloc's. @default none */
  readonly modparams?: readonly string[];
}

/** The modules every configuration loads, in their order. */
const MODULES = ['tm', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'xlog', 'auth', 'usrloc', 'registrar', 'ctl'] as const;

/** The configuration up to and including the in-dialog part of `request_route`, whose block it leaves open. */
export function kamailioPrelude(options: KamailioPreludeOptions): string {
  const tls = options.tlsConfigFile;
  const lines = [
    '#!KAMAILIO',
    `debug=${options.debug}`,
    'log_stderror=yes',
    'fork=yes',
    'children=2',
    ...(options.tcpChildren === undefined ? [] : [`tcp_children=${options.tcpChildren}`]),
    'auto_aliases=no',
    ...(tls === undefined ? [] : ['enable_tls=yes']),
    ...options.listen.map((l) => `listen=${l}`),
    `alias="${options.domain}"`,
    `mpath="${options.modulesDir}"`,
    ...(tls === undefined ? [] : ['loadmodule "tls.so"', `modparam("tls", "config", "${tls}")`]),
    ...MODULES.map((m) => `loadmodule "${m}.so"`),
    'modparam("usrloc", "db_mode", 0)',
    ...(options.modparams ?? []),
    `modparam("ctl", "binrpc", "${options.ctlSocket}")`,
  ];
  return `${lines.join('\n')}

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (has_totag()) {
    # in-dialog requests (ACK, BYE, re-INVITE, INFO) follow the recorded route
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not Here"); exit;
  }
`;
}

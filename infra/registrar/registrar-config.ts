import { kamailioPrelude } from './kamailio-prelude.js';

/**
 * The dial-in registrar's Kamailio configuration, made from typed settings: the lab runs it on the namespace's
 * loopback, the AWS registrar image writes it from its task's environment at start. It holds no database: contacts
 * live in memory (usrloc), and the inbound address's password is in the configuration.
 *
 * - REGISTER from a worker: digest-authenticated (`pv_auth_check`) for the inbound address's user only, then
 *   `save("location")`; every idle worker is one contact of that one address, and a contact expires after
 *   `maxExpiresS` unless refreshed, so a worker that died without un-registering drops out on its own.
 * - INVITE from a caller (the trunk): the Request-URI is pointed at the inbound address (the dialled number stays in
 *   the To header, where the workers route by it), record-routed, and forked in parallel to every contact. The first
 *   worker to claim the call answers; the others decline 486, which ranks below any answer a worker gives (2xx,
 *   404). No contact (no idle worker), or only 486/408 from every contact (all busy or gone), gets
 *   `480 No Idle Worker`, and one JSON log line `{"event":"dial-in-rejected",...}` that a metric filter counts.
 */
export interface RegistrarConfigOptions {
  /** Where Kamailio listens, e.g. "udp:127.0.0.1:5060" or "udp:0.0.0.0:5060"; each its own `listen=` line. */
  readonly listen: readonly string[];
  /** The registrar's domain (its own name, so that requests to it are its own). */
  readonly domain: string;
  /** The user of the inbound address every idle worker registers as. @default "inbound" */
  readonly inboundUser?: string;
  /** The inbound address's password (digest). */
  readonly password: string;
  /** The longest registration a worker gets, in seconds (its contact drops out after this unless refreshed). @default 60 */
  readonly maxExpiresS?: number;
  /** Seconds a contact has to send a provisional response before its branch is given up. @default 2 */
  readonly branchTimeoutS?: number;
  /** Kamailio's module folder. */
  readonly modulesDir: string;
  /** The control socket (kamcmd), e.g. "unix:/run/kamailio/ctl.sock". */
  readonly ctlSocket: string;
  /**
   * The socket INVITEs are relayed to the workers' contacts from, when it differs from the one trunks reach (AWS: the
   * task's private address, while trunks reach the load balancer's): `force_send_socket`. Double Record-Route keeps
   * both sides of the dialog on their own socket. @default the socket the INVITE came in on
   */
  readonly relaySocket?: string;
  /** Log level (Kamailio `debug`). @default 2 (info) */
  readonly debug?: number;
}

/** The marker of a rejected inbound call in the registrar's log (one JSON line each). */
export const DIAL_IN_REJECTED_EVENT = 'dial-in-rejected';

export function registrarConfig(options: RegistrarConfigOptions): string {
  const user = options.inboundUser ?? 'inbound';
  const realm = options.domain;
  const escaped = options.password.replace(/["\\$]/g, (c) => `\\${c}`);
  return `${kamailioPrelude({
    debug: options.debug ?? 2,
    listen: options.listen,
    domain: options.domain,
    modulesDir: options.modulesDir,
    ctlSocket: options.ctlSocket,
    modparams: [
      `modparam("registrar", "max_expires", ${options.maxExpiresS ?? 60})`,
      `modparam("registrar", "default_expires", ${options.maxExpiresS ?? 60})`,
      `modparam("tm", "fr_timer", ${(options.branchTimeoutS ?? 2) * 1000})`,
    ],
  })}  if (is_method("REGISTER")) {
    if ($tU != "${user}") { sl_send_reply("403", "Only The Inbound Address Registers Here"); exit; }
    if (!pv_auth_check("${realm}", "${escaped}", "0", "1")) { auth_challenge("${realm}", "0"); exit; }
    consume_credentials();
    save("location");
    exit;
  }
  if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
  if (!is_method("INVITE")) { sl_send_reply("405", "Method Not Allowed"); exit; }
  record_route();
  # whatever number was dialled (it stays in To), the call goes to the inbound address's contacts: the idle workers
  $ru = "sip:${user}@${options.domain}";
  if (!lookup("location")) {
    xlog("L_WARN", "{\\"event\\":\\"${DIAL_IN_REJECTED_EVENT}\\",\\"reason\\":\\"no-idle-worker\\",\\"dialled\\":\\"$tU\\"}\\n");
    sl_send_reply("480", "No Idle Worker");
    exit;
  }
  t_on_failure("EVERY_WORKER_REFUSED");
${options.relaySocket === undefined ? '' : `  force_send_socket(${options.relaySocket});
`}  if (!t_relay()) { sl_reply_error(); }
  exit;
}

failure_route[EVERY_WORKER_REFUSED] {
  if (t_is_canceled()) { exit; }
  # 486 ranks below any worker's own answer: here every contact was busy (raced into a call) or did not answer
  if (t_check_status("486|408")) {
    xlog("L_WARN", "{\\"event\\":\\"${DIAL_IN_REJECTED_EVENT}\\",\\"reason\\":\\"every-worker-busy\\",\\"dialled\\":\\"$tU\\"}\\n");
    t_reply("480", "No Idle Worker");
  }
}
`;
}

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kamailioPrelude } from '../infra/registrar/kamailio-prelude.js';
import type { TrunkSecret } from '../worker/trunks.js';
import { LabProcess, run } from './child-process.js';
import { multiarch } from './janus-server.js';
import type { LabNetns } from './netns.js';
import { PHONE_SIP_PORT } from './sip-phone.js';
import type { LabTlsCerts } from './tls-certs.js';
import { waitUntil } from './wait.js';

export const TRUNK_SIP_PORT = 5080;
/** The trunk's SIP over TLS port. */
export const TRUNK_SIPS_PORT = 5081;
/** The trunk's own domain: a call to a user of it is answered by the trunk as the callee's server (401). */
export const TRUNK_DOMAIN = 'trunk.lab.invalid';
/** The realm of the trunk's digest challenges. */
export const TRUNK_REALM = 'trunk.lab.invalid';
/** The account the bridge has at the trunk. */
export const TRUNK_USER = 'roomline';

/** The lab's trunks by name, as the worker's trunks file holds them (with the trunk's real password). */
export type LabTrunkName = 'lab-proxy' | 'lab-register' | 'lab-tcp' | 'lab-tls' | 'lab-pstn' | 'lab-wrong' | 'lab-wrong-register';

/**
 * Kamailio as a SIP trunk: an authenticating proxy and registrar on 127.0.0.1:5080 (UDP and TCP) and 5081 (TLS, with
 * the lab's self-signed certificate), with the bridge's password in its configuration (no database):
 * - REGISTER: digest challenge 401 (`pv_auth_check`, `auth_challenge`), then `save("location")` in memory (usrloc);
 * - INVITE to a user of its own domain (`sip:probe@trunk.lab.invalid`): 401 (`pv_www_authenticate`), then the
 *   registered contact (`lookup("location")`), else the lab phone;
 * - INVITE to anyone else, sent through it as outbound proxy: 407 (`pv_auth_check`), then relayed (record-routed, so
 *   in-dialog requests pass it too).
 * A wrong password is challenged again, as carriers do.
 */
export class SipTrunk {
  private constructor(
    readonly process: LabProcess,
    private readonly netns: LabNetns,
    private readonly ctlSocket: string,
    /** The bridge's password at the trunk. */
    readonly password: string,
  ) {}

  static async start(options: { netns: LabNetns; dir: string; tls: LabTlsCerts }): Promise<SipTrunk> {
    const dir = join(options.dir, 'kamailio-trunk');
    await mkdir(dir, { recursive: true });
    const password = randomBytes(12).toString('base64url');
    const ctlSocket = join(dir, 'ctl.sock');
    const cfg = join(dir, 'kamailio.cfg');
    const tlsCfg = join(dir, 'tls.cfg');
    await writeFile(
      tlsCfg,
      `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n` +
        `private_key = ${options.tls.privateKey}\ncertificate = ${options.tls.certificate}\n\n` +
        `[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n`,
    );
    await writeFile(cfg, trunkConfig(password, ctlSocket, tlsCfg));
    const { command, args } = options.netns.wrap('kamailio', [
      '-f', cfg, '-DD', '-E', '-m', '32', '-M', '4', '-P', join(dir, 'kamailio.pid'), '-Y', dir,
    ]);
    const process = LabProcess.start('kamailio-trunk', command, args, { logFile: join(options.dir, 'kamailio-trunk.log') });
    return new SipTrunk(process, options.netns, ctlSocket, password);
  }

  /** Waits until Kamailio's UDP and TCP sockets are bound inside the namespace. */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    const { command, args } = this.netns.wrap('ss', ['-lunt']);
    await this.process.whileRunning(
      waitUntil(
        async () => {
          const sockets = await run(command, args);
          return sockets.split(`127.0.0.1:${TRUNK_SIP_PORT}`).length > 2 && sockets.includes(`127.0.0.1:${TRUNK_SIPS_PORT}`);
        },
        { timeoutMs, what: 'Kamailio (trunk)', intervalMs: 100 },
      ),
    );
  }

  /** The contacts the registrar holds for a user of the trunk (kamcmd ul.lookup; records are keyed by user). */
  async registeredContacts(user: string): Promise<string[]> {
    const { command, args } = this.netns.wrap('kamcmd', ['-s', `unix:${this.ctlSocket}`, 'ul.lookup', 'location', user]);
    const output = await run(command, args).catch(() => '');
    return [...output.matchAll(/Address:\s*(\S+)/g)].map((m) => m[1] ?? '');
  }

  /** The lab's trunks, as the worker's trunks file holds them. */
  trunks(): Record<LabTrunkName, TrunkSecret> {
    const proxy = `sip:127.0.0.1:${TRUNK_SIP_PORT}`;
    const base = {
      proxy,
      username: `sip:${TRUNK_USER}@${TRUNK_DOMAIN}`,
      password: this.password,
      realm: TRUNK_REALM,
      register: false,
      outboundProxy: proxy,
      transport: 'udp',
    } as const;
    return {
      /** Every INVITE through the trunk as outbound proxy: 407. */
      'lab-proxy': base,
      /** REGISTER first (401), then calls to the trunk's own users (401). */
      'lab-register': { ...base, register: true },
      /** The same over TCP. */
      'lab-tcp': { ...base, outboundProxy: `${proxy};transport=tcp`, proxy: `${proxy};transport=tcp`, transport: 'tcp' },
      /** The same over TLS. */
      'lab-tls': {
        ...base,
        outboundProxy: `sip:127.0.0.1:${TRUNK_SIPS_PORT};transport=tls`,
        proxy: `sip:127.0.0.1:${TRUNK_SIPS_PORT};transport=tls`,
        transport: 'tls',
      },
      /** A PSTN-like trunk: G.711 only, digits by SIP INFO. */
      'lab-pstn': { ...base, audioCodecs: ['PCMU', 'PCMA'], dtmf: 'info' },
      'lab-wrong': { ...base, password: `not-${this.password}` },
      'lab-wrong-register': { ...base, register: true, password: `not-${this.password}` },
    };
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

function trunkConfig(password: string, ctlSocket: string, tlsCfg: string): string {
  return `${kamailioPrelude({
    debug: 2,
    tcpChildren: 2,
    listen: [`udp:127.0.0.1:${TRUNK_SIP_PORT}`, `tcp:127.0.0.1:${TRUNK_SIP_PORT}`, `tls:127.0.0.1:${TRUNK_SIPS_PORT}`],
    tlsConfigFile: tlsCfg,
    domain: TRUNK_DOMAIN,
    modulesDir: `/usr/lib/${multiarch()}/kamailio/modules/`,
    ctlSocket: `unix:${ctlSocket}`,
  })}  # the users of this trunk and their passwords: from this configuration, no database
  $var(password) = "";
  if ($au == "${TRUNK_USER}") { $var(password) = "${password}"; }
  if (is_method("REGISTER")) {
    if (!pv_auth_check("${TRUNK_REALM}", "$var(password)", "0", "1")) {
      xlog("L_INFO", "REGISTER $tu: challenged (401)\\n");
      auth_challenge("${TRUNK_REALM}", "0");
      exit;
    }
    consume_credentials();
    xlog("L_INFO", "REGISTER $tu: authenticated as $au, saved\\n");
    save("location");
    exit;
  }
  if (!is_method("INVITE")) { sl_send_reply("405", "Method Not Allowed"); exit; }
  if (uri == myself) {
    # a call to one of this trunk's users: the trunk answers for the callee's domain (401)
    if (!pv_www_authenticate("${TRUNK_REALM}", "$var(password)", "0")) {
      xlog("L_INFO", "INVITE $ru: challenged (401)\\n");
      www_challenge("${TRUNK_REALM}", "0");
      exit;
    }
  } else {
    # a call through this trunk as outbound proxy (407)
    if (!pv_auth_check("${TRUNK_REALM}", "$var(password)", "0", "1")) {
      xlog("L_INFO", "INVITE $ru: challenged (407)\\n");
      auth_challenge("${TRUNK_REALM}", "0");
      exit;
    }
  }
  consume_credentials();
  xlog("L_INFO", "INVITE $ru from $fu over $pr: authenticated as $au\\n");
  record_route();
  if (uri == myself) {
    if (!lookup("location")) { rewritehostport("127.0.0.1:${PHONE_SIP_PORT}"); }
  }
  if (!t_relay()) { sl_reply_error(); }
}
`;
}

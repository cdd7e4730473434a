import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIAL_IN_REJECTED_EVENT, registrarConfig } from '../infra/registrar/registrar-config.js';
import { LabProcess, run } from './child-process.js';
import { multiarch } from './janus-server.js';
import type { LabNetns } from './netns.js';
import { waitUntil } from './wait.js';

export const REGISTRAR_SIP_PORT = 5060;
/** The registrar's domain in the lab. */
export const REGISTRAR_DOMAIN = 'dial-in.lab.invalid';
/** The inbound address's user: every idle worker registers as it. */
export const INBOUND_USER = 'inbound';

/** One rejected inbound call, as the registrar logged it. */
export interface DialInRejection {
  readonly event: typeof DIAL_IN_REJECTED_EVENT;
  readonly reason: 'no-idle-worker' | 'every-worker-busy';
  readonly dialled: string;
}

/**
 * The dial-in registrar: Kamailio on the namespace's loopback, with the configuration the AWS registrar runs
 * (infra/registrar/registrar-config.ts). Warm workers register there as contacts of the inbound address; a phone
 * calls `sip:<number>@127.0.0.1:5060` and the INVITE is forked to every idle worker.
 */
export class SipRegistrar {
  private constructor(
    readonly process: LabProcess,
    private readonly netns: LabNetns,
    private readonly ctlSocket: string,
    private readonly logFile: string,
    /** The inbound address's password. */
    readonly password: string,
  ) {}

  static async start(options: { netns: LabNetns; dir: string }): Promise<SipRegistrar> {
    const dir = join(options.dir, 'kamailio-registrar');
    await mkdir(dir, { recursive: true });
    const password = randomBytes(12).toString('base64url');
    const ctlSocket = join(dir, 'ctl.sock');
    const cfg = join(dir, 'kamailio.cfg');
    await writeFile(
      cfg,
      registrarConfig({
        listen: [`udp:127.0.0.1:${REGISTRAR_SIP_PORT}`],
        domain: REGISTRAR_DOMAIN,
        inboundUser: INBOUND_USER,
        password,
        modulesDir: `/usr/lib/${multiarch()}/kamailio/modules/`,
        ctlSocket: `unix:${ctlSocket}`,
      }),
    );
    const logFile = join(options.dir, 'kamailio-registrar.log');
    const { command, args } = options.netns.wrap('kamailio', [
      '-f', cfg, '-DD', '-E', '-m', '32', '-M', '4', '-P', join(dir, 'kamailio.pid'), '-Y', dir,
    ]);
    const process = LabProcess.start('kamailio-registrar', command, args, { logFile });
    return new SipRegistrar(process, options.netns, ctlSocket, logFile, password);
  }

  /** The URI a phone calls to reach the inbound route of `number`. */
  static uri(number: string): string {
    return `sip:${number}@127.0.0.1:${REGISTRAR_SIP_PORT}`;
  }

  /** Worker environment that turns dial-in on against this registrar. */
  workerEnv(routesTable: string): Record<string, string> {
    return {
      ROOMLINE_DIAL_IN_REGISTRAR: `sip:127.0.0.1:${REGISTRAR_SIP_PORT}`,
      ROOMLINE_DIAL_IN_AOR: `sip:${INBOUND_USER}@${REGISTRAR_DOMAIN}`,
      ROOMLINE_DIAL_IN_SECRET: this.password,
      ROOMLINE_ROUTES_TABLE: routesTable,
    };
  }

  async waitReady(timeoutMs = 10_000): Promise<void> {
    const { command, args } = this.netns.wrap('ss', ['-lun']);
    await this.process.whileRunning(
      waitUntil(async () => (await run(command, args)).includes(`127.0.0.1:${REGISTRAR_SIP_PORT}`), {
        timeoutMs,
        what: 'Kamailio (registrar)',
        intervalMs: 100,
      }),
    );
  }

  /** The contacts registered for the inbound address now: one per idle worker. */
  async contacts(): Promise<string[]> {
    const { command, args } = this.netns.wrap('kamcmd', ['-s', `unix:${this.ctlSocket}`, 'ul.lookup', 'location', INBOUND_USER]);
    const output = await run(command, args).catch(() => '');
    return [...output.matchAll(/Address:\s*(\S+)/g)].map((m) => m[1] ?? '');
  }

  /** Waits until exactly `count` workers are registered. */
  async waitContacts(count: number, timeoutMs = 30_000): Promise<void> {
    await waitUntil(async () => (await this.contacts()).length === count, {
      timeoutMs,
      what: `${count} registered worker(s) at the dial-in registrar`,
      intervalMs: 200,
    });
  }

  /** The inbound calls the registrar rejected so far (its JSON log lines). */
  async rejections(): Promise<DialInRejection[]> {
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    const found: DialInRejection[] = [];
    for (const match of log.matchAll(/\{"event":"dial-in-rejected"[^}]*\}/g)) {
      try {
        found.push(JSON.parse(match[0]) as DialInRejection);
      } catch {
        // a line cut while being written: counted on the next read
      }
    }
    return found;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

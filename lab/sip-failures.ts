import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabProcess, run } from './child-process.js';
import type { LabNetns } from './netns.js';
import { multiarch } from './janus-server.js';
import { waitUntil } from './wait.js';

export const FAILURE_SIP_PORT = 5070;
/** A loopback port inside the namespace where nothing listens: an unreachable SIP target. */
export const UNREACHABLE_SIP_PORT = 5099;

/** Users of the failure simulator and the final response each gets. */
export const FAILURE_USERS = {
  busy: { code: 486, reason: 'Busy Here' },
  decline: { code: 603, reason: 'Decline' },
  nobody: { code: 404, reason: 'Not Found' },
  unavailable: { code: 503, reason: 'Service Unavailable' },
} as const;
export type FailureUser = keyof typeof FAILURE_USERS;

/**
 * Kamailio as a SIP failure simulator: answers every INVITE with the final response its request-URI user names
 * (busy → 486, decline → 603, nobody → 404, unavailable → 503), statelessly, on the namespace's loopback.
 */
export class SipFailures {
  private constructor(
    readonly process: LabProcess,
    private readonly netns: LabNetns,
  ) {}

  /** Waits until Kamailio's UDP socket is bound inside the namespace. */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    const { command, args } = this.netns.wrap('ss', ['-lun']);
    await this.process.whileRunning(
      waitUntil(async () => (await run(command, args)).includes(`127.0.0.1:${FAILURE_SIP_PORT}`), {
        timeoutMs,
        what: 'Kamailio',
        intervalMs: 100,
      }),
    );
  }

  static uri(user: FailureUser): string {
    return `sip:${user}@127.0.0.1:${FAILURE_SIP_PORT}`;
  }

  static async start(options: { netns: LabNetns; dir: string }): Promise<SipFailures> {
    const dir = join(options.dir, 'kamailio');
    await mkdir(dir, { recursive: true });
    const cfg = join(dir, 'kamailio.cfg');
    const branches = Object.entries(FAILURE_USERS)
      .map(([user, { code, reason }]) => `  if ($rU == "${user}") { sl_send_reply("${code}", "${reason}"); exit; }`)
      .join('\n');
    await writeFile(
      cfg,
      `#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:${FAILURE_SIP_PORT}
mpath="/usr/lib/${multiarch()}/kamailio/modules/"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"

request_route {
  if (is_method("ACK")) { exit; }
  if (!is_method("INVITE")) { sl_send_reply("200", "OK"); exit; }
${branches}
  sl_send_reply("404", "Not Found");
}
`,
    );
    const { command, args } = options.netns.wrap('kamailio', [
      '-f',
      cfg,
      '-DD',
      '-E',
      '-m',
      '32',
      '-M',
      '4',
      '-P',
      join(dir, 'kamailio.pid'),
      '-Y',
      dir,
    ]);
    return new SipFailures(
      LabProcess.start('kamailio', command, args, { logFile: join(options.dir, 'kamailio.log') }),
      options.netns,
    );
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

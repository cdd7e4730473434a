import { setTimeout as sleep } from 'node:timers/promises';
import type { CallRecord } from '../contracts/call-record.js';
import { PERSON_TONE_HZ, PHONE_TONE_HZ, measure } from './demo-call.js';
import { printReport } from './demo-report.js';
import { Lab } from './lab.js';
import { PHONE_CALLER } from './sip-phone.js';
import { SipRegistrar } from './sip-registrar.js';
import { waitUntil } from './wait.js';

export interface DialInDemoOptions {
  /** Seconds the phone stays in the room before it hangs up. @default 6 */
  readonly talkS?: number;
  /** Keep the lab folder (logs, recordings). @default false */
  readonly keep?: boolean;
}

/** The dial-in demo's PIN line, and the PIN that opens the Janus room on it. */
export const DIAL_IN_DEMO_NUMBER = '+15551230000';
export const DIAL_IN_DEMO_PIN = '2468';

/**
 * Dial-in: start the lab with its registrar, make the demo number a PIN line whose PIN opens the Janus room, have the
 * phone call it and enter the PIN after the spoken prompt, show the call's progress, let the phone hang up after a
 * few seconds, and report what crossed. Exit code 0 only if audio crossed both ways.
 */
export async function runDialInDemo(options: DialInDemoOptions, out: (line: string) => void): Promise<number> {
  const started = Date.now();
  out('Starting the lab: SQS + DynamoDB emulators, Janus, a SIP phone, a Janus VideoRoom with one person, the dial-in');
  out('registrar (Kamailio), a warm worker registered there...');
  const lab = await Lab.start({
    persons: [{ display: 'Alice', toneHz: PERSON_TONE_HZ }],
    workers: 1,
    dialIn: true,
    keepDir: options.keep ?? false,
    phone: { toneHz: PHONE_TONE_HZ },
  });
  try {
    await lab.pool!.waitReady(1);
    await lab.registrar!.waitContacts(1);
    await lab.client.addRoute({ match: { kind: 'number', number: DIAL_IN_DEMO_NUMBER }, collectPin: true, description: 'demo PIN line' });
    await lab.client.addRoute({
      match: { kind: 'pin', number: DIAL_IN_DEMO_NUMBER, pin: DIAL_IN_DEMO_PIN },
      room: { ...lab.endpoints.room },
      callerName: 'name',
      limits: { maxDurationS: 120 },
    });
    out(`Lab up in ${Date.now() - started} ms. ${DIAL_IN_DEMO_NUMBER} is a PIN line; its PIN opens Janus room ${lab.endpoints.room.roomId}.`);
    out(`Folder: ${lab.dir}`);
    const person = lab.persons[0]!;
    const dialledAt = Date.now();
    const uri = SipRegistrar.uri(DIAL_IN_DEMO_NUMBER);
    out(`The phone calls ${uri}`);
    await lab.phone.call(uri);
    let lastShown = 0;
    const show = (record: CallRecord) => {
      for (const entry of record.history.slice(lastShown)) {
        out(`  +${String(Date.parse(entry.at) - dialledAt).padStart(5)} ms  ${entry.state.padEnd(9)} ${entry.detail ?? ''}`);
      }
      lastShown = record.history.length;
    };
    const answered = await lab.waitInboundCall(dialledAt, (r) => {
      show(r);
      return r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED';
    }, 60_000);
    let joinedAt: number | undefined;
    if (answered.state === 'CONNECTED') {
      out(`  +${String(Date.now() - dialledAt).padStart(5)} ms  the phone hears the prompt and enters the PIN (DTMF) and #`);
      await lab.phone.command('sndcode', `${DIAL_IN_DEMO_PIN}#`);
      const inRoom = await waitUntil(async () => (await person.participants()).some((p) => p.display === PHONE_CALLER.displayName), {
        timeoutMs: 30_000,
        what: 'the caller in the room',
      }).then(() => true, () => false);
      if (inRoom) {
        joinedAt = Date.now();
        out(`  +${String(joinedAt - dialledAt).padStart(5)} ms  the room person sees: ${(await person.participants()).map((p) => p.display ?? p.id).join(', ')}`);
        await sleep((options.talkS ?? 6) * 1000);
      }
      out('The phone hangs up');
      await lab.phone.command('hangup');
    }
    const record = await lab.client.waitForCall(
      answered.callId,
      (r) => {
        show(r);
        return r.state === 'ENDED' || r.state === 'FAILED';
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // what the phone heard is analysed from the room join on: before it, the prompts
    const report = await measure(lab, person, record, dialledAt, undefined, joinedAt);
    printReport(report, out, 'the phone dialling; the PIN entry included');
    return report.audioBothWays ? 0 : 1;
  } finally {
    out('Tearing the lab down...');
    await lab.stop();
  }
}

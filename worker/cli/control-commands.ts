import { Option, type Command } from 'commander';
import type { CallControl } from '../../contracts/call-control.js';
import { DTMF_CARRIAGES } from '../../contracts/telephony.js';
import { RoomlineClient } from '../client.js';
import { EXIT } from './exit-codes.js';
import { positiveInt } from './flag-values.js';

/** Sends a control request and, with --wait, waits for the worker's acknowledgement. */
async function runControl(callId: string, control: CallControl, options: { wait?: boolean; waitTimeout: number }): Promise<void> {
  const client = new RoomlineClient();
  const id = await client.control(callId, control);
  if (options.wait !== true) {
    process.stdout.write(`${control.type} requested for ${callId} (request ${id})\n`);
    return;
  }
  const request = await client.waitForControl(callId, id, { timeoutMs: options.waitTimeout * 1000 });
  if (request.status === 'done') {
    process.stdout.write(`${control.type} done for ${callId}\n`);
  } else {
    process.stderr.write(`${control.type} failed for ${callId}: ${request.error ?? 'no reason given'}\n`);
    process.exitCode = EXIT.failed;
  }
}

const controlWait = (command: Command) =>
  command
    .option('--wait', "wait until the worker has carried it out; exit 1 if it could not")
    .option('--wait-timeout <s>', 'give up waiting after this many seconds', positiveInt, 60);

/** The controls of a connected call, through its record: `dtmf`, `hold`, `resume`, `transfer`. */
export function addControlCommands(program: Command): void {
  controlWait(
    program
      .command('dtmf')
      .description('send DTMF digits to the SIP peer of a connected call (e.g. a PIN: roomline dtmf <callId> 1234#)')
      .argument('<callId>')
      .argument('<digits>', 'digits 0-9 * # A-D; "," pauses 2 s')
      .addOption(
        new Option('--carriage <how>', 'RFC 2833 telephone-events or SIP INFO (default: as the call sends digits)').choices([...DTMF_CARRIAGES]),
      ),
  ).action(async (callId: string, digits: string, options: { carriage?: 'rfc2833' | 'info'; wait?: boolean; waitTimeout: number }) => {
    await runControl(callId, { type: 'dtmf', digits, ...(options.carriage === undefined ? {} : { carriage: options.carriage }) }, options);
  });

  controlWait(
    program.command('hold').description('put the SIP leg of a connected call on hold (the room goes on unheard)').argument('<callId>'),
  ).action(async (callId: string, options: { wait?: boolean; waitTimeout: number }) => {
    await runControl(callId, { type: 'hold' }, options);
  });

  controlWait(
    program.command('resume').description('take the SIP leg of a call off hold').argument('<callId>'),
  ).action(async (callId: string, options: { wait?: boolean; waitTimeout: number }) => {
    await runControl(callId, { type: 'resume' }, options);
  });

  controlWait(
    program
      .command('transfer')
      .description('blind-transfer the SIP peer to another SIP URI (REFER); the bridge leaves the call once the peer reached it')
      .argument('<callId>')
      .argument('<uri>', 'the new target, e.g. sip:desk@pbx.example.com'),
  ).action(async (callId: string, uri: string, options: { wait?: boolean; waitTimeout: number }) => {
    await runControl(callId, { type: 'transfer', to: uri }, options);
  });
}

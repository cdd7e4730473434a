import { isFinalState, type CallRecord } from '../../contracts/call-record.js';
import { describeSetupTrace } from '../../contracts/setup-trace.js';
import type { RoomlineClient } from '../client.js';
import { EXIT } from './exit-codes.js';

/** Prints each state change until the call is final; the exit code says how it ended. */
export async function follow(client: RoomlineClient, callId: string, timeoutS: number): Promise<number> {
  let shown = 0;
  let last: CallRecord | undefined;
  for await (const record of client.watchCall(callId, { signal: AbortSignal.timeout(timeoutS * 1000) })) {
    for (const entry of record.history.slice(shown)) {
      process.stdout.write(
        `${entry.at}  ${entry.state.padEnd(9)}${entry.sipCode === undefined ? '' : ` ${entry.sipCode}`}  ${entry.detail ?? ''}\n`,
      );
    }
    shown = record.history.length;
    last = record;
  }
  if (last === undefined || !isFinalState(last.state)) {
    process.stderr.write(`stopped waiting after ${timeoutS} s; the call goes on (roomline status ${callId})\n`);
    return EXIT.failed;
  }
  return last.state === 'ENDED' ? EXIT.ok : EXIT.callFailed;
}

/**
 * A call record as a few lines a person reads: its state, target, failure, SIP code, worker, history, controls and
 * setup trace (each step's start and length from the enqueue).
 */
export function summarise(record: CallRecord): string {
  const lines = [
    `call      ${record.callId}`,
    `state     ${record.state}${record.endedBy === undefined ? '' : ` (ended by ${record.endedBy})`}`,
    `to        ${record.to ?? '?'}`,
    ...(record.failure === undefined ? [] : [`failure   ${record.failure.code}: ${record.failure.reason}`]),
    ...(record.sip?.lastCode === undefined ? [] : [`sip       ${record.sip.lastCode} ${record.sip.lastReason ?? ''}`]),
    ...(record.workerId === undefined ? [] : [`worker    ${record.workerId}`]),
    ...(record.janusNode === undefined ? [] : [`janus     ${record.janusNode}`]),
    ...(record.media?.sipAudioCodec === undefined ? [] : [`audio     ${record.media.sipAudioCodec}`]),
    'history',
    ...record.history.map((h) => `  ${h.at}  ${h.state.padEnd(9)} ${h.detail ?? ''}`),
    ...((record.controls?.length ?? 0) === 0 ? [] : ['controls']),
    ...(record.controls ?? []).map(
      (c) => `  ${c.requestedAt}  ${c.control.type.padEnd(9)} ${c.status}${c.error === undefined ? '' : `: ${c.error}`}`,
    ),
    ...(record.setup === undefined ? [] : ['setup', ...describeSetupTrace(record.setup).map((line) => `  ${line}`)]),
  ];
  return `${lines.join('\n')}\n`;
}

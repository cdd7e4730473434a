import { RoomlineError } from '../../contracts/errors.js';

/**
 * DTMF on an answered SIP leg: digits sent as RFC 2833 telephone-events on the audio stream (RTCDTMFSender) or as one
 * SIP INFO per digit, and the digit a peer's SIP INFO carries. Listening for digits in the audio is DtmfListener's.
 */

/** RTCDTMFSender timing: 100 ms tones, 70 ms gaps (phones send 40-100 ms). */
const DTMF_TONE_MS = 100;
const DTMF_GAP_MS = 70;
/** A "," in a digit string: a 2-second pause, as RTCDTMFSender defines it. */
const DTMF_PAUSE_MS = 2_000;
/** How long digits wait, right after the answer, for the audio sender to take telephone-events. */
const DTMF_READY_TIMEOUT_MS = 5_000;

/** How many digits `digits` dials ("," is a pause). */
export function digitCount(digits: string): number {
  return digits.replace(/,/g, '').length;
}

/**
 * Sends `digits` as telephone-events on `dtmf` (the audio sender's); resolves once the last tone ended. Right after
 * the answer the sender may not take tones yet (its DTLS transport still connecting): it is waited for while
 * `answered()` holds.
 */
export async function sendDtmfTones(dtmf: RTCDTMFSender | null | undefined, digits: string, answered: () => boolean): Promise<void> {
  const deadline = Date.now() + DTMF_READY_TIMEOUT_MS;
  while (dtmf !== undefined && dtmf !== null && !dtmf.canInsertDTMF && Date.now() < deadline && answered()) {
    await sleep(50);
  }
  if (dtmf === undefined || dtmf === null || !dtmf.canInsertDTMF) {
    throw new RoomlineError('INVALID_REQUEST', 'the SIP peer did not accept telephone-events (RFC 2833): send DTMF by SIP INFO');
  }
  const done = new Promise<void>((resolve) => {
    const onTone = (event: RTCDTMFToneChangeEvent) => {
      if (event.tone !== '') return;
      dtmf.removeEventListener('tonechange', onTone);
      resolve();
    };
    dtmf.addEventListener('tonechange', onTone);
  });
  dtmf.insertDTMF(digits, DTMF_TONE_MS, DTMF_GAP_MS);
  const expectedMs = [...digits].reduce((ms, d) => ms + (d === ',' ? DTMF_PAUSE_MS : DTMF_TONE_MS + DTMF_GAP_MS), 0);
  await Promise.race([done, sleep(expectedMs + 5_000)]);
}

/** Sends `digits` one SIP INFO each (`sendInfo`), with the tones' gaps and pauses, while `answered()` holds. */
export async function sendDtmfInfo(
  digits: string,
  sendInfo: (digit: string, durationMs: number) => Promise<void>,
  answered: () => boolean,
): Promise<void> {
  for (const digit of digits) {
    if (digit === ',') {
      await sleep(DTMF_PAUSE_MS);
      continue;
    }
    if (!answered()) throw new RoomlineError('INVALID_REQUEST', 'the call ended while sending DTMF');
    await sendInfo(digit, DTMF_TONE_MS);
    await sleep(DTMF_GAP_MS);
  }
}

/** The digit of a SIP INFO: application/dtmf-relay (`Signal=5`) or application/dtmf (`5`); undefined for others. */
export function infoDigit(type: string, content: string): string | undefined {
  const contentType = type.toLowerCase();
  const digit =
    contentType === 'application/dtmf-relay'
      ? /Signal\s*=\s*([0-9*#A-Da-d])/.exec(content)?.[1]
      : contentType === 'application/dtmf'
        ? /^\s*([0-9*#A-Da-d])\s*$/.exec(content)?.[1]
        : undefined;
  return digit?.toUpperCase();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

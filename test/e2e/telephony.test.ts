import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CallEvent, CallRecord } from '../../contracts/call-record.js';
import { stateChanges } from '../../contracts/call-record.js';
import type { DialRequestInput } from '../../contracts/dial-request.js';
import type { Lab } from '../../lab/lab.js';
import { SipPhone, type PhoneUser } from '../../lab/sip-phone.js';
import { SIPP_INFO_DIGITS } from '../../lab/sipp.js';
import { waitUntil } from '../../lab/wait.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * The SIP leg as telephone systems judge it, against real peers: baresip (its own commands hold, resume, transfer and
 * send digits), SIPp for scripted peers (SIP INFO digits, re-INVITEs), Kamailio as an authenticating trunk. Every
 * check is made where a user would make it: digits at the receiving end, audio in the recordings, the INVITE as the
 * phone received it, states and events in the call record.
 */
let lab: Lab;
useLab({ workers: 1, trunk: true }, (started) => {
  lab = started;
});

const events = (record: CallRecord, type: CallEvent['type']) =>
  record.history.flatMap((h) => (h.event?.type === type ? [h.event] : []));

/** Dials, and resolves with the callId once the call is CONNECTED (or fails the test with the record). */
async function connect(overrides: Partial<DialRequestInput> = {}): Promise<string> {
  const callId = await lab.client.enqueueDial(lab.dialRequest(overrides));
  const record = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
  expect(record.state, JSON.stringify(record.failure ?? record.history.at(-1))).toBe('CONNECTED');
  return callId;
}

async function hangUp(callId: string): Promise<CallRecord> {
  await lab.client.requestHangup(callId);
  return lab.client.waitForCall(callId, isFinal, { timeoutMs: 10_000 });
}

const phoneUri = (user: PhoneUser) => SipPhone.uri(user);

describe('DTMF', () => {
  it('sends digits after answer by RFC 2833 and on request by SIP INFO, and the phone receives each', async () => {
    // Prepare
    const since = Date.now();
    const callId = await connect({ sip: { dtmfAfterAnswer: '12#' } });
    await waitUntil(() => lab.phone.digitsSince(since) === '12#', { timeoutMs: 10_000, what: 'the phone to receive 12#' });

    // Act
    const id = await lab.client.sendDtmf(callId, '*90', { carriage: 'info' });
    const control = await lab.client.waitForControl(callId, id, { timeoutMs: 15_000 });

    // Assess
    expect(control.status).toBe('done');
    await waitUntil(() => lab.phone.digitsSince(since) === '12#*90', { timeoutMs: 10_000, what: 'the phone to receive *90' });
    const record = await hangUp(callId);
    expect(events(record, 'dtmf-sent')).toEqual([
      { type: 'dtmf-sent', count: 3, carriage: 'rfc2833', source: 'request' },
      { type: 'dtmf-sent', count: 3, carriage: 'info', source: 'control' },
    ]);
    // digits sent may be a PIN: neither the stored request nor the acknowledged control keeps them
    expect(record.request?.sip.dtmfAfterAnswer).toBeUndefined();
    expect(record.controls?.[0]).toMatchObject({ id, status: 'done', control: { type: 'dtmf', digits: '' } });
  });

  it('hears the digits the phone sends by RFC 2833, records them and forwards them into the room', async () => {
    // Prepare
    const person = lab.persons[0]!;
    const callId = await connect({ sip: { dtmfToRoom: true } });
    const since = Date.now();

    // Act
    await lab.phone.useAccount('probe');
    const sent = await lab.phone.command('sndcode', '4*7#');

    // Assess
    expect(sent.ok).toBe(true);
    const record = await lab.client.waitForCall(callId, (r) => events(r, 'dtmf-received').length >= 4, { timeoutMs: 10_000 });
    expect(events(record, 'dtmf-received')).toEqual(
      [...'4*7#'].map((digit) => ({ type: 'dtmf-received', digit, carriage: 'audio' })),
    );
    await waitUntil(async () => (await person.dataMessages()).filter((m) => m.at >= since).length >= 4, {
      timeoutMs: 5_000,
      what: 'the room person to receive four digits',
    });
    const messages = (await person.dataMessages()).filter((m) => m.at >= since).map((m) => JSON.parse(m.text) as unknown);
    expect(messages).toEqual([...'4*7#'].map((digit) => ({ type: 'roomline.dtmf', digit, carriage: 'audio' })));
    await hangUp(callId);
  });

  it('records the digits a peer sends by SIP INFO', async () => {
    // Prepare
    const peer = await lab.startSipp('info-dtmf');

    // Act
    const callId = await connect({ to: peer.uri });
    const record = await lab.client.waitForCall(callId, (r) => events(r, 'dtmf-received').length >= 3 || isFinal(r), {
      timeoutMs: 15_000,
    });

    // Assess
    expect(events(record, 'dtmf-received')).toEqual(
      [...SIPP_INFO_DIGITS].map((digit) => ({ type: 'dtmf-received', digit, carriage: 'info' })),
    );
    await hangUp(callId);
    expect(await peer.finished()).toBe(0);
  });
});

void sleep;
void stateChanges;
void phoneUri;

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { hasTone } from '../../lab/audio-analysis.js';
import { PERSON_TONE_HZ, PHONE_TONE_HZ } from '../../lab/demo.js';
import type { Lab } from '../../lab/lab.js';
import { PHONE_CALLER } from '../../lab/sip-phone.js';
import { SipRegistrar } from '../../lab/sip-registrar.js';
import { isFinal, states, useLab } from '../support/lab.js';

/**
 * Dial-in through the real lab: the lab phone (baresip) calls the Kamailio registrar, which forks the INVITE to the
 * warm workers registered there through the Janus SIP plugin; one claims it in the calls table (dynalite), routes it
 * by the routes table, joins the Janus room and answers. Tones are checked at both ends.
 */
let lab: Lab;
const ROUTED_NUMBER = '+15551230001';
const UNROUTED_NUMBER = '+15559999999';

useLab({ workers: 1, dialIn: true }, async (started) => {
  lab = started;
  await lab.client.addRoute({
    match: { kind: 'number', number: ROUTED_NUMBER },
    room: { ...lab.endpoints.room },
    callerName: 'name',
    limits: { maxDurationS: 60, emptyRoomTimeoutS: 30 },
  });
  await lab.registrar!.waitContacts(1);
});

describe('dial-in', () => {
  it('routes a call by its dialled number into the room, with the caller named and heard both ways', async () => {
    const since = Date.now();

    await lab.phone.call(SipRegistrar.uri(ROUTED_NUMBER));

    const connected = await lab.waitInboundCall(since, (r) => r.state === 'CONNECTED' || isFinal(r));
    expect(connected.state).toBe('CONNECTED');
    await lab.phone.nextEvent('CALL_ESTABLISHED', { since, timeoutMs: 10_000 });
    const participants = await lab.persons[0]!.participants();
    expect(participants.map((p) => p.display)).toContain(PHONE_CALLER.displayName);
    await sleep(3_000);
    await lab.client.requestHangup(connected.callId);
    const record = await lab.client.waitForCall(connected.callId, isFinal, { timeoutMs: 15_000 });

    expect(record.state).toBe('ENDED');
    expect(record.direction).toBe('inbound');
    expect(record.caller).toEqual({
      uri: expect.stringContaining(PHONE_CALLER.number),
      number: PHONE_CALLER.number,
      displayName: PHONE_CALLER.displayName,
    });
    expect(record.routeId).toBe(`number:${ROUTED_NUMBER}`);
    expect(states(record)).toEqual(['CLAIMED', 'JOINING', 'DIALING', 'CONNECTED', 'ENDED']);
    expect(record.quality?.sip.audioIn?.packets).toBeGreaterThan(100);
    const hearing = await lab.persons[0]!.hearing(since);
    expect(hasTone(hearing.tone, PHONE_TONE_HZ), `person heard ${JSON.stringify(hearing.tone)}`).toBe(true);
  });
});

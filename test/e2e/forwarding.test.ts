import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import { analyseTone, hasTone, longestGap, readWav, sliceSeconds, toneShare, toneSpanS, type Pcm } from '../../lab/audio-analysis.js';
import { dialAndMeasure, PERSON_TONE_HZ, PHONE_TONE_HZ } from '../../lab/demo-call.js';
import type { Lab } from '../../lab/lab.js';
import { untilPhoneHears, untilPhoneRecording } from '../support/heard.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * Encoded forwarding on the real lab: the room person (Chromium, Opus) and the phone (baresip, Opus) are bridged by the
 * bot without decoding their audio, as the record's audio path counts and the tones heard at both ends show; a second
 * speaker switches the phone's direction to the mix and back, with no gap in what the phone hears.
 */
let lab: Lab;
useLab({ workers: 1 }, (started) => {
  lab = started;
});

const SECOND_TONE_HZ = 660;

/**
 * Places a call, runs `during` while it is up (given when the call started and when the phone answered), hangs up;
 * returns the final record and what the phone heard.
 */
async function call(
  during: (call: { since: number; answeredAt: number }) => Promise<void>,
  request?: Parameters<Lab['dialRequest']>[0],
): Promise<{ record: CallRecord; heard: Pcm; answeredAt: number }> {
  const since = Date.now();
  const callId = await lab.client.enqueueDial(lab.dialRequest(request));
  const connected = await lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 30_000 });
  expect(connected.state).toBe('CONNECTED');
  const answered = await lab.phone.nextEvent('CALL_ESTABLISHED', { since, timeoutMs: 10_000 });
  await during({ since, answeredAt: answered.receivedAt });
  await lab.client.requestHangup(callId);
  const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
  await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 10_000 });
  const established = lab.phone.eventsOf('CALL_ESTABLISHED', since)[0];
  const file = (await lab.phone.receivedRecordings()).at(-1);
  if (established === undefined || file === undefined) throw new Error('the phone recorded no call');
  return { record, heard: await readWav(file), answeredAt: established.receivedAt };
}

describe('audio forwarded between the legs without re-encoding', () => {
  it('carries the room person\'s Opus frames to the phone and the phone\'s to the room, undecoded', async () => {
    const report = await dialAndMeasure(lab, { talkS: 3 });

    expect(hasTone(report.phoneHeard!, PERSON_TONE_HZ), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, PHONE_TONE_HZ), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    const path = report.record.quality?.audioPath;
    expect(path?.roomToSip.mode).toBe('forward');
    expect(path?.sipToRoom.mode).toBe('forward');
    // 3 s of talk is 150 frames of 20 ms each way; the bridge's own encoding only bridges the first moments
    expect(path?.roomToSip.forwardedFrames).toBeGreaterThan(100);
    expect(path?.sipToRoom.forwardedFrames).toBeGreaterThan(100);
    expect(path!.roomToSip.forwardedFrames).toBeGreaterThan(5 * path!.roomToSip.encodedFrames);
    expect(path!.sipToRoom.forwardedFrames).toBeGreaterThan(5 * path!.sipToRoom.encodedFrames);
    expect(report.record.quality?.sip.audioOut?.codec).toMatch(/opus/i);
    // forwarded both ways, the page decodes no audio: each leg's received audio is judged by what the relay left the
    // far end to conceal, not by decoders that stood still
    for (const leg of ['sip', 'room'] as const) {
      const audioIn = report.record.quality?.[leg].audioIn;
      expect(audioIn?.concealmentFrom, `${leg}: ${JSON.stringify(audioIn)}`).toBe('relay');
      expect(audioIn?.jitterBufferMs).toBeUndefined();
      expect(audioIn?.concealmentRate).toBeLessThan(0.02);
    }
  });

  it('switches the phone to the mix when a second person speaks and back when she leaves, with no gap the phone hears', async () => {
    let joinedAt = 0;
    let leftAt = 0;

    const { record, heard, answeredAt } = await call(async ({ since, answeredAt }) => {
      // where a wall-clock time falls in the phone's recording, and how much of the call it holds so far (seconds)
      const at = (wallMs: number) => (wallMs - answeredAt) / 1000;
      const length = (pcm: Pcm) => pcm.samples.length / pcm.sampleRate;
      await untilPhoneHears(lab.phone, { since, hz: PERSON_TONE_HZ, seconds: 2 });
      const grace = await lab.addPerson({ display: 'Grace', toneHz: SECOND_TONE_HZ, record: false });
      joinedAt = Date.now();
      await untilPhoneRecording(lab.phone, { since, what: 'the phone to hear Grace in the mix for 2 s' }, (pcm) => {
        const withGrace = sliceSeconds(pcm, at(joinedAt) + 1, length(pcm));
        return length(pcm) >= at(joinedAt) + 3 && toneShare(withGrace, SECOND_TONE_HZ) > 0.1;
      });
      await grace.leave();
      lab.persons.splice(lab.persons.indexOf(grace), 1);
      leftAt = Date.now();
      await untilPhoneRecording(lab.phone, { since, what: '2.5 s of the call at the phone after Grace left' }, (pcm) => length(pcm) >= at(leftAt) + 2.5);
    });

    const path = record.quality?.audioPath?.roomToSip;
    // forwarded before Grace, mixed (encoded by the bridge) with her, forwarded again after her
    expect(path?.forwardedFrames).toBeGreaterThan(100);
    expect(path?.encodedFrames).toBeGreaterThan(50);
    expect(path?.switches).toBeGreaterThanOrEqual(2);
    expect(path?.mode).toBe('forward');
    const at = (wallMs: number) => (wallMs - answeredAt) / 1000;
    const withGrace = sliceSeconds(heard, at(joinedAt) + 1, at(leftAt));
    expect(toneShare(withGrace, SECOND_TONE_HZ), 'the phone heard Grace in the mix').toBeGreaterThan(0.1);
    expect(toneShare(withGrace, PERSON_TONE_HZ), 'the phone heard Alice in the mix').toBeGreaterThan(0.1);
    const after = analyseTone(sliceSeconds(heard, at(leftAt) + 1, at(leftAt) + 2.3));
    expect(hasTone(after, PERSON_TONE_HZ), `after Grace left the phone heard ${JSON.stringify(after)}`).toBe(true);
    // Alice's tone never stops: a silence around a switch (where the phone starts and stops hearing Grace) is a gap
    // the switch made; less than one 20 ms frame (starting the mix without its warm-up leaves one: 20 ms measured)
    const grace = toneSpanS(heard, SECOND_TONE_HZ);
    expect(grace, 'where the phone heard Grace').toBeDefined();
    const ms = (s: number | undefined) => (s === undefined ? 'nowhere' : `${Math.round(s * 1000)} ms`);
    for (const [what, switchS] of [['to the mix', grace!.fromS], ['back to forwarding', grace!.toS + 0.1]] as const) {
      const gap = longestGap(heard, switchS - 1, switchS + 1);
      process.stdout.write(`longest gap the phone heard around the switch ${what} (at ${ms(switchS)}): ${ms(gap.lengthS)}\n`);
      expect(gap.lengthS, `a gap of ${ms(gap.lengthS)} at ${ms(gap.atS)}, around the switch ${what} at ${ms(switchS)}`).toBeLessThan(0.02);
    }
    // elsewhere the forwarded call has no dropout either (one late packet on a busy machine may leave a frame or so)
    const onset = analyseTone(heard).onsetS ?? 0;
    const whole = longestGap(heard, onset + 0.2, at(leftAt) + 2);
    process.stdout.write(`longest gap the phone heard in the whole call: ${ms(whole.lengthS)} at ${ms(whole.atS)}\n`);
    expect(whole.lengthS, `a gap of ${ms(whole.lengthS)} at ${ms(whole.atS)}`).toBeLessThan(0.06);
  });

  it('decodes and encodes again where the phone takes another codec, and says why', async () => {
    const report = await dialAndMeasure(lab, { talkS: 2, request: { sip: { audioCodecs: ['PCMU'] } } });

    expect(hasTone(report.phoneHeard!, PERSON_TONE_HZ), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, PHONE_TONE_HZ), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    const path = report.record.quality?.audioPath;
    expect(path?.roomToSip).toMatchObject({ mode: 'encode', forwardedFrames: 0 });
    expect(path?.roomToSip.refused).toMatch(/audio\/opus.*PCMU/i);
    expect(path?.sipToRoom).toMatchObject({ mode: 'encode', forwardedFrames: 0 });
    expect(path?.sipToRoom.refused).toMatch(/PCMU.*audio\/opus/i);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { readWav, type Pcm } from '../../lab/audio-analysis.js';
import type { DirectCaller } from '../../lab/direct-caller.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { measured, missing, type Measured } from '../lib/report.js';
import { estimateScheduledDelays, type ScheduledDelayEstimate } from '../lib/scheduled-delays.js';
import { clickTrain, estimateDelays, recoveredDelay, writeStereoWav16, type DelayEstimate } from '../lib/signals.js';
import { directUntilAnswered, hangUp, quickRequest, untilConnected, type BenchRun, type Figures, type Path } from './calls.js';

/**
 * Mouth-to-ear delay: clicks played at one end of a call and found in what the other end recorded, each way, with a
 * calibration through a known delay that says how much of a delay the method recovers.
 */

/**
 * Clicks must be further apart than the delay search window: a delay beyond the window is taken for one a period
 * shorter. On a loaded 2-core machine a bridged call's one-way delay was seen near 500 ms, so the window reaches 850 ms.
 */
const CLICK_PERIOD_MS = 1_000;
const DELAY_WINDOW = { minDelayS: -0.1, maxDelayS: 0.85 } as const;
/**
 * The calibration: a second train of falling chirps (which the rising chirps' detector does not see), each half a
 * period after a rising one, sent through a WebAudio DelayNode of a known delay at the sending page. Each one's
 * measured delay less its neighbour's is what the method recovers of the known delay, measured 0.5 s apart on the
 * same path (so a jitter buffer that grows or shrinks over the call moves both alike).
 */
export const CALIBRATION_DELAY_MS = 100;
const CALIBRATION_CLICK = { fromHz: 3000, toHz: 500 } as const;

/** The delays of one call: each way, and room → phone again through the calibration's known delay. */
export interface DelayCallResult {
  readonly roomToPhone: ScheduledDelayEstimate | undefined;
  readonly phoneToRoom: ScheduledDelayEstimate | undefined;
  /** The same path as `roomToPhone`, with CALIBRATION_DELAY_MS added at the sending page. */
  readonly calibrated: ScheduledDelayEstimate | undefined;
}

/**
 * Writes what the phone plays: clicks (for delays) over a quiet steady tone (so the first audio is heard at once, not
 * at a click), `durationS` long, as the 48 kHz stereo WAV its audio source wants.
 */
export async function writePhoneClicks(path: string, durationS: number): Promise<void> {
  const phoneClicks = clickTrain({ sampleRate: 48_000, durationS, periodMs: CLICK_PERIOD_MS, startS: 0 });
  for (let i = 0; i < phoneClicks.samples.length; i++) {
    phoneClicks.samples[i] = phoneClicks.samples[i]! + 0.02 * Math.sin((2 * Math.PI * 1000 * i) / 48_000);
  }
  await writeStereoWav16(path, phoneClicks.samples, 48_000);
}

/**
 * One call with clicks both ways. The person (or the direct page) plays clicks, then a second train through a
 * DelayNode of CALIBRATION_DELAY_MS, reporting both trains' send times as the clicks before the delay; the phone
 * records what it received. The phone plays a click file from the call's start; its own recording of what it sent
 * locates each click in time. Each recording's timeline is fitted to the send schedule of the clicks in it (a
 * recording's clock may run several per cent off pace), then each click's delay is the wall time of its place in the
 * recording minus its send time.
 */
export async function delayCall(run: BenchRun, path: Path, person: RoomPerson, direct: DirectCaller): Promise<DelayCallResult> {
  const { lab, plan } = run;
  const t0 = Date.now();
  let callId: string | undefined;
  if (path === 'roomline') {
    callId = await lab.client.enqueueDial(quickRequest(lab));
    await untilConnected(lab, callId);
  } else {
    await direct.call(lab.endpoints.sip.phone);
    await directUntilAnswered(direct);
  }
  await sleep(1_000);
  const voice = path === 'roomline' ? person : direct;
  await voice.playClicks({
    durationS: plan.delayS,
    periodMs: CLICK_PERIOD_MS,
    delayed: { addedDelayMs: CALIBRATION_DELAY_MS, shape: CALIBRATION_CLICK },
  });
  await sleep(plan.delayS * 1000 + CALIBRATION_DELAY_MS + 800);
  const { clickTimes, delayedClickTimes } = await voice.clicksPlayed();
  const heard = await voice.recording(t0);
  if (callId !== undefined) await hangUp(lab, callId);
  else await direct.hangup();
  await lab.phone.nextEvent('CALL_CLOSED', { since: t0, timeoutMs: 5_000 }).catch(() => undefined);
  await lab.phone.keepRecordings();

  const received = (await lab.phone.recordingsSince(t0, 'dec'))[0];
  const sent = (await lab.phone.recordingsSince(t0, 'enc'))[0];
  let roomToPhone: ScheduledDelayEstimate | undefined;
  let calibrated: ScheduledDelayEstimate | undefined;
  if (received !== undefined) {
    const pcm = await readWav(received.path);
    // a phone recording knows one point of its timeline: its last write
    const timeline = { anchors: [[pcm.samples.length / pcm.sampleRate, received.endedAt]] as const };
    roomToPhone = estimateScheduledDelays(pcm.samples, pcm.sampleRate, clickTimes, timeline, DELAY_WINDOW);
    calibrated = estimateScheduledDelays(pcm.samples, pcm.sampleRate, delayedClickTimes, timeline, {
      ...DELAY_WINDOW,
      click: CALIBRATION_CLICK,
    });
  }
  let phoneToRoom: ScheduledDelayEstimate | undefined;
  if (sent !== undefined) {
    const pcm = await readWav(sent.path);
    // where the phone's clicks actually are in what it sent (its file plays from the call's first frame)
    const atPhone = estimateDelays(pcm.samples, pcm.sampleRate, clickTrainOffsets(pcm.samples.length / pcm.sampleRate), DELAY_WINDOW);
    const firstSampleAt = endAnchoredStart(sent.endedAt, pcm);
    const emitted = atPhone.clicks
      .filter((c) => c.status === 'found')
      .map((c) => firstSampleAt + (c.expectedS + c.delayS!) * 1000);
    phoneToRoom =
      heard.anchors.length === 0
        ? undefined
        : estimateScheduledDelays(heard.pcm.samples, heard.pcm.sampleRate, emitted, heard, DELAY_WINDOW);
  }
  return { roomToPhone, phoneToRoom, calibrated };
}

/** Wall time of a phone recording's first sample, from its last write (see SipPhone.recordingsSince). */
function endAnchoredStart(endedAt: number, pcm: Pcm): number {
  return endedAt - (pcm.samples.length / pcm.sampleRate) * 1000;
}

function clickTrainOffsets(durationS: number): number[] {
  const offsets: number[] = [];
  for (let t = 0; t + 0.02 < durationS; t += CLICK_PERIOD_MS / 1000) offsets.push(t);
  return offsets;
}

/** A direction's median mouth-to-ear delay, in ms, over the clicks found. */
export function delayOf(estimate: DelayEstimate | undefined): Measured {
  return estimate?.medianS === undefined ? missing('no click found') : measured(estimate.medianS * 1000, estimate.found);
}

/** What the method recovered of the calibration's known delay (see `recoveredDelay`), in ms. */
export function recoveredMs(d: DelayCallResult): Measured {
  if (d.calibrated === undefined || d.roomToPhone === undefined) return missing('no recording');
  const recovered = recoveredDelay(d.roomToPhone, d.calibrated);
  return recovered === undefined ? missing('no pair of clicks found') : measured(recovered.medianS * 1000, recovered.pairs);
}

export function setDelayFigures(figures: Figures, delays: Record<Path, DelayCallResult>, notes: string[]): void {
  figures['delay.roomToPhone'] = { roomline: delayOf(delays.roomline.roomToPhone), baseline: delayOf(delays.direct.roomToPhone) };
  figures['delay.phoneToRoom'] = { roomline: delayOf(delays.roomline.phoneToRoom), baseline: delayOf(delays.direct.phoneToRoom) };
  figures['delay.calibrationRecovered'] = {
    roomline: recoveredMs(delays.roomline),
    baseline: recoveredMs(delays.direct),
    note: `${CALIBRATION_DELAY_MS} ms added at the sending page by a WebAudio DelayNode, room → phone`,
  };
  const lost = (e: DelayEstimate | undefined) => (e === undefined ? 'n/a' : `${e.missing} of ${e.found + e.missing}`);
  notes.push(
    `Delay clicks not found (lost or distorted): Roomline ${lost(delays.roomline.roomToPhone)} room → phone, ` +
      `${lost(delays.roomline.phoneToRoom)} phone → room; direct ${lost(delays.direct.roomToPhone)} and ${lost(delays.direct.phoneToRoom)}.`,
  );
  const clock = (e: ScheduledDelayEstimate | undefined) =>
    e?.fit === undefined
      ? 'n/a'
      : `${((e.fit.scale - 1) * 100).toFixed(2)} % (${e.fit.inliers} clicks, ${(e.fit.rmsResidualS * 1000).toFixed(1)} ms rms off the fit)`;
  notes.push(
    'Recording clocks against the sender, fitted from the clicks (0 %: the same pace): ' +
      `Roomline room → phone ${clock(delays.roomline.roomToPhone)}, phone → room ${clock(delays.roomline.phoneToRoom)}; ` +
      `direct ${clock(delays.direct.roomToPhone)} and ${clock(delays.direct.phoneToRoom)}.`,
  );
  const error = (m: Measured) => (m.kind === 'value' ? `${(m.value - CALIBRATION_DELAY_MS).toFixed(1)} ms` : 'n/a');
  notes.push(
    `Calibration: of a known ${CALIBRATION_DELAY_MS} ms added at the sending page, the method recovered ` +
      `${error(figures['delay.calibrationRecovered'].roomline)} off on the Roomline path and ` +
      `${error(figures['delay.calibrationRecovered'].baseline)} off on the direct path (median over the pairs of a ` +
      'calibration click and the click sent 0.5 s before it of the difference of their delays).',
  );
}

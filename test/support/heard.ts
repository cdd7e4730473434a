import { analyseTone, hasTone, readWav, type Pcm, type ToneReport } from '../../lab/audio-analysis.js';
import type { RoomPerson } from '../../lab/room-person.js';
import type { SipPhone } from '../../lab/sip-phone.js';
import { waitUntil } from '../../lab/wait.js';

/**
 * Waits an end-to-end test makes on what the ends of a call observe, instead of sleeping for "long enough": each
 * polls the recording an end keeps until the condition holds, bounded by a timeout that names what was awaited and
 * what was last heard. On a loaded machine they wait longer; on a quiet one they return as soon as the media is there.
 */
export interface HearOptions {
  /** Only what arrived from this time on (epoch ms). */
  readonly since: number;
  /** The tone that must be heard, in Hz. */
  readonly hz: number;
  /** Seconds of sound that must have been heard. @default 1 */
  readonly seconds?: number;
  /** @default 15_000 */
  readonly timeoutMs?: number;
}

const heardEnough = (tone: ToneReport, options: HearOptions) => tone.soundS >= (options.seconds ?? 1) && hasTone(tone, options.hz);

/** Waits until `person` has heard at least `seconds` of sound since `since`, dominated by the tone `hz`. */
export async function untilPersonHears(person: RoomPerson, options: HearOptions): Promise<ToneReport> {
  let heard: ToneReport | undefined;
  await waitUntil(
    async () => {
      heard = (await person.hearing(options.since)).tone;
      return heardEnough(heard, options);
    },
    {
      timeoutMs: options.timeoutMs ?? 15_000,
      intervalMs: 250,
      what: () => `${person.display} to hear ${options.seconds ?? 1} s of ${options.hz} Hz (last heard: ${JSON.stringify(heard ?? 'nothing')})`,
    },
  );
  return heard!;
}

/**
 * Waits until `check` holds for the phone's recording of its newest call since `since` (what it received), and
 * resolves with that recording. baresip writes it frame by frame, so it can be read while the call runs.
 */
export async function untilPhoneRecording(
  phone: SipPhone,
  options: { readonly since: number; readonly timeoutMs?: number; readonly what: string },
  check: (heard: Pcm) => boolean,
): Promise<Pcm> {
  let heard: Pcm | undefined;
  await waitUntil(
    async () => {
      const newest = (await phone.recordingsSince(options.since, 'dec')).at(-1);
      if (newest === undefined) return false;
      heard = await readWav(newest.path);
      return check(heard);
    },
    {
      timeoutMs: options.timeoutMs ?? 15_000,
      intervalMs: 250,
      what: () =>
        `${options.what} (the phone's recording: ${heard === undefined ? 'none yet' : JSON.stringify(analyseTone(heard))})`,
    },
  );
  return heard!;
}

/** Waits until the phone's recording of its newest call since `since` holds `seconds` of sound, dominated by `hz`. */
export async function untilPhoneHears(phone: SipPhone, options: HearOptions): Promise<ToneReport> {
  const heard = await untilPhoneRecording(
    phone,
    { since: options.since, timeoutMs: options.timeoutMs ?? 15_000, what: `the phone to hear ${options.seconds ?? 1} s of ${options.hz} Hz` },
    (pcm) => heardEnough(analyseTone(pcm), options),
  );
  return analyseTone(heard);
}

/**
 * Waits until the phone's newest call since `since` has run `seconds` as the phone heard it (its recording holds that
 * much audio): a call "long enough" for what a test counts, measured at the far end rather than slept for.
 */
export async function untilPhoneHeardFor(phone: SipPhone, since: number, seconds: number, timeoutMs = 20_000): Promise<void> {
  await untilPhoneRecording(phone, { since, timeoutMs, what: `the phone's call to run ${seconds} s` }, (pcm) => pcm.samples.length / pcm.sampleRate >= seconds);
}

/**
 * Waits until `person`'s recording since `since` covers `seconds`, sound or silence: a stretch of the call that a
 * test then examines (e.g. the silence while a call is held), measured by the room end's own recording.
 */
export async function untilPersonRecorded(person: RoomPerson, since: number, seconds: number, timeoutMs = 15_000): Promise<void> {
  let covered = 0;
  await waitUntil(
    async () => {
      const { pcm } = await person.recording(since);
      covered = pcm.samples.length / pcm.sampleRate;
      return covered >= seconds;
    },
    { timeoutMs, intervalMs: 250, what: () => `${person.display}'s recording to cover ${seconds} s (it covers ${covered.toFixed(2)} s)` },
  );
}

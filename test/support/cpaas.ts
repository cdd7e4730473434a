import { readFile } from 'node:fs/promises';
import { analyseTone, hasTone, readWav, type ToneReport } from '../../lab/audio-analysis.js';
import type { FakeRoomHandle } from '../../lab/fake-sdks/control.js';
import type { Lab } from '../../lab/lab.js';
import { nearestColor, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';

/** Everything the lab's workers have logged so far. */
export async function workerLogs(lab: Lab): Promise<string> {
  const texts = await Promise.all((lab.pool?.workers ?? []).map((w) => readFile(w.logFile, 'utf8').catch(() => '')));
  return texts.join('\n');
}

/** What the phone heard in its latest call (its recording, written by baresip). */
export async function phoneHeardLast(lab: Lab, since: number): Promise<ToneReport | undefined> {
  await lab.phone.nextEvent('CALL_CLOSED', { since, timeoutMs: 5_000 }).catch(() => undefined);
  const latest = (await lab.phone.receivedRecordings()).at(-1);
  return latest === undefined ? undefined : analyseTone(await readWav(latest));
}

/** How much of what the fake participant heard is analysed at a time, in ms: the latest stretch. */
const HEARD_WINDOW_MS = 2_000;

/**
 * Waits until the fake room's participant hears `toneHz` from the bot's microphone (in the latest two seconds, after
 * `since`); returns what it heard last.
 */
export async function waitUntilHeard(room: FakeRoomHandle, toneHz: number, since: number, timeoutMs = 20_000): Promise<ToneReport> {
  const latest = () => room.heard(Math.max(since, Date.now() - HEARD_WINDOW_MS));
  let last: ToneReport | undefined;
  await waitUntil(
    async () => {
      last = await latest();
      return hasTone(last, toneHz);
    },
    { timeoutMs, what: `the fake participant to hear ${toneHz} Hz`, intervalMs: 500 },
  ).catch(() => undefined);
  return last ?? (await latest());
}

/** Waits until the bot publishes the videos named `names`, each showing the colour expected of it (by index). */
export async function waitForVideos(
  room: FakeRoomHandle,
  names: readonly string[],
  palette: readonly Rgb[],
  timeoutMs = 20_000,
): Promise<Awaited<ReturnType<FakeRoomHandle['videos']>>> {
  let last: Awaited<ReturnType<FakeRoomHandle['videos']>> = [];
  await waitUntil(
    async () => {
      last = await room.videos();
      return names.every((name, i) => {
        const video = last.find((v) => v.name === name);
        return video !== undefined && video.width > 0 && nearestColor(video.color, palette) === i;
      });
    },
    { timeoutMs, what: `the bot to publish ${names.join(', ')}`, intervalMs: 500 },
  ).catch(() => undefined);
  return last;
}

import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { Lab, LabPersonOptions } from '../../lab/lab.js';
import type { RoomPerson, SeenFeed } from '../../lab/room-person.js';
import { meanColorOfImage, nearestColor, writeCompositeVideo, type Rgb } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';
import { isFinal, useLab } from './lab.js';

/** A part of the picture, in fractions of it. */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface VideoLabOptions {
  /** The phone's video codecs, and the four quadrants of the picture it sends (a 2x2 composite, as a room system's). */
  readonly phone: { readonly videoCodecs: readonly ('H264' | 'VP8' | 'VP9')[]; readonly quadrants?: readonly Rgb[] };
  /** The people in the room from the start, each with a camera of her colour. */
  readonly people: readonly (LabPersonOptions & { readonly color: Rgb })[];
  /** Extra environment for the workers. */
  readonly workerEnv?: Readonly<Record<string, string>>;
}

/** What a video test works with: the lab, its people by name, and the phone's eyes. */
export interface VideoLab {
  readonly lab: Lab;
  /** The people of {@link VideoLabOptions.people}, by display name. */
  person(display: string): RoomPerson;
  /** Dials the phone with these media options; resolves with the callId once CONNECTED (else fails the test). */
  connect(media: Record<string, unknown>): Promise<string>;
  /** Asks for the hangup and resolves with the final record. */
  hangUp(callId: string): Promise<CallRecord>;
  /** What the phone decodes now (a snapshot of its next frame, or of `region`), as the nearest colour of `palette`. */
  phoneSees(name: string, palette: readonly Rgb[], region?: Region): Promise<Rgb>;
  /**
   * Waits until the phone shows `expected` (the nearest of `palette`, in `region`), taking a snapshot every few hundred
   * ms; throws naming what it last showed.
   */
  untilPhoneSees(expected: Rgb, options: { name: string; palette: readonly Rgb[]; region?: Region; timeoutMs?: number }): Promise<void>;
  /** Waits until `person` sees feeds that satisfy `check`, and resolves with them; throws naming what she saw last. */
  untilSeen(person: RoomPerson, what: string, check: (feeds: SeenFeed[]) => boolean, timeoutMs?: number): Promise<SeenFeed[]>;
}

/**
 * One lab for a video test file: a video phone (baresip) sending a 2x2 composite video file made for the file, and
 * people with cameras of their own colours in the room.
 */
export function useVideoLab(options: VideoLabOptions): VideoLab {
  const phoneVideo = join(tmpdir(), `roomline-phone-video-${process.pid}.mp4`);
  const people = new Map<string, RoomPerson>();
  let lab: Lab | undefined;
  beforeAll(async () => {
    await writeCompositeVideo(phoneVideo, { durationS: 120, ...(options.phone.quadrants === undefined ? {} : { colors: options.phone.quadrants }) });
  });
  afterAll(async () => {
    await rm(phoneVideo, { force: true });
  });
  const labOptions = {
    workers: 1,
    phone: { videoCodecs: options.phone.videoCodecs, videoFile: phoneVideo },
    persons: [],
    ...(options.workerEnv === undefined ? {} : { workerEnv: options.workerEnv }),
  };
  useLab(labOptions, async (started) => {
    lab = started;
    for (const person of options.people) people.set(person.display, await started.addPerson(person));
  });
  const current = (): Lab => {
    if (lab === undefined) throw new Error('the video lab is not started yet');
    return lab;
  };

  const phoneSees = async (name: string, palette: readonly Rgb[], region?: Region): Promise<Rgb> => {
    const path = await current().phone.snapshot(join(current().dir, `${name}-${Date.now()}.png`));
    return palette[nearestColor(await meanColorOfImage(path, region), palette)]!;
  };

  return {
    get lab() {
      return current();
    },
    person(display) {
      const person = people.get(display);
      if (person === undefined) throw new Error(`no person ${display} in the video lab`);
      return person;
    },
    async connect(media) {
      const callId = await current().client.enqueueDial(current().dialRequest({ media }));
      const record = await current().client.waitForCall(callId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 20_000 });
      expect(record.state, JSON.stringify(record.failure)).toBe('CONNECTED');
      return callId;
    },
    async hangUp(callId) {
      await current().client.requestHangup(callId);
      return current().client.waitForCall(callId, isFinal, { timeoutMs: 15_000 });
    },
    phoneSees,
    async untilPhoneSees(expected, { name, palette, region, timeoutMs }) {
      let seen: Rgb | undefined;
      await waitUntil(
        async () => {
          seen = await phoneSees(name, palette, region);
          return seen.every((v, i) => v === expected[i]);
        },
        { timeoutMs: timeoutMs ?? 15_000, intervalMs: 200, what: () => `the phone to show ${expected.join(',')} in ${name} (it showed ${seen?.join(',') ?? 'nothing'})` },
      );
    },
    async untilSeen(person, what, check, timeoutMs = 15_000) {
      let feeds: SeenFeed[] = [];
      await waitUntil(
        async () => {
          feeds = await person.seenFeeds();
          return check(feeds);
        },
        { timeoutMs, intervalMs: 250, what: () => `${person.display} to see ${what} (she saw ${JSON.stringify(feeds)})` },
      );
      return feeds;
    },
  };
}

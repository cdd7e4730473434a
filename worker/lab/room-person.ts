import type { Page } from 'puppeteer-core';
import type { RoomJoin } from '../../contracts/dial-request.js';
import type { BrowserSource } from '../browser-source.js';
import { analyseTone, pcmFromBase64, timelineOf, type Pcm, type ToneReport } from './audio-analysis.js';

/** What a simulated person heard: the analysis of the recording, and when sound first arrived (epoch ms). */
export interface PersonHearing {
  readonly tone: ToneReport;
  readonly firstHeardAt: number | undefined;
  readonly feeds: readonly string[];
}

/** A video feed the person receives, and the mean colour of its picture (RGB 0..255). */
export interface SeenFeed {
  readonly feedId: string;
  readonly display: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly color: readonly [number, number, number];
}

interface PersonRecordingData {
  readonly sampleRate: number;
  readonly pcmBase64: string;
  readonly startedAt: number;
  readonly anchors: readonly (readonly [number, number])[];
  readonly feeds: readonly string[];
}

/** A recording and its timeline: where a wall-clock time (epoch ms) falls in it, in seconds. */
export interface TimedRecording {
  readonly pcm: Pcm;
  readonly startedAt: number;
  readonly at: (wallMs: number) => number;
}

/**
 * A simulated room participant: a tab of the lab's own Chromium (inside the lab's namespace) running the lab person
 * page, which publishes a known tone and records what it hears.
 */
export class RoomPerson {
  private constructor(
    readonly display: string,
    readonly toneHz: number,
    private readonly page: Page,
  ) {}

  static async join(
    browser: BrowserSource,
    options: {
      room: RoomJoin;
      display: string;
      toneHz: number;
      toneLevel?: number;
      color?: readonly [number, number, number];
      record?: boolean;
    },
  ): Promise<RoomPerson> {
    const page = await browser.newPage();
    await browser.load(page, 'lab-person');
    await page.evaluate(
      (o) => (globalThis as unknown as { __person: { start(o: unknown): Promise<unknown> } }).__person.start(o),
      options as unknown as Record<string, unknown>,
    );
    return new RoomPerson(options.display, options.toneHz, page);
  }

  /** What the person heard since `since` (epoch ms; default: since joining), analysed. */
  async hearing(since?: number): Promise<PersonHearing> {
    const data = await this.page.evaluate(
      (from) =>
        (globalThis as unknown as { __person: { recording(since?: number): unknown } }).__person.recording(
          from ?? undefined,
        ) as PersonRecordingData,
      since ?? null,
    );
    const tone = analyseTone(pcmFromBase64(data.pcmBase64, data.sampleRate));
    return {
      tone,
      firstHeardAt: tone.onsetS === undefined ? undefined : Math.round(data.startedAt + tone.onsetS * 1000),
      feeds: data.feeds,
    };
  }

  /** What the person heard since `since` (epoch ms), as PCM with its timeline. */
  async recording(since?: number): Promise<TimedRecording> {
    const data = await this.page.evaluate(
      (from) =>
        (globalThis as unknown as { __person: { recording(since?: number): unknown } }).__person.recording(
          from ?? undefined,
        ) as PersonRecordingData,
      since ?? null,
    );
    return {
      pcm: pcmFromBase64(data.pcmBase64, data.sampleRate),
      startedAt: data.startedAt,
      at: timelineOf(data.anchors, data.sampleRate, data.startedAt),
    };
  }

  /** Speaks a click train instead of the tone (it comes back after the train). */
  async playClicks(options: { durationS: number; periodMs: number }): Promise<void> {
    await this.page.evaluate(
      (o) => (globalThis as unknown as { __person: { playClicks(o: unknown): unknown } }).__person.playClicks(o),
      options,
    );
  }

  /** When each click of the last train left the person's page (epoch ms); ask once the train was played. */
  async clickTimes(): Promise<number[]> {
    const played = await this.page.evaluate(
      () => (globalThis as unknown as { __person: { clicksPlayed(): unknown } }).__person.clicksPlayed() as { clickTimes: number[] },
    );
    return played.clickTimes;
  }

  /** The video feeds this person sees, with the mean colour of each picture now. */
  async seenFeeds(): Promise<SeenFeed[]> {
    return this.page.evaluate(
      () => (globalThis as unknown as { __person: { seenFeeds(): unknown } }).__person.seenFeeds() as SeenFeed[],
    );
  }

  /** Starts or stops this person's tone (who is speaking). */
  async speak(on: boolean): Promise<void> {
    await this.page.evaluate(
      (value) => (globalThis as unknown as { __person: { speak(on: boolean): void } }).__person.speak(value),
      on,
    );
  }

  async leave(): Promise<void> {
    await this.page
      .evaluate(() => (globalThis as unknown as { __person: { leave(): Promise<void> } }).__person.leave())
      .catch(() => undefined);
    await this.page.close().catch(() => undefined);
  }
}

import type { Page } from 'puppeteer-core';
import type { ReceivedMessage, RoomChange, SeenFeed } from './pages/person/main.js';
import type { ClickOptions, ClicksPlayed, Recording } from './pages/person/lab-audio.js';
import { roomOrigins, type RoomJoin } from '../contracts/rooms/index.js';
import type { BrowserSource } from '../worker/browser-source.js';
import { PageSite } from '../worker/page-site.js';
import { builtDir } from '../worker/paths.js';
import { analyseTone, pcmFromBase64, timelineOf, type Pcm, type ToneReport } from './audio-analysis.js';
import { callPage } from './page-global.js';

export type { ReceivedMessage, RoomChange, SeenFeed };

/** What a simulated person heard: the analysis of the recording, and when sound first arrived (epoch ms). */
export interface PersonHearing {
  readonly tone: ToneReport;
  readonly firstHeardAt: number | undefined;
  readonly feeds: readonly string[];
}

/** A recording and its timeline: where a wall-clock time (epoch ms) falls in it, in seconds. */
export interface TimedRecording {
  readonly pcm: Pcm;
  readonly startedAt: number;
  readonly at: (wallMs: number) => number;
  /** Where the timeline is known: [seconds from the first sample, epoch ms at which that sample arrived], ascending. */
  readonly anchors: readonly (readonly [number, number])[];
}

/** A page's recording as it crosses to Node. */
export function timedRecording(data: Recording): TimedRecording {
  return {
    pcm: pcmFromBase64(data.pcmBase64, data.sampleRate),
    startedAt: data.startedAt,
    at: timelineOf(data.anchors, data.sampleRate, data.startedAt),
    anchors: data.anchors.map(([index, wall]) => [index / data.sampleRate, wall] as const),
  };
}

let site: Promise<PageSite> | undefined;
/** The lab's built pages (simulated participants, the direct caller), read once. */
export function labSite(): Promise<PageSite> {
  site ??= PageSite.load(builtDir('lab-pages', 'person.html'));
  return site;
}

/**
 * A simulated room participant: a tab of the lab's own Chromium (inside the lab's namespace) running the lab person
 * page, which publishes a known tone (and optionally a camera of one colour) and records what it hears.
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
    const page = await browser.newPage(await labSite());
    // what the room's provider needs (a CPaaS SDK fetches code and config), and nothing else
    browser.allowOrigins(page, roomOrigins(options.room));
    await browser.load(page, 'person.html');
    await callPage(page, '__person', 'start', options);
    return new RoomPerson(options.display, options.toneHz, page);
  }

  /** What the person heard since `since` (epoch ms; default: all that is kept), analysed. */
  async hearing(since?: number): Promise<PersonHearing> {
    const [heard, feeds] = await Promise.all([this.recording(since), callPage<string[]>(this.page, '__person', 'feeds')]);
    const tone = analyseTone(heard.pcm);
    return {
      tone,
      firstHeardAt: tone.onsetS === undefined ? undefined : Math.round(heard.startedAt + tone.onsetS * 1000),
      feeds,
    };
  }

  /** What the person heard since `since` (epoch ms), as PCM with its timeline. */
  async recording(since?: number): Promise<TimedRecording> {
    return timedRecording(await callPage<Recording>(this.page, '__person', 'recording', since));
  }

  /** Speaks a click train instead of the tone (it comes back after the train), optionally through a known delay. */
  async playClicks(options: ClickOptions): Promise<void> {
    await callPage(this.page, '__person', 'playClicks', options);
  }

  /** When each click of the last train left the person's page (epoch ms); ask once the train was played. */
  async clickTimes(): Promise<number[]> {
    return (await callPage<{ clickTimes: number[] }>(this.page, '__person', 'clicksPlayed')).clickTimes;
  }

  /** When each click of the last train left the page, and each of its calibration train entered its delay (epoch ms). */
  clicksPlayed(): Promise<ClicksPlayed> {
    return callPage<ClicksPlayed>(this.page, '__person', 'clicksPlayed');
  }

  /** The video feeds this person sees, with the mean colour of each picture now. */
  seenFeeds(): Promise<SeenFeed[]> {
    return callPage(this.page, '__person', 'seenFeeds');
  }

  /** The data messages this person received from other participants (e.g. digits the bot forwards). */
  dataMessages(): Promise<ReceivedMessage[]> {
    return callPage(this.page, '__person', 'dataMessages');
  }

  /** Who joined and left the room since this person joined (epoch ms), in order. */
  roomChanges(): Promise<RoomChange[]> {
    return callPage(this.page, '__person', 'roomChanges');
  }

  /** Resolves with the first time a participant named `display` left the room after `since` (epoch ms). */
  async leftAt(display: string, options: { since: number; timeoutMs: number }): Promise<number> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const left = (await this.roomChanges()).find((c) => c.change === 'left' && c.display === display && c.at >= options.since);
      if (left !== undefined) return left.at;
      if (Date.now() > deadline) throw new Error(`${this.display} did not see ${display} leave within ${options.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The other participants this person sees in the room. */
  participants(): Promise<{ id: string; display?: string }[]> {
    return callPage(this.page, '__person', 'participants');
  }

  /** Starts or stops this person's tone (who is speaking). */
  async speak(on: boolean): Promise<void> {
    await callPage(this.page, '__person', 'speak', on);
  }

  async leave(): Promise<void> {
    await callPage(this.page, '__person', 'leave').catch(() => undefined);
    await this.page.close().catch(() => undefined);
  }
}

import type { Page } from 'puppeteer-core';
import type { LegQuality } from '../contracts/call-record.js';
import { BrowserSource } from '../worker/browser-source.js';
import type { Logger } from '../worker/logger.js';
import type { ClickOptions, ClicksPlayed, Recording } from './pages/person/lab-audio.js';
import { LAB_BROWSER_USER } from './netns.js';
import { callPage } from './page-global.js';
import { labSite, timedRecording, type TimedRecording } from './room-person.js';

export interface DirectState {
  readonly calledAt: number | undefined;
  readonly acceptedAt: number | undefined;
  readonly endedAt: number | undefined;
  readonly endCode: number | undefined;
}

/**
 * The benchmark's floor: a browser page of its own Chromium (inside the lab's namespace) that calls the SIP phone
 * directly through the Janus SIP plugin, with no room and no bridge.
 */
export class DirectCaller {
  private constructor(
    readonly browser: BrowserSource,
    private readonly page: Page,
  ) {}

  static async start(options: { netns: string; janusUrl: string; apiSecret?: string; toneHz: number; logger: Logger }): Promise<DirectCaller> {
    const browser = await BrowserSource.launch({ netns: options.netns, logger: options.logger, isolation: { user: LAB_BROWSER_USER } });
    try {
      const page = await browser.newPage(await labSite());
      await browser.load(page, 'direct.html');
      const caller = new DirectCaller(browser, page);
      await caller.run('prepare', { janusUrl: options.janusUrl, apiSecret: options.apiSecret, toneHz: options.toneHz });
      return caller;
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  private run<T>(method: string, arg?: unknown): Promise<T> {
    return callPage<T>(this.page, '__direct', method, arg);
  }

  /** Calls `to`; resolves with the epoch time the call was asked for. */
  call(to: string, from = 'sip:direct@127.0.0.1'): Promise<number> {
    return this.run('call', { to, from });
  }

  hangup(): Promise<void> {
    return this.run('hangup');
  }

  state(): Promise<DirectState> {
    return this.run('state');
  }

  /** Plays a click train instead of the tone (it comes back after the train). */
  async playClicks(options: ClickOptions): Promise<void> {
    await this.run('playClicks', options);
  }

  /** When each click of the last train left the page (epoch ms); ask once the train was played. */
  async clickTimes(): Promise<number[]> {
    return (await this.run<{ clickTimes: number[] }>('clicksPlayed')).clickTimes;
  }

  /** When each click of the last train left the page, and each of its calibration train entered its delay (epoch ms). */
  clicksPlayed(): Promise<ClicksPlayed> {
    return this.run<ClicksPlayed>('clicksPlayed');
  }

  async recording(since?: number): Promise<TimedRecording> {
    return timedRecording(await this.run<Recording>('recording', since));
  }

  stats(): Promise<LegQuality> {
    return this.run('stats');
  }

  /** Stops or resumes the page's recorder (off while the page's own cost is measured). */
  setRecording(on: boolean): Promise<void> {
    return this.run('setRecording', on);
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}

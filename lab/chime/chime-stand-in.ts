import { createServer, type Server } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChimeSDKMeetingsClient } from '@aws-sdk/client-chime-sdk-meetings';
import type { Page } from 'puppeteer-core';
import type { BrowserSource } from '../../worker/browser-source.js';
import type { Logger } from '../../worker/logger.js';
import { LAB_CREDENTIALS, LAB_REGION } from '../emulators.js';
import { LAB_JANUS_IP, type LabNetns } from '../netns.js';
import { NamespaceListeners } from '../ns-forward.js';
import { callPage } from '../page-global.js';
import { labSite } from '../room-person.js';
import type { MediaEvent, SubscribeAnswer, SubscribeRequest } from '../pages/chime-media/main.js';
import { ChimeMeetings } from './meetings.js';
import { ChimeSignaling } from './signaling.js';

/** Port of the stand-in's signalling WebSocket inside the lab's namespace. */
export const LAB_CHIME_SIGNAL_PORT = 8190;

export interface ChimeStandInOptions {
  readonly netns: LabNetns;
  /** The lab's Chromium (inside the namespace): the media page runs there. */
  readonly browser: BrowserSource;
  readonly dir: string;
  readonly logger: Logger;
}

/**
 * The lab's Amazon Chime SDK stand-in: the Meetings API on the host's loopback (for the worker's AWS SDK, through
 * `AWS_ENDPOINT_URL_CHIME_SDK_MEETINGS`), the signalling WebSocket inside the lab's namespace (for the SDK in the
 * browsers), and the media page that answers each attendee's SDP, mixes and forwards. The real, unmodified SDK runs
 * against it. Everything stays on loopback and inside the namespace.
 */
export class ChimeStandIn {
  /** The origin of the signalling WebSocket (what a page-mode request on a Chime app lists in `origins`). */
  readonly signalingOrigin = `ws://${LAB_JANUS_IP}:${LAB_CHIME_SIGNAL_PORT}`;

  private constructor(
    readonly meetings: ChimeMeetings,
    readonly signaling: ChimeSignaling,
    /** The Meetings API endpoint on the host's loopback. */
    readonly apiEndpoint: string,
    private readonly apiServer: Server,
    private readonly signalServer: Server,
    private readonly listeners: NamespaceListeners,
    private readonly mediaPage: Page,
    private readonly socket: string,
  ) {}

  static async start(options: ChimeStandInOptions): Promise<ChimeStandIn> {
    const { browser, dir } = options;
    const signalBase = `ws://${LAB_JANUS_IP}:${LAB_CHIME_SIGNAL_PORT}`; // = signalingOrigin
    const meetings = new ChimeMeetings(signalBase, `${LAB_JANUS_IP}:3478`);

    const page = await browser.newPage(await labSite());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') options.logger.warn({ page: 'chime-media' }, message.text());
    });
    const media = {
      subscribe: (request: SubscribeRequest) => callPage<SubscribeAnswer>(page, '__chimeMedia', 'subscribe', request),
      drop: (attendeeId: string) => callPage<void>(page, '__chimeMedia', 'drop', attendeeId),
    };
    const signaling = new ChimeSignaling(meetings, media);
    signaling.onError = (message) => options.logger.warn({ component: 'chime-stand-in' }, message);
    await page.exposeFunction('__chimeMediaEvent', (event: MediaEvent) => {
      switch (event.type) {
        case 'audio-flowing':
          signaling.audioFlowing(event.attendeeId);
          break;
        case 'video-ready':
          signaling.videoReady(event.attendeeId);
          break;
        case 'levels':
          signaling.levels(event.levels);
          break;
        default:
          break;
      }
    });
    await browser.load(page, 'chime-media.html');

    const socket = join(dir, 'chime-signal.sock');
    await rm(socket, { force: true });
    const signalServer = createServer((_request, response) => response.writeHead(426).end());
    signalServer.on('upgrade', (request, stream, head) => signaling.upgrade(request, stream, head));
    await new Promise<void>((resolve, reject) => signalServer.once('error', reject).listen(socket, resolve));
    const listeners = await NamespaceListeners.start(options.netns, dir, 'chime-relay', [
      { name: 'chime-signal', socket, host: LAB_JANUS_IP, port: LAB_CHIME_SIGNAL_PORT },
    ]);

    const apiServer = createServer((request, response) => {
      meetings.handle(request, response).catch((error: unknown) => {
        options.logger.warn({ error: String(error) }, 'lab Chime API request failed');
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve, reject) => apiServer.once('error', reject).listen(0, '127.0.0.1', resolve));
    const address = apiServer.address();
    if (address === null || typeof address === 'string') throw new Error('the lab Chime API has no TCP address');
    return new ChimeStandIn(
      meetings,
      signaling,
      `http://127.0.0.1:${address.port}`,
      apiServer,
      signalServer,
      listeners,
      page,
      socket,
    );
  }

  /** What the media side receives from and sends to each attendee now (by attendee id). */
  mediaStats(): Promise<Record<string, { audioIn: number; videoIn: number; videoOut: number; audioOut: number }>> {
    return callPage(this.mediaPage, '__chimeMedia', 'stats');
  }

  /** Environment that points an AWS SDK (the worker's) at this stand-in's Meetings API. */
  env(): Record<string, string> {
    return { AWS_ENDPOINT_URL_CHIME_SDK_MEETINGS: this.apiEndpoint };
  }

  /** An SDK client for this stand-in's Meetings API. */
  client(): ChimeSDKMeetingsClient {
    return new ChimeSDKMeetingsClient({ endpoint: this.apiEndpoint, region: LAB_REGION, credentials: LAB_CREDENTIALS });
  }

  async stop(): Promise<void> {
    this.signaling.close();
    await this.mediaPage.close().catch(() => undefined);
    await this.listeners.stop();
    await Promise.all([
      new Promise((resolve) => this.apiServer.close(resolve)),
      new Promise((resolve) => this.signalServer.close(resolve)),
    ]);
    await rm(this.socket, { force: true });
  }
}

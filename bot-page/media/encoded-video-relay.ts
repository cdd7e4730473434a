import type { VideoPathStats } from '../../contracts/call-record.js';
import { assertNever } from '../../contracts/errors.js';
import { log } from '../host.js';
import type { RelayRoute } from './encoded-relay-core.js';
import type { RelayCommand } from './encoded-relay-worker.js';
import type { VideoRelayAction, VideoRouteCounters, VideoRouteState } from './encoded-video-relay-core.js';

/** How often a video sender's PLI/FIR counts are read (a far-end request waits at most this long to reach the source). */
export const KEY_REQUEST_POLL_MS = 250;
/**
 * The bitrate cap of a video sender while it forwards. Chromium sizes a sender's cap by its picture (600 kbps for a
 * slot track's small one), and a forwarded camera at 640x480 sends about 1.5 Mbps: the cap of a sender of 960x540 and
 * more is used instead, as its pacer would otherwise hold the frames back.
 */
export const FORWARD_MAX_BITRATE_BPS = 2_500_000;
/** The slot track's picture size: the sender's encoder has little to do, its frames only carry forwarded ones. */
const SLOT_SIZE = { width: 64, height: 48 } as const;

/**
 * The page's half of video forwarding: per route, the slot track the sender sends while forwarding (one small frame
 * written for each frame the worker queued, so the sender's encoder makes a slot for each), and the watch on the
 * sender's PLI/FIR counts that passes the far end's keyframe requests to the worker.
 */
export class VideoRelayPages {
  private readonly routes = new Map<RelayRoute, VideoRoutePage>();
  private readonly refused = new Set<string>();
  private readonly refusals = new Map<RelayRoute, string>();

  constructor(
    private readonly post: (command: RelayCommand) => void,
    private readonly changed: () => void,
  ) {}

  sinkAttached(route: RelayRoute, sender: RTCRtpSender): void {
    const page = this.route(route);
    page.sender = sender;
    // a new sender has had no requests: the far end's first ones (its decoder's start) count too
    page.keyRequestsSeen = 0;
    page.poll ??= setInterval(() => void this.pollKeyRequests(route, page), KEY_REQUEST_POLL_MS);
    page.ownCaps = undefined;
    if (page.requested !== undefined) this.encodingFor(page, true);
  }

  canForward(route: RelayRoute, key: string): boolean {
    const sender = this.routes.get(route)?.sender;
    return sender !== undefined && carriesAnyFrame(sender) && !this.refused.has(`${route} ${key}`);
  }

  forward(route: RelayRoute, key: string | undefined): MediaStreamTrack | undefined {
    const page = this.route(route);
    if (page.requested !== key) {
      const starts = page.requested === undefined;
      page.requested = key;
      page.confirmed = undefined;
      this.post({ type: 'forward', kind: 'video', route, key });
      if (starts || key === undefined) this.encodingFor(page, key !== undefined);
    }
    if (key === undefined) return undefined;
    page.slots ??= new SlotTrack();
    return page.slots.track;
  }

  isForwarding(route: RelayRoute, key: string): boolean {
    return this.routes.get(route)?.confirmed === key;
  }

  onAction(action: Exclude<VideoRelayAction, { type: 'request-key-frame' }>): void {
    const page = this.route(action.route);
    switch (action.type) {
      case 'slot':
        page.slots?.write();
        return;
      case 'video-forwarding':
        if (page.requested !== action.key) return;
        page.confirmed = action.key;
        log.info('video forwarded without re-encoding', { route: action.route });
        this.changed();
        return;
      case 'video-refused':
        this.refused.add(`${action.route} ${action.key}`);
        this.refusals.set(action.route, action.reason);
        if (page.requested === action.key) {
          page.confirmed = undefined;
          log.info('video cannot be forwarded as it came: composed and encoded again', { route: action.route, reason: action.reason });
          this.changed();
        }
        return;
      default:
        assertNever(action, 'video relay action');
    }
  }

  paths(counters: Record<RelayRoute, VideoRouteCounters & { readonly state: VideoRouteState }>): {
    roomToSip?: VideoPathStats;
    sipToRoom?: VideoPathStats;
  } {
    const path = (route: RelayRoute): VideoPathStats | undefined => {
      const page = this.routes.get(route);
      if (page?.sender === undefined) return undefined;
      const { state, ...rest } = counters[route];
      const refused = this.refusals.get(route);
      return {
        ...rest,
        mode: state === 'forwarding' && page.confirmed !== undefined ? 'forward' : 'encode',
        ...(refused === undefined ? {} : { refused }),
      };
    };
    const roomToSip = path('room-to-sip');
    const sipToRoom = path('sip-to-room');
    return { ...(roomToSip === undefined ? {} : { roomToSip }), ...(sipToRoom === undefined ? {} : { sipToRoom }) };
  }

  close(): void {
    for (const page of this.routes.values()) {
      clearInterval(page.poll);
      page.slots?.close();
    }
  }

  /**
   * While forwarding, the sender's encoding has no frame-rate cap (the slot track's frames come in bursts when the
   * page is busy: Chromium's cap dropped up to half of them on a loaded machine, and a slot that never comes leaves a
   * forwarded frame waiting) and the bitrate cap of {@link FORWARD_MAX_BITRATE_BPS}; its own caps come back after.
   */
  private encodingFor(page: VideoRoutePage, forwarding: boolean): void {
    const sender = page.sender;
    if (sender === undefined) return;
    page.parameters = page.parameters
      .then(async () => {
        const parameters = sender.getParameters();
        const encoding = parameters.encodings[0];
        if (encoding === undefined) return;
        if (forwarding) {
          page.ownCaps = { maxFramerate: encoding.maxFramerate, maxBitrate: encoding.maxBitrate };
          delete encoding.maxFramerate;
          encoding.maxBitrate = FORWARD_MAX_BITRATE_BPS;
        } else {
          const own = page.ownCaps;
          if (own === undefined) return;
          page.ownCaps = undefined;
          if (own.maxFramerate === undefined) delete encoding.maxFramerate;
          else encoding.maxFramerate = own.maxFramerate;
          if (own.maxBitrate === undefined) delete encoding.maxBitrate;
          else encoding.maxBitrate = own.maxBitrate;
        }
        await sender.setParameters(parameters);
      })
      .catch((error: unknown) => log.warn('the video sender\'s caps could not be changed', { error: String(error) }));
  }

  /** A grown PLI/FIR count on the route's sender is the far end asking for a keyframe: the source is asked. */
  private async pollKeyRequests(route: RelayRoute, page: VideoRoutePage): Promise<void> {
    const sender = page.sender;
    if (sender === undefined) return;
    let requests = 0;
    const report = await sender.getStats().catch(() => undefined);
    report?.forEach((entry: { type?: string; kind?: string; pliCount?: number; firCount?: number }) => {
      if (entry.type === 'outbound-rtp') requests += (entry.pliCount ?? 0) + (entry.firCount ?? 0);
    });
    if (report === undefined || sender !== page.sender) return;
    const seen = page.keyRequestsSeen ?? requests;
    page.keyRequestsSeen = requests;
    // requests while the sender sends its own picture are its encoder's to answer
    if (requests > seen && page.requested !== undefined) this.post({ type: 'far-end-key-frame-request', route });
  }

  private route(route: RelayRoute): VideoRoutePage {
    let page = this.routes.get(route);
    if (page === undefined) {
      page = {
        sender: undefined,
        requested: undefined,
        confirmed: undefined,
        slots: undefined,
        poll: undefined,
        keyRequestsSeen: undefined,
        parameters: Promise.resolve(),
        ownCaps: undefined,
      };
      this.routes.set(route, page);
    }
    return page;
  }
}

interface VideoRoutePage {
  sender: RTCRtpSender | undefined;
  requested: string | undefined;
  confirmed: string | undefined;
  slots: SlotTrack | undefined;
  poll: ReturnType<typeof setInterval> | undefined;
  /** The sender's PLI + FIR count when last read. */
  keyRequestsSeen: number | undefined;
  /** The sender's parameter changes, one after another. */
  parameters: Promise<void>;
  /** The sender's own caps while it forwards (restored after). */
  ownCaps: { readonly maxFramerate: number | undefined; readonly maxBitrate: number | undefined } | undefined;
}

/**
 * Whether `sender` can packetize any frame of its codec: not H.264 in packetization mode 0 (single NAL units, the
 * mode many SIP phones take), where a NAL unit larger than a packet cannot be sent, and only the sender's own
 * encoder keeps its NAL units that small.
 */
export function carriesAnyFrame(sender: RTCRtpSender): boolean {
  const codec = sender.getParameters().codecs[0];
  if (codec === undefined || codec.mimeType.toLowerCase() !== 'video/h264') return true;
  return /(^|;)\s*packetization-mode=1/.test(codec.sdpFmtpLine ?? '');
}

/** A video track whose every frame is written on demand: a small black picture, one per forwarded frame. */
class SlotTrack {
  readonly track: MediaStreamTrack;
  private readonly writer: WritableStreamDefaultWriter<VideoFrame>;
  private readonly canvas = new OffscreenCanvas(SLOT_SIZE.width, SLOT_SIZE.height);
  private closed = false;

  constructor() {
    const generator = new MediaStreamTrackGenerator({ kind: 'video' });
    this.track = generator;
    this.writer = generator.writable.getWriter();
    const context = this.canvas.getContext('2d');
    if (context !== null) {
      context.fillStyle = '#000';
      context.fillRect(0, 0, SLOT_SIZE.width, SLOT_SIZE.height);
    }
  }

  /** Writes one frame; frames queue rather than drop (each is one forwarded frame's slot). */
  write(): void {
    if (this.closed) return;
    const frame = new VideoFrame(this.canvas, { timestamp: Math.round(performance.now() * 1000) });
    this.writer.write(frame).catch(() => frame.close());
  }

  close(): void {
    this.closed = true;
    void this.writer.close().catch(() => undefined);
    this.track.stop();
  }
}

import type { AudioPathStats, VideoPathStats } from '../../contracts/call-record.js';
import { assertNever } from '../../contracts/errors.js';
import { log } from '../host.js';
import type { RelayNotice, RelayRoute, RouteCounters } from './encoded-relay-core.js';
import type { RelayCommand, RelayKind, RelayOptions } from './encoded-relay-worker.js';
import type { VideoRelayAction, VideoRouteCounters, VideoRouteState } from './encoded-video-relay-core.js';
import { VideoRelayPages } from './encoded-video-relay.js';

type WorkerMessage =
  | RelayNotice
  /** A DTMF digit read off a telephone-event the SIP leg's receiver `key` got. */
  | { readonly type: 'telephone-event'; readonly key: string; readonly digit: string }
  | Exclude<VideoRelayAction, { type: 'request-key-frame' }>
  | {
      readonly type: 'counters';
      readonly id: number;
      readonly counters: Record<RelayRoute, RouteCounters>;
      readonly video: Record<RelayRoute, VideoRouteCounters & { readonly state: VideoRouteState }>;
    };
type Counters = Extract<WorkerMessage, { type: 'counters' }>;

export type { RelayRoute } from './encoded-relay-core.js';

/** The transform worker's script (bot-page/media/encoded-relay-worker.ts), built into the bundle as text by scripts/build.mjs. */
declare const __ROOMLINE_RELAY_WORKER__: string;

/** What a leg gives the relay as it sets up its connection: its receivers (sources) and its senders (sinks). */
export interface EncodedTaps {
  /**
   * Call before the receiving stream exists: right after `addTransceiver` on the offering side, from `ontrack` (during
   * setRemoteDescription of the offer) on the answering side. Chromium gives a transform set later no frames at all.
   * A receiver tapped twice keeps its first tap.
   */
  receiver(receiver: RTCRtpReceiver): void;
  /** Call right after the transceiver is made, before negotiation, for the same reason. @default kind 'audio' */
  sender(sender: RTCRtpSender, kind?: RelayKind): void;
}

/**
 * Encoded audio forwarding between the legs (see encoded-relay-core.ts for how a frame is carried). The page asks a
 * route to forward a received track; once the worker says the sender's frames carry that track's payloads, the page
 * may stop decoding the track and stop encoding anything but silence for that route. Where the browser has no
 * `RTCRtpScriptTransform`, {@link EncodedRelay.create} gives none, and the bot makes none where the configuration turns
 * forwarding off or the room's provider cannot forward: the bridge then decodes and encodes as before.
 */
export class EncodedRelay {
  /** Tapped receivers' tracks and their keys (track ids are not unique: Janus names every subscription's audio `janus0`). */
  private readonly keys = new WeakMap<MediaStreamTrack, string>();
  private readonly tapped = new WeakSet<RTCRtpReceiver>();
  private readonly sinks = new Set<RelayRoute>();
  private readonly requested = new Map<RelayRoute, string | undefined>();
  private readonly confirmed = new Map<RelayRoute, string>();
  private readonly refused = new Set<string>();
  private readonly refusals = new Map<RelayRoute, string>();
  private readonly listeners: Array<() => void> = [];
  private readonly digitListeners = new Map<string, (digit: string) => void>();
  /** Keys of the SIP leg's audio receivers, whose telephone-events the worker reads. */
  private readonly eventKeys = new Set<string>();
  private readonly pending = new Map<number, (counters: Counters) => void>();
  private readonly video = new VideoRelayPages((command) => this.worker.postMessage(command), () => this.changed());
  private nextId = 0;
  private nextKey = 0;

  private constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => this.onMessage(event.data);
  }

  static create(): EncodedRelay | undefined {
    if (typeof RTCRtpScriptTransform === 'undefined') return undefined;
    // from a Blob: relative URLs would be the customer's app's in page mode
    const url = URL.createObjectURL(new Blob([__ROOMLINE_RELAY_WORKER__], { type: 'text/javascript' }));
    try {
      return new EncodedRelay(new Worker(url, { name: 'roomline-encoded-relay' }));
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  /** The taps of the leg whose sender is `route`'s sink. */
  taps(route: RelayRoute): EncodedTaps {
    return {
      receiver: (receiver) => {
        const kind = receiver.track.kind;
        if ((kind !== 'audio' && kind !== 'video') || this.tapped.has(receiver)) return;
        this.tapped.add(receiver);
        const key = `source-${(this.nextKey += 1)}`;
        // the SIP leg's receivers (this route's sink is the SIP sender): their telephone-events are read for digits
        const events = route === 'room-to-sip' && kind === 'audio';
        receiver.transform = new RTCRtpScriptTransform(this.worker, { role: 'source', key, kind, events } satisfies RelayOptions);
        if (events) this.eventKeys.add(key);
        this.keys.set(receiver.track, key);
      },
      sender: (sender, kind = 'audio') => {
        sender.transform = new RTCRtpScriptTransform(this.worker, { role: 'sink', route, kind } satisfies RelayOptions);
        if (kind === 'audio') this.sinks.add(route);
        else this.video.sinkAttached(route, sender);
      },
    };
  }

  /**
   * Reads the DTMF digits of the telephone-events that `track`'s receiver (the SIP leg's audio) gets, giving each to
   * `onDigit`; false when the relay does not tap that receiver (the digits must then be heard in the decoded audio).
   */
  readTelephoneEvents(track: MediaStreamTrack, onDigit: (digit: string) => void): boolean {
    const key = this.keys.get(track);
    if (key === undefined || !this.eventKeys.has(key)) return false;
    this.digitListeners.set(key, onDigit);
    return true;
  }

  /** Whether `track` could be forwarded on `route`: both ends are tapped and the worker has not refused it. */
  canForward(route: RelayRoute, track: MediaStreamTrack): boolean {
    const key = this.keys.get(track);
    return this.sinks.has(route) && key !== undefined && !this.refused.has(`${route} ${key}`);
  }

  /** Forward `track` on `route` from now on (undefined: the route sends its sender's own encoding). */
  forward(route: RelayRoute, track: MediaStreamTrack | undefined): void {
    const key = track !== undefined && this.canForward(route, track) ? this.keys.get(track) : undefined;
    if (this.requested.get(route) === key) return;
    this.requested.set(route, key);
    if (this.confirmed.get(route) !== key) this.confirmed.delete(route);
    this.worker.postMessage({ type: 'forward', kind: 'audio', route, key } satisfies RelayCommand);
  }

  /**
   * Video: whether `track` (a tapped receiver's) could be forwarded on `route` as it came. The worker refuses a track
   * whose codec differs from the sender's; the page composes it then.
   */
  canForwardVideo(route: RelayRoute, track: MediaStreamTrack): boolean {
    const key = this.keys.get(track);
    return key !== undefined && this.video.canForward(route, key);
  }

  /**
   * Forward `track`'s encoded video on `route` from its next keyframe (undefined: the sender's own encoding again, from
   * its next keyframe). Gives the track the route's sender must send meanwhile: the slot track while forwarding (its
   * frames carry the forwarded ones), undefined to send the page's own picture.
   */
  forwardVideo(route: RelayRoute, track: MediaStreamTrack | undefined): MediaStreamTrack | undefined {
    const key = track === undefined ? undefined : this.keys.get(track);
    return this.video.forward(route, key !== undefined && this.video.canForward(route, key) ? key : undefined);
  }

  /** Whether `route`'s video sender now carries `track`'s frames (a source keyframe went out). */
  isForwardingVideo(route: RelayRoute, track: MediaStreamTrack | undefined): boolean {
    const key = track === undefined ? undefined : this.keys.get(track);
    return key !== undefined && this.video.isForwarding(route, key);
  }

  /** Whether `route`'s sender now carries `track`'s payloads as they came. */
  isForwarding(route: RelayRoute, track: MediaStreamTrack | undefined): boolean {
    return track !== undefined && this.confirmed.get(route) === this.keys.get(track);
  }

  /** Called whenever forwarding starts to hold or is refused. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** What each route's sender sent so far, by what its frames carried. */
  async stats(): Promise<
    | { audio: { roomToSip: AudioPathStats; sipToRoom: AudioPathStats }; video: { roomToSip?: VideoPathStats; sipToRoom?: VideoPathStats } }
    | undefined
  > {
    const id = (this.nextId += 1);
    const answer = await Promise.race([
      new Promise<Counters>((resolve) => {
        this.pending.set(id, resolve);
        this.worker.postMessage({ type: 'counters', id } satisfies RelayCommand);
      }),
      new Promise<undefined>((resolve) => setTimeout(resolve, 1_000)),
    ]);
    this.pending.delete(id);
    if (answer === undefined) return undefined;
    const counters = answer.counters;
    const path = (route: RelayRoute): AudioPathStats => ({
      ...counters[route],
      mode: this.confirmed.has(route) ? 'forward' : 'encode',
      ...(this.refusals.has(route) ? { refused: this.refusals.get(route) } : {}),
    });
    return {
      audio: { roomToSip: path('room-to-sip'), sipToRoom: path('sip-to-room') },
      video: this.video.paths(answer.video),
    };
  }

  close(): void {
    this.video.close();
    this.worker.terminate();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'counters':
        this.pending.get(message.id)?.(message);
        return;
      case 'telephone-event':
        this.digitListeners.get(message.key)?.(message.digit);
        return;
      case 'slot':
      case 'video-forwarding':
      case 'video-refused':
        this.video.onAction(message);
        return;
      case 'forwarding':
      case 'refused':
        break;
      default:
        return assertNever(message, 'relay message');
    }
    if (this.requested.get(message.route) !== message.key) return;
    if (message.type === 'forwarding') {
      this.confirmed.set(message.route, message.key);
      log.info('audio forwarded without re-encoding', { route: message.route });
    } else {
      this.refused.add(`${message.route} ${message.key}`);
      this.refusals.set(message.route, message.reason);
      this.confirmed.delete(message.route);
      this.requested.set(message.route, undefined);
      log.info('audio cannot be forwarded as it came: decoded and encoded again', { route: message.route, reason: message.reason });
    }
    this.changed();
  }
}

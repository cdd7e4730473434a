import type { AudioPathStats } from '../../contracts/call-record.js';
import { log } from '../host.js';
import type { RelayNotice, RelayRoute, RouteCounters } from './encoded-relay-core.js';
import type { RelayCommand, RelayOptions } from './encoded-relay-worker.js';

export type { RelayRoute } from './encoded-relay-core.js';

/** The transform worker's script (bot-page/media/encoded-relay-worker.ts), built into the bundle as text by scripts/build.mjs. */
declare const __ROOMLINE_RELAY_WORKER__: string;

/** What a leg gives the relay as it sets up its connection: its audio receivers (sources) and audio sender (sink). */
export interface EncodedTaps {
  /**
   * Call before the receiving stream exists: right after `addTransceiver` on the offering side, from `ontrack` (during
   * setRemoteDescription of the offer) on the answering side. Chromium gives a transform set later no frames at all.
   * A receiver tapped twice keeps its first tap.
   */
  receiver(receiver: RTCRtpReceiver): void;
  /** Call right after the transceiver is made, before negotiation, for the same reason. */
  sender(sender: RTCRtpSender): void;
}

/**
 * Encoded audio forwarding between the legs (see encoded-relay-core.ts for how a frame is carried). The page asks a
 * route to forward a received track; once the worker says the sender's frames carry that track's payloads, the page
 * may stop decoding the track and stop encoding anything but silence for that route. Where the browser has no
 * `RTCRtpScriptTransform`, or the configuration turns it off, {@link EncodedRelay.create} gives none and the bridge
 * decodes and encodes as before.
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
  private readonly pending = new Map<number, (counters: Record<RelayRoute, RouteCounters>) => void>();
  private nextId = 0;
  private nextKey = 0;

  private constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<RelayNotice | { type: 'counters'; id: number; counters: Record<RelayRoute, RouteCounters> }>) =>
      this.onMessage(event.data);
  }

  static create(enabled: boolean): EncodedRelay | undefined {
    if (!enabled || typeof RTCRtpScriptTransform === 'undefined') return undefined;
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
        if (receiver.track.kind !== 'audio' || this.tapped.has(receiver)) return;
        this.tapped.add(receiver);
        const key = `source-${(this.nextKey += 1)}`;
        receiver.transform = new RTCRtpScriptTransform(this.worker, { role: 'source', key } satisfies RelayOptions);
        this.keys.set(receiver.track, key);
      },
      sender: (sender) => {
        sender.transform = new RTCRtpScriptTransform(this.worker, { role: 'sink', route } satisfies RelayOptions);
        this.sinks.add(route);
      },
    };
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
    this.worker.postMessage({ type: 'forward', route, key } satisfies RelayCommand);
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
  async stats(): Promise<{ roomToSip: AudioPathStats; sipToRoom: AudioPathStats } | undefined> {
    const id = (this.nextId += 1);
    const counters = await Promise.race([
      new Promise<Record<RelayRoute, RouteCounters>>((resolve) => {
        this.pending.set(id, resolve);
        this.worker.postMessage({ type: 'counters', id } satisfies RelayCommand);
      }),
      new Promise<undefined>((resolve) => setTimeout(resolve, 1_000)),
    ]);
    this.pending.delete(id);
    if (counters === undefined) return undefined;
    const path = (route: RelayRoute): AudioPathStats => ({
      ...counters[route],
      mode: this.confirmed.has(route) ? 'forward' : 'encode',
      ...(this.refusals.has(route) ? { refused: this.refusals.get(route) } : {}),
    });
    return { roomToSip: path('room-to-sip'), sipToRoom: path('sip-to-room') };
  }

  close(): void {
    this.worker.terminate();
  }

  private onMessage(message: RelayNotice | { type: 'counters'; id: number; counters: Record<RelayRoute, RouteCounters> }): void {
    if (message.type === 'counters') {
      this.pending.get(message.id)?.(message.counters);
      return;
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
    for (const listener of this.listeners) listener();
  }
}

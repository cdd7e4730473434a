import type { AudioPathStats } from '../../contracts/call-record.js';

/**
 * Encoded audio forwarding, the part that decides (no streams, no browser): which received frame's payload goes into
 * which sent frame. It runs in the page's transform worker (encoded-relay-worker.ts); the page tells it what to forward
 * and hears back when forwarding holds or cannot.
 *
 * Chromium sends only frames its own encoder made for that sender: a frame from another connection, or one built with
 * the `RTCEncodedAudioFrame` constructor, is dropped without an error (Chromium 156, checked in a page). So
 * the sending leg keeps encoding a silent track, and each frame it makes is a slot: while a route forwards, the slot's
 * payload is replaced by the next payload received from the source. The packets keep the sender's own SSRC, sequence
 * numbers and timestamps, which is what lets the bridge switch between forwarding and its mix at any frame boundary
 * without a jump the far end's jitter buffer would notice. Nothing is decoded on the way.
 */

export type RelayRoute = 'room-to-sip' | 'sip-to-room';
export const RELAY_ROUTES: readonly RelayRoute[] = ['room-to-sip', 'sip-to-room'];

/** What the relay reads of an encoded audio frame (RTCEncodedAudioFrame). */
export interface RelayFrame {
  data: ArrayBuffer;
  getMetadata(): { readonly mimeType?: string; readonly rtpTimestamp?: number };
}

/** Frames a route's sender sent since the page started, by what they carried (the record's fields). */
export type RouteCounters = Omit<AudioPathStats, 'mode' | 'refused'>;

export type RelayNotice =
  /** The route's last {@link CONFIRM_SLOTS} slots all carried `key`'s payloads: the page may stop decoding it. */
  | { readonly type: 'forwarding'; readonly route: RelayRoute; readonly key: string }
  /** `key` cannot be forwarded on `route` (a codec or frame length that differs); the page keeps decoding it. */
  | { readonly type: 'refused'; readonly route: RelayRoute; readonly key: string; readonly reason: string };

/** Consecutive forwarded slots after which forwarding is said to hold. */
export const CONFIRM_SLOTS = 5;
/** Payloads waiting for a slot, at most: a longer queue is only delay. */
export const MAX_QUEUE = 3;
/** Slots over which the queue's spare depth is watched: a payload always spare for this long is dropped (20 ms less delay). */
export const TRIM_WINDOW_SLOTS = 250;
/**
 * Slots in a row a forwarding route leaves unsent while the source's next payload is late (network jitter, a busy
 * page): the far end's decoder conceals them, which sounds better than the sender's silence. Past this, the source
 * has paused (DTX, a muted sender): the sender's own frames go, so the far end never sees the stream stop.
 */
export const MAX_SKIPPED_SLOTS = 3;

interface RouteState {
  key: string | undefined;
  queue: ArrayBuffer[];
  confirmed: boolean;
  streak: number;
  refused: boolean;
  /** Smallest queue depth seen at a slot over the current trim window. */
  minDepth: number;
  windowSlots: number;
  sinkMime: string | undefined;
  sinkTimestamp: number | undefined;
  sinkStep: number | undefined;
  sourceTimestamp: number | undefined;
  sourceStep: number | undefined;
  lastSlot: 'forwarded' | 'encoded' | undefined;
  /** Slots left unsent in a row. */
  skipping: number;
  forwardedFrames: number;
  encodedFrames: number;
  droppedFrames: number;
  skippedFrames: number;
  switches: number;
}

function freshRoute(): RouteState {
  return {
    key: undefined,
    queue: [],
    confirmed: false,
    streak: 0,
    refused: false,
    minDepth: Number.POSITIVE_INFINITY,
    windowSlots: 0,
    sinkMime: undefined,
    sinkTimestamp: undefined,
    sinkStep: undefined,
    sourceTimestamp: undefined,
    sourceStep: undefined,
    lastSlot: undefined,
    skipping: 0,
    forwardedFrames: 0,
    encodedFrames: 0,
    droppedFrames: 0,
    skippedFrames: 0,
    switches: 0,
  };
}

/**
 * Whether a source step is a whole number of the sender's frames, up to {@link MAX_GAP_FRAMES}: frames lost or not sent
 * before this one, rather than frames of another length.
 */
function isGap(sourceStep: number, sinkStep: number): boolean {
  return sourceStep % sinkStep === 0 && sourceStep / sinkStep <= MAX_GAP_FRAMES;
}

/** RTP timestamp difference a → b, modulo 2^32; undefined for anything but a plausible frame step (≤ 120 ms at 48 kHz). */
function step(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const d = (b - a) >>> 0;
  return d > 0 && d <= 5_760 ? d : undefined;
}

/** A source step of up to this many of the sender's frames, once, is frames lost on the way (not a longer frame). */
export const MAX_GAP_FRAMES = MAX_SKIPPED_SLOTS + 1;

export class RelayCore {
  private readonly routes = new Map<RelayRoute, RouteState>(RELAY_ROUTES.map((r) => [r, freshRoute()]));

  constructor(private readonly notify: (notice: RelayNotice) => void) {}

  /** From now on `route`'s slots carry `key`'s payloads (undefined: the sender's own encoding). */
  forward(route: RelayRoute, key: string | undefined): void {
    const state = this.route(route);
    if (state.key === key) return;
    state.key = key;
    state.queue = [];
    state.confirmed = false;
    state.streak = 0;
    state.skipping = 0;
    state.refused = false;
    state.sourceTimestamp = undefined;
    state.sourceStep = undefined;
    state.minDepth = Number.POSITIVE_INFINITY;
    state.windowSlots = 0;
  }

  /** A new sender took `route` (a new SIP leg after a transfer): its codec and frame length are learnt again. */
  sinkAttached(route: RelayRoute): void {
    const state = this.route(route);
    state.sinkMime = undefined;
    state.sinkTimestamp = undefined;
    state.sinkStep = undefined;
  }

  /** A frame received from `key`. Its payload is queued for every route that forwards `key`. */
  source(key: string, frame: RelayFrame): void {
    // read once, and only for a source some route forwards (this runs for every 20 ms frame of every receiver)
    let metadata: ReturnType<RelayFrame['getMetadata']> | undefined;
    for (const [route, state] of this.routes) {
      if (state.key !== key || state.refused) continue;
      // nothing is queued before the sender's first frame tells its codec
      if (state.sinkMime === undefined) continue;
      metadata ??= frame.getMetadata();
      // telephone-events and comfort noise have payload types of their own: only the codec's frames are forwarded
      if (metadata.mimeType !== undefined && metadata.mimeType !== state.sinkMime) {
        if (metadata.mimeType.toLowerCase().endsWith('/telephone-event') || metadata.mimeType.toLowerCase().endsWith('/cn')) continue;
        this.refuse(route, state, `the source sends ${metadata.mimeType}, the sender ${state.sinkMime}`);
        continue;
      }
      const sourceStep = step(state.sourceTimestamp, metadata.rtpTimestamp);
      state.sourceTimestamp = metadata.rtpTimestamp;
      // a frame lost on the way is a step of a few frames once: a length the source keeps to twice in a row differs
      const repeated = sourceStep !== undefined && sourceStep === state.sourceStep;
      if (sourceStep !== undefined) state.sourceStep = sourceStep;
      if (state.sinkStep !== undefined && sourceStep !== undefined && sourceStep !== state.sinkStep && (repeated || !isGap(sourceStep, state.sinkStep))) {
        this.refuse(route, state, `the source's frames are ${sourceStep} samples long, the sender's ${state.sinkStep}`);
        continue;
      }
      // a copy: the frame goes on to its own receiver, and a buffer may not be shared between two frames
      state.queue.push(frame.data.slice(0));
      if (state.queue.length > MAX_QUEUE) {
        state.queue.shift();
        state.droppedFrames += 1;
      }
    }
  }

  /**
   * A frame `route`'s sender is about to send: it carries the next queued payload, if there is one; `skipped` means
   * the frame must not be sent (see {@link MAX_SKIPPED_SLOTS}).
   */
  slot(route: RelayRoute, frame: RelayFrame): 'forwarded' | 'encoded' | 'skipped' {
    const state = this.route(route);
    const metadata = frame.getMetadata();
    state.sinkMime ??= metadata.mimeType;
    const sinkStep = step(state.sinkTimestamp, metadata.rtpTimestamp);
    state.sinkTimestamp = metadata.rtpTimestamp;
    if (sinkStep !== undefined) state.sinkStep = sinkStep;
    let kind: 'forwarded' | 'encoded' = 'encoded';
    const key = state.refused ? undefined : state.key;
    if (key !== undefined && state.confirmed && state.queue.length === 0 && state.skipping < MAX_SKIPPED_SLOTS) {
      state.skipping += 1;
      state.skippedFrames += 1;
      return 'skipped';
    }
    if (key !== undefined && state.queue.length > 0) {
      state.skipping = 0;
      state.minDepth = Math.min(state.minDepth, state.queue.length);
      frame.data = state.queue.shift()!;
      kind = 'forwarded';
      state.forwardedFrames += 1;
      state.streak += 1;
      if (!state.confirmed && state.streak >= CONFIRM_SLOTS) {
        state.confirmed = true;
        this.notify({ type: 'forwarding', route, key });
      }
      this.trim(state);
    } else {
      state.encodedFrames += 1;
      state.streak = 0;
    }
    if (state.lastSlot !== undefined && state.lastSlot !== kind) state.switches += 1;
    state.lastSlot = kind;
    return kind;
  }

  counters(): Record<RelayRoute, RouteCounters> {
    const counters = (s: RouteState): RouteCounters => ({
      forwardedFrames: s.forwardedFrames,
      encodedFrames: s.encodedFrames,
      droppedFrames: s.droppedFrames,
      skippedFrames: s.skippedFrames,
      switches: s.switches,
    });
    return { 'room-to-sip': counters(this.route('room-to-sip')), 'sip-to-room': counters(this.route('sip-to-room')) };
  }

  /** Keeps the queue at the depth the source's jitter needs: a payload that was spare at every slot for a while goes. */
  private trim(state: RouteState): void {
    state.windowSlots += 1;
    if (state.windowSlots < TRIM_WINDOW_SLOTS) return;
    // minDepth counts the payload taken: 2 means one was always left over
    if (state.minDepth >= 2 && state.queue.length > 0) {
      state.queue.shift();
      state.droppedFrames += 1;
    }
    state.windowSlots = 0;
    state.minDepth = Number.POSITIVE_INFINITY;
  }

  private refuse(route: RelayRoute, state: RouteState, reason: string): void {
    state.refused = true;
    state.queue = [];
    if (state.key !== undefined) this.notify({ type: 'refused', route, key: state.key, reason });
  }

  private route(route: RelayRoute): RouteState {
    const state = this.routes.get(route);
    if (state === undefined) throw new Error(`unknown relay route ${String(route)}`);
    return state;
  }
}

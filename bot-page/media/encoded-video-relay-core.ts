import type { VideoPathStats } from '../../contracts/call-record.js';
import type { RelayRoute } from './encoded-relay-core.js';

/**
 * Encoded VIDEO forwarding, the part that decides (no streams, no browser). It runs in the page's transform worker
 * next to the audio relay (encoded-relay-core.ts) and follows the same rule: Chromium sends only frames its own
 * encoder made for that sender, so the sending leg keeps encoding a small slot track whose frames carry the received
 * payloads. Video adds what audio does not have, a reference chain:
 * - a route starts forwarding only with a keyframe of the source (the worker asks the source for one), and slots
 *   before it are dropped rather than sent: the sender's own delta frames in the middle of the forwarded stream, or
 *   the source's delta frames before its keyframe, would break the far end's decoder;
 * - a slot is never sent with the encoder's own picture in the middle of the forwarded stream. The page clocks the
 *   slot track by the source's frames (one {@link VideoRelayAction} `slot` per received frame, one more while frames
 *   wait), and a slot that comes before its frame is held until the frame comes. A slot left out is a gap the far
 *   end may not get over: H.264 frames are told apart by sequence numbers alone, but VP8 numbers its pictures before
 *   the transform, and a Chromium receiver waits for the missing picture until the next keyframe (checked in a page);
 * - when forwarding ends, the sender's own frames are dropped until its encoder makes a keyframe (the page changes
 *   the sender's track back to the composed picture, whose other size makes one).
 * Keyframe requests (PLI/FIR) that reach the bridge's sender from the far end are passed to the source.
 */

/** What the relay reads of an encoded video frame (RTCEncodedVideoFrame). */
export interface VideoRelayFrame {
  data: ArrayBuffer;
  readonly type: 'key' | 'delta' | 'empty';
  getMetadata(): { readonly mimeType?: string };
}

export type VideoRouteState =
  /** The sender's own encoding goes out as it is made. */
  | 'encode'
  /** Forwarding asked: slots are dropped until the source's next keyframe. */
  | 'awaiting-source-key'
  /** Slots carry the source's frames. */
  | 'forwarding'
  /** Forwarding ended: slots are dropped until the sender's own encoder makes a keyframe. */
  | 'awaiting-own-key';

/** Frames a route's video sender sent, by what they carried, and the keyframe requests it passed on (the record's fields). */
export type VideoRouteCounters = Omit<VideoPathStats, 'mode' | 'refused'>;

export type VideoRelayAction =
  /** Ask `key`'s receiver for a keyframe (RTCRtpScriptTransformer.sendKeyFrameRequest). */
  | { readonly type: 'request-key-frame'; readonly key: string }
  /** A frame for `route` is queued: the page writes one frame to the route's slot track. */
  | { readonly type: 'slot'; readonly route: RelayRoute }
  /** Forwarding on `route` holds: a source keyframe went out. */
  | { readonly type: 'video-forwarding'; readonly route: RelayRoute; readonly key: string }
  /** `key` cannot be forwarded on `route` (another codec); the page composes again. */
  | { readonly type: 'video-refused'; readonly route: RelayRoute; readonly key: string; readonly reason: string };

/**
 * Frames waiting for a slot, at most (half a second at 30 fps: a loaded page stalls its slot clock for a few hundred
 * milliseconds); more means the slot clock fell behind: forwarding restarts at the next keyframe.
 */
export const MAX_VIDEO_QUEUE = 15;
/** Slots held for frames not yet received, at most; one more is left out (and counted as dropped). */
export const MAX_HELD_SLOTS = 3;
/** A keyframe request is not repeated sooner than this many received frames (a source answers within a few). */
export const KEY_REQUEST_SPACING_FRAMES = 15;

interface VideoRoute {
  key: string | undefined;
  state: VideoRouteState;
  queue: Array<{ readonly data: ArrayBuffer; readonly key: boolean }>;
  /** Slots that came before their frame, oldest first. */
  held: VideoRelayFrame[];
  /** Sends a held slot on (the sender's transform stream). */
  send: ((frame: VideoRelayFrame) => void) | undefined;
  refused: boolean;
  sinkMime: string | undefined;
  framesSinceRequest: number;
  forwardedFrames: number;
  forwardedKeyFrames: number;
  encodedFrames: number;
  droppedSlots: number;
  droppedFrames: number;
  keyFrameRequests: number;
  farEndKeyFrameRequests: number;
  switches: number;
}

function freshRoute(): VideoRoute {
  return {
    key: undefined,
    state: 'encode',
    queue: [],
    held: [],
    send: undefined,
    refused: false,
    sinkMime: undefined,
    framesSinceRequest: Number.POSITIVE_INFINITY,
    forwardedFrames: 0,
    forwardedKeyFrames: 0,
    encodedFrames: 0,
    droppedSlots: 0,
    droppedFrames: 0,
    keyFrameRequests: 0,
    farEndKeyFrameRequests: 0,
    switches: 0,
  };
}

export class VideoRelayCore {
  private readonly routes = new Map<RelayRoute, VideoRoute>([
    ['room-to-sip', freshRoute()],
    ['sip-to-room', freshRoute()],
  ]);

  constructor(private readonly act: (action: VideoRelayAction) => void) {}

  /** From now on `route` carries `key`'s frames (undefined: the sender's own encoding, after its next keyframe). */
  forward(route: RelayRoute, key: string | undefined): void {
    const state = this.route(route);
    if (state.key === key) return;
    state.key = key;
    state.queue = [];
    state.held = [];
    state.refused = false;
    this.announced.delete(route);
    if (key !== undefined) {
      state.state = 'awaiting-source-key';
      state.framesSinceRequest = Number.POSITIVE_INFINITY;
      this.requestKeyFrame(state);
    } else {
      state.state = state.state === 'encode' ? 'encode' : 'awaiting-own-key';
    }
  }

  /**
   * A new sender took `route` (a new SIP leg): its codec is learnt again, and its first frames are its own. `send`
   * passes a held slot on to it.
   */
  sinkAttached(route: RelayRoute, send?: (frame: VideoRelayFrame) => void): void {
    const state = this.route(route);
    state.sinkMime = undefined;
    state.send = send;
    state.held = [];
    if (state.state === 'forwarding') {
      state.state = 'awaiting-source-key';
      state.queue = [];
      state.framesSinceRequest = Number.POSITIVE_INFINITY;
      this.requestKeyFrame(state);
    }
  }

  /** The far end asked `route`'s sender for a keyframe (its PLI/FIR count grew): the source is asked for one. */
  farEndKeyFrameRequest(route: RelayRoute): void {
    const state = this.route(route);
    if (state.key === undefined || state.refused) return;
    state.farEndKeyFrameRequests += 1;
    state.framesSinceRequest = Number.POSITIVE_INFINITY;
    this.requestKeyFrame(state);
  }

  /** A frame received from `key`: queued for every route that forwards `key` (from its first keyframe on). */
  source(key: string, frame: VideoRelayFrame): void {
    for (const [route, state] of this.routes) {
      if (state.key !== key || state.refused) continue;
      const mime = frame.getMetadata().mimeType;
      if (state.sinkMime !== undefined && mime !== undefined && mime.toLowerCase() !== state.sinkMime.toLowerCase()) {
        this.refuse(route, state, `the source sends ${mime}, the sender ${state.sinkMime}`);
        continue;
      }
      state.framesSinceRequest += 1;
      if (state.state === 'awaiting-source-key') {
        if (frame.type !== 'key') {
          this.requestKeyFrame(state);
          continue;
        }
        state.state = 'forwarding';
        state.switches += 1;
      }
      if (state.state !== 'forwarding') continue;
      if (frame.type === 'empty') continue;
      if (state.queue.length >= MAX_VIDEO_QUEUE) {
        // a delta frame cannot be left out: start again at the next keyframe
        state.droppedFrames += state.queue.length + 1;
        state.queue = [];
        state.droppedSlots += state.held.length;
        state.held = [];
        state.state = 'awaiting-source-key';
        state.framesSinceRequest = Number.POSITIVE_INFINITY;
        this.requestKeyFrame(state);
        continue;
      }
      state.queue.push({ data: frame.data.slice(0), key: frame.type === 'key' });
      this.fillHeld(route, state);
      this.act({ type: 'slot', route });
      // frames waiting: one more slot to catch up (one too many is held, never left out)
      if (state.queue.length > 1) this.act({ type: 'slot', route });
    }
  }

  /**
   * A frame `route`'s sender is about to send: whether it goes out as made, carries a forwarded frame, is held for the
   * next frame received (then it is passed to the sink's `send`), or is dropped.
   */
  slot(route: RelayRoute, frame: VideoRelayFrame): 'forwarded' | 'encoded' | 'held' | 'dropped' {
    const state = this.route(route);
    state.sinkMime ??= frame.getMetadata().mimeType;
    switch (state.state) {
      case 'encode':
        state.encodedFrames += 1;
        return 'encoded';
      case 'awaiting-own-key':
        if (frame.type !== 'key') {
          state.droppedSlots += 1;
          return 'dropped';
        }
        state.state = 'encode';
        state.switches += 1;
        state.encodedFrames += 1;
        return 'encoded';
      case 'awaiting-source-key':
        state.droppedSlots += 1;
        return 'dropped';
      case 'forwarding': {
        const next = state.queue.shift();
        if (next === undefined) {
          if (state.send !== undefined && state.held.length < MAX_HELD_SLOTS) {
            state.held.push(frame);
            return 'held';
          }
          state.droppedSlots += 1;
          return 'dropped';
        }
        this.carry(route, state, frame, next);
        return 'forwarded';
      }
    }
  }

  /** Held slots take the frames that came for them, in order. */
  private fillHeld(route: RelayRoute, state: VideoRoute): void {
    while (state.held.length > 0 && state.queue.length > 0) {
      const slot = state.held.shift()!;
      this.carry(route, state, slot, state.queue.shift()!);
      state.send?.(slot);
    }
  }

  private carry(route: RelayRoute, state: VideoRoute, slot: VideoRelayFrame, next: { readonly data: ArrayBuffer; readonly key: boolean }): void {
    slot.data = next.data;
    state.forwardedFrames += 1;
    if (next.key) {
      state.forwardedKeyFrames += 1;
      this.announce(route, state);
    }
  }

  counters(): Record<RelayRoute, VideoRouteCounters & { readonly state: VideoRouteState }> {
    const counters = (s: VideoRoute) => ({
      state: s.state,
      forwardedFrames: s.forwardedFrames,
      forwardedKeyFrames: s.forwardedKeyFrames,
      encodedFrames: s.encodedFrames,
      droppedSlots: s.droppedSlots,
      droppedFrames: s.droppedFrames,
      keyFrameRequests: s.keyFrameRequests,
      farEndKeyFrameRequests: s.farEndKeyFrameRequests,
      switches: s.switches,
    });
    return { 'room-to-sip': counters(this.route('room-to-sip')), 'sip-to-room': counters(this.route('sip-to-room')) };
  }

  private readonly announced = new Map<RelayRoute, string>();

  /** Says once per request to forward that forwarding holds (at its first forwarded keyframe). */
  private announce(route: RelayRoute, state: VideoRoute): void {
    if (state.key === undefined || this.announced.get(route) === state.key) return;
    this.announced.set(route, state.key);
    this.act({ type: 'video-forwarding', route, key: state.key });
  }

  private requestKeyFrame(state: VideoRoute): void {
    if (state.key === undefined || state.framesSinceRequest < KEY_REQUEST_SPACING_FRAMES) return;
    state.framesSinceRequest = 0;
    state.keyFrameRequests += 1;
    this.act({ type: 'request-key-frame', key: state.key });
  }

  private refuse(route: RelayRoute, state: VideoRoute, reason: string): void {
    state.refused = true;
    state.queue = [];
    state.held = [];
    // the page puts the composed picture back on the sender: its frames go out from its encoder's next keyframe
    if (state.state !== 'encode') state.state = 'awaiting-own-key';
    if (state.key !== undefined) this.act({ type: 'video-refused', route, key: state.key, reason });
  }

  private route(route: RelayRoute): VideoRoute {
    const state = this.routes.get(route);
    if (state === undefined) throw new Error(`unknown relay route ${String(route)}`);
    return state;
  }
}

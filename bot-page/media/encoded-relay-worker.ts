import { RelayCore, type RelayFrame, type RelayRoute } from './encoded-relay-core.js';
import { TelephoneEventReader } from './telephone-events.js';
import { VideoRelayCore, type VideoRelayFrame } from './encoded-video-relay-core.js';

/**
 * The page's encoded-transform worker (RTCRtpScriptTransform): every audio and video receiver of the bridge is a
 * source, each leg's audio and video sender a sink, and {@link RelayCore} (audio) or {@link VideoRelayCore} (video)
 * decides which received payload a sent frame carries, and whether a video slot goes out at all. Received
 * frames go on to their own receiver unchanged (the page decodes them whenever it mixes or listens). Built as its own
 * script and loaded from a Blob (encoded-relay.ts).
 */

export type RelayKind = 'audio' | 'video';

export type RelayOptions =
  /** `events`: the SIP leg's receiver, whose telephone-events are read for the DTMF digits they carry. */
  | { readonly role: 'source'; readonly key: string; readonly kind: RelayKind; readonly events?: boolean }
  | { readonly role: 'sink'; readonly route: RelayRoute; readonly kind: RelayKind };

export type RelayCommand =
  | { readonly type: 'forward'; readonly kind: RelayKind; readonly route: RelayRoute; readonly key: string | undefined }
  /** The far end asked the route's video sender for a keyframe (its PLI/FIR count grew). */
  | { readonly type: 'far-end-key-frame-request'; readonly route: RelayRoute }
  | { readonly type: 'counters'; readonly id: number };

// the worker's global scope, which TypeScript's DOM library does not describe
interface TransformerLike {
  readonly options: RelayOptions;
  readonly readable: ReadableStream<RelayFrame & VideoRelayFrame>;
  readonly writable: WritableStream<RelayFrame & VideoRelayFrame>;
  /** Receivers only: sends a PLI/FIR to the source (Chromium 156 has it; its senders fire no keyframe events). */
  sendKeyFrameRequest?(): Promise<void>;
}
const scope = globalThis as unknown as {
  onrtctransform: ((event: { readonly transformer: TransformerLike }) => void) | null;
  onmessage: ((event: MessageEvent<RelayCommand>) => void) | null;
  postMessage(message: unknown): void;
};

const core = new RelayCore((notice) => scope.postMessage(notice));
/** Video receivers by key: the relay asks them for keyframes. */
const videoSources = new Map<string, TransformerLike>();
const video = new VideoRelayCore((action) => {
  if (action.type === 'request-key-frame') {
    void videoSources.get(action.key)?.sendKeyFrameRequest?.().catch(() => undefined);
  } else {
    scope.postMessage(action);
  }
});

/**
 * Runs each frame through `each`; a frame it answers `false` for is not sent on. A plain read/write loop: one frame
 * in flight per stream, without the promise hops of a TransformStream (this runs for every 20 ms frame of every leg).
 */
function pump(transformer: TransformerLike, each: (frame: RelayFrame & VideoRelayFrame) => boolean): void {
  const reader = transformer.readable.getReader();
  const writer = transformer.writable.getWriter();
  void (async () => {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) return;
      let send = true;
      try {
        send = each(frame);
      } catch {
        // a frame the relay cannot read goes on as it came
      }
      if (send) await writer.write(frame);
    }
  })().catch(() => undefined);
}

/** A video sender's frames: sent as made, carrying a forwarded frame, dropped, or held and sent when its frame comes. */
function pumpVideoSink(transformer: TransformerLike, route: RelayRoute): void {
  const reader = transformer.readable.getReader();
  const writer = transformer.writable.getWriter();
  video.sinkAttached(route, (frame) => {
    // the sender may be gone
    writer.write(frame as RelayFrame & VideoRelayFrame).catch(() => undefined);
  });
  void (async () => {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) return;
      let kind: ReturnType<VideoRelayCore['slot']> = 'encoded';
      try {
        kind = video.slot(route, frame);
      } catch {
        // a frame the relay cannot read goes on as it came
      }
      if (kind === 'forwarded' || kind === 'encoded') await writer.write(frame);
    }
  })().catch(() => undefined);
}

scope.onrtctransform = (event) => {
  const transformer = event.transformer;
  const options = transformer.options;
  switch (options.role) {
    case 'source':
      if (options.kind === 'video') {
        videoSources.set(options.key, transformer);
        pump(transformer, (frame) => {
          video.source(options.key, frame);
          return true;
        });
      } else {
        const events = options.events === true ? new TelephoneEventReader() : undefined;
        pump(transformer, (frame) => {
          core.source(options.key, frame);
          // a telephone-event payload is 4 bytes (RFC 4733 §2.3): the metadata is read only for frames that short
          if (events !== undefined && frame.data.byteLength === 4) {
            const metadata = frame.getMetadata();
            if (metadata.mimeType?.toLowerCase().endsWith('/telephone-event') === true) {
              const digit = events.read(frame.data, metadata.rtpTimestamp);
              if (digit !== undefined) scope.postMessage({ type: 'telephone-event', key: options.key, digit });
            }
          }
          return true;
        });
      }
      return;
    case 'sink':
      if (options.kind === 'video') {
        pumpVideoSink(transformer, options.route);
      } else {
        core.sinkAttached(options.route);
        pump(transformer, (frame) => core.slot(options.route, frame) !== 'skipped');
      }
      return;
  }
};

scope.onmessage = (event) => {
  const command = event.data;
  switch (command.type) {
    case 'forward':
      if (command.kind === 'video') video.forward(command.route, command.key);
      else core.forward(command.route, command.key);
      return;
    case 'far-end-key-frame-request':
      video.farEndKeyFrameRequest(command.route);
      return;
    case 'counters':
      scope.postMessage({ type: 'counters', id: command.id, counters: core.counters(), video: video.counters() });
      return;
  }
};

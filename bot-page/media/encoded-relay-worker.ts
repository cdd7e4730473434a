import { RelayCore, type RelayFrame, type RelayRoute } from './encoded-relay-core.js';

/**
 * The page's encoded-transform worker (RTCRtpScriptTransform): every audio receiver of the bridge is a source, each
 * leg's audio sender a sink, and {@link RelayCore} decides which received payload a sent frame carries. Received
 * frames go on to their own receiver unchanged (the page decodes them whenever it mixes or listens). Built as its own
 * script and loaded from a Blob (encoded-relay.ts).
 */

export type RelayOptions = { readonly role: 'source'; readonly key: string } | { readonly role: 'sink'; readonly route: RelayRoute };

export type RelayCommand =
  | { readonly type: 'forward'; readonly route: RelayRoute; readonly key: string | undefined }
  | { readonly type: 'counters'; readonly id: number };

// the worker's global scope, which TypeScript's DOM library does not describe
interface TransformerLike {
  readonly options: RelayOptions;
  readonly readable: ReadableStream<RelayFrame>;
  readonly writable: WritableStream<RelayFrame>;
}
const scope = globalThis as unknown as {
  onrtctransform: ((event: { readonly transformer: TransformerLike }) => void) | null;
  onmessage: ((event: MessageEvent<RelayCommand>) => void) | null;
  postMessage(message: unknown): void;
};

const core = new RelayCore((notice) => scope.postMessage(notice));

/**
 * Runs each frame through `each`; a frame it answers `false` for is not sent on. A plain read/write loop: one frame
 * in flight per stream, without the promise hops of a TransformStream (this runs for every 20 ms frame of every leg).
 */
function pump(transformer: TransformerLike, each: (frame: RelayFrame) => boolean): void {
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

scope.onrtctransform = (event) => {
  const transformer = event.transformer;
  const options = transformer.options;
  if (options.role === 'source') {
    pump(transformer, (frame) => {
      core.source(options.key, frame);
      return true;
    });
  } else {
    core.sinkAttached(options.route);
    pump(transformer, (frame) => core.slot(options.route, frame) !== 'skipped');
  }
};

scope.onmessage = (event) => {
  const command = event.data;
  if (command.type === 'forward') core.forward(command.route, command.key);
  else scope.postMessage({ type: 'counters', id: command.id, counters: core.counters() });
};

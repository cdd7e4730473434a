import { DTMF_DIGIT_PATTERN } from '../../contracts/telephony.js';
import { DTMF_PROCESSOR } from './dtmf-detector.js';

/** The worklet's script (bot-page/media/dtmf-worklet.ts), built into the bundle as text by scripts/build.mjs. */
declare const __ROOMLINE_DTMF_WORKLET__: string;

/**
 * Listens for DTMF digits in a track's decoded audio. Janus 1.1.2 reports no RFC 2833 telephone-events, but WebRTC
 * plays received telephone-events out as their tones (NetEq's DTMF tone generator), so the SIP leg's audio carries
 * them, as it would in-band tones. The detector (Goertzel filters, dtmf-detector.ts) runs in an AudioWorklet of its
 * own AudioContext: off the page's main thread, and independent of the mixer's context, which is suspended while it
 * only forwards tracks. The context runs at 48 kHz, the rate WebRTC decodes at, with interactive latency (the
 * detector averages down to 8 kHz itself): an 8 kHz context resampled the track with dropouts on a busy machine,
 * which split digits. The
 * track must be played by a (muted) media element for Chromium to decode it; the mixer does that for the SIP track.
 */
export class DtmfListener {
  private context: AudioContext | undefined;
  private node: AudioWorkletNode | undefined;
  private source: MediaStreamAudioSourceNode | undefined;
  private loading: Promise<AudioWorkletNode> | undefined;
  private closed = false;

  constructor(private readonly onDigit: (digit: string) => void) {}

  /** Listens to `track` from now on (a transfer brings a new SIP track). */
  async listen(track: MediaStreamTrack): Promise<void> {
    const node = await this.worklet();
    if (this.closed || this.context === undefined) return;
    this.source?.disconnect();
    this.source = this.context.createMediaStreamSource(new MediaStream([track]));
    this.source.connect(node);
    if (this.context.state === 'suspended') await this.context.resume().catch(() => undefined);
  }

  /** Stops listening (the current leg's digits come another way): the worklet's context is suspended until the next {@link listen}. */
  async stop(): Promise<void> {
    this.source?.disconnect();
    this.source = undefined;
    if (this.context?.state === 'running') await this.context.suspend().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.source?.disconnect();
    this.node?.port.close();
    await this.context?.close().catch(() => undefined);
  }

  private worklet(): Promise<AudioWorkletNode> {
    this.loading ??= (async () => {
      const context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
      this.context = context;
      // from a Blob: relative URLs would be the customer's app's in page mode
      const url = URL.createObjectURL(new Blob([__ROOMLINE_DTMF_WORKLET__], { type: 'text/javascript' }));
      try {
        await context.audioWorklet.addModule(url);
      } finally {
        URL.revokeObjectURL(url);
      }
      // no outputs: the node is pulled by the context without being connected to its destination
      const node = new AudioWorkletNode(context, DTMF_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
      node.port.onmessage = (event: MessageEvent<{ digit?: unknown }>) => {
        const digit = event.data.digit;
        if (typeof digit === 'string' && DTMF_DIGIT_PATTERN.test(digit)) this.onDigit(digit);
      };
      this.node = node;
      return node;
    })();
    return this.loading;
  }
}

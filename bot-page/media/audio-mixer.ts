import { playMuted } from './play-muted.js';

/**
 * The bot's audio routing.
 * - SIP → room: the SIP peer's audio track is forwarded as the track the bot publishes (no processing in the page).
 * - room → SIP: with one other participant, that participant's track is forwarded as is; with several (or none), a
 *   WebAudio graph mixes them into one track (the bot's own feed is never subscribed, so never in the mix).
 * The AudioContext runs only while it is needed (mixing, or audio levels for the active-speaker picture).
 * Each remote track is attached to a muted <audio> element: Chromium only decodes remote WebRTC audio while something
 * plays it, forwarding included.
 */
export class AudioMixer {
  readonly context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
  private readonly roomMix = this.context.createMediaStreamDestination();
  private readonly silentRoomFeed = this.context.createMediaStreamDestination();
  private readonly inputs = new Map<string, { track: MediaStreamTrack; element: HTMLMediaElement; source?: MediaStreamAudioSourceNode; analyser?: AnalyserNode }>();
  private sipInput: { track: MediaStreamTrack; element: HTMLMediaElement } | undefined;
  private sipOutput: TrackOutput | undefined;
  private roomOutput: TrackOutput | undefined;
  private closed = false;

  /** @param levels keep per-participant audio levels (for choosing the active speaker). */
  constructor(private readonly levels: boolean) {
    // a silent constant source keeps the mix producing frames before anyone speaks
    const silence = this.context.createConstantSource();
    silence.offset.value = 0;
    silence.connect(this.roomMix);
    silence.connect(this.silentRoomFeed);
    silence.start();
  }

  /** The track the SIP leg starts with (the mix); replaced by a forwarded track when there is one speaker. */
  get roomToSipTrack(): MediaStreamTrack {
    return firstTrack(this.roomMix.stream);
  }

  /** The track the bot's feed starts with (silence); replaced by the SIP peer's audio once it arrives. */
  get sipToRoomTrack(): MediaStreamTrack {
    return firstTrack(this.silentRoomFeed.stream);
  }

  /** Where the SIP leg's audio goes (room → SIP): swaps the track the SIP leg sends. */
  bindSipOutput(output: TrackOutput): void {
    this.sipOutput = output;
    void this.route();
  }

  /** Where the bot's audio in the room goes (SIP → room): swaps the track the room adapter publishes. */
  bindRoomOutput(output: TrackOutput): void {
    this.roomOutput = output;
    void this.route();
  }

  /** A room participant's audio. */
  addRoomTrack(key: string, track: MediaStreamTrack): void {
    this.remove(key);
    const element = playMuted(track);
    const input: { track: MediaStreamTrack; element: HTMLMediaElement; source?: MediaStreamAudioSourceNode; analyser?: AnalyserNode } = { track, element };
    this.inputs.set(key, input);
    track.addEventListener('ended', () => this.remove(key));
    void this.route();
  }

  /** The SIP peer's audio. */
  setSipTrack(track: MediaStreamTrack): void {
    this.sipInput?.element.remove();
    this.sipInput = { track, element: playMuted(track) };
    void this.route();
  }

  /** Removes `key`'s audio if it still is `track` (a newer track of the same participant stays). */
  removeTrack(key: string, track: MediaStreamTrack): void {
    if (this.inputs.get(key)?.track === track) this.remove(key);
  }

  remove(key: string): void {
    const input = this.inputs.get(key);
    if (input === undefined) return;
    input.source?.disconnect();
    input.analyser?.disconnect();
    input.element.srcObject = null;
    input.element.remove();
    this.inputs.delete(key);
    void this.route();
  }

  /** Root-mean-square level (0..1) of each room participant now: who is speaking. Empty without `levels`. */
  inputLevels(): Map<string, number> {
    const result = new Map<string, number>();
    const buffer = new Float32Array(1024);
    for (const [key, input] of this.inputs) {
      if (input.analyser === undefined) continue;
      input.analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (const sample of buffer) sum += sample * sample;
      result.set(key, Math.sqrt(sum / buffer.length));
    }
    return result;
  }

  /** How the room's audio reaches SIP now: forwarded from one participant, or mixed. */
  get mode(): 'forward' | 'mix' {
    return this.inputs.size === 1 ? 'forward' : 'mix';
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const key of [...this.inputs.keys()]) this.remove(key);
    this.sipInput?.element.remove();
    await this.context.close().catch(() => undefined);
  }

  /** Puts each track where it belongs and runs the AudioContext only while something needs it. */
  private async route(): Promise<void> {
    if (this.closed) return;
    const forward = this.mode === 'forward';
    const needsGraph = !forward || this.levels;
    for (const input of this.inputs.values()) {
      const inGraph = !forward || this.levels;
      if (inGraph && input.source === undefined) {
        input.source = this.context.createMediaStreamSource(new MediaStream([input.track]));
        if (this.levels) {
          input.analyser = this.context.createAnalyser();
          input.analyser.fftSize = 1024;
          input.source.connect(input.analyser);
        }
      }
      if (input.source !== undefined) {
        input.source.disconnect();
        if (input.analyser !== undefined) input.source.connect(input.analyser);
        if (!forward) input.source.connect(this.roomMix);
      }
    }
    if (needsGraph && this.context.state === 'suspended') await this.context.resume().catch(() => undefined);
    if (!needsGraph && this.context.state === 'running') await this.context.suspend().catch(() => undefined);
    const roomTrack = forward ? [...this.inputs.values()][0]?.track : undefined;
    await this.sipOutput?.(roomTrack ?? this.roomToSipTrack).catch(() => undefined);
    await this.roomOutput?.(this.sipInput?.track ?? this.sipToRoomTrack).catch(() => undefined);
  }
}

/** Sends `track` from now on (a no-op when it is already the one sent). */
export type TrackOutput = (track: MediaStreamTrack) => Promise<void>;


function firstTrack(stream: MediaStream): MediaStreamTrack {
  const track = stream.getAudioTracks()[0];
  if (track === undefined) throw new Error('audio destination has no track');
  return track;
}

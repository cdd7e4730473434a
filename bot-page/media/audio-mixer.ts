/**
 * The bot's audio graph, one AudioContext:
 * - room → SIP: every other participant's audio mixed into one track sent to the SIP peer (the bot's own feed is
 *   never subscribed, so it is never in the mix);
 * - SIP → room: the SIP peer's audio as the track the bot publishes into the room.
 * Each remote track is also attached to a muted <audio> element: Chromium only decodes remote WebRTC audio while
 * something plays it.
 */
export class AudioMixer {
  readonly context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
  private readonly roomMix = this.context.createMediaStreamDestination();
  private readonly sipOut = this.context.createMediaStreamDestination();
  private readonly inputs = new Map<string, { source: MediaStreamAudioSourceNode; element: HTMLAudioElement; gain: GainNode }>();
  private readonly levels = new Map<string, AnalyserNode>();

  constructor() {
    // a silent constant source keeps both destinations producing frames before anyone speaks
    const silence = this.context.createConstantSource();
    silence.offset.value = 0;
    silence.connect(this.roomMix);
    silence.connect(this.sipOut);
    silence.start();
  }

  /** The mixed room audio, for the SIP leg. */
  get roomToSipTrack(): MediaStreamTrack {
    return firstTrack(this.roomMix.stream);
  }

  /** The SIP peer's audio, for the bot's feed in the room. */
  get sipToRoomTrack(): MediaStreamTrack {
    return firstTrack(this.sipOut.stream);
  }

  async resume(): Promise<void> {
    if (this.context.state !== 'running') await this.context.resume();
  }

  /** Adds a room participant's audio to the mix sent to SIP. */
  addRoomTrack(key: string, track: MediaStreamTrack): void {
    this.connect(key, track, this.roomMix);
  }

  /** Sets the SIP peer's audio as what the bot publishes. */
  setSipTrack(track: MediaStreamTrack): void {
    this.connect('sip', track, this.sipOut);
  }

  remove(key: string): void {
    const input = this.inputs.get(key);
    if (input === undefined) return;
    input.source.disconnect();
    input.gain.disconnect();
    input.element.srcObject = null;
    input.element.remove();
    this.inputs.delete(key);
    this.levels.delete(key);
  }

  /** Root-mean-square level (0..1) of each input now: who is speaking. */
  inputLevels(): Map<string, number> {
    const result = new Map<string, number>();
    const buffer = new Float32Array(1024);
    for (const [key, analyser] of this.levels) {
      analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (const sample of buffer) sum += sample * sample;
      result.set(key, Math.sqrt(sum / buffer.length));
    }
    return result;
  }

  async close(): Promise<void> {
    for (const key of [...this.inputs.keys()]) this.remove(key);
    await this.context.close().catch(() => undefined);
  }

  private connect(key: string, track: MediaStreamTrack, destination: AudioNode): void {
    this.remove(key);
    const stream = new MediaStream([track]);
    const element = document.createElement('audio');
    element.muted = true;
    element.autoplay = true;
    element.srcObject = stream;
    document.body.append(element);
    void element.play().catch(() => undefined);
    const source = this.context.createMediaStreamSource(stream);
    const gain = this.context.createGain();
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(gain).connect(destination);
    source.connect(analyser);
    this.inputs.set(key, { source, element, gain });
    this.levels.set(key, analyser);
    track.addEventListener('ended', () => this.remove(key));
  }
}

function firstTrack(stream: MediaStream): MediaStreamTrack {
  const track = stream.getAudioTracks()[0];
  if (track === undefined) throw new Error('audio destination has no track');
  return track;
}

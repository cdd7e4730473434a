import type { EncodedRelay } from './encoded-relay.js';
import { playMuted } from './play-muted.js';

/**
 * How long the mix runs before a forwarded speaker's frames give way to it (a second speaker appeared): the time the
 * first speaker's decoder needs to fill its jitter buffer again. The listener hears no gap, at most this much of the
 * first speaker a second time, a few tens of milliseconds later.
 */
export const MIX_WARMUP_MS = 200;

interface RoomInput {
  readonly track: MediaStreamTrack;
  /** The muted element that makes Chromium decode the track; none while its frames are forwarded undecoded. */
  element: HTMLMediaElement | undefined;
  source?: MediaStreamAudioSourceNode;
  analyser?: AnalyserNode;
}

/**
 * The bot's audio routing.
 * - SIP → room: the SIP peer's audio is what the bot publishes.
 * - room → SIP: with one other participant, that participant's audio is what the SIP leg sends; with several (or
 *   none), a WebAudio graph mixes them into one track (the bot's own feed is never subscribed, so never in the mix).
 * With an {@link EncodedRelay} (both legs' connections tapped, the same codec on both), "what is sent" is the encoded
 * frames as they came: the sender encodes only silence, whose frames carry the forwarded payloads, and a forwarded
 * room track is not decoded at all. Until the relay says forwarding holds, and wherever it cannot (another codec, a
 * provider whose SDK keeps its connections), the track itself is sent: decoded and encoded again. A second speaker
 * switches room → SIP to the mix; the forwarded frames go on until the mix has had {@link MIX_WARMUP_MS} to start.
 * The AudioContext runs only while it is needed (mixing, or audio levels for the active-speaker picture).
 * A remote track is decoded while a muted <audio> element plays it: while it is not forwarded, and the SIP peer's
 * always where its DTMF digits are heard in its audio. Chromium decodes every received stream of the page while any
 * one is played, and none while none is: a call forwarded both ways, its digits read off their telephone-events,
 * decodes nothing.
 */
export class AudioMixer {
  readonly context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
  private readonly roomMix = this.context.createMediaStreamDestination();
  private readonly silentRoomFeed = this.context.createMediaStreamDestination();
  private readonly inputs = new Map<string, RoomInput>();
  /** The SIP peer's audio; `digitsInAudio`: decoded always, for the DTMF digits heard in it. */
  private sipInput: { track: MediaStreamTrack; element: HTMLMediaElement | undefined; digitsInAudio: boolean } | undefined;
  private sipOutput: TrackOutput | undefined;
  private roomOutput: TrackOutput | undefined;
  private sipMuted = false;
  private closed = false;
  /** Ends room → SIP forwarding once the mix has started (a second speaker came). */
  private mixTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param levels keep per-participant audio levels (for choosing the active speaker).
   * @param relay forwards encoded frames between the legs where it can.
   */
  constructor(
    private readonly levels: boolean,
    private readonly relay?: EncodedRelay,
  ) {
    relay?.onChange(() => void this.route());
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
    const input: RoomInput = { track, element: playMuted(track) };
    this.inputs.set(key, input);
    track.addEventListener('ended', () => this.remove(key));
    void this.route();
  }

  /**
   * The SIP peer's audio. It is decoded while it is not forwarded as it came, and always where `digitsInAudio` (its
   * DTMF digits are heard in the decoded audio, not read off its telephone-events).
   */
  setSipTrack(track: MediaStreamTrack, digitsInAudio = true): void {
    if (this.sipInput !== undefined) setDecoded(this.sipInput, false);
    this.sipInput = { track, element: playMuted(track), digitsInAudio };
    void this.route();
  }

  /**
   * Mutes the SIP peer in the room (while the call is held: the room hears silence, not the fading concealment of a
   * stream that stopped, nor a PBX's hold music) or unmutes it.
   */
  setSipMuted(muted: boolean): void {
    if (this.sipMuted === muted) return;
    this.sipMuted = muted;
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
    setDecoded(input, false);
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

  /**
   * Whether the page decodes received audio now. Chromium decodes every received audio stream of the page while any
   * one is played, and none while none is: with every direction forwarded (and no digits to hear), none is.
   */
  get decodesReceivedAudio(): boolean {
    return this.sipInput?.element !== undefined || [...this.inputs.values()].some((input) => input.element !== undefined);
  }

  /** How the room's audio reaches SIP now: forwarded from one participant, or mixed. */
  get mode(): 'forward' | 'mix' {
    return this.inputs.size === 1 ? 'forward' : 'mix';
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.mixTimer);
    for (const key of [...this.inputs.keys()]) this.remove(key);
    if (this.sipInput !== undefined) setDecoded(this.sipInput, false);
    await this.context.close().catch(() => undefined);
  }

  /** Puts each track where it belongs and runs the AudioContext only while something needs it. */
  private async route(): Promise<void> {
    if (this.closed) return;
    const forward = this.mode === 'forward';
    const single = forward ? [...this.inputs.values()][0] : undefined;
    const relay = this.relay;
    if (single !== undefined) {
      clearTimeout(this.mixTimer);
      this.mixTimer = undefined;
      relay?.forward('room-to-sip', single.track);
    } else if (relay !== undefined && this.mixTimer === undefined) {
      this.mixTimer = setTimeout(() => {
        this.mixTimer = undefined;
        if (this.mode === 'mix') relay.forward('room-to-sip', undefined);
      }, MIX_WARMUP_MS);
    }
    const roomForwarded = single !== undefined && relay?.isForwarding('room-to-sip', single.track) === true;
    // A muted SIP peer is replaced by the silent feed, which produces frames only while the context runs (a feed
    // without frames would leave the room's receivers concealing the last sound they had). Forwarded frames ride in
    // the frames of the silent tracks, so the relay needs the context running too.
    const needsGraph = !forward || this.levels || this.sipMuted || relay !== undefined;
    const inGraph = !forward || this.levels;
    for (const input of this.inputs.values()) {
      setDecoded(input, inGraph || !roomForwarded);
      if (!inGraph && input.source !== undefined) {
        // a source node left in the context may keep the track decoding
        input.source.disconnect();
        input.analyser?.disconnect();
        input.source = undefined;
        input.analyser = undefined;
      }
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
    // forwarded: the silent mix carries the frames; otherwise the lone speaker's track, or the mix
    const roomTrack = single !== undefined && !roomForwarded ? single.track : undefined;
    await this.sipOutput?.(roomTrack ?? this.roomToSipTrack).catch(() => undefined);
    const sipTrack = this.sipMuted ? undefined : this.sipInput?.track;
    relay?.forward('sip-to-room', sipTrack);
    const sipForwarded = relay?.isForwarding('sip-to-room', sipTrack) === true;
    if (this.sipInput !== undefined) setDecoded(this.sipInput, this.sipInput.digitsInAudio || !sipForwarded);
    await this.roomOutput?.((sipForwarded ? undefined : sipTrack) ?? this.sipToRoomTrack).catch(() => undefined);
  }
}

/** Decodes `input`'s track (plays it in a muted element) or stops decoding it. */
function setDecoded(input: { readonly track: MediaStreamTrack; element: HTMLMediaElement | undefined }, decoded: boolean): void {
  if (decoded && input.element === undefined) input.element = playMuted(input.track);
  if (!decoded && input.element !== undefined) {
    input.element.srcObject = null;
    input.element.remove();
    input.element = undefined;
  }
}

/** Sends `track` from now on (a no-op when it is already the one sent). */
export type TrackOutput = (track: MediaStreamTrack) => Promise<void>;


function firstTrack(stream: MediaStream): MediaStreamTrack {
  const track = stream.getAudioTracks()[0];
  if (track === undefined) throw new Error('audio destination has no track');
  return track;
}

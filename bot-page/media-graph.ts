import { RoomlineError } from '../contracts/errors.js';
import type { ParsedPageCommand } from '../contracts/page-rpc.js';
import type { RoomCapabilities } from '../contracts/rooms/index.js';
import { emit, errorMessage, log } from './host.js';
import { AudioMixer } from './media/audio-mixer.js';
import { EncodedRelay, type EncodedTaps } from './media/encoded-relay.js';
import { playMuted } from './media/play-muted.js';
import { PromptPlayer } from './media/prompt-player.js';
import { RoomVideoComposer } from './media/room-video-composer.js';
import { SipVideoRouter } from './media/sip-video-router.js';
import { waitForLegMedia, waitForMedia } from './media/stats.js';
import type { PublishedTracks, RoomAdapter } from './rooms/room-adapter.js';
import type { DialOptions } from './sip/sip-dial-options.js';
import type { SipLeg } from './sip/sip-leg.js';

/** The media a call asked for (the same in `join-room`, `dial` and `answer`). */
type CallMedia = Extract<ParsedPageCommand, { type: 'join-room' }>['media'];

/** The legs the graph puts tracks on: the SIP call's current leg and the room, as they are now. */
export interface MediaGraphLegs {
  sip(): SipLeg | undefined;
  room(): RoomAdapter | undefined;
}

/**
 * The bot's media between its two legs: the room's audio mixed for the SIP peer and the peer's audio for the room,
 * the room composed into one picture for SIP and the SIP picture (whole, or split into tiles) for the room, the
 * dial-in prompts, and the encoded relay that forwards frames as they came where it can. The bot tells it what
 * arrives; it puts the right track on each leg's senders.
 */
export class MediaGraph {
  private mixerValue: AudioMixer | undefined;
  /** Room → SIP video (when the SIP leg sends video). */
  private composer: RoomVideoComposer | undefined;
  /** SIP → room video (when the SIP leg receives video). */
  private router: SipVideoRouter | undefined;
  /** Who speaks now, when the room's provider says so. */
  private speaker: string | undefined;
  /** Dial-in PIN line: the prompts the caller hears before the bot is in a room. */
  private prompts: PromptPlayer | undefined;
  /** The SIP peer's audio, kept for a mixer made later (a PIN line answers before the room is joined). */
  private sipAudio: MediaStreamTrack | undefined;
  private sipDigitsInAudio = true;
  private sipAudioPlayer: HTMLMediaElement | undefined;
  /** The SIP peer's video track (SIP → room), once it came. */
  private sipVideo: MediaStreamTrack | undefined;
  /** The bot's own feed is published: its senders take other tracks. */
  private feedPublished = false;
  /** Forwards encoded media between the legs where it can (made with the room, where its provider can forward). */
  private relay: EncodedRelay | undefined;
  /** What the SIP leg was asked to carry (from `dial` or `answer`). */
  private sipMedia: CallMedia | undefined;
  private roomAudioWatched = false;

  constructor(private readonly legs: MediaGraphLegs) {}

  /** The audio graph, once the bot joins a room. */
  get mixer(): AudioMixer | undefined {
    return this.mixerValue;
  }

  /**
   * Builds the room's side of the graph for a join: the relay (with `forwarding` allowed and a provider that can), the
   * mixer, the composer when the SIP leg is sent video, the router when it sends some.
   */
  forRoom(media: CallMedia, display: string, capabilities: RoomCapabilities, forwarding: boolean): void {
    const sendsVideo = media.video === 'sendonly' || media.video === 'sendrecv';
    const receivesVideo = media.video === 'recvonly' || media.video === 'sendrecv';
    const sipAnswered = this.legs.sip()?.answered === true;
    // Only for a room whose connections the bot owns: with a Chime meeting in the page (whose SDK runs encoded
    // transforms of its own) the meeting's audio did not reach the phone while the relay's worker existed. A PIN line
    // answered before its room has no relay: its legs were set up before it could be tapped.
    if (capabilities.encodedForwarding && forwarding && !sipAnswered) this.relay ??= makeRelay();
    // the active speaker's picture needs levels per person, unless the provider says who speaks
    const speakerFromProvider = capabilities.activeSpeaker && capabilities.serverMixedAudio;
    const mixer = new AudioMixer(sendsVideo && media.layout === 'active-speaker' && !speakerFromProvider, this.relay);
    this.mixerValue = mixer;
    // a PIN line answered before the room: the caller's audio goes to the room, the room's replaces the prompts
    if (this.sipAudio !== undefined) {
      mixer.setSipTrack(this.sipAudio, this.sipDigitsInAudio);
      this.sipAudioPlayer?.remove();
    }
    if (sipAnswered) this.bindSipSenders();
    if (sendsVideo) {
      const levels = speakerFromProvider ? () => this.speakerLevels() : () => mixer.inputLevels();
      this.composer = new RoomVideoComposer(media.layout, media, levels);
      this.composer.onSourcesChanged(() => this.routeRoomVideo());
      this.relay?.onChange(() => this.routeRoomVideo());
      this.composer.start();
    }
    if (receivesVideo) this.router = new SipVideoRouter(media.splitIncoming, display, media.fps);
    this.relay?.onChange(() => this.routeSipVideo());
  }

  /** Whether the room's cameras are wanted (they are composed for the SIP peer). */
  get receivesRoomVideo(): boolean {
    return this.composer !== undefined;
  }

  /** Reads the digits of the SIP audio's telephone-events off its RTP (false without a relay tapping it). */
  readTelephoneEvents(track: MediaStreamTrack, onDigit: (digit: string) => void): boolean {
    return this.relay?.readTelephoneEvents(track, onDigit) ?? false;
  }

  /** The relay's taps for the room adapter (the room's leg is the sink of `sip-to-room`). */
  get roomTaps(): EncodedTaps | undefined {
    return this.relay?.taps('sip-to-room');
  }

  /** What the bot publishes as it joins: the SIP side's audio, and its picture unless split into tiles (each a feed). */
  publishedTracks(): PublishedTracks {
    const mixer = this.mixerValue;
    if (mixer === undefined) throw new RoomlineError('INTERNAL', 'the room\'s media before its graph');
    const camera = this.router !== undefined && !this.router.splitting ? this.router.camera.track : undefined;
    return { audio: mixer.sipToRoomTrack, ...(camera === undefined ? {} : { video: camera }) };
  }

  /** The bot's own feed is up: SIP audio goes there as it arrives; tiles follow the SIP picture's first frame. */
  async onFeedPublished(room: RoomAdapter, active: () => boolean): Promise<void> {
    this.mixerValue?.bindRoomOutput((track) => room.replaceTrack('audio', track));
    this.feedPublished = true;
    this.routeSipVideo();
    this.router?.onFirstFrame(() => void this.publishTiles());
    if (await waitForLegMedia(() => room.stats(), 'audio', 'out', active)) {
      emit({ type: 'media-flowing', leg: 'room', kind: 'audio', direction: 'out' });
    }
  }

  /** A track of another participant: audio into the mix (the first reported once it flows), video to the composer. */
  roomTrack(participantId: string, track: MediaStreamTrack, room: RoomAdapter, active: () => boolean): void {
    if (track.kind === 'audio') {
      this.mixerValue?.addRoomTrack(participantId, track);
      this.watchRoomAudio(room, active);
    } else {
      this.composer?.addParticipant(participantId, track);
    }
  }

  roomTrackEnded(participantId: string, track: MediaStreamTrack): void {
    if (track.kind === 'audio') this.mixerValue?.removeTrack(participantId, track);
    else this.composer?.removeTrack(participantId, track);
  }

  participantLeft(participantId: string): void {
    this.mixerValue?.remove(participantId);
    this.composer?.removeParticipant(participantId);
  }

  activeSpeaker(participantId: string | undefined): void {
    this.speaker = participantId;
  }

  /** Levels for the active-speaker picture from the provider's own detector: the speaker loud, everyone else silent. */
  private speakerLevels(): Map<string, number> {
    return this.speaker === undefined ? new Map() : new Map([[this.speaker, 1]]);
  }

  /** The dial-in prompts (made at first use). */
  promptPlayer(): PromptPlayer {
    this.prompts ??= new PromptPlayer();
    return this.prompts;
  }

  /** What the SIP leg carries, as `dial` or `answer` asked. */
  setSipMedia(media: CallMedia): void {
    this.sipMedia = media;
  }

  /** What a SIP leg sends: the room's audio (the mix to start with) and, when asked, the composed picture. */
  outgoingSip(): Pick<DialOptions, 'audio' | 'video' | 'encoded'> {
    const media = this.sipMedia;
    return {
      ...(this.relay === undefined ? {} : { encoded: this.relay.taps('room-to-sip') }),
      audio: media?.audio === false ? undefined : (this.mixerValue?.roomToSipTrack ?? this.promptPlayer().track),
      video:
        media === undefined || media.video === 'off'
          ? undefined
          : {
              track: this.composer?.output.track,
              direction: media.video,
              codecs: media.sipVideoCodec === 'any' ? [] : [media.sipVideoCodec],
              maxFramerate: media.fps,
            },
    };
  }

  /**
   * A track from the SIP peer: its audio to the mix (or, on a PIN line before its room, to a player), its video to the
   * router. `digitsInAudio`: the audio is decoded even while forwarded, for the digits heard in it.
   */
  sipTrack(track: MediaStreamTrack, digitsInAudio = true): void {
    if (track.kind === 'audio') {
      this.sipAudio = track;
      this.sipDigitsInAudio = digitsInAudio;
      if (this.mixerValue !== undefined) this.mixerValue.setSipTrack(track, digitsInAudio);
      // a PIN line before its room: the caller's audio is decoded (for the digits) only while something plays it
      else this.sipAudioPlayer = playMuted(track);
    } else {
      this.sipVideo = track;
      this.router?.attach(track);
      this.routeSipVideo();
    }
  }

  /** Puts the room's audio on the current SIP leg's sender (again, after a transfer brought a new leg). */
  bindSipSenders(): void {
    this.mixerValue?.bindSipOutput(async (track) => {
      const sender = this.legs.sip()?.audioSender;
      if (sender !== undefined && sender.track !== track) await sender.replaceTrack(track);
    });
    this.routeRoomVideo();
  }

  /**
   * SIP → room video: while the SIP picture is the bot's camera whole (not split into tiles), the SIP peer's encoded
   * frames go to the room as they came, where the room's codec is the SIP leg's (the relay refuses another);
   * otherwise the picture decoded and encoded again. Switches at keyframes, as room → SIP.
   */
  private routeSipVideo(): void {
    const relay = this.relay;
    const router = this.router;
    const room = this.legs.room();
    if (relay === undefined || router === undefined || router.splitting || room === undefined || !this.feedPublished) return;
    const sip = this.sipVideo !== undefined && this.sipVideo.readyState === 'live' ? this.sipVideo : undefined;
    const forwarded = sip !== undefined && relay.canForwardVideo('sip-to-room', sip) ? sip : undefined;
    const track = relay.forwardVideo('sip-to-room', forwarded) ?? router.camera.track;
    void room.replaceTrack('video', track).catch((error: unknown) =>
      log.warn('switching the picture the room sees failed', { error: errorMessage(error) }),
    );
  }

  /**
   * Room → SIP video: while the SIP picture would show exactly one participant, that participant's encoded frames go
   * to the SIP leg as they came (the relay refuses another codec); otherwise the composed picture. Forwarding starts
   * at the source's next keyframe and ends at the sender's own next one (the composed picture's other size makes one),
   * so the phone's picture holds still at most that long.
   */
  private routeRoomVideo(): void {
    const relay = this.relay;
    const composer = this.composer;
    const sender = this.legs.sip()?.videoSender;
    if (relay === undefined || composer === undefined || sender === undefined) return;
    const sole = composer.soleTrack();
    const forwarded = sole !== undefined && relay.canForwardVideo('room-to-sip', sole) ? sole : undefined;
    const slots = relay.forwardVideo('room-to-sip', forwarded);
    const track = slots ?? composer.output.track;
    if (sender.track === track) return;
    void sender.replaceTrack(track).catch((error: unknown) => log.warn('switching the SIP picture failed', { error: errorMessage(error) }));
  }

  /** Reports each kind and direction of the answered SIP leg's media once it flows. */
  watchSipMedia(video: boolean): void {
    const pc = this.legs.sip()?.peerConnection;
    if (pc === undefined) return;
    for (const kind of video ? (['audio', 'video'] as const) : (['audio'] as const)) {
      for (const direction of ['in', 'out'] as const) {
        void waitForMedia(pc, kind, direction).then((flowing) => {
          if (flowing) emit({ type: 'media-flowing', leg: 'sip', kind, direction });
        });
      }
    }
  }

  /** Publishes one feed per tile of the SIP peer's composite, named as the request says. */
  private async publishTiles(): Promise<void> {
    const room = this.legs.room();
    const router = this.router;
    if (room === undefined || router === undefined || !router.splitting) return;
    // all at once: where each tile is its own participant (Chime), each joins on its own
    await Promise.all(
      router.tiles.map((tile) =>
        room.addFeed(tile.name, tile.sink.track).catch((error: unknown) => {
          log.warn('publishing a tile of the SIP picture failed', { tile: tile.name, error: errorMessage(error) });
        }),
      ),
    );
    log.info('SIP picture split into feeds', { tiles: router.tiles.length });
  }

  /** Reports once when the first room audio arrives. */
  private watchRoomAudio(room: RoomAdapter, active: () => boolean): void {
    if (this.roomAudioWatched) return;
    this.roomAudioWatched = true;
    void waitForLegMedia(() => room.stats(), 'audio', 'in', active).then((flowing) => {
      if (flowing) emit({ type: 'media-flowing', leg: 'room', kind: 'audio', direction: 'in' });
    });
  }

  /** What the relay's senders sent, by what their frames carried (undefined without a relay). */
  relayStats(): ReturnType<EncodedRelay['stats']> | undefined {
    return this.relay?.stats();
  }

  /** Stops the composer and the router, closes the mixer, the relay and the prompts. */
  async close(): Promise<void> {
    this.composer?.stop();
    this.router?.stop();
    await this.mixerValue?.close();
    this.relay?.close();
    await this.prompts?.close();
  }
}

/** The encoded relay, where the configuration wants it and the page can run one (an app's CSP may refuse its worker). */
function makeRelay(): EncodedRelay | undefined {
  try {
    return EncodedRelay.create();
  } catch (error) {
    log.warn('encoded forwarding is not available: audio is decoded and encoded again', { error: errorMessage(error) });
    return undefined;
  }
}

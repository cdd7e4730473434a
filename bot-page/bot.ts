import type { QualitySummary } from '../contracts/call-record.js';
import { RoomlineError, assertNever } from '../contracts/errors.js';
import { roomCapabilities, roomOrigins } from '../contracts/rooms/index.js';
import type { PageCommandResults, PageCommandType, ParsedPageCommand, RoomDtmfMessage, SipAccount } from '../contracts/page-rpc.js';
import type { DtmfReceivedCarriage } from '../contracts/telephony.js';
import { emit, errorMessage, log } from './host.js';
import { JanusError, JanusSession } from './janus/janus-client.js';
import { AudioMixer } from './media/audio-mixer.js';
import { EncodedRelay } from './media/encoded-relay.js';
import { PromptPlayer } from './media/prompt-player.js';
import { playMuted } from './media/play-muted.js';
import { RoomVideoComposer } from './media/room-video-composer.js';
import { SipVideoRouter } from './media/sip-video-router.js';
import { legQuality, waitForLegMedia, waitForMedia } from './media/stats.js';
import type { RoomAdapter, RoomAdapterEvents, RoomAdapterOptions } from './rooms/room-adapter.js';
import type { RoomJoin } from '../contracts/rooms/index.js';
import { SipCall } from './sip/sip-call.js';
import { SipLeg, type DialOptions, type SipIdentity } from './sip/sip-leg.js';
import { allowWebSocketOrigins } from './network-guard.js';

/** Makes the room adapter of a join: the registry in the bot page, the app's page in page mode. */
export type CreateRoom = (room: RoomJoin, events: RoomAdapterEvents, options: RoomAdapterOptions) => Promise<RoomAdapter>;

type ParsedCommand = ParsedPageCommand;

/**
 * The bot: one Janus session for the SIP leg (opened at warm-up), one room adapter, one audio graph. It executes the
 * worker's commands and reports what happens as events.
 */
export class Bot {
  private sipSession: JanusSession | undefined;
  private sip: SipCall | undefined;
  /** Forward the SIP peer's digits into the room as data messages. */
  private dtmfToRoom = false;
  /** The node of `sipSession`, and the session being opened, if one is. */
  private sipUrl: string | undefined;
  private opening: Promise<JanusSession> | undefined;
  private room: RoomAdapter | undefined;
  private mixer: AudioMixer | undefined;
  /** Room → SIP video (when the SIP leg sends video). */
  private composer: RoomVideoComposer | undefined;
  /** SIP → room video (when the SIP leg receives video). */
  private router: SipVideoRouter | undefined;
  private iceServers: RTCIceServer[] = [];
  /** Who speaks now, when the room's provider says so. */
  private speaker: string | undefined;
  /** The room was left or lost: watchers of its media stop. */
  private roomGone = false;
  /** Dial-in PIN line: the prompts the caller hears before the bot is in a room. */
  private prompts: PromptPlayer | undefined;
  /** The SIP peer's audio, kept for a mixer made later (a PIN line answers before the room is joined). */
  private sipAudio: MediaStreamTrack | undefined;
  private sipAudioPlayer: HTMLMediaElement | undefined;
  /** Dial-in: the handle registered at the registrar, where inbound INVITEs arrive. */
  private inboundLeg: SipLeg | undefined;
  /** leave() runs: the Janus session closing is the bot's own doing. */
  private leaving = false;
  /** The SIP peer's video track (SIP → room), once it came. */
  private sipVideo: MediaStreamTrack | undefined;
  /** The bot's own feed is published: its senders take other tracks. */
  private feedPublished = false;
  /** Forwards encoded media between the legs where it can (made with the room, where its provider can forward). */
  private relay: EncodedRelay | undefined;
  /** The configuration allows encoded forwarding (ROOMLINE_ENCODED_FORWARDING, sent with `init`). */
  private encodedForwarding = false;
  /** The outbound proxy of dialled calls (the node's SIP edge), from `init`. */
  private sipOutboundProxy: string | undefined;

  constructor(private readonly createRoom: CreateRoom) {}

  async execute<T extends PageCommandType>(command: ParsedCommand & { type: T }): Promise<PageCommandResults[T]> {
    const c = command as ParsedCommand;
    switch (c.type) {
      case 'init':
        allowWebSocketOrigins(c.allowOrigins ?? []);
        this.encodedForwarding = c.encodedForwarding;
        this.sipOutboundProxy = c.sipOutboundProxy;
        return (await this.init(c.janusUrl, c.iceServers, c.apiSecret)) as PageCommandResults[T];
      case 'health':
        return (await this.health(c.timeoutMs)) as PageCommandResults[T];
      case 'join-room':
        return (await this.joinRoom(c)) as PageCommandResults[T];
      case 'dial':
        return (await this.dial(c)) as PageCommandResults[T];
      case 'inbound-register':
        await this.registerInbound(c.account, c.headerPrefixes);
        return { registered: true } as PageCommandResults[T];
      case 'inbound-unregister':
        return { unregistered: (await this.inboundLeg?.unregister()) ?? false } as PageCommandResults[T];
      case 'inbound-decline':
        return { declined: (await this.inboundLeg?.decline(c.code)) ?? false } as PageCommandResults[T];
      case 'answer':
        await this.answer(c);
        return { answering: true } as PageCommandResults[T];
      case 'play-prompt':
        return { playedMs: await this.promptPlayer().play(c.prompt) } as PageCommandResults[T];
      case 'hangup':
        return { sent: (await this.sip?.hangup()) ?? false } as PageCommandResults[T];
      case 'send-dtmf':
        return { sent: await this.requireSip().sendDtmf(c.digits, c.carriage) } as PageCommandResults[T];
      case 'hold':
        await this.requireSip().hold();
        return { held: true } as PageCommandResults[T];
      case 'resume':
        await this.requireSip().resume();
        return { held: false } as PageCommandResults[T];
      case 'transfer':
        await this.requireSip().transfer(c.to);
        return { requested: true } as PageCommandResults[T];
      case 'get-stats':
        return (await this.stats()) as PageCommandResults[T];
      case 'leave':
        await this.leave();
        return { left: true } as PageCommandResults[T];
      default:
        return assertNever(c, 'page command');
    }
  }

  /**
   * Opens the SIP leg's Janus session on `janusUrl`. Idempotent for the worker, which may ask again when an earlier
   * answer came too late for it: a session open on that node is kept, one being opened is awaited. A session on another
   * node is given up for the new one (healing onto another node); never during a call.
   */
  private async init(janusUrl: string, iceServers: RTCIceServer[], apiSecret: string | undefined): Promise<PageCommandResults['init']> {
    if (this.room !== undefined) throw new RoomlineError('INTERNAL', 'the bot cannot open a new Janus session during a call');
    await this.opening?.catch(() => undefined);
    const current = this.sipSession;
    if (current !== undefined && !current.isClosed) {
      if (this.sipUrl === janusUrl) return { janusServer: current.server };
      this.sipSession = undefined;
      current.abandon(`replaced by a session on ${janusUrl}`);
    }
    this.sipSession = undefined;
    this.sip = undefined;
    // a dial-in registration lived on the old session's handle: the worker registers again on the new one
    this.inboundLeg = undefined;
    this.iceServers = iceServers;
    allowWebSocketOrigins([janusUrl]);
    const opening = this.openSip(janusUrl, apiSecret);
    this.opening = opening;
    try {
      const session = await opening;
      return { janusServer: session.server };
    } finally {
      if (this.opening === opening) this.opening = undefined;
    }
  }

  private async openSip(janusUrl: string, apiSecret: string | undefined): Promise<JanusSession> {
    let session: JanusSession;
    try {
      session = await JanusSession.connect(janusUrl, { timeoutMs: 5_000, apiSecret });
    } catch (error) {
      throw new RoomlineError('JANUS_UNAVAILABLE', `cannot reach Janus at ${janusUrl}: ${errorMessage(error)}`);
    }
    // only the loss of the session in use is news (one given up for another, or closed by leave(), is not)
    session.onClosed((reason) => {
      if (this.sipSession === session && !this.leaving) emit({ type: 'janus-lost', reason });
    });
    try {
      await this.attachSip(session);
    } catch (error) {
      session.abandon('the SIP plugin could not be set up');
      throw error instanceof RoomlineError
        ? error
        : new RoomlineError('JANUS_UNAVAILABLE', `the SIP plugin of ${janusUrl} could not be set up: ${errorMessage(error)}`);
    }
    this.sipSession = session;
    this.sipUrl = janusUrl;
    return session;
  }

  /** Whether a call can be placed now: the Janus session is open and answers a keepalive in time. */
  private async health(timeoutMs: number): Promise<PageCommandResults['health']> {
    const session = this.sipSession;
    if (session === undefined || session.isClosed) return { janus: 'closed' };
    if (await session.ping(timeoutMs)) return { janus: 'open' };
    // a session that does not answer is given up, so that `init` can open another
    session.abandon(`Janus did not answer a keepalive within ${timeoutMs} ms`);
    return { janus: 'silent' };
  }

  private async attachSip(session: JanusSession): Promise<void> {
    const warmLeg = await SipLeg.attach(session);
    this.sip = new SipCall(session, warmLeg, {
      outgoing: () => this.outgoingSipMedia(),
      incoming: (track) => {
        if (track.kind === 'audio') {
          this.sipAudio = track;
          if (this.mixer !== undefined) this.mixer.setSipTrack(track);
          // a PIN line before its room: the caller's audio is decoded (for the digits) only while something plays it
          else this.sipAudioPlayer = playMuted(track);
        } else {
          this.sipVideo = track;
          this.router?.attach(track);
          this.routeSipVideo();
        }
      },
      legChanged: () => this.bindSipSenders(),
      answered: (video) => this.watchSipMedia(video),
      held: (held) => this.mixer?.setSipMuted(held),
      digit: (digit, carriage) => this.onDigit(digit, carriage),
    });
    await warmLeg.warmUp('sip:roomline@roomline.invalid');
  }

  private requireSip(): SipCall {
    if (this.sip === undefined) throw new RoomlineError('INTERNAL', 'no SIP call');
    return this.sip;
  }

  /** A digit from the SIP peer: to the worker, and into the room when asked. */
  private onDigit(digit: string, carriage: DtmfReceivedCarriage): void {
    emit({ type: 'sip-dtmf', digit, carriage });
    if (!this.dtmfToRoom) return;
    const message: RoomDtmfMessage = { type: 'roomline.dtmf', digit, carriage };
    void this.room?.sendData(JSON.stringify(message)).catch((error: unknown) =>
      log.warn('forwarding a digit into the room failed', { error: errorMessage(error) }),
    );
  }

  private async joinRoom(command: Extract<ParsedCommand, { type: 'join-room' }>): Promise<PageCommandResults['join-room']> {
    if (this.room !== undefined) throw new RoomlineError('INTERNAL', 'the bot is already in a room');
    allowWebSocketOrigins(roomOrigins(command.room));
    const media = command.media;
    const sendsVideo = media.video === 'sendonly' || media.video === 'sendrecv';
    const receivesVideo = media.video === 'recvonly' || media.video === 'sendrecv';
    const capabilities = roomCapabilities(command.room);
    // Only for a room whose connections the bot owns: with a Chime meeting in the page (whose SDK runs encoded
    // transforms of its own) the meeting's audio did not reach the phone while the relay's worker existed. A PIN line
    // answered before its room has no relay: its legs were set up before it could be tapped.
    if (capabilities.encodedForwarding && this.encodedForwarding && this.sip?.leg?.answered !== true) this.relay ??= makeRelay();
    // the active speaker's picture needs levels per person, unless the provider says who speaks
    const speakerFromProvider = capabilities.activeSpeaker && capabilities.serverMixedAudio;
    const mixer = new AudioMixer(sendsVideo && media.layout === 'active-speaker' && !speakerFromProvider, this.relay);
    this.mixer = mixer;
    // a PIN line answered before the room: the caller's audio goes to the room, the room's replaces the prompts
    if (this.sipAudio !== undefined) {
      mixer.setSipTrack(this.sipAudio);
      this.sipAudioPlayer?.remove();
    }
    if (this.sip?.leg?.answered === true) this.bindSipSenders();
    if (sendsVideo) {
      const levels = speakerFromProvider ? () => this.speakerLevels() : () => mixer.inputLevels();
      this.composer = new RoomVideoComposer(media.layout, media, levels);
      this.composer.onSourcesChanged(() => this.routeRoomVideo());
      this.relay?.onChange(() => this.routeRoomVideo());
      this.composer.start();
    }
    if (receivesVideo) this.router = new SipVideoRouter(media.splitIncoming, command.display, media.fps);
    this.relay?.onChange(() => this.routeSipVideo());
    const active = () => !this.roomGone;
    const room = await this.createRoom(
      command.room,
      {
        participantJoined: (participant) =>
          emit({ type: 'room-participant', change: 'joined', participant, count: room.participants().length }),
        participantLeft: (participant) => {
          mixer.remove(participant.id);
          this.composer?.removeParticipant(participant.id);
          emit({ type: 'room-participant', change: 'left', participant, count: room.participants().length });
        },
        track: (participantId, track) => {
          if (track.kind === 'audio') {
            mixer.addRoomTrack(participantId, track);
            this.watchRoomAudio(room, active);
          } else {
            this.composer?.addParticipant(participantId, track);
          }
        },
        trackEnded: (participantId, track) => {
          if (track.kind === 'audio') mixer.removeTrack(participantId, track);
          else this.composer?.removeTrack(participantId, track);
        },
        activeSpeaker: (participantId) => (this.speaker = participantId),
        reconnecting: (reason) => log.warn('the room connection is being re-established', { reason }),
        lost: (reason) => {
          this.roomGone = true;
          emit({ type: 'room-lost', reason });
        },
      },
      {
        iceServers: this.iceServers,
        receiveVideo: this.composer !== undefined,
        lowLatency: true,
        dataChannel: command.dataMessages,
        ...(this.relay === undefined ? {} : { encoded: this.relay.taps('sip-to-room') }),
      },
    );
    this.room = room;
    // the SIP peer's picture is the bot's camera, unless it is split into tiles (each its own feed)
    const camera = this.router !== undefined && !this.router.splitting ? this.router.camera.track : undefined;
    const joined = await room.join(command.display, { audio: mixer.sipToRoomTrack, ...(camera === undefined ? {} : { video: camera }) });
    // Admitted to the room: the call may be placed now, while the bot's feed is negotiated (saves its round trips
    // on the way to the INVITE). A feed that cannot be published ends the call like a lost room.
    void joined.published.then(
      () => this.onFeedPublished(room, mixer, active),
      (error: unknown) => emit({ type: 'room-lost', reason: `publishing the bot's feed failed: ${errorMessage(error)}` }),
    );
    return { selfId: joined.selfId, participants: [...joined.participants] };
  }

  /** The bot's own feed is up: SIP audio goes there as it arrives; tiles follow the SIP picture's first frame. */
  private async onFeedPublished(room: RoomAdapter, mixer: AudioMixer, active: () => boolean): Promise<void> {
    mixer.bindRoomOutput((track) => room.replaceTrack('audio', track));
    this.feedPublished = true;
    this.routeSipVideo();
    this.router?.onFirstFrame(() => void this.publishTiles());
    if (await waitForLegMedia(() => room.stats(), 'audio', 'out', active)) {
      emit({ type: 'media-flowing', leg: 'room', kind: 'audio', direction: 'out' });
    }
  }

  /** Levels for the active-speaker picture from the provider's own detector: the speaker loud, everyone else silent. */
  private speakerLevels(): Map<string, number> {
    return this.speaker === undefined ? new Map() : new Map([[this.speaker, 1]]);
  }

  private dialMedia: Extract<ParsedCommand, { type: 'dial' }>['media'] | undefined;

  private async dial(command: Extract<ParsedCommand, { type: 'dial' }>): Promise<PageCommandResults['dial']> {
    const sip = this.sip;
    if (sip === undefined || this.mixer === undefined) throw new RoomlineError('INTERNAL', 'dial before init and join');
    this.dialMedia = command.media;
    this.dtmfToRoom = command.sip.dtmfToRoom;
    const display = command.from.displayName;
    const proxy = this.sipOutboundProxy;
    const account = command.account;
    const identity: SipIdentity =
      account === undefined
        ? { kind: 'guest', uri: command.from.uri, ...(display === undefined ? {} : { display }), ...(proxy === undefined ? {} : { outboundProxy: proxy }) }
        : {
            kind: 'account',
            // a UDP trunk without an outbound proxy of its own goes through the node's edge too
            account: proxy !== undefined && account.outboundProxy === undefined && (account.transport ?? 'udp') === 'udp' ? { ...account, outboundProxy: proxy } : account,
            ...(display === undefined ? {} : { display }),
          };
    try {
      await sip.dial(
        {
          to: command.to,
          identity,
          headers: command.headers ?? {},
          iceServers: this.iceServers,
          lowLatency: true,
          srtp: command.sip.srtp,
          ...(command.sip.audioCodecs === undefined ? {} : { audioCodecs: command.sip.audioCodecs }),
        },
        command.sip,
      );
    } catch (error) {
      if (error instanceof RoomlineError) throw error;
      if (error instanceof JanusError) throw new RoomlineError('JANUS_UNAVAILABLE', error.message);
      throw error;
    }
    this.bindSipSenders();
    return { accepted: true };
  }

  private promptPlayer(): PromptPlayer {
    this.prompts ??= new PromptPlayer();
    return this.prompts;
  }

  /** Dial-in: registers a handle of its own at the registrar; its INVITEs are reported to the worker. */
  private async registerInbound(account: SipAccount, headerPrefixes: readonly string[]): Promise<void> {
    const session = this.sipSession;
    if (session === undefined) throw new RoomlineError('INTERNAL', 'register before init');
    // a worker that declined a call it could not route registers the same handle again
    const fresh = this.inboundLeg === undefined;
    const leg = this.inboundLeg ?? (await SipLeg.attach(session));
    this.inboundLeg = leg;
    try {
      await leg.registerInbound(account, headerPrefixes, {
        incoming: (call) => emit({ type: 'sip-incoming', ...call }),
        gone: (sipCallId) => emit({ type: 'sip-incoming-gone', ...(sipCallId === undefined ? {} : { sipCallId }) }),
      });
    } catch (error) {
      if (fresh) {
        this.inboundLeg = undefined;
        await leg.close().catch(() => undefined);
      }
      throw error;
    }
  }

  /** Dial-in: answers the incoming call on the registered handle, once the bot is in the room. */
  private async answer(command: Extract<ParsedCommand, { type: 'answer' }>): Promise<void> {
    const sip = this.sip;
    const leg = this.inboundLeg;
    // a PIN line answers before the bot joins a room: its caller hears the prompts until then
    if (sip === undefined || leg === undefined) throw new RoomlineError('INTERNAL', 'answer before init and registration');
    this.dialMedia = command.media;
    this.dtmfToRoom = command.sip.dtmfToRoom;
    await sip.answer(
      leg,
      {
        iceServers: this.iceServers,
        lowLatency: true,
        srtp: command.sip.srtp,
        ...(command.sip.audioCodecs === undefined ? {} : { audioCodecs: command.sip.audioCodecs }),
      },
      command.sip,
    );
    this.bindSipSenders();
  }

  /** What a SIP leg sends: the room's audio (the mix to start with) and, when asked, the composed picture. */
  private outgoingSipMedia(): Pick<DialOptions, 'audio' | 'video' | 'encoded'> {
    const media = this.dialMedia;
    return {
      ...(this.relay === undefined ? {} : { encoded: this.relay.taps('room-to-sip') }),
      audio: media?.audio === false ? undefined : (this.mixer?.roomToSipTrack ?? this.promptPlayer().track),
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

  /** Puts the room's audio on the current SIP leg's sender (again, after a transfer brought a new leg). */
  private bindSipSenders(): void {
    this.mixer?.bindSipOutput(async (track) => {
      const sender = this.sip?.leg?.audioSender;
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
    const room = this.room;
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
    const sender = this.sip?.leg?.videoSender;
    if (relay === undefined || composer === undefined || sender === undefined) return;
    const sole = composer.soleTrack();
    const forwarded = sole !== undefined && relay.canForwardVideo('room-to-sip', sole) ? sole : undefined;
    const slots = relay.forwardVideo('room-to-sip', forwarded);
    const track = slots ?? composer.output.track;
    if (sender.track === track) return;
    void sender.replaceTrack(track).catch((error: unknown) => log.warn('switching the SIP picture failed', { error: errorMessage(error) }));
  }

  private watchSipMedia(video: boolean): void {
    const pc = this.sip?.leg?.peerConnection;
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
    const room = this.room;
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

  private roomAudioWatched = false;

  /** Reports once when the first room audio arrives. */
  private watchRoomAudio(room: RoomAdapter, active: () => boolean): void {
    if (this.roomAudioWatched) return;
    this.roomAudioWatched = true;
    void waitForLegMedia(() => room.stats(), 'audio', 'in', active).then((flowing) => {
      if (flowing) emit({ type: 'media-flowing', leg: 'room', kind: 'audio', direction: 'in' });
    });
  }

  private async stats(): Promise<QualitySummary> {
    const sipPc = this.sip?.leg?.peerConnection;
    const [sip, room, paths] = await Promise.all([
      legQuality(sipPc === undefined ? [] : [sipPc]),
      this.room?.stats() ?? Promise.resolve({}),
      this.relay?.stats(),
    ]);
    return {
      sampledAt: new Date().toISOString(),
      sip,
      room,
      ...(paths === undefined ? {} : { audioPath: paths.audio }),
      ...(paths === undefined || (paths.video.roomToSip === undefined && paths.video.sipToRoom === undefined)
        ? {}
        : { videoPath: paths.video }),
    };
  }

  private async leave(): Promise<void> {
    this.leaving = true;
    await this.sip?.close().catch((error) => log.warn('closing the SIP leg failed', { error: errorMessage(error) }));
    // the inbound handle is the SIP call's leg once answered (closed above); otherwise its registration goes here
    if (this.inboundLeg !== undefined && this.sip?.leg !== this.inboundLeg) await this.inboundLeg.close().catch(() => undefined);
    this.roomGone = true;
    await this.room?.leave().catch((error) => log.warn('leaving the room failed', { error: errorMessage(error) }));
    this.composer?.stop();
    this.router?.stop();
    await this.mixer?.close();
    this.relay?.close();
    await this.prompts?.close();
    await this.sipSession?.destroy();
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

import type { QualitySummary } from '../contracts/call-record.js';
import { RoomlineError, assertNever } from '../contracts/errors.js';
import { roomCapabilities, roomOrigins } from '../contracts/rooms/index.js';
import type { DialFields, PageCommandResults, PageCommandType, ParsedPageCommand, RoomDtmfMessage, SipAccount } from '../contracts/page-rpc.js';
import type { DtmfReceivedCarriage } from '../contracts/telephony.js';
import { emit, errorMessage, log } from './host.js';
import type { JanusSession } from './janus/janus-client.js';
import { JanusError } from './janus/janus-error.js';
import { MediaGraph } from './media-graph.js';
import { legQuality, withRelayConcealment } from './media/stats.js';
import type { RoomAdapter, RoomAdapterEvents, RoomAdapterOptions } from './rooms/room-adapter.js';
import type { RoomJoin } from '../contracts/rooms/index.js';
import { SipCall } from './sip/sip-call.js';
import { SipJanusNode } from './sip/sip-janus-node.js';
import type { SipIdentity } from './sip/sip-identity.js';
import type { DialOptions } from './sip/sip-dial-options.js';
import { SipLeg } from './sip/sip-leg.js';
import { NO_STEPS, type StepRecorder } from './setup-steps.js';
import { allowWebSocketOrigins } from './network-guard.js';

/** Makes the room adapter of a join: the registry in the bot page, the app's page in page mode. */
export type CreateRoom = (room: RoomJoin, events: RoomAdapterEvents, options: RoomAdapterOptions) => Promise<RoomAdapter>;

type ParsedCommand = ParsedPageCommand;

/**
 * The bot: one Janus session for the SIP leg (opened at warm-up), one room adapter, one media graph between them
 * (media-graph.ts). It executes the worker's commands and reports what happens as events.
 */
export class Bot {
  /** The Janus session of the SIP legs (opened at warm-up). */
  private readonly janus = new SipJanusNode({ setUp: (session) => this.attachSip(session), leaving: () => this.leaving });
  private sip: SipCall | undefined;
  /** Forward the SIP peer's digits into the room as data messages. */
  private dtmfToRoom = false;
  private room: RoomAdapter | undefined;
  /** The media between the legs: mixing, composing, routing, forwarding. */
  private readonly media = new MediaGraph({ sip: () => this.sip?.leg, room: () => this.room });
  private iceServers: RTCIceServer[] = [];
  /** The room was left or lost: watchers of its media stop. */
  private roomGone = false;
  /** Dial-in: the handle registered at the registrar, where inbound INVITEs arrive. */
  private inboundLeg: SipLeg | undefined;
  /** leave() runs: the Janus session closing is the bot's own doing. */
  private leaving = false;
  /** The configuration allows encoded forwarding (ROOMLINE_ENCODED_FORWARDING, sent with `init`). */
  private encodedForwarding = false;
  /** The outbound proxy of dialled calls (the node's SIP edge), from `init`. */
  private sipOutboundProxy: string | undefined;
  /** The dial a SIP leg was prepared for during the join (its fields as JSON), until `dial` comes. */
  private preparedDial: string | undefined;

  constructor(private readonly createRoom: CreateRoom) {}

  /** The SIP leg's Janus session as the page knows it now (sent with each heartbeat). */
  get janusHealth(): { readonly open: boolean; readonly heardMs?: number } {
    return this.janus.known;
  }

  /** Runs a command; its setup steps (a join's, a dial's) go to `steps`. */
  async execute<T extends PageCommandType>(command: ParsedCommand & { type: T }, steps: StepRecorder = NO_STEPS): Promise<PageCommandResults[T]> {
    const c = command as ParsedCommand;
    switch (c.type) {
      case 'init':
        allowWebSocketOrigins(c.allowOrigins ?? []);
        this.encodedForwarding = c.encodedForwarding;
        this.sipOutboundProxy = c.sipOutboundProxy;
        return (await this.init(c.janusUrl, c.iceServers, c.apiSecret)) as PageCommandResults[T];
      case 'health':
        return (await this.janus.health(c.timeoutMs)) as PageCommandResults[T];
      case 'join-room':
        return (await this.joinRoom(c, steps)) as PageCommandResults[T];
      case 'dial':
        return (await this.dial(c, steps)) as PageCommandResults[T];
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
        return { playedMs: await this.media.promptPlayer().play(c.prompt) } as PageCommandResults[T];
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
   * Opens the SIP leg's Janus session on `janusUrl` (or keeps the one open there: see SipJanusNode.open); never during
   * a call.
   */
  private async init(janusUrl: string, iceServers: RTCIceServer[], apiSecret: string | undefined): Promise<PageCommandResults['init']> {
    if (this.room !== undefined) throw new RoomlineError('INTERNAL', 'the bot cannot open a new Janus session during a call');
    const session = await this.janus.open(janusUrl, apiSecret, () => {
      this.sip = undefined;
      // a dial-in registration lived on the old session's handle: the worker registers again on the new one
      this.inboundLeg = undefined;
      this.iceServers = iceServers;
      allowWebSocketOrigins([janusUrl]);
    });
    return { janusServer: session.server };
  }

  private async attachSip(session: JanusSession): Promise<void> {
    const warmLeg = await SipLeg.attach(session);
    this.sip = new SipCall(session, warmLeg, {
      outgoing: () => this.media.outgoingSip(),
      incoming: (track, digitsInAudio) => this.media.sipTrack(track, digitsInAudio),
      readTelephoneEvents: (track, onDigit) => this.media.readTelephoneEvents(track, onDigit),
      legChanged: () => this.media.bindSipSenders(),
      answered: (video) => this.media.watchSipMedia(video),
      held: (held) => this.media.mixer?.setSipMuted(held),
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

  /**
   * Joins the room. With `prepareDial`, the dial's SIP leg is prepared meanwhile (its identity, peer connection and
   * offer, nothing the SIP peer sees), and thrown away if the join fails: the INVITE waits for the `dial` command.
   */
  private async joinRoom(command: Extract<ParsedCommand, { type: 'join-room' }>, steps: StepRecorder): Promise<PageCommandResults['join-room']> {
    if (this.room !== undefined) throw new RoomlineError('INTERNAL', 'the bot is already in a room');
    allowWebSocketOrigins(roomOrigins(command.room));
    const media = this.media;
    media.forRoom(command.media, command.display, roomCapabilities(command.room), this.encodedForwarding);
    if (command.prepareDial !== undefined) this.prepareDial(command.prepareDial, steps);
    try {
      return await this.enterRoom(command, steps);
    } catch (error) {
      this.preparedDial = undefined;
      this.sip?.discardPrepared();
      throw error;
    }
  }

  private async enterRoom(command: Extract<ParsedCommand, { type: 'join-room' }>, steps: StepRecorder): Promise<PageCommandResults['join-room']> {
    const media = this.media;
    const active = () => !this.roomGone;
    const taps = media.roomTaps;
    const adapterStart = performance.now();
    const room = await this.createRoom(
      command.room,
      {
        participantJoined: (participant) =>
          emit({ type: 'room-participant', change: 'joined', participant, count: room.participants().length }),
        participantLeft: (participant) => {
          media.participantLeft(participant.id);
          emit({ type: 'room-participant', change: 'left', participant, count: room.participants().length });
        },
        track: (participantId, track) => media.roomTrack(participantId, track, room, active),
        trackEnded: (participantId, track) => media.roomTrackEnded(participantId, track),
        activeSpeaker: (participantId) => media.activeSpeaker(participantId),
        reconnecting: (reason) => log.warn('the room connection is being re-established', { reason }),
        lost: (reason) => {
          this.roomGone = true;
          emit({ type: 'room-lost', reason });
        },
      },
      {
        iceServers: this.iceServers,
        receiveVideo: media.receivesRoomVideo,
        lowLatency: true,
        dataChannel: command.dataMessages,
        steps,
        ...(taps === undefined ? {} : { encoded: taps }),
      },
    );
    steps.span('room.adapter', adapterStart, performance.now(), command.room.provider);
    this.room = room;
    const joined = await room.join(command.display, media.publishedTracks());
    // Admitted to the room: the call may be placed now, while the bot's feed is negotiated (saves its round trips
    // on the way to the INVITE). A feed that cannot be published ends the call like a lost room.
    void joined.published.then(
      () => media.onFeedPublished(room, active),
      (error: unknown) => emit({ type: 'room-lost', reason: `publishing the bot's feed failed: ${errorMessage(error)}` }),
    );
    return { selfId: joined.selfId, participants: [...joined.participants] };
  }

  /** Prepares the SIP leg of a dial to come (see joinRoom); `dial` places it when it asks for the same dial. */
  private prepareDial(fields: DialFields, steps: StepRecorder): void {
    const sip = this.sip;
    if (sip === undefined) return;
    this.media.setSipMedia(fields.media);
    sip.prepare(this.dialOptions(fields), steps);
    this.preparedDial = JSON.stringify(fields);
  }

  /** The SIP leg's options for a dial. */
  private dialOptions(fields: DialFields): Omit<DialOptions, 'audio' | 'video'> {
    const display = fields.from.displayName;
    const proxy = this.sipOutboundProxy;
    const account = fields.account;
    const identity: SipIdentity =
      account === undefined
        ? { kind: 'guest', uri: fields.from.uri, ...(display === undefined ? {} : { display }), ...(proxy === undefined ? {} : { outboundProxy: proxy }) }
        : {
            kind: 'account',
            // a UDP trunk without an outbound proxy of its own goes through the node's edge too
            account: proxy !== undefined && account.outboundProxy === undefined && (account.transport ?? 'udp') === 'udp' ? { ...account, outboundProxy: proxy } : account,
            ...(display === undefined ? {} : { display }),
          };
    return {
      to: fields.to,
      identity,
      headers: fields.headers ?? {},
      iceServers: this.iceServers,
      lowLatency: true,
      srtp: fields.sip.srtp,
      ...(fields.sip.audioCodecs === undefined ? {} : { audioCodecs: fields.sip.audioCodecs }),
    };
  }

  private async dial(command: Extract<ParsedCommand, { type: 'dial' }>, steps: StepRecorder): Promise<PageCommandResults['dial']> {
    const sip = this.sip;
    if (sip === undefined || this.media.mixer === undefined) throw new RoomlineError('INTERNAL', 'dial before init and join');
    const { type: _type, ...fields } = command;
    // a leg prepared for another dial than this one is thrown away
    if (this.preparedDial !== undefined && this.preparedDial !== JSON.stringify(fields)) sip.discardPrepared();
    this.preparedDial = undefined;
    this.media.setSipMedia(command.media);
    this.dtmfToRoom = command.sip.dtmfToRoom;
    try {
      await sip.dial(this.dialOptions(fields), command.sip, steps);
    } catch (error) {
      if (error instanceof RoomlineError) throw error;
      if (error instanceof JanusError) throw new RoomlineError('JANUS_UNAVAILABLE', error.message);
      throw error;
    }
    this.media.bindSipSenders();
    return { accepted: true };
  }

  /** Dial-in: registers a handle of its own at the registrar; its INVITEs are reported to the worker. */
  private async registerInbound(account: SipAccount, headerPrefixes: readonly string[]): Promise<void> {
    const session = this.janus.session;
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
    this.media.setSipMedia(command.media);
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
    this.media.bindSipSenders();
  }

  private async stats(): Promise<QualitySummary> {
    const sipPc = this.sip?.leg?.peerConnection;
    const [sip, room, paths] = await Promise.all([
      legQuality(sipPc === undefined ? [] : [sipPc]),
      this.room?.stats() ?? Promise.resolve({}),
      this.media.relayStats(),
    ]);
    // with nothing decoded, each leg's received audio is judged by its forwarded direction's frames
    const undecoded = paths !== undefined && this.media.mixer?.decodesReceivedAudio === false;
    return {
      sampledAt: new Date().toISOString(),
      sip: undecoded ? withRelayConcealment(sip, paths.audio.sipToRoom) : sip,
      room: undecoded ? withRelayConcealment(room, paths.audio.roomToSip) : room,
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
    await this.media.close();
    await this.janus.destroy();
  }
}

import {
  AllHighestVideoBandwidthPolicy,
  DefaultActiveSpeakerPolicy,
  DefaultDeviceController,
  DefaultMeetingSession,
  LogLevel,
  MeetingSessionConfiguration,
  MeetingSessionStatusCode,
  NoVideoDownlinkBandwidthPolicy,
  type AudioVideoFacade,
  type AudioVideoObserver,
  type Logger,
  type MeetingSessionStatus,
  type VideoStreamIdSet,
  type VideoTileState,
} from 'amazon-chime-sdk-js';
import type { LegQuality } from '../../contracts/call-record.js';
import { RoomlineError } from '../../contracts/errors.js';
import { chimeDisplayName, chimeRoom, type ChimeAttendee, type ChimeRoomJoin } from '../../contracts/rooms/chime.js';
import { errorMessage, log } from '../host.js';
import { qualityOfReports } from '../media/stats.js';
import {
  MIXED_AUDIO_ID,
  type PublishedTracks,
  type RoomAdapter,
  type RoomAdapterEvents,
  type RoomAdapterFactory,
  type RoomAdapterOptions,
  type RoomFeed,
  type RoomJoined,
  type RoomParticipant,
} from './room-adapter.js';

export const createChimeRoom: RoomAdapterFactory<'chime'> = (room, events, options) => new ChimeMeetingRoom(room, events, options);

/** How long a meeting session may take to start before the join counts as failed. */
const START_TIMEOUT_MS = 20_000;

/** Status codes meaning the meeting (or this attendee) is gone for good, not a network hiccup. */
const REFUSALS: ReadonlySet<MeetingSessionStatusCode> = new Set([
  MeetingSessionStatusCode.AudioAuthenticationRejected,
  MeetingSessionStatusCode.AudioCallAtCapacity,
  MeetingSessionStatusCode.MeetingEnded,
  MeetingSessionStatusCode.SignalingBadRequest,
  MeetingSessionStatusCode.TURNCredentialsForbidden,
  MeetingSessionStatusCode.AudioAttendeeRemoved,
  MeetingSessionStatusCode.AudioJoinedFromAnotherDevice,
]);

/**
 * An Amazon Chime SDK meeting through the official, unmodified `amazon-chime-sdk-js` (this module is its own chunk of
 * the page, loaded only by a Chime call). The bot is one attendee: the SIP audio is its microphone, the meeting's
 * server-mixed audio (without the bot's voice) is the one room audio track, remote video tiles go to the composer,
 * the SIP picture is its camera. Chime allows one camera per attendee, so each tile of a split SIP picture is one
 * more meeting session with its own attendee (sending silence too: Chime drops the presence of a silent attendee).
 */
class ChimeMeetingRoom implements RoomAdapter {
  readonly provider = 'chime' as const;
  readonly capabilities = chimeRoom.capabilities;
  private main: MeetingSessionHandle | undefined;
  private readonly tiles: MeetingSessionHandle[] = [];
  private readonly others = new Map<string, RoomParticipant>();
  /** The bot's own attendees (main and tiles): never participants, never on the composer. */
  private readonly ownAttendees = new Set<string>();
  private readonly videoTracks = new Map<string, string>();
  private mixedAudio: MediaStreamTrack | undefined;
  private silence: { context: AudioContext; track: MediaStreamTrack } | undefined;
  private leaving = false;

  constructor(
    private readonly room: ChimeRoomJoin,
    private readonly events: RoomAdapterEvents,
    private readonly options: RoomAdapterOptions,
  ) {
    for (const attendee of [room.attendee, ...(room.tileAttendees ?? [])]) {
      if (attendee !== undefined) this.ownAttendees.add(attendee.AttendeeId);
    }
  }

  async join(_display: string, tracks: PublishedTracks): Promise<RoomJoined> {
    const { meeting, attendee } = this.room;
    if (meeting === undefined || attendee === undefined) {
      throw new RoomlineError('ROOM_JOIN_FAILED', 'the Chime join data has no JoinInfo (the worker resolves a meetingId first)');
    }
    const audio = tracks.audio ?? this.silentTrack();
    const steps = this.options.steps;
    const made = performance.now();
    const main = new MeetingSessionHandle(this.room, attendee, {
      audio,
      ownAttendees: this.ownAttendees,
      ...(tracks.video === undefined ? {} : { video: tracks.video }),
      receiveVideo: this.options.receiveVideo,
      observer: {
        audioVideoDidStop: (status) => {
          if (!this.leaving) this.events.lost(`the Chime meeting session stopped: ${statusName(status)}`);
        },
        audioVideoDidStartConnecting: (reconnecting) => {
          if (reconnecting && !this.leaving) this.events.reconnecting('the Chime SDK is reconnecting to the meeting');
        },
        videoTileDidUpdate: (tile) => this.onVideoTile(tile),
        videoTileWasRemoved: () => undefined,
      },
    });
    this.main = main;
    steps?.span('room.session', made);
    const av = main.audioVideo;
    av.realtimeSubscribeToAttendeeIdPresence((attendeeId, present, externalUserId) =>
      this.onPresence(attendeeId, present, externalUserId),
    );
    av.subscribeToActiveSpeakerDetector(new DefaultActiveSpeakerPolicy(), (attendeeIds) => {
      this.events.activeSpeaker(attendeeIds.find((id) => !this.ownAttendees.has(id) && this.others.has(id)));
    });
    av.addAudioMixObserver({
      meetingAudioStreamBecameActive: (stream) => this.onMixedAudio(stream),
      meetingAudioStreamBecameInactive: () => undefined,
    });
    await (steps === undefined ? main.start() : steps.time('room.start', () => main.start()));
    // the SDK announces the mix through an element it plays into; a muted one keeps it decoding
    return { selfId: attendee.AttendeeId, participants: this.participants(), published: Promise.resolve() };
  }

  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    const main = this.main;
    if (main === undefined) throw new RoomlineError('INTERNAL', 'replaceTrack before join');
    await main.replace(kind, track);
  }

  /** One more attendee (the next of the tile attendees), in its own meeting session, with `track` as its camera. */
  async addFeed(name: string, track: MediaStreamTrack): Promise<RoomFeed> {
    // tiles are added in order (their attendees were made in tile order), even when their sessions start at once
    const attendee: ChimeAttendee | undefined = this.room.tileAttendees?.[this.tiles.length];
    if (attendee === undefined || this.leaving) {
      throw new RoomlineError('INTERNAL', `no Chime attendee left for the feed "${name}"`);
    }
    const session = new MeetingSessionHandle(this.room, attendee, {
      audio: this.silentTrack(),
      ownAttendees: this.ownAttendees,
      video: track,
      receiveVideo: false,
      observer: {
        audioVideoDidStop: (status) => {
          if (!this.leaving) log.warn('a tile attendee left the Chime meeting', { tile: name, status: statusName(status) });
        },
      },
    });
    this.tiles.push(session);
    await session.start();
    return { id: attendee.AttendeeId, close: () => session.stop() };
  }

  participants(): RoomParticipant[] {
    return [...this.others.values()];
  }

  async sendData(): Promise<void> {
    // capabilities.dataMessages is false: a request asking for data messages is refused at the edge
    throw new RoomlineError('INTERNAL', 'data messages are not supported for Chime SDK meetings');
  }

  async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    await Promise.all([this.main, ...this.tiles].map((s) => s?.stop()));
    await this.silence?.context.close().catch(() => undefined);
  }

  async stats(): Promise<LegQuality> {
    const main = this.main;
    if (main === undefined) return {};
    const [incoming, ...outgoing] = [main, ...this.tiles].map((s) => s.statsReport);
    const received = qualityOfReports(incoming === undefined ? [] : [incoming]);
    const sent = qualityOfReports([incoming, ...outgoing].filter((r): r is RTCStatsReport => r !== undefined));
    return {
      ...(received.audioIn === undefined ? {} : { audioIn: received.audioIn }),
      ...(received.videoIn === undefined ? {} : { videoIn: received.videoIn }),
      ...(sent.audioOut === undefined ? {} : { audioOut: sent.audioOut }),
      ...(sent.videoOut === undefined ? {} : { videoOut: sent.videoOut }),
    };
  }

  private onPresence(attendeeId: string, present: boolean, externalUserId: string | undefined): void {
    if (this.ownAttendees.has(attendeeId) || this.leaving) return;
    if (present) {
      if (this.others.has(attendeeId)) return;
      const participant: RoomParticipant = {
        id: attendeeId,
        ...(externalUserId === undefined ? {} : { display: chimeDisplayName(externalUserId) }),
      };
      this.others.set(attendeeId, participant);
      this.events.participantJoined(participant);
      return;
    }
    const participant = this.others.get(attendeeId);
    if (participant === undefined) return;
    this.others.delete(attendeeId);
    this.videoTracks.delete(attendeeId);
    this.events.participantLeft(participant);
  }

  private onMixedAudio(stream: MediaStream): void {
    const track = stream.getAudioTracks()[0];
    if (track === undefined || track === this.mixedAudio) return;
    this.mixedAudio = track;
    this.events.track(MIXED_AUDIO_ID, track);
  }

  private onVideoTile(tile: VideoTileState): void {
    const attendeeId = tile.boundAttendeeId;
    const track = tile.boundVideoStream?.getVideoTracks()[0];
    if (tile.localTile || tile.isContent || attendeeId === null || track === undefined) return;
    if (this.ownAttendees.has(attendeeId) || this.videoTracks.get(attendeeId) === track.id) return;
    this.videoTracks.set(attendeeId, track.id);
    this.events.track(attendeeId, track);
  }

  /** A silent, always-running audio track: what an attendee without a voice of its own sends. */
  private silentTrack(): MediaStreamTrack {
    if (this.silence === undefined) {
      const context = new AudioContext({ sampleRate: 48_000 });
      const destination = context.createMediaStreamDestination();
      const source = context.createConstantSource();
      source.offset.value = 0;
      source.connect(destination);
      source.start();
      const track = destination.stream.getAudioTracks()[0];
      if (track === undefined) throw new RoomlineError('MEDIA_FAILED', 'no silent audio track');
      this.silence = { context, track };
    }
    return this.silence.track;
  }
}

interface SessionSetup {
  readonly audio: MediaStreamTrack;
  readonly video?: MediaStreamTrack;
  readonly receiveVideo: boolean;
  /** Attendees whose video this session never receives (the bot's own tiles). */
  readonly ownAttendees: ReadonlySet<string>;
  readonly observer: AudioVideoObserver;
}

/** Every other attendee's best video stream, but none of the bot's own attendees (its tiles). */
class OthersVideoPolicy extends AllHighestVideoBandwidthPolicy {
  constructor(
    selfAttendeeId: string,
    private readonly own: ReadonlySet<string>,
  ) {
    super(selfAttendeeId);
  }

  override chooseSubscriptions(): VideoStreamIdSet {
    const chosen = super.chooseSubscriptions();
    for (const streamId of chosen.array()) {
      if (this.own.has(this.videoIndex.attendeeIdForStreamId(streamId))) chosen.remove(streamId);
    }
    return chosen;
  }
}

/** One attendee's meeting session: its SDK objects, start (until admitted) and stop. */
class MeetingSessionHandle {
  readonly audioVideo: AudioVideoFacade;
  private readonly audioElement = document.createElement('audio');
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private resolveStop: () => void = () => undefined;
  /** The connection's latest statistics, as the SDK reports them every second (no extra getStats). */
  statsReport: RTCStatsReport | undefined;

  constructor(
    room: ChimeRoomJoin,
    private readonly attendee: ChimeAttendee,
    private setup: SessionSetup,
  ) {
    const configuration = new MeetingSessionConfiguration({ Meeting: room.meeting }, { Attendee: attendee });
    configuration.videoDownlinkBandwidthPolicy = setup.receiveVideo
      ? new OthersVideoPolicy(attendee.AttendeeId, setup.ownAttendees)
      : new NoVideoDownlinkBandwidthPolicy();
    const logger = new PageLogger([attendee.JoinToken, ...(room.tileAttendees ?? []).map((a) => a.JoinToken)]);
    const devices = new DefaultDeviceController(logger, { enableWebAudio: false });
    this.audioVideo = new DefaultMeetingSession(configuration, logger, devices).audioVideo;
  }

  /** Starts the session and resolves once the attendee is in the meeting (audio up, presence seen). */
  start(): Promise<void> {
    this.started ??= (async () => {
      const av = this.audioVideo;
      this.audioElement.muted = true;
      document.body.append(this.audioElement);
      await av.bindAudioElement(this.audioElement);
      await av.startAudioInput(new MediaStream([this.setup.audio]));
      if (this.setup.video !== undefined) await av.startVideoInput(new MediaStream([this.setup.video]));
      const admitted = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new RoomlineError('ROOM_UNREACHABLE', `the Chime meeting did not admit the bot within ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
        av.addObserver({
          audioVideoDidStart: () => {
            clearTimeout(timer);
            resolve();
          },
          audioVideoDidStop: (status) => {
            clearTimeout(timer);
            this.resolveStop();
            reject(joinFailure(status));
          },
        });
      });
      av.addObserver(this.setup.observer);
      av.addObserver({ metricsDidReceive: (report) => (this.statsReport = report.getRTCStatsReport()) });
      av.start();
      try {
        await admitted;
      } catch (error) {
        av.stop();
        throw error;
      }
      if (this.setup.video !== undefined) av.startLocalVideoTile();
    })();
    return this.started;
  }

  /** Sends `track` as the attendee's microphone or camera from now on (a no-op when it already is). */
  async replace(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    if ((kind === 'audio' ? this.setup.audio : this.setup.video) === track) return;
    this.setup = { ...this.setup, [kind]: track };
    if (kind === 'audio') await this.audioVideo.startAudioInput(new MediaStream([track]));
    else await this.audioVideo.startVideoInput(new MediaStream([track]));
  }

  /** Leaves the meeting (LEAVE, then the peer connection closes). Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const done = new Promise<void>((resolve) => {
        this.resolveStop = resolve;
        this.audioVideo.addObserver({ audioVideoDidStop: () => resolve() });
        setTimeout(resolve, 3_000);
      });
      this.audioVideo.stop();
      await done;
      await this.audioVideo.stopVideoInput().catch(() => undefined);
      await this.audioVideo.stopAudioInput().catch(() => undefined);
      this.audioElement.remove();
    })();
    return this.stopped;
  }

  get attendeeId(): string {
    return this.attendee.AttendeeId;
  }
}

function statusName(status: MeetingSessionStatus): string {
  const code = status.statusCode();
  return `${MeetingSessionStatusCode[code] ?? code}`;
}

function joinFailure(status: MeetingSessionStatus): RoomlineError {
  const code = status.statusCode();
  return REFUSALS.has(code)
    ? new RoomlineError('ROOM_JOIN_FAILED', `the Chime meeting refused the bot: ${statusName(status)}`)
    : new RoomlineError('ROOM_UNREACHABLE', `cannot reach the Chime meeting: ${statusName(status)}`);
}

/**
 * The SDK's logger: warnings and errors go to the worker's log, with every join token of this call cut out (the SDK
 * logs URLs and frames; a token must never reach a log line).
 */
class PageLogger implements Logger {
  private level = LogLevel.WARN;
  private readonly secrets: string[];

  constructor(tokens: readonly (string | undefined)[]) {
    this.secrets = tokens.filter((t): t is string => t !== undefined && t.length > 0);
  }

  debug(): void {}
  info(): void {}
  warn(msg: string): void {
    if (this.level <= LogLevel.WARN) log.warn('Chime SDK', { sdk: this.scrub(msg) });
  }
  error(msg: string): void {
    if (this.level <= LogLevel.ERROR) log.error('Chime SDK', { sdk: this.scrub(msg) });
  }
  setLogLevel(level: LogLevel): void {
    this.level = level;
  }
  getLogLevel(): LogLevel {
    return this.level;
  }

  private scrub(msg: unknown): string {
    let text = typeof msg === 'string' ? msg : errorMessage(msg);
    for (const secret of this.secrets) text = text.split(secret).join('[redacted]');
    return text.slice(0, 1_500);
  }
}

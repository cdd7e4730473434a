import type {
  DailyCall,
  DailyCallFactory,
  DailyEvent,
  DailyEventObject,
  DailyFactoryOptions,
  DailyParticipant,
  DailyParticipantUpdateOptions,
} from '@daily-co/daily-js';
import type { LegQuality } from '../../contracts/call-record.js';
import { RoomlineError } from '../../contracts/errors.js';
import {
  DAILY_MAX_TRACK_NAME,
  DAILY_RESERVED_TRACK_NAMES,
  dailyRoom,
  type DailyRoomJoin,
} from '../../contracts/rooms/daily.js';
import { errorMessage, log } from '../host.js';
import type { PublishedTracks, RoomAdapter, RoomAdapterFactory, RoomFeed, RoomJoined, RoomParticipant } from './room-adapter.js';
import { SdkRoom, withoutSecret } from './sdk-room.js';
import { withTimeout } from './timeout.js';

/**
 * The part of daily-js this adapter uses, typed by daily-js's own declarations. The SDK's call object satisfies it
 * (checked where the SDK is loaded); the lab's typed fake (lab/fake-sdks/daily.ts) implements exactly this much.
 */
export interface DailyCallApi {
  join: DailyCall['join'];
  leave: DailyCall['leave'];
  destroy: DailyCall['destroy'];
  participants: DailyCall['participants'];
  startCustomTrack: DailyCall['startCustomTrack'];
  stopCustomTrack: DailyCall['stopCustomTrack'];
  setInputDevicesAsync: DailyCall['setInputDevicesAsync'];
  updateParticipant(sessionId: string, updates: DailyParticipantUpdateOptions): unknown;
  on<T extends DailyEvent>(event: T, handler: (event: DailyEventObject<T>) => void): unknown;
}

/** daily-js's factory, as far as this adapter uses it. */
export interface DailyApi {
  createCallObject(properties: DailyFactoryOptions): DailyCallApi;
}

/** Fatal Daily errors that mean the request itself cannot succeed (no such room, bad or expired token, room full). */
const REFUSALS = new Set(['no-room', 'not-allowed', 'exp-token', 'nbf-token', 'exp-room', 'nbf-room', 'meeting-full', 'ejected', 'end-of-life']);

/** How long joining may take, call machine download included. */
const JOIN_TIMEOUT_MS = 30_000;
/** How long leaving may take before the call object is destroyed anyway. */
const LEAVE_TIMEOUT_MS = 3_000;

export const createDailyRoom: RoomAdapterFactory<'daily'> = (room, events, options) => new DailyRoom(room, new SdkRoom(events, options));

/**
 * Daily in call-object mode. The bot's microphone and camera are custom tracks given at creation (`audioSource`,
 * `videoSource`: the SIP side), swapped with `setInputDevicesAsync`; tiles of a split SIP picture are custom tracks of
 * its own participant (`startCustomTrack`). It subscribes by itself to each participant's audio (and camera when it
 * receives video); Daily sends one audio track per participant, which the bridge mixes (presence and those tracks are
 * kept by its SdkRoom).
 */
class DailyRoom implements RoomAdapter {
  readonly provider = 'daily' as const;
  readonly capabilities = dailyRoom.capabilities;
  private call: DailyCallApi | undefined;
  private selfId: string | undefined;
  private joined = false;
  /** The last fatal error Daily reported (explains a failed join). */
  private fatal: DailyEventObject<'error'> | undefined;
  private readonly published: { audio?: MediaStreamTrack; video?: MediaStreamTrack } = {};
  private readonly trackNames = new Set<string>();

  constructor(private readonly room: DailyRoomJoin, private readonly sdkRoom: SdkRoom) {}

  async join(display: string, tracks: PublishedTracks): Promise<RoomJoined> {
    // esbuild bundles daily-esm.js (the package's `module` entry), whose default export is the factory; TypeScript
    // reads the package as CommonJS and puts that export one level deeper
    const loaded = (await this.sdkRoom.loadSdk(() => import('@daily-co/daily-js'))) as unknown as { default: DailyCallFactory };
    const sdk: DailyApi = loaded.default;
    const call = sdk.createCallObject({
      url: this.room.url,
      ...(this.room.token === undefined ? {} : { token: this.room.token }),
      userName: display,
      audioSource: tracks.audio ?? false,
      videoSource: tracks.video ?? false,
      // subscriptions are the adapter's: audio always, cameras only when the bridge shows them to SIP
      subscribeToTracksAutomatically: false,
    });
    this.call = call;
    if (tracks.audio !== undefined) this.published.audio = tracks.audio;
    if (tracks.video !== undefined) this.published.video = tracks.video;
    this.listen(call);
    try {
      await withTimeout(call.join(), JOIN_TIMEOUT_MS, 'joining the Daily room');
    } catch (error) {
      throw this.joinFailure(error);
    }
    this.joined = true;
    const participants = call.participants();
    this.selfId = participants.local.session_id;
    // remote participants arrive as participant-joined events, some possibly before joined-meeting
    for (const participant of Object.values(participants)) this.addParticipant(participant);
    log.info('joined the Daily room', { participants: this.sdkRoom.size });
    // the custom microphone and camera are sent from the join on: there is no separate publish step
    return { selfId: this.selfId, participants: this.participants(), published: Promise.resolve() };
  }

  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    const call = this.call;
    if (call === undefined) throw new RoomlineError('INTERNAL', 'replaceTrack before join');
    if (this.published[kind] === track) return;
    await call.setInputDevicesAsync(kind === 'audio' ? { audioSource: track } : { videoSource: track });
    this.published[kind] = track;
  }

  /** A tile is a custom video track of the bot's own participant, named as the tile where Daily takes the name. */
  async addFeed(name: string, track: MediaStreamTrack): Promise<RoomFeed> {
    const call = this.call;
    if (call === undefined || !this.joined) throw new RoomlineError('INTERNAL', 'addFeed before join');
    const trackName = await call.startCustomTrack({ track, trackName: this.trackNameFor(name) });
    this.trackNames.add(trackName);
    return {
      id: trackName,
      close: async () => {
        this.trackNames.delete(trackName);
        await call.stopCustomTrack(trackName);
      },
    };
  }

  async sendData(): Promise<void> {
    // capabilities.dataMessages is false: a request asking for data messages is refused at the edge
    throw new RoomlineError('INTERNAL', 'data messages are not supported for Daily rooms');
  }

  async leave(): Promise<void> {
    if (!this.sdkRoom.startLeaving()) return;
    const call = this.call;
    if (call === undefined) return;
    await withTimeout(call.leave(), LEAVE_TIMEOUT_MS, 'leaving the Daily room').catch(() => undefined);
    await call.destroy().catch(() => undefined);
  }

  participants(): RoomParticipant[] {
    return this.sdkRoom.participants();
  }

  stats(): Promise<LegQuality> {
    return this.sdkRoom.stats();
  }

  private listen(call: DailyCallApi): void {
    call.on('participant-joined', (event) => this.addParticipant(event.participant));
    call.on('participant-left', (event) => this.sdkRoom.depart(event.participant.session_id));
    call.on('track-started', (event) => {
      if (event.participant !== null && !event.participant.local) this.trackStarted(event.participant.session_id, event.type, event.track);
    });
    call.on('track-stopped', (event) => {
      if (event.participant === null || !event.participant.local) this.sdkRoom.trackStopped(event.participant?.session_id, event.type, event.track);
    });
    call.on('active-speaker-change', (event) => {
      const peer = event.activeSpeaker.peerId;
      this.sdkRoom.activeSpeaker(peer === this.selfId ? undefined : peer);
    });
    call.on('network-connection', (event) => {
      if (event.event === 'interrupted') this.sdkRoom.reconnecting(`Daily ${event.type} connection interrupted`);
      else if (event.event === 'connected') log.info('Daily connection (re)established', { type: event.type });
    });
    call.on('error', (event) => {
      this.fatal = event;
      if (this.joined) this.sdkRoom.lost(`Daily ended the call for the bot: ${this.describe(event)}`);
    });
    call.on('left-meeting', () => {
      if (this.joined) this.sdkRoom.lost('the bot is no longer in the Daily meeting');
    });
  }

  /** A remote participant: present, and subscribed to its audio (and its camera when the bridge shows cameras). */
  private addParticipant(participant: DailyParticipant): void {
    if (participant.local) return;
    const id = participant.session_id;
    this.sdkRoom.arrive(id, participant.user_name, () =>
      this.call?.updateParticipant(id, {
        setSubscribedTracks: { audio: true, screenAudio: true, video: this.sdkRoom.receiveVideo, screenVideo: false },
      }),
    );
  }

  /** Every audio track (microphone, screen audio, custom audio) is mixed; of the video, the camera is shown. */
  private trackStarted(participantId: string, type: string, track: MediaStreamTrack): void {
    if (track.kind === 'video' && (type !== 'video' || !this.sdkRoom.receiveVideo)) return;
    this.sdkRoom.trackStarted(participantId, type, track, true);
  }

  /** The tile's name where daily-js takes it as a custom track name; a fallback where it does not. */
  private trackNameFor(name: string): string {
    const usable = name.length <= DAILY_MAX_TRACK_NAME && !DAILY_RESERVED_TRACK_NAMES.includes(name) && !this.trackNames.has(name);
    if (usable) return name;
    let n = this.trackNames.size + 1;
    while (this.trackNames.has(`tile-${n}`)) n++;
    log.warn('a tile name is not a Daily track name: published under a generated one', { tile: name.slice(0, 64), trackName: `tile-${n}` });
    return `tile-${n}`;
  }

  private joinFailure(error: unknown): RoomlineError {
    const fatal = this.fatal;
    const type = fatal?.error?.type;
    if (type !== undefined && REFUSALS.has(type)) {
      return new RoomlineError('ROOM_JOIN_FAILED', `Daily refused the bot: ${this.describe(fatal!)}`);
    }
    const reason = fatal === undefined ? this.scrub(errorMessage(error)) : this.describe(fatal);
    return new RoomlineError('ROOM_UNREACHABLE', `cannot join the Daily room: ${reason}`);
  }

  /** A Daily fatal error as text: its type, where it happened, its message; the token never appears. */
  private describe(event: DailyEventObject<'error'>): string {
    const type = event.error?.type;
    const details = event.error?.details as { on?: unknown } | undefined;
    const where = typeof details?.on === 'string' ? ` during ${details.on}` : '';
    const message = event.error?.msg ?? event.errorMsg;
    return this.scrub(`${type ?? 'error'}${where}: ${String(message)}`).slice(0, 300);
  }

  private scrub(text: string): string {
    return withoutSecret(text, this.room.token);
  }
}

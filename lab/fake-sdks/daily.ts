import type {
  DailyDeviceInfos,
  DailyEvent,
  DailyEventObject,
  DailyFactoryOptions,
  DailyParticipant,
  DailyParticipantsObject,
  DailyParticipantUpdateOptions,
  DailyTrackState,
  StartCustomTrackOptions,
} from '@daily-co/daily-js';
import type { DailyApi, DailyCallApi } from '../../bot-page/rooms/daily.js';
import { EventHandlers } from './event-handlers.js';
import { FakeRoom } from './fake-room.js';
import { FAKE_PARTICIPANT } from './protocol.js';

/**
 * A typed fake of daily-js in call-object mode, as far as Roomline's Daily adapter uses it (`DailyApi`, typed by
 * daily-js's own declarations), for the lab's test build of the bot page (never shipped). Daily's closed call machine
 * cannot run here, so this stands in for it and for Daily's servers, following daily-js's documentation:
 * - `join()`: `loading`, `loaded`, `joining-meeting`, `joined-meeting` (only the local participant), then remote
 *   participants as `participant-joined`;
 * - a participant's tracks start (`track-started`) only once subscribed (`updateParticipant` with
 *   `setSubscribedTracks`, the bot subscribing by itself), the speaker is announced by `active-speaker-change`;
 * - a participant who leaves: `track-stopped` for its tracks, then `participant-left`;
 * - the meeting ending: a fatal `error` (`exp-room`), then `left-meeting`;
 * - `startCustomTrack` only after joining, with daily-js's own checks of the name and the track.
 * The remote participant is the lab's fake participant (a tone, a coloured camera), driven by the lab.
 */

const RESERVED = ['audio', 'video', 'cam-audio', 'cam-video', 'screenVideo', 'screenAudio', 'screen-video', 'screen-audio', 'rmpAudio', 'rmpVideo', 'customVideoDefaults'];

/** daily-js's events, by name. */
type DailyEvents = { [E in DailyEvent]: DailyEventObject<E> };
type MeetingState = 'new' | 'joining' | 'joined' | 'left';
type SubscribableKind = 'audio' | 'video';

let instances = 0;

class FakeDailyCall implements DailyCallApi {
  private readonly callClientId = `fake-daily-${++instances}`;
  private readonly handlers = new EventHandlers<DailyEvents>();
  private meeting: MeetingState = 'new';
  private room: FakeRoom | undefined;
  private readonly local: DailyParticipant;
  private remote: DailyParticipant | undefined;
  private readonly remoteTracks = new Map<SubscribableKind, MediaStreamTrack>();
  private readonly started = new Set<SubscribableKind>();
  private readonly custom = new Map<string, MediaStreamTrack>();

  constructor(private readonly properties: DailyFactoryOptions) {
    if (typeof properties.url !== 'string') throw new Error('createCallObject: a room url is required in this fake');
    this.local = participant('local-session', properties.userName ?? '', true);
  }

  on<T extends DailyEvent>(event: T, handler: (event: DailyEventObject<T>) => void): this {
    this.handlers.add(event, handler as (event: DailyEvents[T]) => void);
    return this;
  }

  async join(): Promise<DailyParticipantsObject> {
    if (this.meeting !== 'new') throw new Error('join() may only be called once per call object');
    this.meeting = 'joining';
    this.emit('loading', {});
    const room = await FakeRoom.open(
      {
        provider: 'daily',
        room: this.properties.url!,
        token: this.properties.token,
        display: this.properties.userName ?? '',
      },
      { participantLeaves: () => this.participantLeaves(), meetingEnds: () => this.meetingEnds() },
    );
    this.room = room;
    room.call(`createCallObject subscribeToTracksAutomatically=${String(this.properties.subscribeToTracksAutomatically)}`);
    room.call('join');
    this.emit('loaded', {});
    this.emit('joining-meeting', {});
    this.publishInputs(this.properties.audioSource, this.properties.videoSource);
    this.meeting = 'joined';
    this.emit('joined-meeting', { participants: { local: this.local } });
    // remote participants arrive after joined-meeting, as participant-joined events
    setTimeout(() => this.remoteJoins(room), 0);
    return { local: this.local };
  }

  async leave(): Promise<void> {
    if (this.meeting === 'left') return;
    this.room?.call('leave');
    this.meeting = 'left';
    this.room?.close();
    this.emit('left-meeting', {});
  }

  async destroy(): Promise<void> {
    this.room?.call('destroy');
    if (this.meeting !== 'left') await this.leave();
    this.emit('call-instance-destroyed', {});
  }

  participants(): DailyParticipantsObject {
    return { local: this.local, ...(this.remote === undefined ? {} : { [this.remote.session_id]: this.remote }) };
  }

  updateParticipant(sessionId: string, updates: DailyParticipantUpdateOptions): this {
    const subscription = updates.setSubscribedTracks;
    this.room?.call(`updateParticipant ${typeof subscription === 'object' ? JSON.stringify(subscription) : String(subscription)}`);
    const remote = this.remote;
    if (remote === undefined || sessionId !== remote.session_id || typeof subscription !== 'object') return this;
    for (const kind of ['audio', 'video'] as const) {
      if (subscription[kind] === true) this.startTrack(remote, kind);
    }
    return this;
  }

  async setInputDevicesAsync(devices: {
    audioDeviceId?: string | false | null;
    audioSource?: MediaStreamTrack | false;
    videoDeviceId?: string | false | null;
    videoSource?: MediaStreamTrack | false;
  }): Promise<DailyDeviceInfos> {
    this.room?.call(`setInputDevicesAsync ${devices.audioSource === undefined ? '' : 'audio'}${devices.videoSource === undefined ? '' : 'video'}`);
    this.publishInputs(devices.audioSource, devices.videoSource);
    return { camera: {}, mic: {}, speaker: {} };
  }

  async startCustomTrack(options: StartCustomTrackOptions): Promise<string> {
    if (this.meeting !== 'joined') throw new Error('startCustomTrack() is only allowed in a meeting');
    const name = options.trackName ?? `custom${options.track.kind === 'audio' ? 'Audio' : 'Video'}${this.custom.size}`;
    if (RESERVED.includes(name)) throw new Error(`Custom track name must not match a track name already used by daily: ${name}`);
    if (name.length > 50) throw new Error('Custom track trackName must not be more than 50 characters');
    if (!(options.track instanceof MediaStreamTrack)) throw new Error('Custom tracks provided must be instances of MediaStreamTrack');
    this.room?.call(`startCustomTrack ${name}`);
    this.custom.set(name, options.track);
    this.local.tracks[name] = { subscribed: false, state: 'playable', track: options.track, persistentTrack: options.track };
    if (options.track.kind === 'audio') this.room?.publishAudio(options.track);
    else this.room?.publishVideo(name, options.track);
    this.emit('participant-updated', { participant: this.local });
    return name;
  }

  async stopCustomTrack(trackName: string): Promise<string> {
    this.room?.call(`stopCustomTrack ${trackName}`);
    this.custom.delete(trackName);
    delete this.local.tracks[trackName];
    this.room?.publishVideo(trackName, undefined);
    this.emit('participant-updated', { participant: this.local });
    return trackName;
  }

  private publishInputs(audio: string | MediaStreamTrack | boolean | undefined, video: string | MediaStreamTrack | boolean | undefined): void {
    if (audio instanceof MediaStreamTrack) {
      this.local.tracks.audio = { subscribed: false, state: 'playable', track: audio, persistentTrack: audio };
      this.room?.publishAudio(audio);
    }
    if (video instanceof MediaStreamTrack) {
      this.local.tracks.video = { subscribed: false, state: 'playable', track: video, persistentTrack: video };
      this.room?.publishVideo('camera', video);
    } else if (video === false) {
      this.room?.publishVideo('camera', undefined);
    }
  }

  private remoteJoins(room: FakeRoom): void {
    if (this.meeting !== 'joined') return;
    const remote = participant('fake-alice-session', FAKE_PARTICIPANT.display, false);
    this.remote = remote;
    this.remoteTracks.set('audio', room.voice);
    this.remoteTracks.set('video', room.camera);
    this.emit('participant-joined', { participant: remote });
  }

  private startTrack(remote: DailyParticipant, kind: SubscribableKind): void {
    const track = this.remoteTracks.get(kind);
    if (track === undefined || this.started.has(kind)) return;
    this.started.add(kind);
    remote.tracks[kind] = { subscribed: true, state: 'playable', track, persistentTrack: track };
    this.emit('participant-updated', { participant: remote });
    this.emit('track-started', { participant: remote, track, type: kind });
    if (kind === 'audio') this.emit('active-speaker-change', { activeSpeaker: { peerId: remote.session_id } });
  }

  private participantLeaves(): void {
    const remote = this.remote;
    if (remote === undefined) return;
    for (const kind of this.started) {
      const track = this.remoteTracks.get(kind)!;
      remote.tracks[kind] = { subscribed: true, state: 'off', persistentTrack: track };
      this.emit('track-stopped', { participant: remote, track, type: kind });
    }
    this.started.clear();
    this.remote = undefined;
    this.emit('participant-left', { participant: remote });
  }

  private meetingEnds(): void {
    if (this.meeting !== 'joined') return;
    this.emit('error', { errorMsg: 'Meeting has ended', error: { type: 'exp-room', msg: 'Meeting has ended' } });
    this.meeting = 'left';
    this.emit('left-meeting', {});
  }

  private emit<T extends DailyEvent>(action: T, payload: Omit<DailyEventObject<T>, 'action' | 'callClientId'>): void {
    const event = { ...payload, action, callClientId: this.callClientId };
    this.handlers.emit(action, event as unknown as DailyEvents[T]);
  }
}

/** A participant as daily-js describes one, with its tracks off until they start. */
function participant(sessionId: string, name: string, local: boolean): DailyParticipant {
  const off = (): DailyTrackState => ({ subscribed: false, state: 'off' });
  return {
    audio: false,
    video: false,
    screen: false,
    tracks: { audio: off(), video: off(), screenAudio: off(), screenVideo: off() },
    user_id: sessionId,
    user_name: name,
    session_id: sessionId,
    joined_at: new Date(),
    will_eject_at: new Date(0),
    local,
    owner: false,
    record: false,
    permissions: { hasPresence: true, canSend: true, canReceive: { base: true }, canAdmin: false },
    cam_info: {},
    screen_info: {},
  };
}

const Daily = {
  createCallObject: (properties: DailyFactoryOptions) => new FakeDailyCall(properties),
} satisfies DailyApi;

export default Daily;

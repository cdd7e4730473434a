import type { LegQuality } from '../../contracts/call-record.js';
import { tapPeerConnections, type PeerConnectionTap } from '../media/peer-connection-tap.js';
import { legQuality } from '../media/stats.js';
import type { RoomAdapterEvents, RoomAdapterOptions, RoomParticipant } from './room-adapter.js';

/**
 * What every adapter of a CPaaS SDK that keeps its own peer connections and gives one track per participant (Daily,
 * Vonage) does alike, for it to compose: presence (the other participants, each reported once as it comes and
 * goes), the tracks each participant gave the bridge (its audio mixed, its camera composed) by the source the SDK says
 * they came from (a track type, a stream), the room leg's statistics from the SDK's own connections, and one report
 * of a lost room. The adapter feeds it the SDK's events; what the SDK is asked to do stays the adapter's.
 */
export class SdkRoom {
  private tap: PeerConnectionTap | undefined;
  private readonly others = new Map<string, RoomParticipant>();
  /** The tracks given to the bridge, by participant and source. */
  private readonly given = new Map<string, Map<string, Set<MediaStreamTrack>>>();
  private leavingValue = false;
  private lostReported = false;

  constructor(
    private readonly events: RoomAdapterEvents,
    private readonly options: RoomAdapterOptions,
  ) {}

  /**
   * Loads the SDK (`load`: its dynamic import), tapping the peer connections it makes: they are the room leg's. The
   * load is the join's step `room.sdk`.
   */
  async loadSdk<T>(load: () => Promise<T>): Promise<T> {
    this.tap = tapPeerConnections({ lowLatency: this.options.lowLatency === true });
    return this.options.steps?.time('room.sdk', load) ?? load();
  }

  /** Whether the bridge shows the participants' cameras (otherwise only their audio is wanted). */
  get receiveVideo(): boolean {
    return this.options.receiveVideo;
  }

  stats(): Promise<LegQuality> {
    return legQuality(this.tap?.connections() ?? []);
  }

  /** Participants other than the bot, now. */
  participants(): RoomParticipant[] {
    return [...this.others.values()];
  }

  get size(): number {
    return this.others.size;
  }

  isPresent(participantId: string): boolean {
    return this.others.has(participantId);
  }

  /**
   * A participant is here: reported unless it was already (its display name cut to 64 characters); `admitted` runs
   * first, for the adapter's own set-up of a new participant (e.g. its subscriptions).
   */
  arrive(participantId: string, display: string | undefined, admitted?: () => void): void {
    if (this.others.has(participantId)) return;
    const participant: RoomParticipant = { id: participantId, ...(display ? { display: display.slice(0, 64) } : {}) };
    this.others.set(participantId, participant);
    admitted?.();
    this.events.participantJoined(participant);
  }

  /** A participant left: its tracks end, then it is reported gone. */
  depart(participantId: string): void {
    const participant = this.others.get(participantId);
    if (participant === undefined) return;
    for (const tracks of this.given.get(participantId)?.values() ?? []) {
      for (const track of tracks) this.events.trackEnded(participantId, track);
    }
    this.given.delete(participantId);
    this.others.delete(participantId);
    this.events.participantLeft(participant);
  }

  /**
   * `track` from the participant's `source` goes to the bridge, once (and only for a participant present). With
   * `replacing`, it takes the place of the source's track before, which ends.
   */
  trackStarted(participantId: string, source: string, track: MediaStreamTrack, replacing: boolean): void {
    if (!this.others.has(participantId)) return;
    let sources = this.given.get(participantId);
    if (sources === undefined) {
      sources = new Map();
      this.given.set(participantId, sources);
    }
    let tracks = sources.get(source);
    if (tracks === undefined) {
      tracks = new Set();
      sources.set(source, tracks);
    }
    if (tracks.has(track)) return;
    if (replacing) {
      for (const previous of tracks) this.events.trackEnded(participantId, previous);
      tracks.clear();
    }
    tracks.add(track);
    this.events.track(participantId, track);
  }

  /** `track` of `source` ended: the participant's, or anyone's that has it where the SDK does not say whose. */
  trackStopped(participantId: string | undefined, source: string, track: MediaStreamTrack): void {
    for (const [id, sources] of this.given) {
      if (participantId !== undefined && id !== participantId) continue;
      const tracks = sources.get(source);
      if (tracks === undefined || !tracks.delete(track)) continue;
      this.events.trackEnded(id, track);
    }
  }

  /** Every track of the participant's `source` ended (a stream went away). */
  sourceEnded(participantId: string, source: string): void {
    const tracks = this.given.get(participantId)?.get(source);
    if (tracks === undefined) return;
    this.given.get(participantId)?.delete(source);
    for (const track of tracks) this.events.trackEnded(participantId, track);
  }

  /** Who speaks now, by the SDK's detector: a participant present, or nobody. */
  activeSpeaker(participantId: string | undefined): void {
    this.events.activeSpeaker(participantId !== undefined && this.others.has(participantId) ? participantId : undefined);
  }

  /** The SDK lost its connection and reconnects by itself. */
  reconnecting(reason: string): void {
    this.events.reconnecting(reason);
  }

  /** The bot leaves: losing the room is its own doing from now on. False if it was leaving already. */
  startLeaving(): boolean {
    if (this.leavingValue) return false;
    this.leavingValue = true;
    return true;
  }

  get leaving(): boolean {
    return this.leavingValue;
  }

  /** The room is gone for good: reported once, and not while the bot leaves. */
  lost(reason: string): void {
    if (this.leavingValue || this.lostReported) return;
    this.lostReported = true;
    this.events.lost(reason);
  }
}

/** `text` with every occurrence of `secret` (a token) cut out, for errors and logs. */
export function withoutSecret(text: string, secret: string | undefined): string {
  return secret === undefined ? text : text.split(secret).join('…');
}

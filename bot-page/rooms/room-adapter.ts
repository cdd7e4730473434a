import type { LegQuality } from '../../contracts/call-record.js';
import type { RoomCapabilities, RoomJoin, RoomProviderName } from '../../contracts/rooms/index.js';
import type { EncodedTaps } from '../media/encoded-relay.js';
import type { StepRecorder } from '../setup-steps.js';

/**
 * One transport-neutral interface for every room provider. The bot joins with its own audio (and camera), swaps the
 * tracks it publishes as the SIP side changes, may add extra named video feeds (the tiles of a split SIP picture),
 * and is told about the other participants and their tracks as they come and go. Nothing here names a peer
 * connection: a CPaaS SDK keeps its own.
 */
export interface RoomParticipant {
  readonly id: string;
  readonly display?: string;
}

/** The participant id a provider that mixes audio server-side gives its one mixed audio track. */
export const MIXED_AUDIO_ID = 'room-mix';

export interface RoomAdapterEvents {
  participantJoined(participant: RoomParticipant): void;
  participantLeft(participant: RoomParticipant): void;
  /**
   * A media track of another participant (never one of the bot's own). A provider that mixes the room's audio
   * server-side delivers it once, as the track of {@link MIXED_AUDIO_ID}. A track that ends fires its `ended` event.
   */
  track(participantId: string, track: MediaStreamTrack): void;
  /** A track given by `track` is gone while its participant may stay (a camera turned off, a connection closed). */
  trackEnded(participantId: string, track: MediaStreamTrack): void;
  /** Who speaks now, from the provider's own detector (providers with `capabilities.activeSpeaker`). */
  activeSpeaker(participantId: string | undefined): void;
  /** The SDK lost its connection and is reconnecting by itself: reported, not fatal. */
  reconnecting(reason: string): void;
  /** The connection to the room is gone for good (the room ended, the bot was removed, the server went away). */
  lost(reason: string): void;
  /** A data message from another participant (with `receiveData`). */
  data?(participantId: string, text: string): void;
}

export interface PublishedTracks {
  readonly audio?: MediaStreamTrack;
  readonly video?: MediaStreamTrack;
}

export interface RoomJoined {
  readonly selfId: string;
  /** Participants other than the bot at the time it was admitted. */
  readonly participants: readonly RoomParticipant[];
  /** Settles when the bot's own media is published (rejects if it cannot be). */
  readonly published: Promise<void>;
}

/** An extra feed the bot publishes (one tile of a split SIP picture). */
export interface RoomFeed {
  readonly id: string;
  close(): Promise<void>;
}

export interface RoomAdapter {
  readonly provider: RoomProviderName;
  readonly capabilities: RoomCapabilities;
  /**
   * Joins the room as `display`, publishing `tracks` as the bot's own microphone and camera. Resolves once the bot is
   * admitted (so a call may be placed while its media is still being negotiated); `published` says when it is up.
   */
  join(display: string, tracks: PublishedTracks): Promise<RoomJoined>;
  /** Swaps the track the bot publishes for `kind` (e.g. the SIP peer's audio once it arrives), without renegotiation. */
  replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void>;
  /** Publishes an extra named video feed (see `capabilities.extraFeeds`); throws where the provider has none. */
  addFeed(name: string, track: MediaStreamTrack): Promise<RoomFeed>;
  /**
   * Sends a text message to the room's participants (see `capabilities.dataMessages`; the join must have asked for
   * `dataChannel`). Resolves once handed to the transport; throws where the provider has none.
   */
  sendData(text: string): Promise<void>;
  /** Participants other than the bot, now. */
  participants(): RoomParticipant[];
  /** Leaves the room and releases everything. Idempotent. */
  leave(): Promise<void>;
  /** Statistics of the room leg: what the bot receives and sends, over all its connections. */
  stats(): Promise<LegQuality>;
}

export interface RoomAdapterOptions {
  readonly iceServers: readonly RTCIceServer[];
  /** Subscribe to the participants' video too (otherwise audio only). */
  readonly receiveVideo: boolean;
  /** Keep receive jitter buffers minimal (a bridge: the far ends buffer). @default false */
  readonly lowLatency?: boolean;
  /** Open a data channel on the bot's own feed, for `sendData`. @default false */
  readonly dataChannel?: boolean;
  /** Receive the other participants' data messages (the `data` event). @default false */
  readonly receiveData?: boolean;
  /**
   * Taps for forwarding encoded audio: an adapter that owns its peer connections gives it the receivers of the other
   * participants' audio and the sender of the bot's own. Optional: an SDK that keeps its connections gives none, and
   * its audio is decoded and encoded again. @default none
   */
  readonly encoded?: EncodedTaps;
  /**
   * Where the adapter reports how long its own join steps took, as `room.<name>` (e.g. `room.connect`, `room.join`,
   * `room.publish`), for the call's setup trace. @default nowhere
   */
  readonly steps?: StepRecorder;
}

/** Makes a provider's adapter for one room join. */
export type RoomAdapterFactory<P extends RoomProviderName> = (
  room: Extract<RoomJoin, { provider: P }>,
  events: RoomAdapterEvents,
  options: RoomAdapterOptions,
) => RoomAdapter;

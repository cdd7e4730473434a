import type { LegQuality } from '../../contracts/call-record.js';
import type { RoomJoin } from '../../contracts/dial-request.js';
import { assertNever } from '../../contracts/errors.js';
import { JanusVideoRoom } from './janus-videoroom.js';

/**
 * One interface for every room provider. The bot joins, publishes the SIP side as its own feed (and, for a split
 * composite, one feed per tile), and is told about the other participants and their tracks as they come and go.
 */
export interface RoomParticipant {
  readonly id: string;
  readonly display?: string;
}

export interface RoomAdapterEvents {
  participantJoined(participant: RoomParticipant): void;
  participantLeft(participant: RoomParticipant): void;
  /** A track of another participant (never one of the bot's own feeds). */
  track(participantId: string, track: MediaStreamTrack): void;
  /** The connection to the room is gone. */
  lost(reason: string): void;
}

export interface PublishedTracks {
  readonly audio?: MediaStreamTrack;
  readonly video?: MediaStreamTrack;
}

/** A feed the bot publishes. */
export interface RoomFeed {
  readonly id: string;
  readonly peerConnection: RTCPeerConnection;
  close(): Promise<void>;
}

export interface RoomAdapter {
  readonly provider: RoomJoin['provider'];
  /** Joins the room; resolves with the bot's id and the participants already there. */
  join(display: string): Promise<{ selfId: string; participants: RoomParticipant[] }>;
  /** Publishes tracks. The first call publishes as the bot itself; later calls add feeds with their own names. */
  publish(display: string, tracks: PublishedTracks): Promise<RoomFeed>;
  /** Participants other than the bot, now. */
  participants(): RoomParticipant[];
  /** Peer connections that receive other participants' media. */
  receivingConnections(): RTCPeerConnection[];
  leave(): Promise<void>;
  stats(): Promise<LegQuality>;
}

export interface RoomAdapterOptions {
  readonly iceServers: RTCIceServer[];
  /** Subscribe to the participants' video too (otherwise audio only). */
  readonly receiveVideo: boolean;
  /** Keep receive jitter buffers minimal (a bridge: the far ends buffer). @default false */
  readonly lowLatency?: boolean;
}

export function createRoomAdapter(room: RoomJoin, events: RoomAdapterEvents, options: RoomAdapterOptions): RoomAdapter {
  switch (room.provider) {
    case 'janus':
      return new JanusVideoRoom(room, events, options);
    default:
      return assertNever(room.provider, 'room provider');
  }
}

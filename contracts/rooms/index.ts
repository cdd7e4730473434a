import { z } from 'zod';
import type { MediaOptions } from '../media-options.js';
import { chimeRoom } from './chime.js';
import { dailyRoom } from './daily.js';
import { janusRoom } from './janus.js';
import { pageRoom } from './page.js';
import { capabilityIssues, type RoomCapabilities, type RoomIssue } from './provider.js';
import { vonageRoom } from './vonage.js';

export * from './provider.js';
export { janusRoom, janusRoomSchema, type JanusRoomJoin } from './janus.js';
export { chimeRoom, chimeRoomSchema, chimeDisplayName, type ChimeRoomJoin, type ChimeMeeting, type ChimeAttendee } from './chime.js';
export { pageRoom, pageRoomSchema, joinStepSchema, type JoinStep, type PageRoomJoin } from './page.js';
export { dailyRoom, dailyRoomSchema, type DailyRoomJoin } from './daily.js';
export { vonageRoom, vonageRoomSchema, type VonageRoomJoin } from './vonage.js';

/**
 * Every room provider, by name: the one list a new provider is added to on the contracts side (its adapter goes into
 * `bot-page/rooms/registry.ts`, which the compiler keeps complete).
 */
export const ROOM_PROVIDERS = {
  janus: janusRoom,
  chime: chimeRoom,
  page: pageRoom,
  daily: dailyRoom,
  vonage: vonageRoom,
} as const;

export type RoomProviderName = keyof typeof ROOM_PROVIDERS;
export const ROOM_PROVIDER_NAMES = Object.keys(ROOM_PROVIDERS) as [RoomProviderName, ...RoomProviderName[]];

type RoomSchemaOf<P extends RoomProviderName> = (typeof ROOM_PROVIDERS)[P]['schema'];
type AnyRoomSchema = RoomSchemaOf<RoomProviderName>;

/** The dial request's `room`: one of the providers' join data, chosen by `provider`. */
export const roomSchema = z.discriminatedUnion(
  'provider',
  Object.values(ROOM_PROVIDERS).map((p) => p.schema) as unknown as [AnyRoomSchema, ...AnyRoomSchema[]],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? `provider must be one of: ${ROOM_PROVIDER_NAMES.join(', ')}` : undefined,
  },
);
export type RoomJoin = z.output<typeof roomSchema>;
/** The join data of one provider. */
export type RoomJoinOf<P extends RoomProviderName> = Extract<RoomJoin, { provider: P }>;
/** A room's join data as records, events and logs keep it: its secrets removed (each provider's `redact`). */
export type StoredRoomJoin = ReturnType<(typeof ROOM_PROVIDERS)[RoomProviderName]['redact']>;

/** The provider contract of a room's join data. */
function providerOf<P extends RoomProviderName>(room: RoomJoinOf<P>) {
  // each entry's functions take that entry's join data: indexing by the room's own provider keeps them matched
  return ROOM_PROVIDERS[room.provider] as unknown as {
    readonly title: string;
    readonly capabilities: RoomCapabilities;
    origins(room: RoomJoinOf<P>): readonly string[];
    check?(room: RoomJoinOf<P>, media: MediaOptions): readonly RoomIssue[];
    joinTimeoutS?(room: RoomJoinOf<P>): number;
    redact(room: RoomJoinOf<P>): StoredRoomJoin;
  };
}

export function roomCapabilities(room: RoomJoin): RoomCapabilities {
  return providerOf(room).capabilities;
}

/** The origins the bot page may reach for this room. */
export function roomOrigins(room: RoomJoin): readonly string[] {
  return providerOf(room).origins(room);
}

/** Longest time joining this room may take, in seconds, when its provider says (else undefined). */
export function roomJoinTimeoutS(room: RoomJoin): number | undefined {
  return providerOf(room).joinTimeoutS?.(room);
}

/** The room's join data without its secrets, as records, events and logs may keep it. */
export function redactRoom(room: RoomJoin): StoredRoomJoin {
  return providerOf(room).redact(room);
}

/** What a request asks of its room that the provider cannot do. */
export function roomIssues(room: RoomJoin, media: MediaOptions): RoomIssue[] {
  const provider = providerOf(room);
  const issues = capabilityIssues(provider.title, provider.capabilities, media);
  return [...issues, ...(provider.check?.(room, media) ?? [])];
}

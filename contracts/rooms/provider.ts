import { z } from 'zod';
import type { MediaOptions } from '../media-options.js';
import { safeText } from '../text.js';

/**
 * What every room provider declares: its join data (a zod schema), what it can do, the network origins its page may
 * reach, and which of its join data is secret. One file per provider (`contracts/rooms/<provider>.ts`), listed once
 * in `contracts/rooms/index.ts`; the room union of the dial request and its error message are built from that list.
 */

/** What a room provider can do; a request asking for more is refused at the edge as INVALID_REQUEST. */
export interface RoomCapabilities {
  /** The provider's servers mix the room's audio: the bot receives one mixed track, not one per person. */
  readonly serverMixedAudio: boolean;
  /** The provider tells who is speaking (the active-speaker picture then needs no per-person audio). */
  readonly activeSpeaker: boolean;
  /** The bot can receive the participants' cameras and publish a camera of its own. */
  readonly video: boolean;
  /**
   * How the bot publishes extra named video feeds (the tiles of a split SIP picture): as more feeds of its own
   * connection (`feeds`), as more participants each joining on its own (`participants`), or not at all (`none`).
   */
  readonly extraFeeds: 'feeds' | 'participants' | 'none';
  /** Most extra feeds at once. */
  readonly maxExtraFeeds: number;
  /** The bot can send data messages to the participants (e.g. the digits the SIP peer dials). */
  readonly dataMessages: boolean;
  /**
   * The bot owns the room's peer connections and can forward encoded media between the room and the SIP leg without
   * decoding it (ROOMLINE_ENCODED_FORWARDING). Where an SDK keeps its connections, media is decoded and encoded again.
   */
  readonly encodedForwarding: boolean;
}

/** A problem with what a request asks of its room, at a path inside the dial request. */
export interface RoomIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Fields every provider's join data has. */
export const roomBaseShape = {
  /** The bot's display name in the room. @default the SIP target's display name or user part */
  display: safeText(64).optional(),
};

/** The join data every provider's schema parses to: its provider name, a display name, and its own fields. */
export interface RoomJoinBase<P extends string = string> {
  readonly provider: P;
  readonly display?: string | undefined;
}

/** A provider's join schema: a strict object with `provider: P` (it joins the dial request's discriminated union). */
export type RoomSchema<P extends string> = z.ZodType<RoomJoinBase<P>> & z.core.$ZodTypeDiscriminable;

/**
 * `Stored` is the join data as records, events and logs keep it: what `redact` returns (the join data without its
 * secrets, which may be required fields of the join data).
 */
export interface RoomProvider<
  P extends string,
  Schema extends RoomSchema<P>,
  Join extends RoomJoinBase<P> = z.output<Schema>,
  Stored extends RoomJoinBase<P> = Join,
> {
  readonly provider: P;
  /** Name in messages and the docs, e.g. "Janus VideoRoom". */
  readonly title: string;
  /** The join data of a dial request's `room` for this provider. */
  readonly schema: Schema;
  readonly capabilities: RoomCapabilities;
  /**
   * Origins (`scheme://host[:port]`) the bot page must reach for this room: signalling WebSockets, APIs, SDK code.
   * The page may reach no other.
   */
  origins(room: Join): readonly string[];
  /** Longest time joining may take, in seconds (e.g. a web app's join steps). @default the worker's page timeout */
  joinTimeoutS?(room: Join): number;
  /** Problems beyond the capabilities (e.g. join data that cannot serve a split picture). @default none */
  check?(room: Join, media: MediaOptions): readonly RoomIssue[];
  /** The join data as the call record, events and logs may keep it: every secret (pins, tokens) removed. */
  redact(room: Join): Stored;
}

/** Declares a room provider; the identity function that makes TypeScript check the declaration. */
export function defineRoomProvider<P extends string, Schema extends RoomSchema<P>, Stored extends RoomJoinBase<P> = z.output<Schema>>(
  provider: RoomProvider<P, Schema, z.output<Schema>, Stored>,
): RoomProvider<P, Schema, z.output<Schema>, Stored> {
  return provider;
}

/** What a request asks of its room that the provider's capabilities rule out. */
export function capabilityIssues(title: string, capabilities: RoomCapabilities, media: MediaOptions): RoomIssue[] {
  const issues: RoomIssue[] = [];
  if (media.video !== 'off' && !capabilities.video) {
    issues.push({ path: ['media', 'video'], message: `${title} rooms carry no video here: use "off"` });
  }
  const split = media.splitIncoming;
  if (split !== undefined) {
    const tiles = 'tiles' in split ? split.tiles.length : split.rows * split.cols;
    if (capabilities.extraFeeds === 'none') {
      issues.push({ path: ['media', 'splitIncoming'], message: `${title} rooms accept no extra feeds: a split picture cannot be published` });
    } else if (tiles > capabilities.maxExtraFeeds) {
      issues.push({
        path: ['media', 'splitIncoming'],
        message: `${title} rooms accept at most ${capabilities.maxExtraFeeds} extra feeds; this split has ${tiles}`,
      });
    }
    if (media.video === 'off' || media.video === 'sendonly') {
      issues.push({ path: ['media', 'splitIncoming'], message: 'needs video from the SIP peer: set media.video to "recvonly" or "sendrecv"' });
    }
  }
  return issues;
}

/**
 * A ws:// or wss:// URL without credentials, query or fragment, bounded in length. A room's token or secret goes in a
 * field of its own (which records and logs leave out), never in its URL (which they keep).
 */
export const websocketUrlSchema = z
  .string()
  .max(512, 'must be at most 512 characters')
  // before the URL check: the URL parser drops tabs and line breaks silently, and must not get the chance
  .regex(/^[\u0021-\u007e]*$/, 'must be printable ASCII without spaces')
  .url('must be a URL')
  .refine((url) => /^wss?:\/\//.test(url), 'must be a ws:// or wss:// URL')
  .refine((url) => !/^[^/]*\/\/[^/?#]*@/.test(url), 'must not carry credentials in the URL')
  .refine((url) => !/[?#]/.test(url), 'must not carry a query or fragment (a token goes in its own field, never in the URL)');

/**
 * A room secret (pin, token, API secret): printable ASCII, bounded. Every field of this kind must be left out by the
 * provider's `redact`; the unit tests hold each provider to it.
 */
export const roomSecretSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .regex(/^[\u0020-\u007e]*$/, 'must be printable ASCII');

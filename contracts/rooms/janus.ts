import { z } from 'zod';
import { defineRoomProvider, roomBaseShape, roomSecretSchema, websocketUrlSchema } from './provider.js';

/** A Janus VideoRoom (Janus >= 1.0, multistream): the bot joins as a publisher and subscribes to every feed. */
export const janusRoomSchema = z.strictObject({
  provider: z.literal('janus'),
  /** WebSocket URL of the Janus server hosting the VideoRoom, e.g. `wss://janus.example.com/ws`. */
  serverUrl: websocketUrlSchema,
  /** The VideoRoom's id (numeric, or a string if the server uses string ids). */
  roomId: z.union([z.number().int().positive(), z.string().min(1).max(128)]),
  /** The room's pin, if it has one. A secret: never logged, never in the call record. */
  pin: roomSecretSchema.max(256, 'must be at most 256 characters').optional(),
  /**
   * A Janus token for the room's server (`token_auth`, stored or HMAC-signed), sent with every request of the bot's
   * session there. A secret: never logged, never in the call record, never in a URL.
   */
  token: roomSecretSchema.optional(),
  /** The room server's Janus API secret (`api_secret`), if it has one. A secret, kept like `token`. */
  apiSecret: roomSecretSchema.optional(),
  ...roomBaseShape,
});
export type JanusRoomJoin = z.output<typeof janusRoomSchema>;

export const janusRoom = defineRoomProvider({
  provider: 'janus',
  title: 'Janus VideoRoom',
  schema: janusRoomSchema,
  capabilities: {
    serverMixedAudio: false,
    activeSpeaker: false,
    video: true,
    // each tile is one more publisher in the room, with its own handle on the bot's Janus session
    extraFeeds: 'feeds',
    maxExtraFeeds: 16,
    // a data channel on the bot's own feed, relayed by the VideoRoom to subscribers of its data stream
    dataMessages: true,
    // the bot makes the VideoRoom connections itself
    encodedForwarding: true,
  },
  origins: (room) => [new URL(room.serverUrl).origin],
  redact: ({ pin: _pin, token: _token, apiSecret: _apiSecret, ...room }) => room,
});

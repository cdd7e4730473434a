import { z } from 'zod';
import { defineRoomProvider, roomBaseShape, websocketUrlSchema } from './provider.js';

/** A Janus VideoRoom (Janus >= 1.0, multistream): the bot joins as a publisher and subscribes to every feed. */
export const janusRoomSchema = z.strictObject({
  provider: z.literal('janus'),
  /** WebSocket URL of the Janus server hosting the VideoRoom, e.g. `wss://janus.example.com/ws`. */
  serverUrl: websocketUrlSchema,
  /** The VideoRoom's id (numeric, or a string if the server uses string ids). */
  roomId: z.union([z.number().int().positive(), z.string().min(1).max(128)]),
  /** The room's pin, if it has one. A secret: never logged, never in the call record. */
  pin: z.string().max(256).optional(),
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
  },
  origins: (room) => [new URL(room.serverUrl).origin],
  redact: ({ pin: _pin, ...room }) => room,
});

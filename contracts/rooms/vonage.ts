import { z } from 'zod';
import { defineRoomProvider, roomBaseShape } from './provider.js';

/**
 * A Vonage Video session (@vonage/client-sdk-video, the OpenTok.js code): the bot connects with a token, publishes
 * the SIP side as its publisher (and one more publisher per tile of a split SIP picture), and subscribes to every
 * other stream.
 */
export const vonageRoomSchema = z.strictObject({
  provider: z.literal('vonage'),
  /** The Vonage application id (a UUID) or, for an OpenTok account, the project's API key (digits). */
  applicationId: z
    .string()
    .regex(
      /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d{1,12})$/,
      'must be a Vonage application id (a UUID) or an OpenTok API key (digits)',
    ),
  /** The session id, e.g. `1_MX4xMjM0NTY3OH5-MTcwMDAwMDAwMDAwMH5hYmN-fg`. */
  sessionId: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[A-Za-z0-9_~+/=.-]+$/, 'must be a Vonage session id (letters, digits and "_~+/=.-")'),
  /** A client token for the session. A secret: passed to connect() only, never logged, never in the call record. */
  token: z
    .string()
    .min(1)
    .max(8192)
    .regex(/^[A-Za-z0-9_~+/=.:-]+$/, 'must be a Vonage client token (letters, digits and "_~+/=.:-")'),
  ...roomBaseShape,
});
export type VonageRoomJoin = z.output<typeof vonageRoomSchema>;

/** Tiles a split SIP picture may have in a Vonage session. */
export const VONAGE_MAX_TILES = 4;

export const vonageRoom = defineRoomProvider({
  provider: 'vonage',
  title: 'Vonage Video',
  schema: vonageRoomSchema,
  capabilities: {
    // one subscriber per stream: the bridge mixes them
    serverMixedAudio: false,
    // the web SDK has no active-speaker event: the bridge picks the speaker from the audio levels
    activeSpeaker: false,
    video: true,
    // Each tile is one more publisher of the bot's own connection. The SDK documents no per-client limit; each
    // publisher is a peer connection and an encoder of its own, so a split is kept to a 2x2 grid.
    extraFeeds: 'feeds',
    maxExtraFeeds: VONAGE_MAX_TILES,
    // not yet: Vonage has signals (session.signal), which the lab cannot reach
    dataMessages: false,
    // the SDK keeps its connections
    encodedForwarding: false,
  },
  /**
   * HTTPS origins the page needs, from the SDK's own configuration: the config service (`config.opentok.com`, asked
   * first at connect), the API (`anvil.opentok.com`: session info) and the client logging service (`hlg.tokbox.com`).
   * The messaging WebSocket (its host comes from the session info) and media are not HTTP requests: the page's request
   * policy does not see them.
   */
  origins: () => ['https://config.opentok.com', 'https://anvil.opentok.com', 'https://hlg.tokbox.com'],
  redact: ({ token: _token, ...room }) => room,
});

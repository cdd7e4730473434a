import { z } from 'zod';
import { HEADER_SAFE_PATTERN } from '../text.js';
import { defineRoomProvider, roomBaseShape } from './provider.js';

/**
 * Page mode: the customer's own meeting web app. The bot opens the app's page (an allow-listed URL) and joins as the
 * app's users do; its microphone and camera are the SIP leg's tracks (getUserMedia is the bridge's before any page
 * script runs), and every remote track the app receives (its RTCPeerConnections, wrapped transparently) goes to SIP.
 * This covers any CPaaS whose SDK the app uses, with the app's own join logic.
 */

/** A CSS selector of the app's page: bounded, printable. */
const selectorSchema = z
  .string()
  .min(1)
  .max(256, 'must be at most 256 characters')
  .regex(HEADER_SAFE_PATTERN, 'must not contain control characters');

/** A name of a secret or a query parameter. */
const nameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"');

/** What a `fill` step types: the bot's display name, a fixed text, or one of the request's secrets (by name). */
const fillValueSchema = z.union([
  z.literal('display'),
  z.strictObject({ text: z.string().max(256).regex(HEADER_SAFE_PATTERN, 'must not contain control characters') }),
  z.strictObject({ secret: nameSchema }),
]);

/** One thing a person does to join: type into a field, press a button, wait for something to appear. No script. */
export const joinStepSchema = z.discriminatedUnion(
  'action',
  [
    z.strictObject({ action: z.literal('fill'), selector: selectorSchema, value: fillValueSchema }),
    z.strictObject({ action: z.literal('click'), selector: selectorSchema }),
    z.strictObject({
      action: z.literal('wait'),
      selector: selectorSchema,
      /** Seconds to wait for the element to appear. @default 15 */
      timeoutS: z.number().int().min(1).max(60).optional(),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'action must be one of: fill, click, wait' : undefined) },
);
export type JoinStep = z.output<typeof joinStepSchema>;

/** Seconds a step waits for its element before the join fails. */
export const JOIN_STEP_TIMEOUT_S = 15;
/** Seconds the app's own `window.roomline.join` may take. */
export const APP_JOIN_TIMEOUT_S = 30;

const pageUrlSchema = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .url('must be a URL')
  .refine((url) => {
    const parsed = new URL(url);
    // a secure context is needed (media devices, WebCodecs): https, or http on this machine's own name
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(parsed.hostname));
  }, 'must be an https:// URL (http:// only for localhost)')
  .refine((url) => !/\/\/[^/]*@/.test(url), 'must not carry credentials in the URL');

const originSchema = z
  .string()
  .max(256)
  .regex(
    /^((https|wss):\/\/[A-Za-z0-9.-]+|(http|ws):\/\/(localhost|\d{1,3}(\.\d{1,3}){3}))(:\d{1,5})?$/,
    'must be an origin such as https://api.example.com (no path; http:// and ws:// only for localhost or an IPv4 address)',
  );

export const pageRoomSchema = z
  .strictObject({
    provider: z.literal('page'),
    /** The app's meeting page, with its non-secret join parameters, e.g. `https://meet.example.com/room/42?lang=en`. */
    url: pageUrlSchema,
    /**
     * Query parameters that carry secrets (meeting tokens), added to the URL only when the bot opens it: never in the
     * call record, events or logs. @default none
     */
    secretParams: z.record(nameSchema, z.string().min(1).max(4096)).optional(),
    /** Secrets a `fill` join step may type (a meeting password), by name. Never recorded or logged. @default none */
    secrets: z.record(nameSchema, z.string().min(1).max(256)).optional(),
    /**
     * What a person does to join, in order, when the app does not expose `window.roomline` (see docs/rooms.md, "Page mode").
     * @default none: the app joins by itself, or through `window.roomline.join`
     */
    joinSteps: z.array(joinStepSchema).max(12, 'at most 12 join steps').optional(),
    /**
     * Origins besides the page's own that the app must reach (its API, its CDN, its media servers' signalling).
     * @default none
     */
    origins: z.array(originSchema).max(16, 'at most 16 origins').optional(),
    ...roomBaseShape,
  })
  .refine((room) => Object.keys(room.secretParams ?? {}).every((name) => !new URL(room.url).searchParams.has(name)), {
    message: 'a secret parameter must not also be in the URL',
    path: ['url'],
  })
  .refine(
    (room) =>
      (room.joinSteps ?? []).every((step) => step.action !== 'fill' || typeof step.value !== 'object' || !('secret' in step.value) || room.secrets?.[step.value.secret] !== undefined),
    { message: 'a fill step names a secret the request does not give', path: ['joinSteps'] },
  );
export type PageRoomJoin = z.output<typeof pageRoomSchema>;

export const pageRoom = defineRoomProvider({
  provider: 'page',
  title: 'Web app (page mode)',
  schema: pageRoomSchema,
  capabilities: {
    // what the app's connections carry is whatever its service sends: per-person tracks are mixed by the bridge
    serverMixedAudio: false,
    activeSpeaker: false,
    video: true,
    // the app publishes one microphone and one camera: the bridge cannot add feeds of its own
    extraFeeds: 'none',
    maxExtraFeeds: 0,
    // the customer's app decides what its participants receive
    dataMessages: false,
    // the app's connections are the app's
    encodedForwarding: false,
  },
  origins: (room) => [new URL(room.url).origin, ...(room.origins ?? [])],
  // the app's own join (window.roomline) or every step at its longest, and the page's first media
  joinTimeoutS: (room) =>
    APP_JOIN_TIMEOUT_S + (room.joinSteps ?? []).reduce((sum, step) => sum + (step.action === 'wait' ? (step.timeoutS ?? JOIN_STEP_TIMEOUT_S) : JOIN_STEP_TIMEOUT_S), 0),
  redact: ({ secretParams: _params, secrets: _secrets, ...room }) => room,
});

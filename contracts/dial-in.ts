import { z } from 'zod';
import { limitsSchema } from './dial-request.js';
import { roomSchema, type RoomJoin } from './rooms/index.js';
import { HEADER_SAFE_PATTERN } from './text.js';

/**
 * Dial-in: the routes that say which room an inbound call joins, and the pure rules that match a call to a route and
 * name the caller in the room. A route is found by its key: the dialled number (`number:<digits>`) or an X- header
 * the caller's side set (`header:<name>:<value>`). Routes live in the routes table, one item per key.
 */

/** A dialled number as the Request-URI or To user carries it: digits, optionally a leading +. */
export const dialledNumberSchema = z.string().regex(/^\+?[0-9]{1,32}$/, 'must be 1-32 digits, optionally after a +');

const headerNameSchema = z.string().regex(/^X-[A-Za-z0-9-]{1,64}$/, 'only X- headers route calls (e.g. X-Room)');
const headerValueSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(HEADER_SAFE_PATTERN, 'must not contain line breaks or control characters')
  .refine((v) => !v.includes(':'), 'must not contain ":"');

/** What an inbound call must carry to take a route. */
export const routeMatchSchema = z.discriminatedUnion('kind', [
  /** The number the caller dialled (the To user, which the registrar keeps while it rewrites the Request-URI). */
  z.strictObject({ kind: z.literal('number'), number: dialledNumberSchema }),
  /** An X- header the caller's trunk or PBX set on the INVITE (e.g. X-Room: sales). */
  z.strictObject({ kind: z.literal('header'), name: headerNameSchema, value: headerValueSchema }),
  /** A PIN the caller enters by DTMF after calling a PIN line (a number route with `collectPin`). */
  z.strictObject({ kind: z.literal('pin'), number: dialledNumberSchema, pin: z.string().regex(/^[0-9]{4,12}$/, 'must be 4-12 digits') }),
]);
export type RouteMatch = z.output<typeof routeMatchSchema>;

/** How the caller is named in the room. */
export const CALLER_NAMES = ['masked', 'number', 'name'] as const;
export type CallerNameMode = (typeof CALLER_NAMES)[number];

/** A route as it is written (through the client library or `roomline route add`). */
export const routeInputSchema = z
  .strictObject({
    match: routeMatchSchema,
    /** The room the call joins, of any provider the bot supports (not for a PIN line: its PIN routes have rooms). */
    room: roomSchema.optional(),
    /**
     * A PIN line: the bridge answers, asks for a PIN (a spoken prompt), and the PIN's route (`match.kind: "pin"` for
     * this number) says which room; a wrong PIN is asked for again, then the call ends. Only for number routes.
     * @default false
     */
    collectPin: z.boolean().default(false),
    /**
     * The bot's name in the room: `masked` shows the number's last 4 digits ("Phone ••••1234"), `number` the whole
     * number, `name` the caller's display name (else the number). @default "masked"
     */
    callerName: z.enum(CALLER_NAMES).default('masked'),
    /** Limits of calls on this route (the ring timeout does not apply: the caller is already ringing). */
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    /** Free-form description, e.g. whose line this is. */
    description: z.string().max(256).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.collectPin && r.match.kind !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['collectPin'], message: 'only a number route can be a PIN line' });
    }
    if (r.collectPin && r.room !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['room'], message: 'a PIN line has no room: its PIN routes have' });
    }
    if (!r.collectPin && r.room === undefined) ctx.addIssue({ code: 'custom', path: ['room'], message: 'a route needs a room' });
  });
export type RouteInput = z.input<typeof routeInputSchema>;

/** A stored route: its key is made from its match. */
export interface Route extends z.output<typeof routeInputSchema> {
  readonly routeId: string;
  readonly createdAt: string;
}

/** The routes table's key attribute. */
export const ROUTES_TABLE = { partitionKey: 'routeId' } as const;

/** A route's key from its match: `number:+15551230000`, `header:X-Room:sales` (header names compare case-blind). */
export function routeKey(match: RouteMatch): string {
  switch (match.kind) {
    case 'number':
      return `number:${match.number}`;
    case 'header':
      return `header:${match.name.toLowerCase()}:${match.value}`;
    case 'pin':
      return pinRouteKey(match.number, match.pin);
  }
}

/** The key of the route a PIN opens on a PIN line. */
export function pinRouteKey(number: string, pin: string): string {
  return `pin:${number}:${pin}`;
}

/** A route id as it may be shown (a PIN route's PIN masked). */
export function displayRouteId(routeId: string): string {
  return routeId.startsWith('pin:') ? routeId.replace(/:[0-9]+$/, ':••••') : routeId;
}

/** The prompts a PIN line plays (WAVs served with the bot page, made at build time). */
export const PIN_PROMPTS = ['enter-pin', 'wrong-pin', 'goodbye'] as const;
export type PinPrompt = (typeof PIN_PROMPTS)[number];

/** An inbound call as the bridge sees it when the INVITE arrives (from the Janus SIP plugin's `incomingcall`). */
export interface InboundCall {
  /** The SIP Call-ID of the INVITE: the same at every worker the registrar forked it to. */
  readonly sipCallId: string;
  /** The caller's SIP URI (From). */
  readonly from: string;
  /** The caller's display name (From), if any. */
  readonly displayName?: string;
  /** The URI the caller dialled (To). */
  readonly to: string;
  /** X- headers of the INVITE. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The user part of a SIP URI ("sip:+1555@host" → "+1555"), undefined when it has none. */
export function sipUser(uri: string): string | undefined {
  return /^sips?:([^@;]+)@/.exec(uri)?.[1];
}

/**
 * The keys an inbound call may match, in the order they are tried: each X- header it carries (a trunk's explicit
 * routing wins), then the dialled number. A dialled user that is not a number matches no number route.
 */
export function routeKeysFor(call: InboundCall): string[] {
  const keys: string[] = [];
  for (const [name, value] of Object.entries(call.headers).sort(([a], [b]) => a.localeCompare(b))) {
    const match = routeMatchSchema.safeParse({ kind: 'header', name, value });
    if (match.success) keys.push(routeKey(match.data));
  }
  const number = dialledNumberSchema.safeParse(sipUser(call.to));
  if (number.success) keys.push(routeKey({ kind: 'number', number: number.data }));
  return keys;
}

/** The first route of `keys` order that exists in `found` (routes by key), if any. */
export function pickRoute(keys: readonly string[], found: ReadonlyMap<string, Route>): Route | undefined {
  for (const key of keys) {
    const route = found.get(key);
    if (route !== undefined) return route;
  }
  return undefined;
}

/** The caller's number, or their SIP user when it is not a number, or "unknown". */
export function callerNumber(call: Pick<InboundCall, 'from'>): string {
  return sipUser(call.from) ?? 'unknown';
}

/** The bot's name in the room for an inbound call, as the route says to show the caller. */
export function callerDisplay(call: Pick<InboundCall, 'from' | 'displayName'>, mode: CallerNameMode): string {
  const number = callerNumber(call);
  switch (mode) {
    case 'masked': {
      const visible = number.slice(-4);
      return `Phone ${'•'.repeat(Math.min(4, Math.max(0, number.length - 4)))}${visible}`;
    }
    case 'number':
      return `Phone ${number}`;
    case 'name': {
      const name = call.displayName?.replace(/["\\\u0000-\u001f\u007f]/g, '').trim().slice(0, 64);
      return name === undefined || name === '' ? `Phone ${number}` : name;
    }
  }
}

/** A route's room with the bot's display name set for this call (a PIN line has none: its PIN routes have). */
export function routedRoom(route: Route, display: string): RoomJoin {
  if (route.room === undefined) throw new Error(`route ${displayRouteId(route.routeId)} has no room`);
  return { ...route.room, display } as RoomJoin;
}

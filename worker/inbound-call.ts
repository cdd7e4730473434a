import { createHash } from 'node:crypto';
import type { CallRecord } from '../contracts/call-record.js';
import { callerDisplay, callerNumber, displayRouteId, routedRoom, type InboundCall, type Route } from '../contracts/dial-in.js';
import { parseDialRequest, type DialRequest } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import { storedRequest, transition } from './call-state.js';

/**
 * Inbound calls as pure functions over call records: the claim record, the routed record, and the refusal of a call
 * no route takes. The claim itself is a conditional create of the claim record (CallStore.create): every worker the
 * registrar forked the INVITE to makes the same callId from the same SIP Call-ID, so exactly one create succeeds.
 */

/** The dialled URI when the INVITE's To is not a usable SIP URI (it still is the record's `to`). */
const UNKNOWN_DIALLED = 'sip:dial-in@roomline.invalid';

/** The callId of an inbound call: the same at every worker for one INVITE (a digest of its SIP Call-ID). */
export function inboundCallId(sipCallId: string): string {
  return `in-${createHash('sha256').update(sipCallId).digest('hex').slice(0, 32)}`;
}

export interface InboundClaimInput {
  readonly workerId: string;
  readonly leaseMs: number;
  readonly now: Date;
  readonly janusNode?: string;
}

/** The record a worker tries to create to take an inbound call: CLAIMED by it, with the caller and the dialled URI. */
export function inboundClaimRecord(call: InboundCall, input: InboundClaimInput): CallRecord {
  const at = input.now.toISOString();
  const number = callerNumber(call);
  return {
    callId: inboundCallId(call.sipCallId),
    state: 'CLAIMED',
    revision: 1,
    createdAt: at,
    updatedAt: at,
    history: [{ state: 'CLAIMED', at, workerId: input.workerId, detail: `INVITE from ${number} to ${call.to}` }],
    direction: 'inbound',
    caller: {
      uri: call.from,
      number,
      ...(call.displayName === undefined ? {} : { displayName: call.displayName.slice(0, 64) }),
    },
    to: call.to.slice(0, 256),
    workerId: input.workerId,
    leaseExpiresAt: input.now.getTime() + input.leaseMs,
    attempts: 1,
    sip: { sipCallId: call.sipCallId },
    timings: { inviteAt: at, claimedAt: at },
    ...(input.janusNode === undefined ? {} : { janusNode: input.janusNode }),
  };
}

/** The request a routed inbound call runs as: the route's room (the bot named after the caller) and limits. */
export function inboundRequest(call: InboundCall, route: Route, callId: string): DialRequest & { callId: string } {
  const to = /^sips?:/.test(call.to) ? call.to : UNKNOWN_DIALLED;
  const input = {
    version: 1,
    callId,
    to,
    room: routedRoom(route, callerDisplay(call, route.callerName)),
    limits: route.limits,
    media: { audio: true, video: 'off' },
  };
  try {
    return { ...parseDialRequest(input), callId };
  } catch {
    // a dialled URI the dial request's schema refuses (unusual characters): the route still applies
    return { ...parseDialRequest({ ...input, to: UNKNOWN_DIALLED }), callId };
  }
}

/**
 * The request a PIN line's call starts as, before its PIN is known: the line's limits, audio only. Its room is a
 * placeholder that is never joined nor recorded: the PIN's route replaces the whole request before the bot joins.
 */
export function pinLineRequest(call: InboundCall, line: Route, callId: string): DialRequest & { callId: string } {
  const to = /^sips?:/.test(call.to) ? call.to : UNKNOWN_DIALLED;
  const input = {
    version: 1,
    callId,
    to,
    room: { provider: 'janus', serverUrl: 'ws://pin-line.invalid/', roomId: 'pin-line', display: callerDisplay(call, line.callerName) },
    limits: line.limits,
    media: { audio: true, video: 'off' },
  };
  try {
    return { ...parseDialRequest(input), callId };
  } catch {
    return { ...parseDialRequest({ ...input, to: UNKNOWN_DIALLED }), callId };
  }
}

/** The claimed record once its route is known: the route id and the request (the room's secrets removed). */
export function routedRecord(record: CallRecord, request: DialRequest & { callId: string }, route: Route, now: Date): CallRecord {
  return {
    ...record,
    revision: record.revision + 1,
    updatedAt: now.toISOString(),
    // a PIN route's id holds its PIN: the record keeps the line, not the PIN
    routeId: displayRouteId(route.routeId),
    request: storedRequest(request),
  };
}

/** A claimed inbound call no route takes: FAILED with ROUTE_NOT_FOUND (the caller gets 404). */
export function routeNotFound(record: CallRecord, workerId: string, now: Date, keys: readonly string[]): CallRecord {
  const error = new RoomlineError(
    'ROUTE_NOT_FOUND',
    keys.length === 0 ? 'the call carries no number or header a route can match' : `no route for ${keys.join(', ')}`,
    { sipCode: 404 },
  );
  return transition(record, { to: 'FAILED', workerId, now, failure: error.toJSON(), sipCode: 404, detail: `ROUTE_NOT_FOUND: ${error.message}` });
}

import type { CallRecord } from '../contracts/call-record.js';
import { pickRoute, pinRouteKey, routeKeysFor, type InboundCall, type Route } from '../contracts/dial-in.js';
import type { RoutedPin } from './call-session-options.js';
import type { DialRequest } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import type { PageEventOf } from '../contracts/page-rpc.js';
import type { CallStore } from './call-store.js';
import { transition } from './call-state.js';
import { inboundClaimRecord, inboundRequest, pinLineRequest, routeNotFound, routedRecord } from './inbound-call.js';
import type { Logger } from './logger.js';
import type { PageBridge } from './page-bridge.js';
import type { RouteStore } from './route-store.js';

/** Where a warm worker registers for dial-in. */
export interface DialInConfig {
  /** The registrar every idle worker registers with, and that forks inbound INVITEs to them (e.g. sip:10.0.1.5:5060). */
  readonly registrar: string;
  /** The inbound address the workers are contacts of (e.g. sip:inbound@dial-in.roomline.internal). */
  readonly aor: string;
  /** The inbound address's password at the registrar (digest); never logged. */
  readonly secret: string;
  /** The routes table. */
  readonly routesTable: string;
}

/** A routed inbound call this worker claimed: the worker runs it like a dialled call, answering instead of dialling. */
export interface ClaimedInbound {
  readonly request: DialRequest & { callId: string };
  readonly record: CallRecord;
  readonly route: Route;
  /** A PIN line's call: finds the route a PIN opens. */
  readonly pin?: { readonly lookup: (digits: string) => Promise<RoutedPin | undefined> };
}

export interface DialInDeps {
  readonly config: DialInConfig;
  readonly bridge: PageBridge;
  readonly store: CallStore;
  readonly routes: RouteStore;
  readonly logger: Logger;
  readonly workerId: string;
  readonly janusNode: string;
  readonly leaseMs: number;
  /** Takes the worker for an inbound call if it is idle (synchronously, so SQS and other INVITEs see it busy). */
  readonly reserve: () => boolean;
  /** Gives the worker back: the inbound call was lost to another worker or refused. */
  readonly unreserve: () => void;
  /** Runs a claimed and routed call (the worker's one call). */
  readonly run: (claimed: ClaimedInbound) => void;
  /** A claimed inbound call failed before it became a session (no route, routes table unreachable). */
  readonly failed: (record: CallRecord) => void;
}

/** SIP answers to INVITEs this worker does not take. */
const DECLINE = {
  /** Another worker claimed the call, or this one is busy: the registrar keeps the better answer of another contact. */
  taken: 486,
  notFound: 404,
  /** The routes table could not be read: the caller may try again. */
  unavailable: 503,
} as const;

/**
 * Dial-in on one warm worker: registers the bot page's own SIP handle as a contact of the inbound address while the
 * worker is idle, and decides what to do with each INVITE the registrar forks to it: claim it (a conditional create
 * of the call record keyed by the SIP Call-ID: one worker wins), route it (the routes table), then answer it through
 * the worker's call session, or decline it (486 when another worker won, 404 when no route takes it).
 */
export class DialIn {
  private registered = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: DialInDeps) {
    this.unsubscribe = deps.bridge.on('sip-incoming', (event) => {
      void this.onIncoming(event).catch((error: unknown) =>
        deps.logger.error({ error: String(error) }, 'handling an inbound INVITE failed'),
      );
    });
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  /** Registers (again) as a contact of the inbound address. */
  async register(): Promise<void> {
    const { config } = this.deps;
    await this.deps.bridge.send({
      type: 'inbound-register',
      account: { username: config.aor, secret: config.secret, proxy: config.registrar, register: true },
    });
    this.registered = true;
    this.unregistering = undefined;
    this.deps.logger.info({ aor: config.aor, registrar: config.registrar }, 'registered for dial-in');
  }

  private unregistering: Promise<void> | undefined;

  /** Removes the registration (the worker took a call, or stops); never throws. Waits for one already under way. */
  unregister(): Promise<void> {
    if (!this.registered) return this.unregistering ?? Promise.resolve();
    this.registered = false;
    this.unregistering = (async () => {
      const result = await this.deps.bridge.send({ type: 'inbound-unregister' }).catch((error: unknown) => {
        this.deps.logger.warn({ error: String(error) }, 'unregistering from dial-in failed');
        return { unregistered: false };
      });
      this.deps.logger.info({ confirmed: result.unregistered }, 'unregistered from dial-in');
    })();
    return this.unregistering;
  }

  stop(): void {
    this.unsubscribe();
  }

  private async decline(code: number): Promise<void> {
    await this.deps.bridge.send({ type: 'inbound-decline', code }).catch(() => undefined);
  }

  private async onIncoming(event: PageEventOf<'sip-incoming'>): Promise<void> {
    const { deps } = this;
    const call: InboundCall = {
      sipCallId: event.sipCallId,
      from: event.from,
      to: event.to,
      headers: event.headers,
      ...(event.displayName === undefined ? {} : { displayName: event.displayName }),
    };
    if (!deps.reserve()) {
      deps.logger.info('inbound INVITE while busy: declined 486');
      await this.decline(DECLINE.taken);
      return;
    }
    const claim = inboundClaimRecord(call, { workerId: deps.workerId, leaseMs: deps.leaseMs, now: new Date(), janusNode: deps.janusNode });
    const logger = deps.logger.child({ callId: claim.callId });
    let won: boolean;
    try {
      won = await deps.store.create(claim);
    } catch (error) {
      deps.unreserve();
      logger.error({ error: String(error) }, 'claiming an inbound call failed: declined 503');
      await this.decline(DECLINE.unavailable);
      return;
    }
    if (!won) {
      deps.unreserve();
      logger.info('another worker claimed the inbound call: declined 486');
      await this.decline(DECLINE.taken);
      return;
    }
    const keys = routeKeysFor(call);
    let route: Route | undefined;
    try {
      route = pickRoute(keys, await deps.routes.lookup(keys));
    } catch (error) {
      logger.error({ error: String(error) }, 'the routes table could not be read: declined 503');
      await this.decline(DECLINE.unavailable);
      const failure = new RoomlineError('INTERNAL', `the routes table could not be read: ${String(error)}`, { sipCode: 503 });
      await this.finalise(claim, (r) =>
        transition(r, { to: 'FAILED', workerId: deps.workerId, now: new Date(), failure: failure.toJSON(), sipCode: 503, detail: failure.message }),
      );
      deps.unreserve();
      return;
    }
    if (route === undefined) {
      // the number is not routed (a wrong number, a scan): refused, recorded, and this worker stays warm and registered
      logger.info({ keys: keys.length }, 'no route for the inbound call: declined 404');
      await this.decline(DECLINE.notFound);
      await this.finalise(claim, (r) => routeNotFound(r, deps.workerId, new Date(), keys));
      deps.unreserve();
      return;
    }
    // this worker takes the call: out of the registrar, so the next INVITE goes to an idle worker (meanwhile one
    // reaching this worker is declined 486: it is reserved), while the call goes on to the room
    void this.unregister();
    if (route.collectPin && route.match.kind === 'number') {
      // a PIN line: the call is answered first; the PIN the caller enters says which route (and room) it takes
      const number = route.match.number;
      logger.info({ routeId: route.routeId }, 'inbound call claimed for a PIN line');
      deps.run({
        request: pinLineRequest(call, route, claim.callId),
        record: claim,
        route,
        pin: {
          lookup: async (digits) => {
            const key = pinRouteKey(number, digits);
            const found = (await deps.routes.lookup([key])).get(key);
            return found?.room === undefined ? undefined : { request: inboundRequest(call, found, claim.callId), route: found };
          },
        },
      });
      return;
    }
    const request = inboundRequest(call, route, claim.callId);
    const record = await deps.store.update(claim.callId, (current) => routedRecord(current ?? claim, request, route, new Date()), {
      known: claim,
    });
    logger.info({ routeId: route.routeId, room: request.room.provider }, 'inbound call claimed and routed');
    deps.run({ request, record, route });
  }

  private async finalise(claim: CallRecord, change: (record: CallRecord) => CallRecord): Promise<void> {
    const record = await this.deps.store
      .update(claim.callId, (current) => change(current ?? claim), { known: claim })
      .catch((error: unknown) => {
        this.deps.logger.error({ callId: claim.callId, error: String(error) }, 'recording the refused inbound call failed');
        return undefined;
      });
    if (record !== undefined) this.deps.failed(record);
  }
}

import type { CallRecord } from '../contracts/call-record.js';
import type { DialRequest } from '../contracts/dial-request.js';
import { roomOrigins } from '../contracts/rooms/index.js';
import type { SessionOutcome } from './call-ending.js';
import { CallSession } from './call-session.js';
import type { CallObserver, InboundCallOptions } from './call-session-options.js';
import type { CallStore } from './call-store.js';
import { ChimeAttendees } from './chime-attendees.js';
import type { WorkerConfig } from './config.js';
import type { Logger } from './logger.js';
import { enterAppPage } from './rooms/page.js';
import type { SetupRecorder } from './setup-recorder.js';
import type { TrunkSource } from './trunks.js';
import type { Warm } from './worker-browser.js';

export interface CallRunnerOptions {
  readonly config: WorkerConfig;
  readonly store: CallStore;
  /** Where trunks come from. */
  readonly trunks: TrunkSource;
  readonly observer: CallObserver;
}

/**
 * Runs a worker's call on its warm page: the call session with the worker's settings, the room made ready for it (a
 * Chime meetingId's attendees, the origins the page may reach, page mode's app) and its trunk looked up.
 */
export class CallRunner {
  private current: CallSession | undefined;
  /** Chime attendees for meetingId joins, made on the first such call. */
  private chime: ChimeAttendees | undefined;
  private stopping = false;

  constructor(private readonly options: CallRunnerOptions) {}

  /** The call running now, if any. */
  get session(): CallSession | undefined {
    return this.current;
  }

  /** The worker is stopping: the call running now hangs up, and one that starts hangs up at once. */
  shutdown(): void {
    this.stopping = true;
    this.current?.shutdown();
  }

  /** Runs one call (dialled, or inbound with `inbound`) on the warm page, to its end; `setup`: its trace so far. */
  async run(
    request: DialRequest & { callId: string },
    record: CallRecord,
    logger: Logger,
    warm: Warm,
    { inbound, setup }: { readonly inbound?: InboundCallOptions; readonly setup?: SetupRecorder } = {},
  ): Promise<SessionOutcome> {
    const { config, store, trunks, observer } = this.options;
    const trunk = request.trunk;
    const session = new CallSession({
      request,
      record,
      store,
      bridge: warm.bridge,
      logger,
      workerId: config.workerId,
      janusNode: warm.janusNode,
      defaultFrom: config.defaultFrom,
      leaseMs: config.leaseS * 1000,
      videoCaps: config.videoCaps,
      qualityIntervalMs: config.qualityIntervalS * 1000,
      pageTimeoutMs: config.pageTimeoutMs,
      observer,
      prepareRoom: async (room, names) => {
        const prepared =
          room.provider === 'chime'
            ? await this.chimeAttendees(logger).prepare(room, names)
            : { room, release: async () => undefined };
        // the page may reach what the joined room needs, and nothing else
        warm.browser.allowOrigins(warm.page, roomOrigins(prepared.room));
        // page mode: the bot's tab goes into the customer's app, and opens its SIP session from there
        if (prepared.room.provider === 'page') {
          await enterAppPage(prepared.room, {
            ...warm,
            janusUrl: warm.janusNode,
            apiSecret: config.janusApiSecret,
            iceServers: config.iceServers,
          });
        }
        return prepared;
      },
      ...(inbound === undefined ? {} : { inbound }),
      ...(setup === undefined ? {} : { setup }),
      ...(trunk === undefined ? {} : { trunk: () => trunks.get(trunk) }),
    });
    this.current = session;
    if (this.stopping) session.shutdown();
    try {
      return await session.run();
    } finally {
      this.current = undefined;
    }
  }

  /** Closes what the calls left open (the Chime clients). */
  destroy(): void {
    this.chime?.destroy();
  }

  private chimeAttendees(logger: Logger): ChimeAttendees {
    const region = this.options.config.region;
    this.chime ??= new ChimeAttendees({ logger, ...(region === undefined ? {} : { region }) });
    return this.chime;
  }
}

import type { CallRecord } from '../contracts/call-record.js';
import type { DialRequest } from '../contracts/dial-request.js';
import type { AwsMode } from './aws/index.js';
import type { CallRunner } from './call-runner.js';
import type { CallObserver } from './call-session-options.js';
import { transition } from './call-state.js';
import type { CallStore } from './call-store.js';
import type { WorkerConfig } from './config.js';
import { DialIn, type ClaimedInbound } from './dial-in.js';
import type { Logger } from './logger.js';
import { RouteStore } from './route-store.js';
import type { Warm } from './worker-browser.js';
import { notify } from './worker-notices.js';

export interface WorkerDialInOptions {
  readonly config: WorkerConfig;
  readonly store: CallStore;
  readonly logger: Logger;
  readonly aws: AwsMode;
  readonly calls: CallRunner;
  readonly observer: CallObserver;
  /** Takes the worker for an INVITE being claimed; false when it is busy, stopping, or cannot place a call now. */
  readonly reserve: (warm: Warm) => boolean;
  /** Gives the worker back when the INVITE was not claimed. */
  readonly unreserve: () => void;
  /** Protects the task from scale-in for the life of a call with these limits. */
  readonly protect: (limits: DialRequest['limits']) => Promise<void>;
}

/**
 * A worker's part in dial-in (when configured): registered at the registrar while warm and idle, out of it while in
 * a call or stopping, and the inbound call it claimed run to its end.
 */
export class WorkerDialIn {
  private dialIn: DialIn | undefined;
  private routes: RouteStore | undefined;
  /** The inbound call this worker claimed, running. */
  running: Promise<CallRecord> | undefined;

  constructor(private readonly options: WorkerDialInOptions) {}

  /** Whether dial-in is configured and started. */
  get enabled(): boolean {
    return this.dialIn !== undefined;
  }

  /** Registers for dial-in (when configured) once the worker is warm; a registrar that refuses leaves it dial-out only. */
  async start(warm: Warm): Promise<void> {
    const { config: workerConfig, store, logger } = this.options;
    const config = workerConfig.dialIn;
    if (config === undefined) return;
    this.routes = new RouteStore(config.routesTable, workerConfig.region === undefined ? {} : { region: workerConfig.region });
    const dialIn = new DialIn({
      config,
      bridge: warm.bridge,
      store,
      routes: this.routes,
      logger,
      workerId: workerConfig.workerId,
      janusNode: warm.janusNode,
      leaseMs: workerConfig.leaseS * 1000,
      reserve: () => this.options.reserve(warm),
      unreserve: () => this.options.unreserve(),
      run: (claimed) => {
        this.running = this.runInbound(claimed, warm);
      },
      failed: (record) => this.options.observer.stateChanged(record, 'CLAIMED'),
    });
    this.dialIn = dialIn;
    await this.registerAgain();
  }

  /** Registers (again) for dial-in; a refusal leaves the worker dial-out only, and says so. */
  async registerAgain(): Promise<void> {
    await this.dialIn?.register().catch((error: unknown) =>
      this.options.logger.error({ error: String(error) }, 'registering for dial-in failed: this worker only dials out'),
    );
  }

  /** Leaves the registrar (a worker in a call, or stopping, is no contact for inbound calls). */
  async unregister(): Promise<void> {
    await this.dialIn?.unregister();
  }

  /** Stops taking INVITEs and closes the routes table's client. */
  stop(): void {
    this.dialIn?.stop();
    this.routes?.destroy();
  }

  /** Runs a claimed inbound call; a failure the queue would retry for a dialled call is final here (the caller is gone). */
  private async runInbound(claimed: ClaimedInbound, warm: Warm): Promise<CallRecord> {
    const { aws, store, config, observer } = this.options;
    const logger = this.options.logger.child({ callId: claimed.request.callId });
    aws.gauge.set('busy');
    await this.options.protect(claimed.request.limits).catch(() => undefined);
    notify({ type: 'roomline-worker', state: 'busy', callId: claimed.request.callId });
    aws.metrics.callStarted();
    try {
      const outcome = await this.options.calls.run(claimed.request, claimed.record, logger, warm, {
        inbound: {
          callerNumber: claimed.record.caller?.number ?? 'unknown',
          ...(claimed.pin === undefined ? {} : { pin: claimed.pin }),
        },
      });
      if (outcome.kind === 'final') return outcome.record;
      const failure = { ...outcome.failure, retryable: false };
      const record = await store.update(
        claimed.request.callId,
        (current) =>
          transition(current ?? outcome.record, {
            to: 'FAILED',
            workerId: config.workerId,
            now: new Date(),
            failure,
            detail: `${failure.code}: ${failure.reason}`,
          }),
        { known: outcome.record },
      );
      observer.stateChanged(record, outcome.record.state);
      return record;
    } catch (error) {
      logger.error({ error: String(error) }, 'the inbound call failed');
      return claimed.record;
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { warmDialRequestParsing, type DialRequest } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import { createAwsMode, protectionMinutesFor, type AwsMode } from './aws/index.js';
import { CallRunner } from './call-runner.js';
import type { CallObserver } from './call-session-options.js';
import { CallStore } from './call-store.js';
import { CallSweeper } from './call-sweeper.js';
import type { WorkerConfig } from './config.js';
import { DialQueue, type DialMessage } from './dial-queue.js';
import { refusedDestinations } from './egress.js';
import { createLogger, type Logger } from './logger.js';
import { handleDialMessage, type HandledMessage } from './message-handler.js';
import { SetupRecorder } from './setup-recorder.js';
import { recordStateMetrics } from './state-metrics.js';
import { TrunkFile } from './trunks.js';
import { WorkerBrowser, type Warm } from './worker-browser.js';
import { WorkerDialIn } from './worker-dial-in.js';
import { notify } from './worker-notices.js';

/** How long after SIGTERM the worker must be gone. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * One worker, one call: warm up (Chromium, bot page, Janus session), long-poll the dial queue until a message
 * becomes a call, run it, tear down, return the exit code. Ordered setup, one idempotent teardown. Its parts: the
 * browser and its Janus session (worker-browser.ts), the call on the warm page (call-runner.ts), dial-in
 * (worker-dial-in.ts).
 */
export class Worker {
  private readonly logger: Logger;
  private readonly store: CallStore;
  private readonly queue: DialQueue;
  private readonly aws: AwsMode;
  private readonly sweeper: CallSweeper;
  private readonly browser: WorkerBrowser;
  private readonly calls: CallRunner;
  /** Dial-in (when configured): the registration and the INVITEs that reach this worker. */
  private readonly dialIn: WorkerDialIn;
  private stopping = false;
  private tornDown: Promise<void> | undefined;
  /** Taken by a call (dialled or inbound) or by an INVITE being claimed: nothing else may start. */
  private busy = false;
  private protectedTask = false;

  constructor(
    private readonly config: WorkerConfig,
    logger?: Logger,
  ) {
    this.logger = logger ?? createLogger({ level: config.logLevel, base: { workerId: config.workerId } });
    const region = config.region === undefined ? {} : { region: config.region };
    this.store = new CallStore(config.tableName, {
      ...region,
      recordTtlDays: config.recordTtlDays,
      requestTimeoutMs: config.awsRequestTimeoutMs,
    });
    this.queue = new DialQueue(config.queueUrl, { ...region, requestTimeoutMs: config.awsRequestTimeoutMs });
    this.aws = createAwsMode(config.aws, { region: config.region });
    this.sweeper = new CallSweeper({
      store: this.store,
      logger: this.logger,
      intervalMs: config.sweepIntervalS * 1000,
      onClosed: () => this.aws.metrics.callFailed('WORKER_LOST'),
    });
    // call metrics from state changes
    const observer: CallObserver = { stateChanged: (record) => recordStateMetrics(this.aws.metrics, record) };
    this.calls = new CallRunner({
      config,
      store: this.store,
      // trunks come from the trunks file when configured, else Secrets Manager
      trunks: config.trunksFile === undefined ? this.aws.trunks : new TrunkFile(config.trunksFile),
      observer,
    });
    this.browser = new WorkerBrowser({
      config,
      logger: this.logger,
      call: () => this.calls.session,
      stopping: () => this.stopping,
      tornDown: () => this.tornDown !== undefined,
      // a reopened session has lost the dial-in registration, which lived on the old one
      reopened: async () => {
        if (this.dialIn.enabled && !this.busy && !this.stopping) await this.dialIn.registerAgain();
      },
    });
    this.dialIn = new WorkerDialIn({
      config,
      store: this.store,
      logger: this.logger,
      aws: this.aws,
      calls: this.calls,
      observer,
      reserve: (warm) => {
        if (this.busy || this.stopping || this.browser.broken !== undefined || !warm.janusOpen) return false;
        this.busy = true;
        return true;
      },
      unreserve: () => {
        this.busy = false;
      },
      protect: (limits) => this.protect(limits),
    });
  }

  /** Asks the worker to stop: an idle worker stops polling; a worker in a call hangs up and records the end. */
  stop(reason: string): void {
    if (this.stopping) return;
    this.logger.info({ reason }, 'stopping');
    this.stopping = true;
    this.calls.shutdown();
    // out of the registrar at once: INVITEs go to workers that stay
    void this.dialIn.unregister();
  }

  async run(): Promise<number> {
    // every worker sweeps for calls whose worker is gone, from start to exit, idle or busy
    this.sweeper.start();
    // the request's schema compiles now, not on the first message
    warmDialRequestParsing();
    try {
      return await this.poll(this.config.prewarm ? await this.warmUp({ untilJanusAnswers: true }) : undefined);
    } catch (error) {
      const failure = RoomlineError.from(error);
      this.logger.error({ code: failure.code, error: failure.message }, 'worker failed');
      return 1;
    } finally {
      await this.teardown();
    }
  }

  /** Warms the browser up (WorkerBrowser.warmUp), then registers for dial-in, and tells the parent it is ready. */
  private async warmUp(options: { untilJanusAnswers: boolean }): Promise<Warm> {
    const started = Date.now();
    this.aws.gauge.start();
    const warm = await this.browser.warmUp(options);
    // warm means reachable both ways: on the queue, and (with dial-in) at the registrar
    if (!this.stopping) await this.dialIn.start(warm);
    const warmMs = Date.now() - started;
    this.logger.info({ warmMs }, 'worker warm: waiting for a call');
    notify({ type: 'roomline-worker', state: 'ready', warmMs, janusNode: warm.janusNode });
    return warm;
  }

  /**
   * Takes messages until one becomes a call. A warm worker checks its page and Janus session before each claim and
   * reopens a lost session (on another node first); a cold worker (`prewarmed` undefined) warms up after the claim,
   * so that a warm-up failure is a retryable failure of the call like any other. A queue that cannot be reached is
   * polled again with backoff (at most 2 s apart); a browser that crashed while idle ends the worker (exit 1) for a
   * fresh one.
   */
  private async poll(prewarmed: Warm | undefined): Promise<number> {
    const state = { warm: prewarmed };
    const idleSince = Date.now();
    let pollFailures = 0;
    let healFailures = 0;
    this.aws.gauge.set('idle');
    if (state.warm === undefined) notify({ type: 'roomline-worker', state: 'ready', warmMs: 0, janusNode: '' });
    try {
      while (!this.stopping && this.dialIn.running === undefined) {
        if (this.browser.broken !== undefined) {
          this.logger.error({ reason: this.browser.broken }, 'the browser is unusable: exiting to be replaced');
          return 1;
        }
        if (this.config.idleExitS > 0 && Date.now() - idleSince > this.config.idleExitS * 1000) {
          this.logger.info({ idleExitS: this.config.idleExitS }, 'idle for too long: exiting');
          return 0;
        }
        const warm = state.warm;
        if (warm !== undefined && !warm.janusOpen) {
          // no message is taken while no Janus node answers; try again after a pause that grows to 5 s
          await this.browser.openJanus(warm);
          if (!warm.janusOpen) await sleep(Math.min(5_000, 1_000 * 2 ** healFailures++));
          else healFailures = 0;
          continue;
        }
        // A long poll is never aborted: SQS may already have handed a message to it, which would then stay invisible
        // until its visibility timeout. Short polls keep a stop prompt; a message that arrives as the worker stops
        // goes straight back to the queue.
        let message: DialMessage | undefined;
        try {
          message = await this.queue.receiveOne({ waitS: this.config.pollWaitS, visibilityS: this.config.visibilityTimeoutS });
          pollFailures = 0;
        } catch (error) {
          const waitMs = Math.min(2_000, 250 * 2 ** pollFailures++);
          this.logger.warn({ error: String(error), retryInMs: waitMs }, 'polling the dial queue failed: retrying');
          await sleep(waitMs);
          continue;
        }
        if (message === undefined) continue;
        if (this.stopping) {
          await this.queue.handBack(message, 0).catch(() => undefined);
          this.logger.info('stopping: a message that arrived meanwhile was handed back');
          break;
        }
        if (this.busy) {
          // an inbound call took this worker while it polled: the message goes to another worker at once
          await this.queue.handBack(message, 0).catch(() => undefined);
          this.logger.info('taken by an inbound call: a message that arrived meanwhile was handed back');
          continue;
        }
        this.busy = true;
        const setup = SetupRecorder.forMessage(message);
        if (warm !== undefined && !(await this.browser.readyToClaim(warm, setup))) {
          this.busy = false;
          await this.queue.handBack(message, 0).catch(() => undefined);
          this.logger.warn({ reason: this.browser.broken ?? 'no Janus node answers' }, 'not ready to place a call: message handed back unclaimed');
          continue;
        }
        const handled = await this.handle(message, state, setup);
        if (handled.kind === 'call') {
          notify({ type: 'roomline-worker', state: 'done', callId: handled.record.callId });
          return 0;
        }
        // not a call (invalid, duplicate, lost, cancelled): the browser was not touched, so the worker stays warm
        await this.releaseProtection();
        this.busy = false;
        if (this.dialIn.enabled && !this.stopping) await this.dialIn.registerAgain();
        this.aws.gauge.set('idle');
      }
      if (this.dialIn.running !== undefined) {
        const record = await this.dialIn.running;
        notify({ type: 'roomline-worker', state: 'done', callId: record.callId });
      }
      return 0;
    } finally {
      await this.releaseProtection();
      this.aws.gauge.stop();
    }
  }

  /** Protects the task from scale-in for the life of a call with these limits (a no-op off ECS). */
  private async protect(limits: DialRequest['limits']): Promise<void> {
    const result = await this.aws.protection.protect(protectionMinutesFor(limits));
    this.protectedTask = result.kind !== 'not-on-ecs';
  }

  private async releaseProtection(): Promise<void> {
    if (!this.protectedTask) return;
    this.protectedTask = false;
    await this.aws.protection
      .unprotect()
      .catch((error: unknown) => this.logger.warn({ error: String(error) }, 'removing task protection failed'));
  }

  private handle(message: DialMessage, state: { warm: Warm | undefined }, setup: SetupRecorder): Promise<HandledMessage> {
    return handleDialMessage(message, {
      setup,
      queue: this.queue,
      store: this.store,
      logger: this.logger,
      workerId: this.config.workerId,
      leaseMs: this.config.leaseS * 1000,
      visibilityTimeoutS: this.config.visibilityTimeoutS,
      maxReceives: this.config.maxReceives,
      stopRequested: () => this.stopping,
      refuse: (request) => refusedDestinations(request, this.config.egress),
      beforeClaim: async (request) => {
        this.aws.gauge.set('busy');
        // a worker in a call is no contact for inbound calls
        await this.dialIn.unregister();
        // protected before the claim: a scale-in between claim and protection would strand a claimed call
        await this.protect(request.limits);
      },
      runCall: async (request, record, logger) => {
        notify({ type: 'roomline-worker', state: 'busy', callId: request.callId });
        this.aws.metrics.callStarted();
        if (state.warm === undefined) {
          // a cold worker warms up now; if it cannot, the call goes back to the queue (nothing was dialed)
          try {
            state.warm = await this.warmUp({ untilJanusAnswers: false });
          } catch (error) {
            const failure = RoomlineError.from(error, 'BROWSER_FAILED');
            logger.warn({ code: failure.code, error: failure.message }, 'warming up for the call failed');
            return {
              kind: 'retry',
              failure: new RoomlineError(failure.code, `warm-up failed: ${failure.message}`, { retryable: true }).toJSON(),
              record,
            };
          }
        }
        return this.calls.run(request, record, logger, state.warm, { setup });
      },
    });
  }

  /** Leaves the room, closes the page and Chromium. Idempotent. */
  private teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      // a stopping worker leaves the registrar before its page goes
      await this.dialIn.unregister();
      this.dialIn.stop();
      await this.browser.close();
      await this.sweeper.stop();
      this.queue.destroy();
      this.store.destroy();
      this.calls.destroy();
      this.logger.info('worker torn down');
    })();
    return this.tornDown;
  }
}

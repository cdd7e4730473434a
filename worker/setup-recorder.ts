import type { PageEventOf, PageEventType } from '../contracts/page-rpc.js';
import {
  addStep,
  pageArrival,
  pageStepsAt,
  startTrace,
  type PageTrace,
  type SetupOrigin,
  type SetupStep,
  type SetupStepName,
  type SetupTrace,
} from '../contracts/setup-trace.js';

/** The commands whose round trips are steps of the trace, by the step they are. */
const PAGE_COMMAND_STEPS = { 'join-room': 'page.join-room', dial: 'page.dial', answer: 'page.answer' } as const;
type TracedCommand = keyof typeof PAGE_COMMAND_STEPS;

/** The SIP leg's progress events that are steps of the trace (the first of each). */
const PROGRESS_STEPS = {
  calling: 'sip.invite',
  ringing: 'sip.ringing',
  proceeding: 'sip.ringing',
  progress: 'sip.ringing',
  accepted: 'sip.answered',
} as const;

/** What the recorder follows of the bot page: its events. */
export interface PageEvents {
  on<T extends PageEventType>(type: T, listener: (event: PageEventOf<T>) => void): () => void;
}

/** Now, in epoch milliseconds with sub-millisecond precision (the clock the whole trace is kept in). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The worker's side of a call's setup trace (contracts/setup-trace.ts): its own steps timed as they run, each traced
 * page command's round trip with the steps the page reported, the SIP leg's progress and the first media as the page's
 * events. It only reads clocks; the trace goes into the record with the call's own writes.
 */
export class SetupRecorder {
  private current: SetupTrace;
  private readonly originAt: number;
  /** When each traced command reached the page (epoch ms): the page's later steps are relative to it. */
  private readonly arrivals = new Map<TracedCommand, number>();

  constructor(originAt: number, originKind: SetupOrigin) {
    this.originAt = originAt;
    this.current = startTrace(originAt, originKind);
  }

  /**
   * The trace of a dial message: from its enqueue (SQS SentTimestamp, whole milliseconds) when the message says, else
   * from its receive; the wait in the queue is its first step.
   */
  static forMessage(message: { readonly sentAt: Date | undefined; readonly receivedAt: number }): SetupRecorder {
    if (message.sentAt === undefined) return new SetupRecorder(message.receivedAt, 'received');
    const recorder = new SetupRecorder(message.sentAt.getTime(), 'enqueued');
    recorder.span('queue.wait', message.sentAt.getTime(), message.receivedAt);
    return recorder;
  }

  get trace(): SetupTrace {
    return this.current;
  }

  /** A step that ran from `startAt` to `endAt` (epoch ms; now when left out). */
  span(step: SetupStepName, startAt: number, endAt: number = preciseNow(), extra: Pick<SetupStep, 'failed' | 'detail'> = {}): void {
    this.add({ step, at: startAt - this.originAt, ms: endAt - startAt, ...extra });
  }

  /** Something seen happen at `at` (epoch ms; now when left out). */
  event(step: SetupStepName, at: number = preciseNow(), detail?: string): void {
    this.add({ step, at: at - this.originAt, ...(detail === undefined ? {} : { detail }) });
  }

  /** Times `run` as `step`; a failure is recorded as failed and thrown on. */
  async time<T>(step: SetupStepName, run: () => Promise<T>): Promise<T> {
    const start = preciseNow();
    try {
      const result = await run();
      this.span(step, start);
      return result;
    } catch (error) {
      this.span(step, start, preciseNow(), { failed: true, detail: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  /**
   * A traced page command's round trip, sent at `sentAt` and answered now (`failed`: the page reported a failure, or
   * did not answer), with the steps the page reported in its reply.
   */
  command(command: TracedCommand, sentAt: number, trace: PageTrace | undefined, failed?: string): void {
    const repliedAt = preciseNow();
    const arrivedAt = pageArrival(sentAt, repliedAt, trace?.handledMs ?? 0);
    this.arrivals.set(command, arrivedAt);
    this.add({
      step: PAGE_COMMAND_STEPS[command],
      at: sentAt - this.originAt,
      ms: repliedAt - sentAt,
      ...(trace === undefined ? {} : { pageMs: trace.handledMs }),
      ...(failed === undefined ? {} : { failed: true as const, detail: failed }),
    });
    for (const step of pageStepsAt(this.current, arrivedAt, trace?.steps ?? [])) this.add(step);
  }

  /** Follows the page's events for the trace: late page steps, the SIP leg's progress, the first media. Returns the unsubscribe. */
  listen(bridge: PageEvents): () => void {
    const offs = [
      bridge.on('setup-steps', (event) => this.lateSteps(event)),
      bridge.on('sip-progress', (event) => {
        const step = PROGRESS_STEPS[event.event];
        if (this.current.steps.some((s) => s.step === step)) return;
        this.event(step, preciseNow(), event.code === undefined ? undefined : String(event.code));
      }),
      bridge.on('media-flowing', (event) => {
        const step = `media.${event.leg}-${event.kind}-${event.direction}` as const;
        if (!this.current.steps.some((s) => s.step === step)) this.event(step);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  private lateSteps(event: PageEventOf<'setup-steps'>): void {
    // a command whose reply has not come yet: its steps are placed as if it reached the page half a round trip ago
    const arrivedAt = this.arrivals.get(event.command) ?? preciseNow();
    for (const step of pageStepsAt(this.current, arrivedAt, event.steps)) this.add(step);
  }

  private add(step: SetupStep): void {
    this.current = addStep(this.current, step);
  }
}

import { MAX_PAGE_STEPS, MAX_STEP_DETAIL, type PageStep, type PageTrace } from '../contracts/setup-trace.js';
import { emit, errorMessage } from './host.js';

/** The commands whose steps go into the call's setup trace, after their reply too. */
type TracedCommand = 'join-room' | 'dial' | 'answer';

/**
 * Where a part of the page (a room adapter, the SIP leg) reports how long its steps of a call's setup took. Times are
 * `performance.now()`; the recorder makes them relative to the command's arrival. Costs a clock read per step.
 */
export interface StepRecorder {
  /** A step that started at `start` and ended at `end` (now, when left out). */
  span(step: string, start: number, end?: number, detail?: string): void;
  /** A step that failed after starting at `start`. */
  failed(step: string, start: number, error: unknown): void;
  /** Times `run` as `step` (a failure is recorded as failed, and thrown on). */
  time<T>(step: string, run: () => Promise<T>, detail?: string): Promise<T>;
}

/** A recorder that keeps nothing, for the parts used where no setup is traced (the lab's pages). */
export const NO_STEPS: StepRecorder = {
  span: () => undefined,
  failed: () => undefined,
  time: (_step, run) => run(),
};

/**
 * The steps of one command, measured from its arrival in the page. Until the reply they are kept and go with it
 * ({@link reply}); a traced command's steps that end later go to the worker as `setup-steps` events, a few at a time.
 */
export class CommandSteps implements StepRecorder {
  private readonly arrival = performance.now();
  private readonly steps: PageStep[] = [];
  private replied = false;
  private late: PageStep[] = [];
  private flush: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly command: string) {}

  span(step: string, start: number, end: number = performance.now(), detail?: string): void {
    this.add({ step, startMs: start - this.arrival, ms: end - start, ...(detail === undefined ? {} : { detail }) });
  }

  failed(step: string, start: number, error: unknown): void {
    this.add({ step, startMs: start - this.arrival, ms: performance.now() - start, failed: true, detail: errorMessage(error) });
  }

  async time<T>(step: string, run: () => Promise<T>, detail?: string): Promise<T> {
    const start = performance.now();
    try {
      const result = await run();
      this.span(step, start, performance.now(), detail);
      return result;
    } catch (error) {
      this.failed(step, start, error);
      throw error;
    }
  }

  /** What goes with the reply: how long the command ran, and its steps so far. Later steps go as events. */
  reply(): PageTrace {
    this.replied = true;
    return { handledMs: round(performance.now() - this.arrival), steps: this.steps.splice(0) };
  }

  private add(raw: PageStep): void {
    const step: PageStep = {
      ...raw,
      startMs: round(Math.max(0, raw.startMs)),
      ...(raw.ms === undefined ? {} : { ms: round(Math.max(0, raw.ms)) }),
      ...(raw.detail === undefined ? {} : { detail: raw.detail.slice(0, MAX_STEP_DETAIL) }),
    };
    if (!this.replied) {
      if (this.steps.length < MAX_PAGE_STEPS) this.steps.push(step);
      return;
    }
    if (!isTraced(this.command) || this.late.length >= MAX_PAGE_STEPS) return;
    this.late.push(step);
    // steps that end together go in one event
    this.flush ??= setTimeout(() => {
      this.flush = undefined;
      const steps = this.late.splice(0);
      if (steps.length > 0 && isTraced(this.command)) emit({ type: 'setup-steps', command: this.command, steps });
    }, 0);
  }
}

function isTraced(command: string): command is TracedCommand {
  return command === 'join-room' || command === 'dial' || command === 'answer';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

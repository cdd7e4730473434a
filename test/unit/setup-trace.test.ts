import { describe, expect, it } from 'vitest';
import {
  MAX_SETUP_STEPS,
  MAX_STEP_DETAIL,
  addStep,
  describeSetupTrace,
  findStep,
  pageArrival,
  pageStepsAt,
  pageTraceSchema,
  startTrace,
} from '../../contracts/setup-trace.js';
import { SetupRecorder } from '../../worker/setup-recorder.js';

const ORIGIN = Date.parse('2026-12-07T09:00:00.000Z');

describe('setup trace', () => {
  it('keeps steps in start order, rounded to a tenth of a millisecond, with details cut', () => {
    let trace = startTrace(ORIGIN, 'enqueued');
    trace = addStep(trace, { step: 'claim', at: 30.04, ms: 12.36 });
    trace = addStep(trace, { step: 'queue.wait', at: 0, ms: 20.123 });
    trace = addStep(trace, { step: 'request.validate', at: 20.2, ms: 0.4, detail: 'x'.repeat(200) });
    expect(trace.steps.map((s) => s.step)).toEqual(['queue.wait', 'request.validate', 'claim']);
    expect(trace.steps[0]).toEqual({ step: 'queue.wait', at: 0, ms: 20.1 });
    expect(trace.steps[2]).toEqual({ step: 'claim', at: 30, ms: 12.4 });
    expect(trace.steps[1]!.detail).toHaveLength(MAX_STEP_DETAIL);
    expect(trace.origin).toBe('2026-12-07T09:00:00.000Z');
  });

  it('counts the steps past its limit instead of keeping them', () => {
    let trace = startTrace(ORIGIN, 'received');
    for (let i = 0; i < MAX_SETUP_STEPS + 3; i++) trace = addStep(trace, { step: 'room.join', at: i });
    expect(trace.steps).toHaveLength(MAX_SETUP_STEPS);
    expect(trace.dropped).toBe(3);
    expect(describeSetupTrace(trace).at(-1)).toBe('(3 more steps not kept)');
  });

  it("places the page's steps from the command's arrival in the page", () => {
    const trace = startTrace(ORIGIN, 'enqueued');
    // sent at +100, replied at +400, the page ran it 280 ms: it arrived 10 ms after it was sent
    const arrived = pageArrival(ORIGIN + 100, ORIGIN + 400, 280);
    expect(arrived).toBe(ORIGIN + 110);
    const steps = pageStepsAt(trace, arrived, [{ step: 'room.join', startMs: 50, ms: 30 }]);
    expect(steps).toEqual([{ step: 'room.join', at: 160, ms: 30 }]);
  });

  it("refuses a page's step named outside the room and SIP steps", () => {
    expect(pageTraceSchema.safeParse({ handledMs: 3, steps: [{ step: 'claim', startMs: 0 }] }).success).toBe(false);
    expect(pageTraceSchema.safeParse({ handledMs: 3, steps: [{ step: 'sip.offer', startMs: 0, ms: 2 }] }).success).toBe(true);
  });

  it('reads as lines with the INVITE and the first audio as milestones', () => {
    let trace = startTrace(ORIGIN, 'enqueued');
    trace = addStep(trace, { step: 'page.dial', at: 200, ms: 40, pageMs: 35 });
    trace = addStep(trace, { step: 'sip.invite', at: 245 });
    trace = addStep(trace, { step: 'media.sip-audio-out', at: 900 });
    const lines = describeSetupTrace(trace);
    expect(lines[0]).toBe('from the enqueue (SQS SentTimestamp) at 2026-12-07T09:00:00.000Z');
    expect(lines[1]).toMatch(/^\+ +200\.0 ms {2}page\.dial +40\.0 ms \(page 35\.0 ms\)$/);
    expect(lines.at(-1)).toBe('from the origin: INVITE sent 245.0 ms, first audio to the phone 900.0 ms');
  });
});

describe('the worker side of the trace', () => {
  it("starts at the enqueue with the queue's wait, and takes a command's page steps and the SIP leg's progress", () => {
    const recorder = SetupRecorder.forMessage({ sentAt: new Date(ORIGIN), receivedAt: ORIGIN + 25 });
    const listeners = new Map<string, (event: never) => void>();
    recorder.listen({
      on: (type, listener) => {
        listeners.set(type, listener as (event: never) => void);
        return () => listeners.delete(type);
      },
    });
    recorder.command('dial', ORIGIN + 100, { handledMs: 10, steps: [{ step: 'sip.call', startMs: 1, ms: 8 }] });
    const progress = listeners.get('sip-progress') as (event: { type: 'sip-progress'; event: string; code?: number }) => void;
    progress({ type: 'sip-progress', event: 'calling' });
    progress({ type: 'sip-progress', event: 'ringing', code: 180 });
    progress({ type: 'sip-progress', event: 'progress', code: 183 });
    const trace = recorder.trace;
    expect(trace.originKind).toBe('enqueued');
    expect(trace.steps[0]).toEqual({ step: 'queue.wait', at: 0, ms: 25 });
    expect(trace.steps.map((s) => s.step)).toEqual(['queue.wait', 'page.dial', 'sip.call', 'sip.invite', 'sip.ringing']);
    expect(findStep(trace, 'page.dial')?.pageMs).toBe(10);
    expect(findStep(trace, 'sip.ringing')?.detail).toBe('180');
    // the page's step lies inside its command's round trip
    const dial = findStep(trace, 'page.dial')!;
    const call = findStep(trace, 'sip.call')!;
    expect(call.at).toBeGreaterThanOrEqual(dial.at);
    expect(call.at + call.ms!).toBeLessThanOrEqual(dial.at + dial.ms! + 0.2);
  });
});

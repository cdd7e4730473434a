import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import { callsView } from '../../lab/dashboard/call-list.js';
import { DashboardAggregator, histogram, reduce } from '../../lab/dashboard/dashboard-state.js';
import { CallMetrics } from '../../worker/aws/emf-metrics.js';

/** EMF lines as a worker writes them (the real CallMetrics), at a clock the test moves. */
function worker(namespace?: string) {
  const lines: string[] = [];
  let now = Date.UTC(2026, 11, 7, 9, 0, 10);
  const metrics = new CallMetrics({ deployment: 'lab', write: (line) => lines.push(line), now: () => now, ...(namespace === undefined ? {} : { namespace }) });
  return { metrics, lines, at: (ms: number) => (now = ms) };
}
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const MINUTE = 60_000;

function chart(state: ReturnType<DashboardAggregator['state']>, id: string, label: string) {
  return state.charts.find((c) => c.id === id)?.series.find((s) => s.label === label)?.values;
}

describe('the lab dashboard state, from EMF lines', () => {
  it('counts calls started, connected, ended and failed per minute, and failures per reason', () => {
    const { metrics, lines, at } = worker();
    at(T0 + 5_000);
    metrics.callStarted();
    metrics.callStarted();
    metrics.callConnected(1200);
    at(T0 + MINUTE + 1_000);
    metrics.callFailed('SIP_BUSY');
    metrics.callEnded(30);
    const aggregator = new DashboardAggregator({ windowMinutes: 3 });
    for (const line of lines) expect(aggregator.add(line)).toBe(true);

    const state = aggregator.state(T0 + 2 * MINUTE + 5_000);

    expect(state.minutes).toEqual([T0 / 1000, T0 / 1000 + 60, T0 / 1000 + 120]);
    expect(chart(state, 'calls', 'Started')).toEqual([2, null, null]);
    expect(chart(state, 'calls', 'Connected')).toEqual([1, null, null]);
    expect(chart(state, 'calls', 'Failed')).toEqual([null, 1, null]);
    expect(chart(state, 'calls', 'Ended')).toEqual([null, 1, null]);
    expect(chart(state, 'failed', 'SIP_BUSY')).toEqual([null, 1, null]);
    expect(chart(state, 'failed', 'SIP_DECLINED')).toEqual([null, null, null]);
    expect(chart(state, 'duration', 'max')).toEqual([null, 30, null]);
    expect(state.totals).toEqual({ started: 2, connected: 1, ended: 1, failed: 1, failedByReason: { SIP_BUSY: 1 } });
    expect(state.lines).toBe(5);
  });

  it('gives setup time per minute as p50 and p95, and its distribution in bins', () => {
    const { metrics, lines, at } = worker();
    at(T0 + 1_000);
    for (const ms of [100, 200, 300, 400, 500, 600, 700, 800, 900, 2600]) metrics.callConnected(ms);
    const aggregator = new DashboardAggregator({ windowMinutes: 1, setupBinMs: 1000 });
    for (const line of lines) aggregator.add(line);

    const state = aggregator.state(T0 + 30_000);

    expect(chart(state, 'setup', 'p50')).toEqual([500]);
    expect(chart(state, 'setup', 'p95')).toEqual([2600]);
    expect(state.setupTime).toEqual({
      count: 10,
      p50Ms: 500,
      p95Ms: 2600,
      histogram: [
        { fromMs: 0, toMs: 1000, count: 9 },
        { fromMs: 1000, toMs: 2000, count: 0 },
        { fromMs: 2000, toMs: 3000, count: 1 },
      ],
    });
  });

  it('gives each leg\'s received loss, jitter and concealment as the quality chart and the mean per leg', () => {
    const { metrics, lines, at } = worker();
    at(T0 + 1_000);
    metrics.callQuality({ sampledAt: '', sip: { audioIn: { packets: 1, lossRate: 0.02, jitterMs: 10, concealmentRate: 0.01 } }, room: { audioIn: { packets: 1, lossRate: 0, jitterMs: 4 } } });
    metrics.callQuality({ sampledAt: '', sip: { audioIn: { packets: 1, lossRate: 0.04, jitterMs: 30, concealmentRate: 0.03 } }, room: { audioIn: { packets: 1, jitterMs: 8 } } });
    const aggregator = new DashboardAggregator({ windowMinutes: 1 });
    for (const line of lines) aggregator.add(line);

    const state = aggregator.state(T0 + 2_000);

    expect(chart(state, 'quality', 'SIP loss %')?.[0]).toBeCloseTo(3);
    expect(chart(state, 'quality', 'SIP concealment %')?.[0]).toBeCloseTo(2);
    expect(chart(state, 'quality', 'SIP jitter p95 ms')).toEqual([30]);
    expect(chart(state, 'quality', 'Room jitter p95 ms')).toEqual([8]);
    expect(state.charts.find((c) => c.id === 'quality')?.series.filter((s) => s.right).map((s) => s.label)).toEqual(['SIP jitter p95 ms', 'Room jitter p95 ms']);
    expect(state.legs.sip.lossPct).toBeCloseTo(3);
    expect(state.legs.sip.jitterMs).toBeCloseTo(20);
    expect(state.legs.sip.concealmentPct).toBeCloseTo(2);
    expect(state.legs.room).toEqual({ lossPct: 0, jitterMs: 6 });
  });

  it('counts idle and busy workers as the Sum of the latest minute\'s samples (one per worker per minute)', () => {
    const { metrics, lines, at } = worker();
    at(T0 + 10_000);
    metrics.workerState('idle');
    metrics.workerState('idle');
    at(T0 + MINUTE + 10_000);
    metrics.workerState('idle');
    metrics.workerState('busy');
    metrics.workerState('starting');
    const aggregator = new DashboardAggregator({ windowMinutes: 2 });
    expect(new DashboardAggregator().state(T0).workers).toEqual({ idle: null, busy: null, minute: null });
    for (const line of lines) aggregator.add(line);

    const state = aggregator.state(T0 + MINUTE + 20_000);

    expect(state.workers).toEqual({ idle: 1, busy: 1, minute: (T0 + MINUTE) / 1000 });
    expect(chart(state, 'pool', 'Idle workers')).toEqual([2, 1]);
    expect(chart(state, 'pool', 'Busy workers')).toEqual([0, 1]);
  });

  it('ignores log lines, broken JSON, other namespaces, unknown metrics and units that are not the metric\'s', () => {
    const other = worker('Someone/Else');
    other.metrics.callStarted();
    const doc = (name: string, unit: string) =>
      JSON.stringify({ _aws: { Timestamp: T0, CloudWatchMetrics: [{ Namespace: 'Roomline', Dimensions: [['Deployment']], Metrics: [{ Name: name, Unit: unit }] }] }, Deployment: 'lab', [name]: 1 });
    const aggregator = new DashboardAggregator({ windowMinutes: 1 });
    const lines = ['{"level":30,"msg":"call connected"}', '{"_aws": {', ...other.lines, doc('CallsStarted', 'Seconds'), doc('Invented', 'Count'), doc('CallsStarted', 'Count')];

    expect(lines.map((line) => aggregator.add(line))).toEqual([false, false, false, false, false, true]);
    expect(aggregator.state(T0).totals.started).toBe(1);
  });

  it('reduces a period by nearest-rank percentiles and leaves an empty one without data', () => {
    expect(reduce([], 'Sum')).toBeNull();
    expect(reduce(undefined, 'p95')).toBeNull();
    expect(reduce([5, 1, 3], 'p50')).toBe(3);
    expect(reduce([5, 1, 3], 'Maximum')).toBe(5);
    expect(reduce([5, 1, 3], 'Average')).toBe(3);
    expect(histogram([], 500)).toEqual([]);
  });
});

describe('the calls list', () => {
  const record = (callId: string, state: CallRecord['state'], createdAt: string, extra: Partial<CallRecord> = {}): CallRecord => ({
    callId,
    state,
    revision: 1,
    createdAt,
    updatedAt: createdAt,
    attempts: 1,
    history: [
      { state: 'QUEUED', at: createdAt },
      { state: 'QUEUED', at: createdAt, detail: 'an event that changes no state' },
      { state, at: createdAt, detail: 'now' },
    ],
    ...extra,
  });

  it('counts every state (zero included) and lists the newest calls first with their failure and state changes', () => {
    const view = callsView([
      record('a', 'ENDED', '2026-12-07T09:00:00.000Z', { to: 'sip:probe@127.0.0.1' }),
      record('b', 'FAILED', '2026-12-07T09:01:00.000Z', { failure: { code: 'SIP_BUSY', reason: '486 Busy Here', retryable: false, fault: 'remote' } }),
      record('c', 'CONNECTED', '2026-12-07T09:02:00.000Z'),
    ]);

    expect(view.byState).toEqual({ QUEUED: 0, CLAIMED: 0, JOINING: 0, DIALING: 0, RINGING: 0, CONNECTED: 1, ON_HOLD: 0, ENDED: 1, FAILED: 1 });
    expect(view.calls.map((c) => c.callId)).toEqual(['c', 'b', 'a']);
    expect(view.calls[1]?.failure).toBe('SIP_BUSY');
    expect(view.calls[2]?.to).toBe('sip:probe@127.0.0.1');
    expect(view.calls[2]?.history).toEqual([
      { state: 'QUEUED', at: '2026-12-07T09:00:00.000Z', detail: undefined },
      { state: 'ENDED', at: '2026-12-07T09:00:00.000Z', detail: 'now' },
    ]);
  });
});

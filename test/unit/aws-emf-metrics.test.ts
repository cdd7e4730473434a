import { describe, expect, it, vi } from 'vitest';
import type { QualitySummary } from '../../contracts/call-record.js';
import { CallMetrics, WorkerStateGauge, type EmfDocument } from '../../worker/aws/emf-metrics.js';
import { METRIC_DIMENSIONS, METRICS } from '../../worker/aws/metric-names.js';

/** A CallMetrics whose EMF lines are kept, parsed, in `docs`. */
function capture(options: { deployment?: string; namespace?: string; now?: () => number } = {}) {
  const lines: string[] = [];
  const metrics = new CallMetrics({ deployment: options.deployment ?? 'prod', write: (line) => lines.push(line), ...options });
  return { metrics, lines, docs: () => lines.map((line) => JSON.parse(line) as EmfDocument) };
}

/** The metric values a document declares, by name, checked against its `_aws` metadata. */
function declared(doc: EmfDocument): Record<string, { value: unknown; unit: string }> {
  const directive = doc._aws.CloudWatchMetrics[0];
  if (directive === undefined) throw new Error('no metric directive');
  return Object.fromEntries(directive.Metrics.map((m) => [m.Name, { value: doc[m.Name], unit: m.Unit }]));
}

describe('EMF call metrics', () => {
  it('writes one valid EMF document per line, in the namespace, with the deployment dimension and a timestamp', () => {
    // Prepare
    const { metrics, lines, docs } = capture({ deployment: 'stack-a', namespace: 'Roomline/Test', now: () => 1_700_000_000_000 });

    // Act
    metrics.callStarted();

    // Assess
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [doc] = docs();
    expect(doc?._aws.Timestamp).toBe(1_700_000_000_000);
    expect(doc?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Roomline/Test',
        Dimensions: [[METRIC_DIMENSIONS.deployment]],
        Metrics: [{ Name: METRICS.callsStarted.name, Unit: 'Count' }],
      },
    ]);
    expect(doc?.[METRIC_DIMENSIONS.deployment]).toBe('stack-a');
    expect(doc?.[METRICS.callsStarted.name]).toBe(1);
  });

  it('uses the Roomline namespace unless told otherwise', () => {
    // Prepare
    const { metrics, docs } = capture();

    // Act
    metrics.callStarted();

    // Assess
    expect(docs()[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('Roomline');
  });

  it('records a connected call with its setup time in milliseconds', () => {
    // Prepare
    const { metrics, docs } = capture();

    // Act
    metrics.callConnected(1234);

    // Assess
    expect(declared(docs()[0]!)).toEqual({
      CallsConnected: { value: 1, unit: 'Count' },
      SetupTime: { value: 1234, unit: 'Milliseconds' },
    });
  });

  it('counts a failure both in total and per reason, with the error code as the only extra dimension', () => {
    // Prepare
    const { metrics, docs } = capture();

    // Act
    metrics.callFailed('SIP_BUSY');

    // Assess
    const [doc] = docs();
    expect(doc?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Deployment'], ['Deployment', 'Reason']]);
    expect(doc?.['Reason']).toBe('SIP_BUSY');
    expect(declared(doc!)).toEqual({ CallsFailed: { value: 1, unit: 'Count' } });
  });

  it('records an ended call with its duration in seconds', () => {
    // Prepare
    const { metrics, docs } = capture();

    // Act
    metrics.callEnded(95.5);

    // Assess
    expect(declared(docs()[0]!)).toEqual({
      CallsEnded: { value: 1, unit: 'Count' },
      CallDuration: { value: 95.5, unit: 'Seconds' },
    });
  });

  it('turns a quality summary into loss and concealment percentages and jitter, leaving out what was not measured', () => {
    // Prepare
    const { metrics, docs } = capture();
    const quality: QualitySummary = {
      sampledAt: '2026-01-01T00:00:00.000Z',
      sip: { audioIn: { packets: 1000, lossRate: 0.02, jitterMs: 12, concealmentRate: 0.005 } },
      room: { audioIn: { packets: 1000, jitterMs: 4 } },
    };

    // Act
    metrics.callQuality(quality);

    // Assess
    expect(declared(docs()[0]!)).toEqual({
      SipAudioLoss: { value: 2, unit: 'Percent' },
      SipAudioJitter: { value: 12, unit: 'Milliseconds' },
      SipAudioConcealment: { value: 0.5, unit: 'Percent' },
      RoomAudioJitter: { value: 4, unit: 'Milliseconds' },
    });
  });

  it('writes nothing for a quality summary without audio figures, or for values that are not finite', () => {
    // Prepare
    const { metrics, lines } = capture();

    // Act
    metrics.callQuality({ sampledAt: '2026-01-01T00:00:00.000Z', sip: {}, room: {} });
    metrics.callEnded(Number.NaN);

    // Assess
    const ended = lines.map((l) => JSON.parse(l) as EmfDocument);
    expect(ended).toHaveLength(1);
    expect(declared(ended[0]!)).toEqual({ CallsEnded: { value: 1, unit: 'Count' } });
  });

  it('never writes a call id, worker id or phone number as a dimension', () => {
    // Prepare
    const { metrics, docs } = capture();

    // Act
    metrics.callStarted();
    metrics.callConnected(10);
    metrics.callFailed('SIP_NO_ANSWER');
    metrics.callEnded(1);
    metrics.workerState('idle');

    // Assess
    const dimensionNames = new Set(docs().flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Dimensions.flat())));
    expect([...dimensionNames].sort()).toEqual(['Deployment', 'Reason']);
  });

  it('reports an idle worker as IdleWorkers 1 / BusyWorkers 0, a busy one the other way round, a starting one not at all', () => {
    // Prepare
    const { metrics, docs } = capture();

    // Act
    metrics.workerState('starting');
    metrics.workerState('idle');
    metrics.workerState('busy');

    // Assess
    expect(docs().map(declared)).toEqual([
      { IdleWorkers: { value: 1, unit: 'Count' }, BusyWorkers: { value: 0, unit: 'Count' } },
      { IdleWorkers: { value: 0, unit: 'Count' }, BusyWorkers: { value: 1, unit: 'Count' } },
    ]);
  });
});

describe('worker state gauge', () => {
  it('samples at its second of each minute: later in the same minute, or in the next one', () => {
    // Prepare
    const { metrics } = capture();
    const gauge = new WorkerStateGauge(metrics, { secondOfMinute: 20 });
    const minute = Date.UTC(2026, 0, 1, 12, 0, 0);

    // Act
    const before = gauge.delayUntilNextSample(minute + 5_000);
    const exactly = gauge.delayUntilNextSample(minute + 20_000);
    const after = gauge.delayUntilNextSample(minute + 50_000);

    // Assess
    expect(before).toBe(15_000);
    expect(exactly).toBe(60_000);
    expect(after).toBe(30_000);
  });

  it('sends exactly one sample per minute with the latest state', async () => {
    // Prepare
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 12, 0, 0) });
    try {
      const { metrics, docs } = capture({ now: () => Date.now() });
      const gauge = new WorkerStateGauge(metrics, { secondOfMinute: 10 });

      // Act
      gauge.start();
      gauge.start();
      gauge.set('idle');
      await vi.advanceTimersByTimeAsync(60_000);
      gauge.set('busy');
      await vi.advanceTimersByTimeAsync(60_000);
      gauge.stop();
      await vi.advanceTimersByTimeAsync(180_000);

      // Assess
      const samples = docs().map((d) => ({ at: new Date(d._aws.Timestamp).toISOString(), idle: d['IdleWorkers'] }));
      expect(samples).toEqual([
        { at: '2026-01-01T12:00:10.000Z', idle: 1 },
        { at: '2026-01-01T12:01:10.000Z', idle: 0 },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a second of the minute outside 0..59', () => {
    // Prepare
    const { metrics } = capture();

    // Act
    const make = () => new WorkerStateGauge(metrics, { secondOfMinute: 60 });

    // Assess
    expect(make).toThrow(/0 to 59/);
  });
});

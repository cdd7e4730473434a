import type { CallRecord } from '../contracts/call-record.js';
import type { CallMetrics } from './aws/index.js';

/** Call metrics from a state change of a call record: connected (with its setup time), ended, failed, and quality. */
export function recordStateMetrics(metrics: CallMetrics, record: CallRecord): void {
  const at = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));
  const enqueued = at(record.timings?.enqueuedAt);
  const answered = at(record.timings?.answeredAt);
  switch (record.state) {
    case 'CONNECTED':
      if (enqueued !== undefined && answered !== undefined) metrics.callConnected(answered - enqueued);
      break;
    case 'ENDED': {
      const ended = at(record.timings?.endedAt);
      metrics.callEnded(answered === undefined || ended === undefined ? 0 : (ended - answered) / 1000);
      break;
    }
    case 'FAILED':
      metrics.callFailed(record.failure?.code ?? 'INTERNAL');
      break;
    default:
      break;
  }
  if ((record.state === 'ENDED' || record.state === 'FAILED') && record.quality !== undefined) {
    metrics.callQuality(record.quality);
  }
}

import type { QualitySummary } from '../../contracts/call-record.js';
import { legQuality, type LegQualityPoint } from '../plots/series.js';

/**
 * The density run's quality bar: whether a call held loss < 1% and concealment < 2% on both legs over a held window,
 * and, for a level that failed, why in the bar's terms.
 */

/**
 * Why a density level failed, in the bar's terms: calls that did not stay up, loss, concealment; with how often the
 * cgroup's quota held the bridges back (the CPU budget running out is what a loss or concealment then comes from).
 */
export function failureCause(
  badCalls: number,
  calls: number,
  worstState: string,
  worst: { readonly loss?: number; readonly concealment?: number; readonly summary: string },
  throttledShare: number,
): string {
  const causes: string[] = [];
  if (worstState !== 'ENDED') causes.push(`a call ended ${worstState}`);
  if (worst.loss !== undefined && worst.loss >= 0.01) causes.push(`loss ${(worst.loss * 100).toFixed(2)}%`);
  if (worst.concealment !== undefined && worst.concealment >= 0.02) causes.push(`concealment ${(worst.concealment * 100).toFixed(2)}%`);
  if (causes.length === 0) causes.push(worst.summary);
  const quota = throttledShare >= 0.1 ? `quota throttling in ${(throttledShare * 100).toFixed(0)}% of periods` : 'no quota throttling to speak of';
  return `${badCalls} of ${calls} calls missed the bar (worst: ${causes.join(', ')}; ${worst.summary}); ${quota}`;
}

/** Loss and concealment of the audio received on each leg between two quality samples. */
export function qualityWindow(
  before: QualitySummary | undefined,
  after: QualitySummary | undefined,
): { good: boolean; summary: string; loss?: number; concealment?: number; legs: { sip?: LegQualityPoint; room?: LegQualityPoint } } {
  if (before === undefined || after === undefined) return { good: false, summary: 'no quality samples', legs: {} };
  const leg = (name: 'sip' | 'room') => {
    const a = before[name].audioIn;
    const b = after[name].audioIn;
    if (a === undefined || b === undefined) return { good: false, text: `${name}: no audio`, loss: undefined, concealment: undefined, point: undefined };
    const packets = b.packets - a.packets;
    const lost = (b.packetsLost ?? 0) - (a.packetsLost ?? 0);
    const samples = (b.samples ?? 0) - (a.samples ?? 0);
    const concealed = (b.concealedSamples ?? 0) - (a.concealedSamples ?? 0);
    const loss = packets + lost > 0 ? lost / (packets + lost) : 1;
    const concealment = samples > 0 ? concealed / samples : 1;
    return {
      good: packets > 0 && loss < 0.01 && concealment < 0.02,
      loss,
      concealment,
      text: `${name} loss ${(loss * 100).toFixed(2)}%, concealed ${(concealment * 100).toFixed(2)}%`,
      point: legQuality({ packets, lost, samples, concealed }),
    };
  };
  const sip = leg('sip');
  const room = leg('room');
  const worst = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
  return {
    good: sip.good && room.good,
    summary: `${sip.text}; ${room.text}`,
    loss: worst(sip.loss, room.loss),
    concealment: worst(sip.concealment, room.concealment),
    legs: { ...(sip.point === undefined ? {} : { sip: sip.point }), ...(room.point === undefined ? {} : { room: room.point }) },
  };
}

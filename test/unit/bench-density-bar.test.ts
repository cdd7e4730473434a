import { describe, expect, it } from 'vitest';
import type { QualitySummary } from '../../contracts/call-record.js';
import { failureCause, qualityWindow } from '../../bench/lib/density-bar.js';

/** A quality sample whose legs received `packets` packets, `lost` lost, `concealed` of `samples` samples concealed. */
function sample(sip: { packets: number; lost: number; samples: number; concealed: number }, room = sip): QualitySummary {
  const leg = (l: typeof sip) => ({
    audioIn: { codec: 'opus', packets: l.packets, packetsLost: l.lost, lossRate: 0, samples: l.samples, concealedSamples: l.concealed },
  });
  return { sampledAt: new Date().toISOString(), sip: leg(sip), room: leg(room) } as unknown as QualitySummary;
}

describe('the density bar', () => {
  const start = sample({ packets: 0, lost: 0, samples: 0, concealed: 0 });

  it('passes a window with no loss and little concealment on both legs', () => {
    const window = qualityWindow(start, sample({ packets: 1_500, lost: 0, samples: 1_440_000, concealed: 1_000 }));
    expect(window.good).toBe(true);
  });

  it('names concealment and the quota throttling behind it as why a level failed', () => {
    const after = sample({ packets: 1_500, lost: 0, samples: 1_440_000, concealed: 0 }, { packets: 1_500, lost: 0, samples: 1_440_000, concealed: 72_000 });
    const window = qualityWindow(start, after);

    expect(window.good).toBe(false);
    const why = failureCause(3, 8, 'ENDED', window, 0.4);
    expect(why).toContain('3 of 8 calls missed the bar');
    expect(why).toContain('concealment 5.00%');
    expect(why).toContain('(worst: concealment 5.00%;');
    expect(why).toContain('quota throttling in 40% of periods');
  });

  it('names loss, and a call that did not end cleanly', () => {
    const window = qualityWindow(start, sample({ packets: 980, lost: 20, samples: 1_440_000, concealed: 0 }));
    const why = failureCause(1, 4, 'FAILED', window, 0);

    expect(why).toContain('a call ended FAILED');
    expect(why).toContain('loss 2.00%');
    expect(why).toContain('no quota throttling to speak of');
  });
});

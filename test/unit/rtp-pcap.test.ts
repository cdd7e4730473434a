import { describe, expect, it } from 'vitest';
import { G711, linearToAlaw, linearToUlaw, toneRtpPcap } from '../../lab/rtp-pcap.js';

/** Reference G.711 decoders (ITU-T G.711), to check the encoders by round trip. */
function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let value = (a & 0x0f) << 4;
  value = exponent === 0 ? value + 8 : (value + 0x108) << (exponent - 1);
  return a & 0x80 ? value : -value;
}
function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  let value = ((u & 0x0f) << 3) + 0x84;
  value <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - value : value - 0x84;
}

describe('G.711 tone pcap for SIPp', () => {
  it('encodes A-law and mu-law as the reference coder does, within its quantisation', () => {
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToUlaw(0)).toBe(0xff);
    for (const sample of [-32_000, -5_000, -300, -8, 7, 250, 4_096, 20_000, 32_767]) {
      const step = Math.max(16, Math.abs(sample) / 16);
      expect(Math.abs(alawToLinear(linearToAlaw(sample)) - sample), `A-law ${sample}`).toBeLessThanOrEqual(step);
      expect(Math.abs(ulawToLinear(linearToUlaw(sample)) - sample), `mu-law ${sample}`).toBeLessThanOrEqual(step);
    }
  });

  it('writes one RTP packet of 160 samples per 20 ms, with pcap, IPv4 and UDP headers SIPp can read', () => {
    const pcap = toneRtpPcap({ hz: 700, seconds: 1, payloadType: G711.PCMA });

    expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
    const packetBytes = 16 + 14 + 20 + 8 + 12 + 160;
    expect(pcap.length).toBe(24 + 50 * packetBytes);
    const second = 24 + packetBytes;
    expect(pcap.readUInt32LE(second + 4)).toBe(20_000);
    const rtp = second + 16 + 14 + 20 + 8;
    expect(pcap[rtp + 1]).toBe(G711.PCMA);
    expect(pcap.readUInt32BE(rtp + 4)).toBe(160);
  });
});

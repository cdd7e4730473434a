/**
 * A pcap file of one RTP stream carrying a G.711 tone, for SIPp's `play_pcap_audio` (which replays the UDP payloads
 * of a capture with their timing): scripted peers then send a known tone the room can be checked for, instead of
 * the quiet speech sample Debian's sip-tester ships.
 */

const PACKET_MS = 20;
const SAMPLES_PER_PACKET = 160;

/** G.711 payload types. */
export const G711 = { PCMU: 0, PCMA: 8 } as const;

/** The bytes of a pcap (Ethernet, IPv4, UDP, RTP) of `seconds` of a `hz` tone at -10 dBFS, 20 ms per packet. */
export function toneRtpPcap(options: { hz: number; seconds: number; payloadType: (typeof G711)[keyof typeof G711] }): Buffer {
  const packets = Math.round((options.seconds * 1000) / PACKET_MS);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65_535, 16);
  header.writeUInt32LE(1, 20); // Ethernet
  const parts = [header];
  const amplitude = 0.316 * 32_767;
  for (let n = 0; n < packets; n++) {
    const payload = Buffer.alloc(SAMPLES_PER_PACKET);
    for (let i = 0; i < SAMPLES_PER_PACKET; i++) {
      const t = (n * SAMPLES_PER_PACKET + i) / 8000;
      const sample = Math.round(amplitude * Math.sin(2 * Math.PI * options.hz * t));
      payload[i] = options.payloadType === G711.PCMA ? linearToAlaw(sample) : linearToUlaw(sample);
    }
    const rtp = Buffer.alloc(12);
    rtp[0] = 0x80;
    rtp[1] = (n === 0 ? 0x80 : 0) | options.payloadType;
    rtp.writeUInt16BE(n & 0xffff, 2);
    rtp.writeUInt32BE(n * SAMPLES_PER_PACKET, 4);
    rtp.writeUInt32BE(0x524c4e45, 8);
    const udpLength = 8 + rtp.length + payload.length;
    const frame = Buffer.alloc(14 + 20 + 8);
    frame.writeUInt16BE(0x0800, 12);
    frame[14] = 0x45;
    frame.writeUInt16BE(20 + udpLength, 16);
    frame[22] = 64;
    frame[23] = 17;
    frame.set([127, 0, 0, 1], 26);
    frame.set([127, 0, 0, 1], 30);
    frame.writeUInt16BE(ipChecksum(frame.subarray(14, 34)), 24);
    frame.writeUInt16BE(4_000, 34);
    frame.writeUInt16BE(4_002, 36);
    frame.writeUInt16BE(udpLength, 38);
    const packet = Buffer.concat([frame, rtp, payload]);
    const record = Buffer.alloc(16);
    const ms = n * PACKET_MS;
    record.writeUInt32LE(Math.floor(ms / 1000), 0);
    record.writeUInt32LE((ms % 1000) * 1000, 4);
    record.writeUInt32LE(packet.length, 8);
    record.writeUInt32LE(packet.length, 12);
    parts.push(record, packet);
  }
  return Buffer.concat(parts);
}

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Upper ends of the eight G.711 segments (ITU-T G.711, as in the reference coder). */
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
const ULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;

function segment(value: number, ends: readonly number[]): number {
  const index = ends.findIndex((end) => value <= end);
  return index < 0 ? ends.length : index;
}

/** G.711 A-law of a 16-bit sample. */
export function linearToAlaw(sample: number): number {
  let value = Math.max(-32_768, Math.min(32_767, Math.round(sample))) >> 3;
  let mask = 0xd5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const seg = segment(value, ALAW_SEGMENT_ENDS);
  if (seg >= 8) return 0x7f ^ mask;
  const quantised = seg < 2 ? (value >> 1) & 0x0f : (value >> seg) & 0x0f;
  return ((seg << 4) | quantised) ^ mask;
}

/** G.711 mu-law of a 16-bit sample. */
export function linearToUlaw(sample: number): number {
  let value = Math.max(-32_768, Math.min(32_767, Math.round(sample))) >> 2;
  let mask = 0xff;
  if (value < 0) {
    value = -value;
    mask = 0x7f;
  }
  value = Math.min(value, 8_159) + (0x84 >> 2);
  const seg = segment(value, ULAW_SEGMENT_ENDS);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((value >> (seg + 1)) & 0x0f)) ^ mask;
}

import { describe, expect, it } from 'vitest';
import { withRelayConcealment } from '../../bot-page/media/stats.js';
import { TelephoneEventReader } from '../../bot-page/media/telephone-events.js';
import { negotiatesTelephoneEvents } from '../../bot-page/sip/sip-call.js';

/** An RFC 4733 payload: event, end bit, volume, duration. */
function payload(event: number, end: boolean, duration: number): ArrayBuffer {
  return new Uint8Array([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]).buffer;
}

/** The packets a phone sends for one key press at `timestamp`: updates, then the end packet three times. */
function press(event: number, timestamp: number): Array<[ArrayBuffer, number]> {
  return [
    [payload(event, false, 160), timestamp],
    [payload(event, false, 320), timestamp],
    [payload(event, false, 480), timestamp],
    [payload(event, true, 640), timestamp],
    [payload(event, true, 640), timestamp],
    [payload(event, true, 640), timestamp],
  ];
}

describe('TelephoneEventReader', () => {
  it('counts each key press once, repeated digits and all sixteen DTMF events included', () => {
    const reader = new TelephoneEventReader();
    const events = [4, 10, 7, 11, 7, 7, 0, 15];
    const packets = events.flatMap((event, i) => press(event, 8_000 * (i + 1)));

    const digits = packets.map(([data, ts]) => reader.read(data, ts)).filter((d) => d !== undefined);

    expect(digits.join('')).toBe('4*7#770D');
  });

  it('tells presses apart by their end packets where frames carry no timestamp', () => {
    const reader = new TelephoneEventReader();
    const packets = [...press(5, 0), ...press(5, 0), ...press(9, 0)];

    const digits = packets.map(([data]) => reader.read(data, undefined)).filter((d) => d !== undefined);

    expect(digits.join('')).toBe('559');
  });

  it('reads no digit from events that are not DTMF, nor from a short payload', () => {
    const reader = new TelephoneEventReader();

    expect(reader.read(payload(16, false, 160), 1)).toBeUndefined(); // flash
    expect(reader.read(payload(32, false, 160), 2)).toBeUndefined(); // a tone event
    expect(reader.read(new Uint8Array([1, 0]).buffer, 3)).toBeUndefined();
  });
});

describe('negotiatesTelephoneEvents', () => {
  it('finds an rtpmap of telephone-event at any rate, and nothing in an SDP without one', () => {
    const audio = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n';

    expect(negotiatesTelephoneEvents(`${audio}a=rtpmap:101 telephone-event/8000\r\n`)).toBe(true);
    expect(negotiatesTelephoneEvents(`${audio}a=rtpmap:126 TELEPHONE-EVENT/48000\r\n`)).toBe(true);
    expect(negotiatesTelephoneEvents(audio)).toBe(false);
    expect(negotiatesTelephoneEvents(undefined)).toBe(false);
  });
});

describe('withRelayConcealment', () => {
  it('judges undecoded audio by the frames its forwarded direction left unsent or dropped', () => {
    const leg = { audioIn: { codec: 'opus', packets: 500, lossRate: 0, concealmentRate: 0.9, samples: 9_600, concealedSamples: 8_640, jitterBufferMs: 20 } };
    const path = { mode: 'forward' as const, forwardedFrames: 490, encodedFrames: 5, droppedFrames: 1, skippedFrames: 5, switches: 2 };

    const judged = withRelayConcealment(leg, path);

    expect(judged.audioIn).toEqual({
      codec: 'opus',
      packets: 500,
      lossRate: 0,
      samples: 500 * 960,
      concealedSamples: 6 * 960,
      concealmentRate: 0.012,
      concealmentFrom: 'relay',
    });
  });
});

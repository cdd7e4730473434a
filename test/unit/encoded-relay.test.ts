import { describe, expect, it } from 'vitest';
import {
  CONFIRM_SLOTS,
  MAX_QUEUE,
  MAX_SKIPPED_SLOTS,
  RelayCore,
  TRIM_WINDOW_SLOTS,
  type RelayFrame,
  type RelayNotice,
} from '../../bot-page/media/encoded-relay-core.js';

/** An encoded audio frame as the transform worker sees it: a payload and its metadata. */
function frame(payload: number, rtpTimestamp: number, mimeType = 'audio/opus'): RelayFrame {
  return { data: new Uint8Array([payload]).buffer, getMetadata: () => ({ mimeType, rtpTimestamp }) };
}

const payloadOf = (f: RelayFrame) => new Uint8Array(f.data)[0];

/** A relay whose two senders have each sent one frame of their own (which tells the relay their codec). */
function relay(): { core: RelayCore; notices: RelayNotice[] } {
  const notices: RelayNotice[] = [];
  const core = new RelayCore((n) => notices.push(n));
  core.slot('room-to-sip', frame(0, 2 ** 32 - 960));
  core.slot('sip-to-room', frame(0, 2 ** 32 - 960));
  return { core, notices };
}

describe('the encoded relay', () => {
  it('puts each received payload, in order, into the frames the other leg sends', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'speaker');
    const sent: number[] = [];

    for (let i = 0; i < 10; i += 1) {
      core.source('speaker', frame(100 + i, 1_000 + i * 960));
      const slot = frame(0, i * 960);
      core.slot('room-to-sip', slot);
      sent.push(payloadOf(slot)!);
    }

    expect(sent).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(core.counters()['room-to-sip']).toMatchObject({ forwardedFrames: 10, encodedFrames: 1, droppedFrames: 0 });
  });

  it('says forwarding holds only after enough consecutive forwarded frames', () => {
    const { core, notices } = relay();
    core.forward('sip-to-room', 'phone');

    for (let i = 0; i < CONFIRM_SLOTS - 1; i += 1) {
      core.source('phone', frame(i, i * 960));
      core.slot('sip-to-room', frame(0, i * 960));
    }
    expect(notices).toEqual([]);
    const last = CONFIRM_SLOTS - 1;
    core.source('phone', frame(9, last * 960));
    core.slot('sip-to-room', frame(0, last * 960));

    expect(notices).toEqual([{ type: 'forwarding', route: 'sip-to-room', key: 'phone' }]);
  });

  it('lets the sender\'s own frames through while nothing is forwarded, and counts the switches', () => {
    const { core } = relay();
    const own = frame(7, 0);

    expect(core.slot('room-to-sip', own)).toBe('encoded');
    expect(payloadOf(own)).toBe(7);
    core.forward('room-to-sip', 'a');
    core.source('a', frame(1, 960));
    expect(core.slot('room-to-sip', frame(0, 960))).toBe('forwarded');
    core.forward('room-to-sip', undefined);
    core.source('a', frame(2, 1_920));
    const after = frame(8, 1_920);
    expect(core.slot('room-to-sip', after)).toBe('encoded');

    expect(payloadOf(after)).toBe(8);
    expect(core.counters()['room-to-sip']).toMatchObject({ forwardedFrames: 1, encodedFrames: 3, switches: 2 });
  });

  it('keeps at most a few payloads waiting and drops the oldest beyond them', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'a');

    for (let i = 0; i < MAX_QUEUE + 2; i += 1) core.source('a', frame(i, i * 960));
    const slot = frame(0, 0);
    core.slot('room-to-sip', slot);

    expect(payloadOf(slot)).toBe(2);
    expect(core.counters()['room-to-sip'].droppedFrames).toBe(2);
  });

  it('drops one payload when one has been spare at every frame for a while: 20 ms less delay', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'a');
    core.source('a', frame(200, 0));
    const sent: number[] = [];

    for (let i = 1; i <= TRIM_WINDOW_SLOTS + 2; i += 1) {
      core.source('a', frame(i % 200, i * 960));
      const slot = frame(0, (i - 1) * 960);
      core.slot('room-to-sip', slot);
      sent.push(payloadOf(slot)!);
    }

    expect(core.counters()['room-to-sip'].droppedFrames).toBe(1);
    // one payload skipped once: afterwards each frame carries the payload that just arrived
    expect(sent.at(-1)).toBe((TRIM_WINDOW_SLOTS + 2) % 200);
  });

  it('refuses a source whose codec differs from the sender\'s, and skips its telephone-events', () => {
    const { core, notices } = relay();
    core.forward('sip-to-room', 'phone');
    core.slot('sip-to-room', frame(0, 0, 'audio/opus'));

    core.source('phone', frame(1, 960, 'audio/telephone-event'));
    expect(notices).toEqual([]);
    core.source('phone', frame(2, 960, 'audio/PCMU'));
    const slot = frame(5, 960, 'audio/opus');
    core.slot('sip-to-room', slot);

    expect(notices).toEqual([{ type: 'refused', route: 'sip-to-room', key: 'phone', reason: 'the source sends audio/PCMU, the sender audio/opus' }]);
    expect(payloadOf(slot)).toBe(5);
  });

  it('refuses a source whose frames are longer than the sender\'s', () => {
    const { core, notices } = relay();
    core.forward('room-to-sip', 'a');
    core.slot('room-to-sip', frame(0, 0));
    core.slot('room-to-sip', frame(0, 960));

    core.source('a', frame(1, 0));
    core.source('a', frame(2, 2_880));
    core.source('a', frame(3, 5_760));

    expect(notices).toEqual([{ type: 'refused', route: 'room-to-sip', key: 'a', reason: "the source's frames are 2880 samples long, the sender's 960" }]);
  });

  it('keeps forwarding past a frame lost on the way to the bridge', () => {
    const { core, notices } = relay();
    core.forward('room-to-sip', 'a');
    core.slot('room-to-sip', frame(0, 0));
    core.slot('room-to-sip', frame(0, 960));
    const sent: number[] = [];

    // frame 3 never arrives: the source's timestamps step by two frames once
    for (const [n, i] of [1, 2, 4, 5, 6].entries()) {
      core.source('a', frame(i, i * 960));
      const slot = frame(0, (n + 2) * 960);
      core.slot('room-to-sip', slot);
      sent.push(payloadOf(slot)!);
    }

    expect(notices.filter((n) => n.type === 'refused')).toEqual([]);
    expect(sent).toEqual([1, 2, 4, 5, 6]);
  });

  it('forwards a source on one route without touching the other', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'a');
    core.source('a', frame(1, 0));
    const other = frame(9, 0);

    core.slot('sip-to-room', other);

    expect(payloadOf(other)).toBe(9);
    expect(core.counters()['sip-to-room'].forwardedFrames).toBe(0);
  });

  it('leaves a few frames unsent while the next payload is late, then sends its own until the source is back', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'a');
    for (let i = 0; i < CONFIRM_SLOTS; i += 1) {
      core.source('a', frame(i, i * 960));
      core.slot('room-to-sip', frame(0, i * 960));
    }

    const late = Array.from({ length: MAX_SKIPPED_SLOTS + 2 }, (_, i) => core.slot('room-to-sip', frame(0, (10 + i) * 960)));
    core.source('a', frame(42, 20 * 960));
    const back = frame(0, 20 * 960);
    core.slot('room-to-sip', back);

    expect(late).toEqual([...Array.from({ length: MAX_SKIPPED_SLOTS }, () => 'skipped'), 'encoded', 'encoded']);
    expect(payloadOf(back)).toBe(42);
    expect(core.counters()['room-to-sip']).toMatchObject({ skippedFrames: MAX_SKIPPED_SLOTS, encodedFrames: 3 });
  });
});

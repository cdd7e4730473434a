import { describe, expect, it } from 'vitest';
import {
  KEY_REQUEST_SPACING_FRAMES,
  MAX_VIDEO_QUEUE,
  VideoRelayCore,
  type VideoRelayAction,
  type VideoRelayFrame,
} from '../../bot-page/media/encoded-video-relay-core.js';
import { carriesAnyFrame } from '../../bot-page/media/encoded-video-relay.js';

/** A frame as the worker sees one: its payload's first byte names it. */
function frame(type: 'key' | 'delta', tag: number, mimeType = 'video/VP8'): VideoRelayFrame & { data: ArrayBuffer } {
  return { type, data: new Uint8Array([tag]).buffer, getMetadata: () => ({ mimeType }) };
}

function tagOf(f: VideoRelayFrame): number {
  return new Uint8Array(f.data)[0]!;
}

function relay(): { core: VideoRelayCore; actions: VideoRelayAction[] } {
  const actions: VideoRelayAction[] = [];
  const core = new VideoRelayCore((a) => actions.push(a));
  // the sender has sent frames of its own: its codec is known
  core.slot('room-to-sip', frame('key', 200));
  return { core, actions };
}

describe('encoded video relay', () => {
  it('asks the source for a keyframe, drops the sender\'s frames until one comes, then forwards from it on', () => {
    // Prepare
    const { core, actions } = relay();

    // Act
    core.forward('room-to-sip', 'alice');
    core.source('alice', frame('delta', 1));
    const beforeKey = core.slot('room-to-sip', frame('delta', 201));
    core.source('alice', frame('key', 2));
    const first = frame('delta', 202);
    const firstKind = core.slot('room-to-sip', first);
    core.source('alice', frame('delta', 3));
    const second = frame('key', 203);
    const secondKind = core.slot('room-to-sip', second);

    // Assess
    expect(actions[0]).toEqual({ type: 'request-key-frame', key: 'alice' });
    expect(beforeKey).toBe('dropped');
    expect([firstKind, tagOf(first)]).toEqual(['forwarded', 2]);
    expect([secondKind, tagOf(second)]).toEqual(['forwarded', 3]);
    expect(actions.filter((a) => a.type === 'slot')).toHaveLength(2);
    expect(actions).toContainEqual({ type: 'video-forwarding', route: 'room-to-sip', key: 'alice' });
    expect(core.counters()['room-to-sip']).toMatchObject({ state: 'forwarding', forwardedFrames: 2, forwardedKeyFrames: 1, droppedSlots: 1, switches: 1 });
  });

  it('drops a slot with nothing to carry rather than sending the sender\'s own picture mid-stream', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'alice');
    core.source('alice', frame('key', 1));
    core.slot('room-to-sip', frame('delta', 201));

    const empty = core.slot('room-to-sip', frame('key', 202));

    expect(empty).toBe('dropped');
  });

  it('holds a slot that comes before its frame and sends it with that frame, so no picture number goes missing', () => {
    // Prepare
    const { core, actions } = relay();
    const sent: VideoRelayFrame[] = [];
    core.sinkAttached('room-to-sip', (f) => sent.push(f));
    core.slot('room-to-sip', frame('key', 200));
    core.forward('room-to-sip', 'alice');
    core.source('alice', frame('key', 1));
    core.slot('room-to-sip', frame('delta', 201));
    actions.length = 0;

    // Act
    const early = frame('delta', 202);
    const kind = core.slot('room-to-sip', early);
    core.source('alice', frame('delta', 2));

    // Assess
    expect(kind).toBe('held');
    expect(sent).toEqual([early]);
    expect(tagOf(early)).toBe(2);
    expect(core.counters()['room-to-sip']).toMatchObject({ forwardedFrames: 2, droppedSlots: 0 });
  });

  it('asks for one more slot while frames wait for one', () => {
    const { core, actions } = relay();
    core.forward('room-to-sip', 'alice');
    core.source('alice', frame('key', 1));
    actions.length = 0;

    core.source('alice', frame('delta', 2));

    expect(actions).toEqual([
      { type: 'slot', route: 'room-to-sip' },
      { type: 'slot', route: 'room-to-sip' },
    ]);
  });

  it('passes a keyframe request from the far end to the source', () => {
    const { core, actions } = relay();
    core.forward('room-to-sip', 'alice');
    for (let i = 0; i < KEY_REQUEST_SPACING_FRAMES; i++) {
      core.source('alice', frame(i === 0 ? 'key' : 'delta', i));
      core.slot('room-to-sip', frame('delta', 201));
    }
    actions.length = 0;

    core.farEndKeyFrameRequest('room-to-sip');

    expect(actions).toEqual([{ type: 'request-key-frame', key: 'alice' }]);
    expect(core.counters()['room-to-sip']).toMatchObject({ state: 'forwarding', farEndKeyFrameRequests: 1, keyFrameRequests: 2 });
  });

  it('does not repeat a keyframe request to the source on every delta frame while it waits', () => {
    const { core, actions } = relay();
    core.forward('room-to-sip', 'alice');

    for (let i = 0; i < KEY_REQUEST_SPACING_FRAMES * 2; i++) core.source('alice', frame('delta', i));

    // one when forwarding was asked, then one per KEY_REQUEST_SPACING_FRAMES frames without a keyframe
    expect(actions.filter((a) => a.type === 'request-key-frame')).toHaveLength(3);
  });

  it('after forwarding, sends the sender\'s own frames only from its next keyframe', () => {
    const { core } = relay();
    core.forward('room-to-sip', 'alice');
    core.source('alice', frame('key', 1));
    core.slot('room-to-sip', frame('delta', 201));

    core.forward('room-to-sip', undefined);
    const delta = core.slot('room-to-sip', frame('delta', 202));
    const key = frame('key', 203);
    const keyKind = core.slot('room-to-sip', key);
    const next = core.slot('room-to-sip', frame('delta', 204));

    expect([delta, keyKind, tagOf(key), next]).toEqual(['dropped', 'encoded', 203, 'encoded']);
    expect(core.counters()['room-to-sip']).toMatchObject({ state: 'encode', switches: 2 });
  });

  it('restarts at the next keyframe when the slots fall behind, instead of leaving a delta frame out', () => {
    const { core, actions } = relay();
    core.forward('room-to-sip', 'alice');
    core.source('alice', frame('key', 1));

    for (let i = 0; i < MAX_VIDEO_QUEUE; i++) core.source('alice', frame('delta', 10 + i));
    const afterOverflow = core.slot('room-to-sip', frame('delta', 201));
    core.source('alice', frame('key', 50));
    const restarted = frame('delta', 202);
    core.slot('room-to-sip', restarted);

    expect(afterOverflow).toBe('dropped');
    expect(tagOf(restarted)).toBe(50);
    expect(core.counters()['room-to-sip'].droppedFrames).toBe(MAX_VIDEO_QUEUE + 1);
    expect(actions.filter((a) => a.type === 'request-key-frame')).toHaveLength(2);
  });

  it('refuses a source whose codec differs from the sender\'s, and the sender keeps its own frames', () => {
    const { core, actions } = relay();
    core.forward('room-to-sip', 'alice');

    core.source('alice', frame('key', 1, 'video/H264'));
    const own = core.slot('room-to-sip', frame('key', 201));

    expect(actions).toContainEqual({
      type: 'video-refused',
      route: 'room-to-sip',
      key: 'alice',
      reason: 'the source sends video/H264, the sender video/VP8',
    });
    expect(own).toBe('encoded');
  });
});

describe('which video senders can carry forwarded frames', () => {
  const sender = (mimeType: string, sdpFmtpLine?: string) =>
    ({ getParameters: () => ({ codecs: [{ mimeType, clockRate: 90_000, payloadType: 96, ...(sdpFmtpLine === undefined ? {} : { sdpFmtpLine }) }] }) }) as unknown as RTCRtpSender;

  it('refuses an H.264 sender in packetization mode 0 (or none said), where a large NAL unit cannot be sent', () => {
    expect(carriesAnyFrame(sender('video/H264', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f'))).toBe(false);
    expect(carriesAnyFrame(sender('video/H264', 'profile-level-id=42e01f'))).toBe(false);
  });

  it('takes an H.264 sender in packetization mode 1, and VP8', () => {
    expect(carriesAnyFrame(sender('video/H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'))).toBe(true);
    expect(carriesAnyFrame(sender('video/VP8'))).toBe(true);
  });
});

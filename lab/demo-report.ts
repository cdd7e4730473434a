import type { AudioPathStats, VideoPathStats, VideoStreamStats } from '../contracts/call-record.js';
import { hasTone, type ToneReport } from './audio-analysis.js';
import type { CallReport } from './demo-call.js';

/** The demo's report of a call: setup times, what each end heard, the bridge's quality figures and the pictures. */
export function printReport(report: CallReport, out: (line: string) => void, origin = 'enqueue'): void {
  const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${v} ms`);
  const tone = (t: ToneReport | undefined, expected: number) =>
    t === undefined || t.onsetS === undefined
      ? 'nothing heard'
      : `${t.frequencyHz} Hz at ${t.levelDbfs} dBFS (purity ${t.purity}; expected ${expected} Hz: ${hasTone(t, expected) ? 'DETECTED' : 'NOT detected'})`;
  const q = report.record.quality;
  const audio = (label: string, s: { packets: number; lossRate?: number; jitterMs?: number; concealmentRate?: number; codec?: string } | undefined) =>
    s === undefined
      ? `${label}: no stream`
      : `${label}: ${s.codec ?? '?'} ${s.packets} packets, loss ${pct(s.lossRate)}, jitter ${s.jitterMs ?? 'n/a'} ms, concealed ${pct(s.concealmentRate)}`;
  out('');
  out('Roomline demo report');
  out('====================');
  out(`call ${report.callId}: ${report.finalState}${report.endedBy ? ` (ended by ${report.endedBy})` : ''}${report.failure ? ` ${report.failure}` : ''}`);
  out('');
  out(`Setup (from ${origin})`);
  if (origin === 'enqueue') out(`  INVITE at the phone ........ ${ms(report.enqueueToInviteMs)}`);
  out(`  answered ................... ${ms(report.enqueueToAnswerMs)}`);
  out(`  first audio at the phone ... ${ms(report.enqueueToFirstAudioAtPhoneMs)}`);
  out(`  first audio at the person .. ${ms(report.enqueueToFirstAudioAtPersonMs)}`);
  out('');
  out('Audio');
  out(`  room person → phone: ${tone(report.phoneHeard, report.personToneHz)}`);
  out(`  phone → room person: ${tone(report.personHeard, report.phoneToneHz)}`);
  out('');
  out('Quality (getStats at the bridge)');
  out(`  ${audio('SIP leg in ', q?.sip.audioIn)}`);
  out(`  ${audio('SIP leg out', q?.sip.audioOut)}`);
  out(`  ${audio('room in    ', q?.room.audioIn)}`);
  out(`  ${audio('room out   ', q?.room.audioOut)}`);
  const path = q?.audioPath;
  if (path !== undefined) {
    const way = (label: string, p: AudioPathStats) =>
      `${label}: ${p.mode === 'forward' ? 'forwarded as received' : 'decoded and encoded again'} (${p.forwardedFrames} frames forwarded, ${p.encodedFrames} encoded by the bridge, ${p.droppedFrames} dropped, ${p.skippedFrames} late${p.refused === undefined ? '' : `; not forwarded: ${p.refused}`})`;
    out(`  ${way('room → phone', path.roomToSip)}`);
    out(`  ${way('phone → room', path.sipToRoom)}`);
  }
  const videoWay = (label: string, far: string, p: VideoPathStats | undefined) => {
    if (p === undefined) return;
    out(
      `  ${label}: ${p.mode === 'forward' ? 'forwarded as received' : 'encoded again by the bridge'} (${p.forwardedFrames} frames forwarded, ${p.forwardedKeyFrames} of them keyframes, ${p.encodedFrames} encoded by the bridge, ${p.farEndKeyFrameRequests} keyframe requests from the ${far} passed on${p.refused === undefined ? '' : `; not forwarded: ${p.refused}`})`,
    );
  };
  videoWay('room → phone video', 'phone', q?.videoPath?.roomToSip);
  videoWay('phone → room video', 'room', q?.videoPath?.sipToRoom);
  const video = report.video;
  if (video !== undefined) {
    const stream = (label: string, v: VideoStreamStats | undefined) =>
      v === undefined
        ? `${label}: no stream`
        : `${label}: ${v.codec ?? '?'} ${v.width ?? '?'}x${v.height ?? '?'} at ${v.fps ?? '?'} fps (${v.frames} frames${v.freezes === undefined ? '' : `, ${v.freezes} freezes`})`;
    out('');
    out(`Video (SIP leg ${report.record.media?.video ?? '?'}${report.record.media?.sipVideoCodec ? `, ${report.record.media.sipVideoCodec}` : ''})`);
    out(`  ${stream('room → bridge ', q?.room.videoIn)}`);
    out(`  ${stream('bridge → SIP  ', q?.sip.videoOut)}`);
    out(`  ${stream('SIP → bridge  ', q?.sip.videoIn)}`);
    out(`  ${stream('bridge → room ', q?.room.videoOut)} (per tile feed; frames summed over the feeds)`);
    out(
      `  the phone showed rgb(${video.phoneSaw?.join(', ') ?? '?'}): ${video.phoneSawPerson ? 'the room person\'s camera' : 'NOT the room person\'s camera'}`,
    );
    for (const tile of video.tiles) {
      out(`  the person saw "${tile.name}" ${tile.width}x${tile.height} rgb(${tile.color.join(', ')}): ${tile.expected ? 'the expected quadrant' : 'WRONG'}`);
    }
  }
  out('');
  out(report.audioBothWays ? 'RESULT: audio crossed the bridge both ways' : 'RESULT: audio did NOT cross both ways');
  if (video !== undefined) {
    out(
      video.ok
        ? `RESULT: video crossed both ways, H.264 to the phone, its composite ${video.tiles.length > 1 ? 'split into four feeds' : 'whole in the room'}`
        : 'RESULT: video did NOT check out',
    );
  }
}

function pct(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`;
}

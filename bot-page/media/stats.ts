import type { AudioPathStats, AudioStreamStats, LegQuality, VideoStreamStats } from '../../contracts/call-record.js';

/**
 * Quality figures from WebRTC getStats, summed over the peer connections of one leg. Figures follow the WebRTC
 * statistics spec: inbound-rtp (packets, loss, jitter, concealment, jitter buffer), outbound-rtp (packets sent),
 * remote-inbound-rtp (loss and round trip seen by the far end).
 */
type Stat = Record<string, unknown> & { type: string; id: string };

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round = (v: number, digits = 4): number => Math.round(v * 10 ** digits) / 10 ** digits;

export async function legQuality(connections: readonly RTCPeerConnection[]): Promise<LegQuality> {
  const reports = await Promise.all(
    connections.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.getStats().catch(() => undefined)),
  );
  return qualityOfReports(reports.filter((r): r is RTCStatsReport => r !== undefined));
}

/** The quality summary of statistics reports (one per connection), for SDKs that give reports, not connections. */
export function qualityOfReports(reports: readonly RTCStatsReport[]): LegQuality {
  const stats: Stat[][] = reports.map((r) => [...r.values()] as Stat[]);
  const audioIn = inboundAudio(stats);
  const audioOut = outboundAudio(stats);
  const videoIn = video(stats, 'inbound-rtp');
  const videoOut = video(stats, 'outbound-rtp');
  return {
    ...(audioIn === undefined ? {} : { audioIn }),
    ...(audioOut === undefined ? {} : { audioOut }),
    ...(videoIn === undefined ? {} : { videoIn }),
    ...(videoOut === undefined ? {} : { videoOut }),
  };
}

function codecOf(report: readonly Stat[], stat: Stat): string | undefined {
  const codec = report.find((s) => s.id === stat['codecId']);
  const mime = codec?.['mimeType'];
  return typeof mime === 'string' ? mime.split('/')[1] : undefined;
}

function inboundAudio(reports: readonly Stat[][]): AudioStreamStats | undefined {
  let packets = 0;
  let lost = 0;
  let jitterSum = 0;
  let concealed = 0;
  let samples = 0;
  let bufferDelay = 0;
  let emitted = 0;
  let streams = 0;
  let codec: string | undefined;
  for (const report of reports) {
    for (const s of report) {
      if (s.type !== 'inbound-rtp' || s['kind'] !== 'audio') continue;
      streams++;
      packets += num(s['packetsReceived']);
      lost += Math.max(0, num(s['packetsLost']));
      jitterSum += num(s['jitter']);
      concealed += num(s['concealedSamples']);
      samples += num(s['totalSamplesReceived']);
      bufferDelay += num(s['jitterBufferDelay']);
      emitted += num(s['jitterBufferEmittedCount']);
      codec ??= codecOf(report, s);
    }
  }
  if (streams === 0) return undefined;
  return {
    ...(codec === undefined ? {} : { codec }),
    packets,
    packetsLost: lost,
    lossRate: packets + lost > 0 ? round(lost / (packets + lost)) : 0,
    jitterMs: round((jitterSum / streams) * 1000, 1),
    concealmentRate: samples > 0 ? round(concealed / samples) : 0,
    samples,
    concealedSamples: concealed,
    jitterBufferMs: emitted > 0 ? round((bufferDelay / emitted) * 1000, 1) : 0,
  };
}

function outboundAudio(reports: readonly Stat[][]): AudioStreamStats | undefined {
  let packets = 0;
  let lost = 0;
  let rttSum = 0;
  let rttCount = 0;
  let streams = 0;
  let codec: string | undefined;
  for (const report of reports) {
    for (const s of report) {
      if (s.type === 'outbound-rtp' && s['kind'] === 'audio') {
        streams++;
        packets += num(s['packetsSent']);
        codec ??= codecOf(report, s);
      } else if (s.type === 'remote-inbound-rtp' && s['kind'] === 'audio') {
        lost += Math.max(0, num(s['packetsLost']));
        if (typeof s['roundTripTime'] === 'number') {
          rttSum += s['roundTripTime'];
          rttCount++;
        }
      }
    }
  }
  if (streams === 0) return undefined;
  return {
    ...(codec === undefined ? {} : { codec }),
    packets,
    packetsLost: lost,
    lossRate: packets > 0 ? round(lost / packets) : 0,
    ...(rttCount > 0 ? { roundTripMs: round((rttSum / rttCount) * 1000, 1) } : {}),
  };
}

function video(reports: readonly Stat[][], type: 'inbound-rtp' | 'outbound-rtp'): VideoStreamStats | undefined {
  let best: { stat: Stat; report: readonly Stat[] } | undefined;
  let frames = 0;
  let freezes = 0;
  let lost = 0;
  for (const report of reports) {
    for (const s of report) {
      if (s.type !== type || s['kind'] !== 'video') continue;
      const count = num(type === 'inbound-rtp' ? s['framesDecoded'] : s['framesEncoded']);
      frames += count;
      freezes += num(s['freezeCount']);
      lost += Math.max(0, num(s['packetsLost']));
      if (best === undefined || count > num(best.stat[type === 'inbound-rtp' ? 'framesDecoded' : 'framesEncoded'])) {
        best = { stat: s, report };
      }
    }
  }
  if (best === undefined) return undefined;
  const s = best.stat;
  const codec = codecOf(best.report, s);
  return {
    ...(codec === undefined ? {} : { codec }),
    ...(typeof s['frameWidth'] === 'number' ? { width: s['frameWidth'] } : {}),
    ...(typeof s['frameHeight'] === 'number' ? { height: s['frameHeight'] } : {}),
    ...(typeof s['framesPerSecond'] === 'number' ? { fps: s['framesPerSecond'] } : {}),
    frames,
    ...(type === 'inbound-rtp'
      ? { freezes, packetsLost: lost }
      : { keyFrameRequests: num(s['pliCount']) + num(s['firCount']), nacks: num(s['nackCount']) }),
  };
}

/**
 * Resolves once the connection has received (or sent) media of `kind`: the moment a leg's audio starts to flow.
 * Polls getStats every 50 ms; gives up when the connection closes.
 */
export async function waitForMedia(
  pc: RTCPeerConnection,
  kind: 'audio' | 'video',
  direction: 'in' | 'out',
): Promise<boolean> {
  const type = direction === 'in' ? 'inbound-rtp' : 'outbound-rtp';
  const field = direction === 'in' ? 'packetsReceived' : 'packetsSent';
  for (;;) {
    if (pc.connectionState === 'closed' || pc.signalingState === 'closed') return false;
    const report = await pc.getStats().catch(() => undefined);
    if (report !== undefined) {
      for (const s of report.values() as IterableIterator<Stat>) {
        if (s.type === type && s['kind'] === kind && num(s[field]) > 0) return true;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Resolves true once a leg's statistics show media of `kind` in `direction` (packets for audio, frames for video),
 * polling every 100 ms; false as soon as `active()` says the leg is gone.
 */
export async function waitForLegMedia(
  stats: () => Promise<LegQuality>,
  kind: 'audio' | 'video',
  direction: 'in' | 'out',
  active: () => boolean,
): Promise<boolean> {
  for (;;) {
    if (!active()) return false;
    const leg = await stats().catch(() => ({}) as LegQuality);
    const count =
      kind === 'audio'
        ? (direction === 'in' ? leg.audioIn : leg.audioOut)?.packets
        : (direction === 'in' ? leg.videoIn : leg.videoOut)?.frames;
    if ((count ?? 0) > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One leg's figures from several sources (e.g. the page's connections and a frame's, relayed): sums and weighted means. */
export function mergeLegs(legs: readonly LegQuality[]): LegQuality {
  const pick = <K extends keyof LegQuality>(key: K) => legs.map((leg) => leg[key]).filter((s) => s !== undefined) as NonNullable<LegQuality[K]>[];
  const audioIn = mergeAudio(pick('audioIn'), 'in');
  const audioOut = mergeAudio(pick('audioOut'), 'out');
  const videoIn = mergeVideo(pick('videoIn'));
  const videoOut = mergeVideo(pick('videoOut'));
  return {
    ...(audioIn === undefined ? {} : { audioIn }),
    ...(audioOut === undefined ? {} : { audioOut }),
    ...(videoIn === undefined ? {} : { videoIn }),
    ...(videoOut === undefined ? {} : { videoOut }),
  };
}

function mergeAudio(streams: readonly AudioStreamStats[], direction: 'in' | 'out'): AudioStreamStats | undefined {
  if (streams.length <= 1) return streams[0];
  const sum = (f: (s: AudioStreamStats) => number | undefined) => streams.reduce((total, s) => total + (f(s) ?? 0), 0);
  const packets = sum((s) => s.packets);
  const lost = sum((s) => s.packetsLost);
  const samples = sum((s) => s.samples);
  const concealed = sum((s) => s.concealedSamples);
  const weighted = (f: (s: AudioStreamStats) => number | undefined) => {
    const measured = streams.filter((s) => f(s) !== undefined);
    const weight = measured.reduce((total, s) => total + s.packets, 0);
    return weight === 0 ? undefined : round(measured.reduce((total, s) => total + (f(s) ?? 0) * s.packets, 0) / weight, 1);
  };
  const jitterMs = weighted((s) => s.jitterMs);
  const jitterBufferMs = weighted((s) => s.jitterBufferMs);
  const roundTripMs = weighted((s) => s.roundTripMs);
  const codec = streams.find((s) => s.codec !== undefined)?.codec;
  return {
    ...(codec === undefined ? {} : { codec }),
    packets,
    packetsLost: lost,
    lossRate: direction === 'in' ? (packets + lost > 0 ? round(lost / (packets + lost)) : 0) : packets > 0 ? round(lost / packets) : 0,
    ...(jitterMs === undefined ? {} : { jitterMs }),
    ...(direction === 'in' ? { concealmentRate: samples > 0 ? round(concealed / samples) : 0, samples, concealedSamples: concealed } : {}),
    ...(jitterBufferMs === undefined ? {} : { jitterBufferMs }),
    ...(roundTripMs === undefined ? {} : { roundTripMs }),
  };
}

function mergeVideo(streams: readonly VideoStreamStats[]): VideoStreamStats | undefined {
  if (streams.length <= 1) return streams[0];
  const busiest = streams.reduce((best, s) => (s.frames > best.frames ? s : best));
  const freezes = streams.reduce((total, s) => total + (s.freezes ?? 0), 0);
  const lost = streams.reduce((total, s) => total + (s.packetsLost ?? 0), 0);
  const hasFreezes = streams.some((s) => s.freezes !== undefined);
  return {
    ...busiest,
    frames: streams.reduce((total, s) => total + s.frames, 0),
    ...(hasFreezes ? { freezes, packetsLost: lost } : {}),
  };
}

/** Samples of one forwarded 20 ms frame at 48 kHz (the unit of the relay's concealment figures). */
const FRAME_SAMPLES = 960;

/**
 * A leg's quality when nothing in the page decodes received audio (every direction forwarded as it came): the
 * decoder's concealment figures stand still, so the audio received is judged by what the far end of its forwarded
 * direction has to conceal: the frames its sender left unsent or dropped (`path`, the relay's counters).
 */
export function withRelayConcealment(quality: LegQuality, path: AudioPathStats | undefined): LegQuality {
  const audioIn = quality.audioIn;
  if (audioIn === undefined || path === undefined) return quality;
  const { jitterBufferMs: _buffer, ...rest } = audioIn;
  const concealedFrames = path.skippedFrames + path.droppedFrames;
  const frames = path.forwardedFrames + path.encodedFrames + path.skippedFrames;
  return {
    ...quality,
    audioIn: {
      ...rest,
      samples: frames * FRAME_SAMPLES,
      concealedSamples: concealedFrames * FRAME_SAMPLES,
      concealmentRate: frames > 0 ? round(concealedFrames / frames) : 0,
      concealmentFrom: 'relay',
    },
  };
}

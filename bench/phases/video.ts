import type { WorkerPool } from '../../lab/worker-pool.js';
import { hangUp, mb, meter, untilConnected, type BenchRun } from './calls.js';

/**
 * The video call: 640x480@30 H.264 to the SIP peer with its picture split 2x2 into four room feeds; what the worker
 * and its browser use, and the frames per second each way over a steady window. Returns the note that says it.
 */
export async function videoCall(run: BenchRun, pool: WorkerPool): Promise<string> {
  const { lab, plan } = run;
  const callId = await lab.client.enqueueDial(
    lab.dialRequest({
      media: { video: 'sendrecv', sipVideoCodec: 'H264', splitIncoming: { rows: 2, cols: 2 } },
      limits: { ringTimeoutS: 10, maxDurationS: 600, emptyRoomTimeoutS: 0 },
    }),
  );
  await untilConnected(lab, callId);
  const worker = pool.workers.find((w) => w.callId === callId);
  // the worker writes the call's quality into its record every 3 s here: frames are counted between two of them
  const before = (await lab.client.waitForCall(callId, (r) => r.quality !== undefined, { timeoutMs: 15_000 })).quality;
  const usage = worker?.child.pid === undefined ? undefined : await meter(worker.child.pid, plan.videoS);
  const after = (
    await lab.client.waitForCall(callId, (r) => r.quality !== undefined && r.quality.sampledAt !== before?.sampledAt, {
      timeoutMs: 15_000,
    })
  ).quality;
  const record = await hangUp(lab, callId);
  const seconds =
    before === undefined || after === undefined ? undefined : (Date.parse(after.sampledAt) - Date.parse(before.sampledAt)) / 1000;
  const frames = (pick: (q: NonNullable<typeof before>) => number | undefined) =>
    before === undefined || after === undefined ? undefined : (pick(after) ?? 0) - (pick(before) ?? 0);
  const fps = (count: number | undefined, feeds = 1) =>
    count === undefined || seconds === undefined || seconds <= 0 ? 'n/a' : (count / feeds / seconds).toFixed(1);
  const q = {
    sip: {
      videoOut: { frames: frames((x) => x.sip.videoOut?.frames), codec: after?.sip.videoOut?.codec },
      videoIn: { frames: frames((x) => x.sip.videoIn?.frames), codec: after?.sip.videoIn?.codec, freezes: record.quality?.sip.videoIn?.freezes },
    },
    room: { videoOut: { frames: frames((x) => x.room.videoOut?.frames), codec: after?.room.videoOut?.codec } },
  };
  return (
    `Video call (640x480@30, H.264 to the SIP peer, its picture split 2x2 into four room feeds; steady ${plan.videoS} s): ` +
    `worker + browser ${
      usage === undefined
        ? 'n/a'
        : `${usage.cores.toFixed(3)} cores, PSS ${mb(usage.meanPssBytes)} MB mean, ${mb(usage.maxPssBytes)} MB highest, ` +
          `${mb(usage.pssBytes)} MB at the end`
    } ` +
    `(aim ≤ 0.6 cores); frames per second over the steady window: room → SIP ${fps(q?.sip.videoOut?.frames)} encoded ` +
    `(${q?.sip.videoOut?.codec ?? '?'}), SIP → bridge ${fps(q?.sip.videoIn?.frames)} decoded (${q?.sip.videoIn?.codec ?? '?'}), ` +
    `bridge → room ${fps(q?.room.videoOut?.frames, 4)} per tile encoded (${q?.room.videoOut?.codec ?? '?'}); freezes ` +
    `${q?.sip.videoIn?.freezes ?? 'n/a'} (aim ≥ 28 fps each way).`
  );
}

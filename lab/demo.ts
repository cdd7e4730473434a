import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DialRequestInput } from '../contracts/dial-request.js';
import { DEMO_TILE_NAMES, PERSON_COLOR, PERSON_TONE_HZ, PHONE_TONE_HZ, VIDEO_DEMO_MEDIA, dialAndMeasure } from './demo-call.js';
import { printReport } from './demo-report.js';
import { runDialInDemo } from './dial-in-demo.js';
import { Lab, type LabOptions, type LabPersonOptions } from './lab.js';
import type { RoomPerson } from './room-person.js';
import { writeCompositeVideo } from './test-video.js';

export interface DemoOptions {
  /** Seconds the call stays connected before the demo hangs up. @default 6 */
  readonly talkS?: number;
  /**
   * Video both ways through the legacy-codec and split paths: the phone speaks H.264 only and sends a 2x2 composite;
   * the person's camera reaches it as H.264, the composite reaches the room as four feeds. @default false
   */
  readonly video?: boolean;
  /** Keep the lab folder (logs, recordings), and after the report keep the lab and its dashboard up until Ctrl-C. @default false */
  readonly keep?: boolean;
  /** Which kind of room the phone is bridged into (see DEMO_ROOMS). @default "janus" */
  readonly room?: DemoRoomName;
  /**
   * Dial-in instead: the phone calls the lab's registrar, the INVITE is forked to the warm worker registered there,
   * routed by its dialled number into the Janus room and answered. @default false
   */
  readonly dialIn?: boolean;
  readonly out?: (line: string) => void;
}

interface DemoRoom {
  /** What the demo says it starts. */
  readonly title: string;
  /** What the lab starts for this room, with the demo's person in it. */
  lab(person: LabPersonOptions): Partial<LabOptions>;
  /** The dial request's room; `tiles` names the split's tiles when the SIP picture is split. */
  room(lab: Lab, tiles: readonly string[]): DialRequestInput['room'];
  /** The demo's person, whose tone and camera are checked. */
  person(lab: Lab): RoomPerson | undefined;
  /** The SIP picture is split into the four feeds (the provider takes extra feeds), or reaches the room whole. */
  readonly split: boolean;
}

/**
 * The rooms the demo bridges into: what the lab starts for each, the room of the dial request, the person checked,
 * and whether the SIP picture is split into four feeds or reaches the room whole. Another provider is one entry.
 */
export const DEMO_ROOMS = {
  janus: {
    title: 'a Janus VideoRoom with one person',
    lab: (person) => ({ persons: [person] }),
    room: (lab) => ({ ...lab.endpoints.room, display: 'Phone' }),
    person: (lab) => lab.persons[0],
    split: true,
  },
  page: {
    title: "the Janus demo web app's VideoRoom with one person (page mode: the bot presses Start, types its name, presses Join)",
    lab: (person) => ({ persons: [person], webApps: true }),
    room: (lab) => ({
      provider: 'page',
      url: lab.webApps!.janusVideoRoomUrl(lab.endpoints.room.roomId),
      joinSteps: [
        { action: 'click', selector: '#start' },
        { action: 'fill', selector: '#username', value: 'display' },
        { action: 'click', selector: '#register' },
      ],
      display: 'Phone',
    }),
    person: (lab) => lab.persons[0],
    split: false,
  },
  chime: {
    title: 'the Amazon Chime SDK stand-in with a meeting and one person in it (the real SDK)',
    lab: (person) => ({ persons: [], chime: { persons: [person] } }),
    room: (lab, tiles) => lab.chimeRoom({ join: 'join-info', tiles: [...tiles] }),
    person: (lab) => lab.chimePersons[0],
    split: true,
  },
} as const satisfies Record<string, DemoRoom>;
export type DemoRoomName = keyof typeof DEMO_ROOMS;

/**
 * The main job on embedded defaults: start the lab, dial the phone into the room with the client library, show the
 * call's progress, hang up after a few seconds, and report what crossed the bridge. Exit code 0 only if audio
 * crossed both ways.
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (options.dialIn === true) {
    if (options.video === true || (options.room ?? 'janus') !== 'janus') {
      out('--dial-in runs with the Janus room and audio only');
      return 2;
    }
    return runDialInDemo(options, out);
  }
  const started = Date.now();
  const video = options.video === true;
  const videoDir = video ? await mkdtemp(join(tmpdir(), 'roomline-demo-video-')) : undefined;
  const composite = videoDir === undefined ? undefined : join(videoDir, 'composite.mp4');
  if (composite !== undefined) {
    out('Making a 2x2 composite test video (the SIP room system\'s picture)...');
    await writeCompositeVideo(composite);
  }
  const room: DemoRoom = DEMO_ROOMS[options.room ?? 'janus'];
  out(
    `Starting the lab: SQS + DynamoDB emulators, Janus, a SIP phone (baresip${video ? ', H.264 video only' : ''}), ` +
      `${room.title}, a warm worker...`,
  );
  const alice = { display: 'Alice', toneHz: PERSON_TONE_HZ, ...(video ? { color: PERSON_COLOR } : {}) };
  const lab = await Lab.start({
    ...room.lab(alice),
    workers: 1,
    keepDir: options.keep ?? false,
    dashboard: options.keep ?? false,
    phone: { toneHz: PHONE_TONE_HZ, ...(composite === undefined ? {} : { videoCodecs: ['H264'], videoFile: composite }) },
  });
  try {
    await lab.pool!.waitReady(1);
    const worker = lab.pool!.workers.find((w) => w.state === 'ready');
    out(`Lab up in ${Date.now() - started} ms (worker warm in ${worker?.warmMs ?? '?'} ms). Folder: ${lab.dir}`);
    const split = video && room.split;
    const report = await dialAndMeasure(lab, {
      talkS: options.talkS ?? 6,
      out,
      ...(video ? { video: split ? 'split' : 'whole' } : {}),
      request: {
        room: room.room(lab, split ? DEMO_TILE_NAMES : []),
        ...(video ? { media: split ? VIDEO_DEMO_MEDIA : { video: 'sendrecv', sipVideoCodec: 'H264' } } : {}),
      },
      person: room.person(lab),
    });
    printReport(report, out);
    if (options.keep === true && lab.endpoints.dashboard !== undefined) {
      out(`Dashboard: ${lab.endpoints.dashboard} (the lab stays up until Ctrl-C)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return report.audioBothWays && (report.video === undefined || report.video.ok) ? 0 : 1;
  } finally {
    out('Tearing the lab down...');
    await lab.stop();
    if (videoDir !== undefined) await rm(videoDir, { recursive: true, force: true });
  }
}

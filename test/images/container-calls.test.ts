import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTone } from '../../lab/audio-analysis.js';
import { ContainerLab } from '../../lab/containers/container-lab.js';
import { allows, authorizationOf } from '../../lab/containers/iam.js';
import { buildRoomlineImages, imageTag } from '../../lab/containers/image-builds.js';
import { LAB_ACCOUNT } from '../../lab/containers/lab-bindings.js';
import { labTemplate } from '../../lab/containers/lab-stack.js';
import { rolePolicy, type CfnTemplate } from '../../lab/containers/task-definitions.js';
import { DEMO_TILE_NAMES, PERSON_COLOR, PERSON_TONE_HZ, PHONE_TONE_HZ, VIDEO_DEMO_MEDIA, dialAndMeasure, measure } from '../../lab/demo-call.js';
import { LAB_REGION } from '../../lab/emulators.js';
import { PHONE_CALLER } from '../../lab/sip-phone.js';
import { writeCompositeVideo } from '../../lab/test-video.js';
import { waitUntil } from '../../lab/wait.js';

// Calls through the images Roomline deploys, run as ECS runs them on Fargate (lab/containers/): the worker, Janus and
// registrar containers from the synthesized template's services, the lab's room, person and phone around them. The
// phone is a room system's: H.264 video only, sending a 2x2 composite.
const WORK_DIR = join(process.env['ROOMLINE_IMAGES_WORK'] ?? '.lab', 'images');
const PIN_LINE = '+15551230002';
const PIN = '2468';

let template: CfnTemplate;
let containers: ContainerLab;
let videoDir: string | undefined;

beforeAll(async () => {
  // the images as the build test leaves them (from the layer cache when nothing changed)
  await buildRoomlineImages({ workDir: WORK_DIR, label: 'calls', log: (line) => console.log(line) });
  template = labTemplate();
  videoDir = await mkdtemp(join(tmpdir(), 'roomline-images-video-'));
  const composite = join(videoDir, 'composite.mp4');
  await writeCompositeVideo(composite);
  containers = await ContainerLab.start({
    template,
    images: { worker: imageTag('worker'), janus: imageTag('janus'), registrar: imageTag('registrar') },
    lab: {
      persons: [{ display: 'Alice', toneHz: PERSON_TONE_HZ, color: PERSON_COLOR }],
      phone: { toneHz: PHONE_TONE_HZ, videoCodecs: ['H264'], videoFile: composite },
    },
  });
  // the registrar first: a worker registers for dial-in when it warms up
  await containers.service('registrar').scaleTo(1);
  await containers.service('janus').scaleTo(1);
  await containers.service('worker').scaleTo(1);
}, 1_200_000);

afterAll(async () => {
  if (containers !== undefined) {
    for (const service of containers.services.values()) for (const task of service.tasks) await containers.keepLog(task);
    await containers.stop();
  }
  if (videoDir !== undefined) await rm(videoDir, { recursive: true, force: true });
});

describe('calls through the containers', () => {
  it('dials out through the worker and Janus containers: the tones heard both ways, the record ENDED', async () => {
    // Arrange
    const worker = await containers.warmWorker();

    // Act
    const report = await dialAndMeasure(containers.lab, { talkS: 4, request: { to: containers.phoneUri('probe') } });

    // Assess
    expect(report.finalState, `${report.failure ?? ''}\n${await worker.task.logTail()}`).toBe('ENDED');
    expect(report.record.workerId, 'the call ran in the warm worker container').toBe(containers.ecs.taskIdOf(worker.name));
    // scale-in protection through the ECS agent's endpoint: on when the call was claimed
    expect(containers.ecs.protectionOf(worker.name).map((c) => c.protectionEnabled)).toContain(true);
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
    // Janus's addresses as a task has them: its interface address is private, the phone reached its public one (1:1
    // NAT, as a Fargate task's public IP); the INVITE came from the SIP edge there and the SDP offered media there
    const janus = containers.service('janus').tasks[0]!.link;
    expect(janus.publicIp).toBeDefined();
    expect(janus.publicIp).not.toBe(janus.ip);
    const invite = (await containers.lab.phone.receivedInvites()).find((i) => i.callId === report.record.sip?.sipCallId);
    expect(invite?.headers['Via'], 'the top Via: the SIP edge at the public address').toContain(`${janus.publicIp!}:`);
    expect(invite?.sdp).toMatch(new RegExp(`^c=IN IP4 ${janus.publicIp!.replaceAll('.', '\\.')}\\s*$`, 'm'));
    expect(invite?.sdp).not.toMatch(new RegExp(`^c=IN IP4 ${janus.ip.replaceAll('.', '\\.')}\\s*$`, 'm'));
  });

  it('runs one call per worker container: the one that carried a call exits, and a fresh task takes the next', async () => {
    // Arrange: the task that carried the call before
    const workers = containers.service('worker');
    const first = workers.tasks[0]!;

    // Act
    const exit = await first.task.exited();
    const next = await containers.warmWorker({ except: [first.name] });
    const report = await dialAndMeasure(containers.lab, { talkS: 2, request: { to: containers.phoneUri('probe') } });

    // Assess
    expect(exit.code, 'the worker exits 0 after its one call').toBe(0);
    expect(next.name).not.toBe(first.name);
    expect(report.finalState, report.failure).toBe('ENDED');
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
  });

  it('carries an H.264 video call: the phone shows the room person, the room sees its 2x2 picture as four people', async () => {
    // Arrange
    await containers.warmWorker();

    // Act
    const report = await dialAndMeasure(containers.lab, { talkS: 3, video: 'split', request: { to: containers.phoneUri('probe'), media: VIDEO_DEMO_MEDIA } });

    // Assess
    expect(report.finalState, report.failure).toBe('ENDED');
    expect(report.record.media).toMatchObject({ video: 'negotiated', sipVideoCodec: 'H264' });
    expect(report.video?.phoneSawPerson, `phone saw ${JSON.stringify(report.video?.phoneSaw)}`).toBe(true);
    expect(report.video?.tiles.map((t) => [t.name, t.expected]), JSON.stringify(report.video?.tiles)).toEqual(DEMO_TILE_NAMES.map((name) => [name, true]));
    expect(report.audioBothWays).toBe(true);
  });

  it('answers a call to a PIN line through the registrar container, takes the PIN and joins the room it opens', async () => {
    // Arrange: the routes, and a warm worker registered at the registrar container
    await containers.client.addRoute({ match: { kind: 'number', number: PIN_LINE }, collectPin: true });
    await containers.client.addRoute({
      match: { kind: 'pin', number: PIN_LINE, pin: PIN },
      room: { ...containers.lab.endpoints.room },
      callerName: 'name',
      limits: { maxDurationS: 60 },
    });
    const worker = await containers.warmWorker();
    await waitUntil(async () => (await worker.task.log()).includes('"registered for dial-in"'), { timeoutMs: 30_000, what: 'the worker registered for dial-in' });
    const person = containers.lab.persons[0]!;
    const dialledAt = Date.now();

    // Act: the phone calls the dial-in load balancer's static address, enters the PIN after the prompt, talks, hangs up
    await containers.lab.phone.call(containers.dialInUri(PIN_LINE));
    const answered = await containers.lab.waitInboundCall(dialledAt, (r) => r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED', 60_000);
    expect(answered.state, JSON.stringify(answered.failure)).toBe('CONNECTED');
    await containers.lab.phone.command('sndcode', `${PIN}#`);
    await waitUntil(async () => (await person.participants()).some((p) => p.display === PHONE_CALLER.displayName), { timeoutMs: 30_000, what: 'the caller in the room' });
    const joinedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await containers.lab.phone.command('hangup');
    const record = await containers.client.waitForCall(answered.callId, (r) => r.state === 'ENDED' || r.state === 'FAILED', { timeoutMs: 30_000 });

    // Assess
    const report = await measure(containers.lab, person, record, dialledAt, undefined, joinedAt);
    expect(record.direction).toBe('inbound');
    expect(record.workerId).toBe(containers.ecs.taskIdOf(worker.name));
    expect(record.state).toBe('ENDED');
    expect(record.endedBy).toBe('remote');
    expect(hasTone(report.phoneHeard!, PERSON_TONE_HZ), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, PHONE_TONE_HZ), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
  });

  it('on a stop as ECS stops a task (SIGTERM, SIGKILL after the stop timeout) hangs up with a BYE and records ENDED by system', async () => {
    // Arrange: a call connected in a warm worker container
    const worker = await containers.warmWorker();
    const callId = await containers.client.enqueueDial(containers.dialRequest());
    const connected = await containers.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || r.state === 'FAILED' || r.state === 'ENDED', {
      timeoutMs: 60_000,
    });
    expect(connected.state, JSON.stringify(connected.failure)).toBe('CONNECTED');
    expect(connected.workerId, 'the call ran in the task about to be stopped').toBe(containers.ecs.taskIdOf(worker.name));
    const stoppedAt = Date.now();

    // Act
    const stop = await worker.task.stop();

    // Assess
    const closed = await containers.lab.phone.nextEvent('CALL_CLOSED', { since: stoppedAt, timeoutMs: 5_000 });
    const record = await containers.client.getCall(callId);
    expect(stop.killed, `stopped after ${stop.stoppedAfterMs} ms`).toBe(false);
    expect(stop.exit.code).toBe(0);
    expect(closed.param).toMatch(/reset by peer/i);
    expect(record?.state).toBe('ENDED');
    expect(record?.endedBy).toBe('system');
  });

  it("makes only AWS calls that the worker's task role in the template allows", async () => {
    // Arrange
    const worker = containers.service('worker').service.task;
    const policy = rolePolicy(template, worker.taskRole!, containers.bound.bindings);

    // Act
    const calls = await containers.awsCalls();

    // Assess
    expect(calls.map((c) => c.command)).toEqual(expect.arrayContaining(['ReceiveMessageCommand', 'DeleteMessageCommand']));
    const denied = calls
      .flatMap((call) => authorizationOf(call, LAB_ACCOUNT, LAB_REGION).map((as) => ({ call: call.command, ...as })))
      .filter((as) => !allows(policy, as.action, as.resource));
    expect(denied).toEqual([]);
    const granted = new Set(policy.flatMap((s) => s.actions));
    const used = new Set(calls.flatMap((call) => authorizationOf(call, LAB_ACCOUNT, LAB_REGION).map((as) => as.action)));
    console.log(`the task role grants ${[...granted].join(', ')}; these calls used ${[...used].join(', ')}`);
  });
});

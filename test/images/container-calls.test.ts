import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTone } from '../../lab/audio-analysis.js';
import { ContainerLab } from '../../lab/containers/container-lab.js';
import { allows, authorizationOf } from '../../lab/containers/iam.js';
import { buildRoomlineImages, imageTag } from '../../lab/containers/image-builds.js';
import { LAB_ACCOUNT } from '../../lab/containers/lab-bindings.js';
import { labTemplate } from '../../lab/containers/lab-stack.js';
import { rolePolicy, type CfnTemplate } from '../../lab/containers/task-definitions.js';
import { dialAndMeasure } from '../../lab/demo-call.js';
import { LAB_REGION } from '../../lab/emulators.js';

// Calls through the images Roomline deploys, run as ECS runs them on Fargate (lab/containers/): the worker and Janus
// containers from the synthesized template's services, the lab's room, person and phone around them.
const WORK_DIR = join(process.env['ROOMLINE_IMAGES_WORK'] ?? '.lab', 'images');

let template: CfnTemplate;
let containers: ContainerLab;

beforeAll(async () => {
  // the images as the build test leaves them (from the layer cache when nothing changed)
  await buildRoomlineImages({ workDir: WORK_DIR, label: 'calls', log: (line) => console.log(line) });
  template = labTemplate();
  containers = await ContainerLab.start({
    template,
    images: { worker: imageTag('worker'), janus: imageTag('janus'), registrar: imageTag('registrar') },
  });
  await containers.service('janus').scaleTo(1);
  await containers.service('worker').scaleTo(1);
}, 1_200_000);

afterAll(async () => {
  if (containers === undefined) return;
  for (const service of containers.services.values()) for (const task of service.tasks) await containers.keepLog(task);
  await containers.stop();
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

  it('on a stop as ECS stops a task (SIGTERM, SIGKILL after the stop timeout) hangs up with a BYE and records ENDED by system', async () => {
    // Arrange: a call connected in a warm worker container
    const worker = await containers.warmWorker();
    const callId = await containers.client.enqueueDial(containers.dialRequest());
    const connected = await containers.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || r.state === 'FAILED' || r.state === 'ENDED', {
      timeoutMs: 60_000,
    });
    expect(connected.state, JSON.stringify(connected.failure)).toBe('CONNECTED');
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

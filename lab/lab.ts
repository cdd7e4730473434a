import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DialRequestInput } from '../contracts/dial-request.js';
import { egressPolicy } from '../contracts/egress-policy.js';
import type { CallRecord } from '../contracts/call-record.js';
import type { ChimeRoomJoin } from '../contracts/rooms/chime.js';
import { BrowserSource } from '../worker/browser-source.js';
import { RoomlineClient } from '../worker/client.js';
import { createLogger, type Logger } from '../worker/logger.js';
import { ChimeStandIn } from './chime/chime-stand-in.js';
import { LabChimeMeeting } from './chime/lab-meeting.js';
import type { Emulators } from './emulators.js';
import { buildFakeSdkBotPage } from './fake-sdks/build.js';
import { FakeSdkControl } from './fake-sdks/control.js';
import { inboundCalls, waitInboundCall } from './inbound-calls.js';
import { LAB_JANUS_WS_PORT, type JanusServer } from './janus-server.js';
import { labEndpoints } from './lab-endpoints.js';
import { startLabServers } from './lab-servers.js';
import type { LabEndpoints, LabOptions, LabPersonOptions } from './lab-options.js';
import { LAB_BROWSER_USER, LAB_JANUS_IP, LAB_SIP_HOSTS, LabNetns } from './netns.js';
import { NamespaceForwards } from './ns-forward.js';
import { RoomPerson } from './room-person.js';
import type { SipFailures } from './sip-failures.js';
import { PHONE_CTRL_PORT, type SipPhone } from './sip-phone.js';
import type { SipTrunk } from './sip-trunk.js';
import type { SipRegistrar } from './sip-registrar.js';
import { SippPeer, type SippScenario } from './sipp.js';
import { WebApps } from './web-apps.js';
import { WorkerPool, type LabWorker } from './worker-pool.js';
import { NetworkCut, commandOf, descendantsOf } from './network-cut.js';
import { ServiceGate } from './service-gate.js';
import { LabDashboard } from './dashboard/dashboard-server.js';

export type { LabEndpoints, LabOptions, LabPersonOptions } from './lab-options.js';

/**
 * The whole of Roomline on one machine, no cloud account: SQS and DynamoDB emulators, Janus, a SIP phone, a SIP
 * failure simulator, simulated room participants and warm workers. Media stays inside the lab's network namespace.
 */
export class Lab {
  readonly persons: RoomPerson[] = [];
  private stopped: Promise<void> | undefined;
  private readonly cleanups: (() => Promise<void>)[] = [];
  netns!: LabNetns;
  /** ROOMLINE_ROOM_HOSTS of this lab's workers and client. */
  roomHosts!: string;
  emulators!: Emulators;
  janus!: JanusServer;
  /** SIP-only Janus nodes (`janusSipNodes`), in the order the workers are given them. */
  readonly sipJanus: JanusServer[] = [];
  /** Doors in front of the emulators (`emulatorGates`). */
  gates: { readonly sqs: ServiceGate; readonly dynamodb: ServiceGate } | undefined;
  phone!: SipPhone;
  failures!: SipFailures;
  trunk: SipTrunk | undefined;
  /** The dial-in registrar (with `dialIn`). */
  registrar: SipRegistrar | undefined;
  forwards!: NamespaceForwards;
  personBrowser: BrowserSource | undefined;
  chime: ChimeStandIn | undefined;
  /** The people in the lab's Chime meeting. */
  readonly chimePersons: RoomPerson[] = [];
  pool: WorkerPool | undefined;
  webApps: WebApps | undefined;
  /** The fake CPaaS SDKs' control channel (with `fakeSdks`). */
  fakeSdks: FakeSdkControl | undefined;
  client!: RoomlineClient;
  endpoints!: LabEndpoints;
  /** The lab dashboard (with `dashboard`). */
  dashboard: LabDashboard | undefined;

  private constructor(
    readonly dir: string,
    private readonly options: LabOptions,
    readonly logger: Logger,
  ) {}

  static async start(options: LabOptions = {}): Promise<Lab> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'roomline-lab-')));
    const logger = options.logger ?? createLogger({ level: 'warn', base: { component: 'lab' } });
    const lab = new Lab(dir, options, logger);
    try {
      await lab.startParts();
      return lab;
    } catch (error) {
      await lab.stop();
      throw error;
    }
  }

  private async startParts(): Promise<void> {
    const { options, dir } = this;
    this.netns = await LabNetns.create();
    this.cleanups.push(() => this.netns.remove());
    const { emulators, janus, phone, failures, trunk, registrar, sipJanus } = await startLabServers(this.netns, dir, options);
    this.trunk = trunk;
    if (trunk !== undefined) this.cleanups.push(() => trunk.stop());
    this.registrar = registrar;
    if (registrar !== undefined) this.cleanups.push(() => registrar.stop());
    this.emulators = emulators;
    this.janus = janus;
    this.phone = phone;
    this.failures = failures;
    this.sipJanus.push(...sipJanus);
    this.cleanups.push(
      () => emulators.stop(),
      () => janus.stop(),
      () => phone.stop(),
      () => failures.stop(),
      ...sipJanus.map((node) => () => node.stop()),
    );
    this.forwards = await NamespaceForwards.start(this.netns, dir, [
      { name: 'janus', host: LAB_JANUS_IP, port: LAB_JANUS_WS_PORT },
      { name: 'phone', host: '127.0.0.1', port: PHONE_CTRL_PORT },
      ...sipJanus.map((node, i) => ({ name: `janus-sip-${i + 1}`, host: LAB_JANUS_IP, port: node.wsPort })),
    ]);
    this.cleanups.push(() => this.forwards.stop());
    let botPageDir: string | undefined;
    if (options.fakeSdks === true) {
      botPageDir = join(dir, 'bot-page-fakes');
      const [control] = await Promise.all([FakeSdkControl.start({ netns: this.netns, dir }), buildFakeSdkBotPage(botPageDir)]);
      this.fakeSdks = control;
      this.cleanups.push(() => control.stop());
    }
    const roomToken = janus.token();
    if (options.webApps === true) {
      const webApps = await WebApps.start({ netns: this.netns, dir, janusToken: roomToken });
      this.webApps = webApps;
      this.cleanups.push(() => webApps.stop());
    }
    const hostWsUrl = `ws://127.0.0.1:${this.forwards.port('janus')}/`;
    await Promise.all([
      janus.waitReady(hostWsUrl),
      ...sipJanus.map((node) => node.waitReady(this.hostWsUrl(node))),
      phone.attachControl(this.forwards.port('phone')),
      failures.waitReady(),
      trunk?.waitReady(),
      registrar?.waitReady(),
    ]);
    const trunksFile = join(dir, 'trunks.json');
    if (trunk !== undefined) await writeFile(trunksFile, JSON.stringify(trunk.trunks(), null, 2), { mode: 0o600 });
    if (options.emulatorGates === true) {
      const endpoint = (url: string) => ({ host: '127.0.0.1', port: Number(new URL(url).port) });
      const [sqs, dynamodb] = await Promise.all([
        ServiceGate.start('sqs', endpoint(emulators.sqsEndpoint)),
        ServiceGate.start('dynamodb', endpoint(emulators.dynamodbEndpoint)),
      ]);
      this.gates = { sqs, dynamodb };
      this.cleanups.push(
        () => sqs.close(),
        () => dynamodb.close(),
      );
    }

    if (options.chime !== undefined) {
      const chime = await ChimeStandIn.start({ netns: this.netns, browser: await this.labBrowser(), dir, logger: this.logger });
      this.chime = chime;
      this.cleanups.push(() => chime.stop());
    }
    const chimeMeeting = this.chime?.meetings.createMeeting('roomline-lab');

    const { roomHosts, endpoints } = labEndpoints(options, {
      dir,
      netns: this.netns,
      emulators,
      janus,
      sipJanus,
      hostWsUrl,
      roomToken,
      phoneControlPort: this.forwards.port('phone'),
      gates: this.gates,
      chime: this.chime,
      chimeMeeting,
      trunksFile: trunk === undefined ? undefined : trunksFile,
      botPageDir,
      registrar,
    });
    this.roomHosts = roomHosts;
    this.endpoints = endpoints;
    if (options.dashboard === true) {
      const dashboard = await LabDashboard.start({ emulators });
      this.dashboard = dashboard;
      this.cleanups.push(() => dashboard.stop());
      this.endpoints = { ...endpoints, dashboard: dashboard.url };
    }
    this.client = new RoomlineClient({
      queueUrl: emulators.queueUrl,
      tableName: emulators.tableName,
      routesTableName: emulators.routesTableName,
      sqs: emulators.sqsClient(),
      dynamodb: emulators.dynamodbClient(),
      egress: egressPolicy(roomHosts, LAB_SIP_HOSTS),
    });

    const persons = options.persons ?? [{ display: 'Alice', toneHz: 440 }];
    for (const person of persons) await this.addPerson(person);
    for (const person of options.chime?.persons ?? []) await this.addChimePerson(person);
    const workers = options.workers ?? 1;
    if (workers > 0) this.startWorkers(workers);
  }

  /** A Janus server's WebSocket API as reached from the host (through the namespace forward). */
  hostWsUrl(server: JanusServer): string {
    if (server === this.janus) return this.endpoints?.janus.hostWsUrl ?? `ws://127.0.0.1:${this.forwards.port('janus')}/`;
    const index = this.sipJanus.indexOf(server);
    if (index < 0) throw new Error('not a Janus server of this lab');
    return `ws://127.0.0.1:${this.forwards.port(`janus-sip-${index + 1}`)}/`;
  }

  /** The Janus server behind a WebSocket URL the workers were given. */
  janusAt(wsUrl: string): JanusServer {
    const server = [this.janus, ...this.sipJanus].find((s) => s.wsUrl === wsUrl);
    if (server === undefined) throw new Error(`no Janus server of this lab at ${wsUrl}`);
    return server;
  }

  /** The main process of a worker's Chromium (the worker's child named chromium). */
  async chromiumOf(worker: LabWorker): Promise<number> {
    const pid = worker.child.pid;
    if (pid === undefined) throw new Error(`worker ${worker.index} has no process`);
    for (const candidate of await descendantsOf([pid])) {
      if (candidate !== pid && (await commandOf(candidate)) === 'chromium') {
        const parent = await readFile(`/proc/${candidate}/stat`, 'utf8').catch(() => '');
        const ppid = Number(parent.slice(parent.lastIndexOf(')') + 2).split(' ')[1]);
        if ((await commandOf(ppid)) !== 'chromium') return candidate;
      }
    }
    throw new Error(`worker ${worker.index} has no Chromium running`);
  }

  /**
   * Cuts a worker's browser off without a FIN (every packet of its sockets in the lab's namespace dropped): all of its
   * network, or only its connection to the Janus server at `janusWsUrl`. The browser's connections are held by
   * Chromium (media) and by the worker's egress route into the namespace (WebSockets go through the egress proxy), so
   * the cut covers the worker's whole process tree.
   */
  async cutNetworkOf(worker: LabWorker, janusWsUrl?: string): Promise<NetworkCut> {
    const peer = janusWsUrl === undefined ? undefined : new URL(janusWsUrl);
    const pid = worker.child.pid;
    if (pid === undefined) throw new Error(`worker ${worker.index} has no process`);
    const cut = await NetworkCut.of(
      this.netns,
      [pid],
      this.dir,
      peer === undefined ? undefined : { address: peer.hostname, port: Number(peer.port) },
    );
    this.cleanups.push(() => cut.restore());
    return cut;
  }

  /** Starts the warm pool (if not started) with `size` workers. */
  startWorkers(size: number): WorkerPool {
    if (this.pool !== undefined) {
      this.pool.resize(size);
      return this.pool;
    }
    const dashboard = this.dashboard;
    const pool = new WorkerPool({
      size,
      dir: this.dir,
      env: { ...process.env, ...this.endpoints.env, ...(dashboard === undefined ? {} : { ROOMLINE_METRICS: 'emf' }), ...this.options.workerEnv },
      ...(dashboard === undefined ? {} : { onOutputLine: (line: string) => dashboard.addLine(line) }),
    });
    this.pool = pool;
    this.cleanups.push(() => pool.stop());
    return pool;
  }

  /** Starts a scripted SIP peer (SIPp) for one call; it is stopped with the lab. */
  async startSipp(scenario: SippScenario): Promise<SippPeer> {
    const peer = await SippPeer.start({ netns: this.netns, dir: this.dir, scenario, index: this.sippPeers++ });
    this.cleanups.push(() => peer.stop());
    return peer;
  }

  private sippPeers = 0;

  /** The lab's own Chromium, inside the namespace (simulated people, the Chime stand-in's media page). */
  private async labBrowser(): Promise<BrowserSource> {
    if (this.personBrowser === undefined) {
      this.personBrowser = await BrowserSource.launch({ netns: this.netns.name, logger: this.logger, isolation: { user: LAB_BROWSER_USER } });
      this.cleanups.push(() => this.personBrowser!.close());
    }
    return this.personBrowser;
  }

  /** A simulated person joins the lab's room. */
  async addPerson(options: LabPersonOptions, roomId: number = this.endpoints.room.roomId): Promise<RoomPerson> {
    const person = await this.joinPerson({ ...this.endpoints.room, roomId }, options);
    this.persons.push(person);
    return person;
  }

  /** A simulated person joins the lab's Chime meeting (as its own attendee, on the same SDK the bot uses). */
  async addChimePerson(options: LabPersonOptions): Promise<RoomPerson> {
    const person = await this.joinPerson({ provider: 'chime', ...this.chimeMeeting().joinInfo(options.display) }, options);
    this.chimePersons.push(person);
    return person;
  }

  private async joinPerson(room: Parameters<typeof RoomPerson.join>[1]['room'], options: LabPersonOptions): Promise<RoomPerson> {
    return RoomPerson.join(await this.labBrowser(), {
      room,
      display: options.display,
      toneHz: options.toneHz,
      ...(options.color === undefined ? {} : { color: options.color }),
      ...(options.record === undefined ? {} : { record: options.record }),
    });
  }

  /** A new attendee's JoinInfo in the lab's Chime meeting, as a customer's app gets it from its own backend. */
  chimeJoinInfo(display: string): Pick<ChimeRoomJoin, 'meeting' | 'attendee'> {
    return this.chimeMeeting().joinInfo(display);
  }

  /** The lab's Chime meeting as a dial request's room (see `LabChimeMeeting.room`). */
  chimeRoom(options: Parameters<LabChimeMeeting['room']>[0]): ChimeRoomJoin {
    return this.chimeMeeting().room(options);
  }

  private chimeMeeting(): LabChimeMeeting {
    const chime = this.endpoints.chime;
    if (this.chime === undefined || chime === undefined) throw new Error('this lab runs no Chime stand-in (LabOptions.chime)');
    return new LabChimeMeeting(this.chime.meetings, chime.meetingId);
  }

  /** A dial request that calls the lab's phone into the lab's room; `overrides` replace top-level fields. */
  dialRequest(overrides: Partial<DialRequestInput> = {}): DialRequestInput {
    return {
      version: 1,
      to: this.endpoints.sip.phone,
      from: { uri: 'sip:meeting@127.0.0.1', displayName: 'Roomline lab' },
      headers: { 'X-Roomline-Lab': 'yes' },
      room: { ...this.endpoints.room, display: 'Phone' },
      limits: { ringTimeoutS: 20, maxDurationS: 120, emptyRoomTimeoutS: 30 },
      ...overrides,
    };
  }

  /** The inbound calls' records (dial-in), oldest first, as an operator's query would read them. */
  inboundCalls(): Promise<CallRecord[]> {
    return inboundCalls(this.emulators);
  }

  /** Waits for the first inbound call record created at or after `since` (epoch ms) that satisfies `done`. */
  waitInboundCall(since: number, done: (record: CallRecord) => boolean, timeoutMs = 30_000): Promise<CallRecord> {
    return waitInboundCall(this.emulators, since, done, timeoutMs);
  }

  /** Asks every call of this lab that is not final to hang up, and waits for them to end. */
  async hangUpLiveCalls(timeoutMs = 15_000): Promise<void> {
    const live = (this.pool?.workers ?? []).filter((w) => w.state === 'busy' && w.callId !== undefined);
    await Promise.all(
      live.map(async (worker) => {
        const record = await this.client.requestHangup(worker.callId!).catch(() => undefined);
        if (record === undefined) return;
        await this.client
          .waitForCall(worker.callId!, (r) => r.state === 'ENDED' || r.state === 'FAILED', { timeoutMs })
          .catch(() => undefined);
      }),
    );
  }

  /** Stops everything, newest first. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const person of [...this.persons, ...this.chimePersons]) await person.leave();
      for (const cleanup of this.cleanups.reverse()) {
        await cleanup().catch((error: unknown) => this.logger.warn({ error: String(error) }, 'lab cleanup step failed'));
      }
      const keep = this.options.keepDir ?? process.env['ROOMLINE_LAB_KEEP'] === '1';
      if (!keep && this.options.dir === undefined) await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}

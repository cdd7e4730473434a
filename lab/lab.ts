import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DialRequestInput } from '../contracts/dial-request.js';
import { egressPolicy } from '../contracts/egress-policy.js';
import type { ChimeRoomJoin } from '../contracts/rooms/chime.js';
import { BrowserSource } from '../worker/browser-source.js';
import { RoomlineClient } from '../worker/client.js';
import { createLogger, type Logger } from '../worker/logger.js';
import { ChimeStandIn } from './chime/chime-stand-in.js';
import { Emulators } from './emulators.js';
import { buildFakeSdkBotPage } from './fake-sdks/build.js';
import { FakeSdkControl } from './fake-sdks/control.js';
import { FAKE_SDK_CONTROL_PORT } from './fake-sdks/protocol.js';
import { JanusServer, LAB_JANUS_WS_PORT, LAB_ROOM_IDS } from './janus-server.js';
import { LAB_BROWSER_USER, LAB_JANUS_IP, LAB_ROOM_HOSTS, LAB_SIP_HOSTS, LabNetns } from './netns.js';
import { NamespaceForwards } from './ns-forward.js';
import { RoomPerson } from './room-person.js';
import { SipFailures, UNREACHABLE_SIP_PORT } from './sip-failures.js';
import { PHONE_CTRL_PORT, SipPhone, type SipPhoneOptions } from './sip-phone.js';
import { SipTrunk } from './sip-trunk.js';
import { makeLabTlsCerts } from './tls-certs.js';
import { SippPeer, type SippScenario } from './sipp.js';
import { WebApps } from './web-apps.js';
import { WorkerPool, type LabWorker } from './worker-pool.js';
import { NetworkCut, commandOf, descendantsOf } from './network-cut.js';
import { ServiceGate } from './service-gate.js';

export interface LabPersonOptions {
  readonly display: string;
  readonly toneHz: number;
  /** A camera of this colour (RGB); no video when absent. */
  readonly color?: readonly [number, number, number];
  /** Record what the person hears. @default true */
  readonly record?: boolean;
}

export interface LabOptions {
  /** Folder for configuration, recordings and logs. @default a new temporary folder */
  readonly dir?: string;
  /** Warm workers kept running (each takes one call, then a new one starts). @default 1 */
  readonly workers?: number;
  /** Receives before a dial message goes to the dead-letter queue; workers use the same. @default 3 */
  readonly maxReceives?: number;
  /** The SIP phone's tone and video. @default 1000 Hz, audio only */
  readonly phone?: Omit<SipPhoneOptions, 'netns' | 'dir'>;
  /** Simulated people in the room. @default one, "Alice", speaking 440 Hz */
  readonly persons?: readonly LabPersonOptions[];
  /**
   * Start the lab's Amazon Chime SDK stand-in with one meeting, and these simulated people in it (off by default:
   * Janus-only labs do not pay for it).
   */
  readonly chime?: { readonly persons?: readonly LabPersonOptions[] };
  /** Serve the meeting web apps page mode joins (lab/web-apps.ts). @default false */
  readonly webApps?: boolean;
  /**
   * Workers serve a test build of the bot page whose Daily and Vonage SDKs are the lab's typed fakes, driven through
   * `lab.fakeSdks` (lab/fake-sdks/): those providers' servers cannot be reached from here. @default false
   */
  readonly fakeSdks?: boolean;
  /** Extra environment for the workers. */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /**
   * Start Kamailio as an authenticating SIP trunk (proxy and registrar) and give the workers its trunks in a trunks
   * file (`ROOMLINE_TRUNKS_FILE`). @default false
   */
  readonly trunk?: boolean;
  /**
   * Janus nodes for the SIP leg apart from the room's Janus, as in AWS (where the room is elsewhere and Roomline runs
   * SIP-only nodes): the workers are given all of them, and one can be killed without touching the room. 0: the
   * room's Janus serves the SIP leg too. @default 0
   */
  readonly janusSipNodes?: number;
  /** Visibility timeout of the dial queue and the workers, in seconds. @default 30 */
  readonly visibilityTimeoutS?: number;
  /**
   * Put the workers' way to SQS and DynamoDB through doors the tests can close (`lab.gates`), as if the service
   * stopped: open connections cut, new ones refused, the data kept. @default false
   */
  readonly emulatorGates?: boolean;
  /** Keep the folder after stop. @default false, unless ROOMLINE_LAB_KEEP=1 */
  readonly keepDir?: boolean;
  readonly logger?: Logger;
}

/** Where everything in the lab is, as `roomline lab up` prints it. */
export interface LabEndpoints {
  readonly dir: string;
  readonly netns: string;
  readonly sqs: { readonly endpoint: string; readonly queueUrl: string; readonly deadLetterQueueUrl: string };
  readonly dynamodb: { readonly endpoint: string; readonly table: string };
  readonly janus: {
    /** Inside the lab's namespace (where browsers run). */
    readonly wsUrl: string;
    /** Forwarded to the host's loopback, for signalling tools (WebRTC media needs the namespace). */
    readonly hostWsUrl: string;
  };
  /** The Janus nodes the workers use for the SIP leg (the room's Janus unless `janusSipNodes` is set). */
  readonly janusSipUrls: readonly string[];
  /** The lab's room; `token` is a Janus token for the VideoRoom plugin only (a room credential, kept out of records and logs). */
  readonly room: { readonly provider: 'janus'; readonly serverUrl: string; readonly roomId: number; readonly token: string };
  /** The Chime stand-in, when the lab runs one: its Meetings API (host loopback) and its meeting. */
  readonly chime?: { readonly apiEndpoint: string; readonly meetingId: string; readonly signalingUrl: string };
  readonly sip: {
    readonly phone: string;
    readonly ringing: string;
    readonly busy: string;
    readonly decline: string;
    readonly notFound: string;
    readonly unreachable: string;
  };
  /** baresip's ctrl_tcp (JSON in netstrings), forwarded to the host's loopback. */
  readonly phoneControl: string;
  /** Environment that points the CLI, the client library or a worker at this lab. */
  readonly env: Readonly<Record<string, string>>;
}

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
    // SIP over TLS between Janus and the trunk needs certificates at both ends
    const tls = options.trunk === true ? await makeLabTlsCerts(join(dir, 'tls')) : undefined;
    const sipsCertsDir = tls === undefined ? {} : { sipsCertsDir: tls.sofiaDir };
    // every node of the lab takes the same secrets, as the nodes of one deployment do
    const secrets = { apiSecret: randomBytes(18).toString('base64url'), tokenSecret: randomBytes(18).toString('base64url') };
    const visibilityTimeoutS = options.visibilityTimeoutS ?? 30;
    const [emulators, janus, phone, failures, trunk, ...sipJanus] = await Promise.all([
      Emulators.start({ maxReceives: options.maxReceives ?? 3, visibilityTimeoutS }),
      JanusServer.start({ netns: this.netns, dir, secrets, ...sipsCertsDir }),
      SipPhone.start({ netns: this.netns, dir, ...options.phone }),
      SipFailures.start({ netns: this.netns, dir }),
      tls === undefined ? undefined : SipTrunk.start({ netns: this.netns, dir, tls }),
      ...Array.from({ length: options.janusSipNodes ?? 0 }, (_, i) =>
        JanusServer.start({
          netns: this.netns,
          dir,
          secrets,
          ...sipsCertsDir,
          name: `janus-sip-${i + 1}`,
          wsPort: LAB_JANUS_WS_PORT + 1 + i,
          rtpPortRange: `${40000 + i * 2000}-${40000 + i * 2000 + 1999}`,
          sipRtpPortRange: `${31000 + i * 1000}-${31000 + i * 1000 + 999}`,
          rooms: false,
        }),
      ),
    ]);
    this.trunk = trunk;
    if (trunk !== undefined) this.cleanups.push(() => trunk.stop());
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

    // Where lab calls may connect: the lab's Janus; page-mode apps, served at localhost and 127.0.0.1 inside the
    // namespace; and, for the fake SDKs, their providers' public names (the namespace resolves no name, so none is
    // reached). The fake SDKs' control channel is an instrument of the lab, always open to the bot page.
    const roomHosts = [LAB_ROOM_HOSTS, ...(options.webApps === true ? ['localhost', '127.0.0.1'] : []), ...(options.fakeSdks === true ? ['*'] : [])].join(',');
    this.roomHosts = roomHosts;
    const janusSipUrls = sipJanus.length > 0 ? sipJanus.map((node) => node.wsUrl) : [janus.wsUrl];
    const env: Record<string, string> = {
      ...emulators.env(),
      ...(this.gates === undefined
        ? {}
        : { AWS_ENDPOINT_URL_SQS: this.gates.sqs.url, AWS_ENDPOINT_URL_DYNAMODB: this.gates.dynamodb.url }),
      // the lab's Chime stand-in, or (without it) a closed loopback port: a Chime lookup never reaches AWS from here
      AWS_ENDPOINT_URL_CHIME_SDK_MEETINGS: this.chime?.apiEndpoint ?? 'http://127.0.0.1:9',
      ROOMLINE_JANUS_URLS: janusSipUrls.join(','),
      ROOMLINE_JANUS_API_SECRET: janus.apiSecret,
      // for `roomline dial --room-token-from-env` in `lab exec`: the room server's token
      ROOMLINE_ROOM_TOKEN: roomToken,
      ROOMLINE_CHROMIUM_NETNS: this.netns.name,
      ROOMLINE_CHROMIUM_USER: LAB_BROWSER_USER,
      ROOMLINE_SIP_FROM: 'sip:roomline@127.0.0.1',
      // the lab's own addresses, which the default allow-lists refuse: the room server and the SIP peers
      ROOMLINE_ROOM_HOSTS: roomHosts,
      ...(options.fakeSdks === true ? { ROOMLINE_EXTRA_BROWSER_ORIGINS: `ws://127.0.0.1:${FAKE_SDK_CONTROL_PORT}` } : {}),
      ROOMLINE_SIP_HOSTS: LAB_SIP_HOSTS,
      ROOMLINE_MAX_RECEIVES: String(options.maxReceives ?? 3),
      ROOMLINE_VISIBILITY_TIMEOUT_S: String(visibilityTimeoutS),
      ROOMLINE_LOG_LEVEL: 'debug',
      ...(trunk === undefined ? {} : { ROOMLINE_TRUNKS_FILE: trunksFile }),
      ...(botPageDir === undefined ? {} : { ROOMLINE_BOT_PAGE_DIR: botPageDir }),
    };
    const roomId = LAB_ROOM_IDS[0];
    this.endpoints = {
      dir,
      netns: this.netns.name,
      sqs: {
        endpoint: emulators.sqsEndpoint,
        queueUrl: emulators.queueUrl,
        deadLetterQueueUrl: emulators.deadLetterQueueUrl,
      },
      dynamodb: { endpoint: emulators.dynamodbEndpoint, table: emulators.tableName },
      janus: { wsUrl: janus.wsUrl, hostWsUrl },
      janusSipUrls,
      room: { provider: 'janus', serverUrl: janus.wsUrl, roomId, token: roomToken },
      ...(this.chime === undefined || chimeMeeting === undefined
        ? {}
        : {
            chime: {
              apiEndpoint: this.chime.apiEndpoint,
              meetingId: chimeMeeting.MeetingId,
              signalingUrl: chimeMeeting.MediaPlacement.SignalingUrl,
            },
          }),
      sip: {
        phone: SipPhone.uri('probe'),
        ringing: SipPhone.uri('ringing'),
        busy: SipFailures.uri('busy'),
        decline: SipFailures.uri('decline'),
        notFound: SipFailures.uri('nobody'),
        unreachable: `sip:nobody@127.0.0.1:${UNREACHABLE_SIP_PORT}`,
      },
      phoneControl: `127.0.0.1:${this.forwards.port('phone')}`,
      env,
    };
    this.client = new RoomlineClient({
      queueUrl: emulators.queueUrl,
      tableName: emulators.tableName,
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
    const pool = new WorkerPool({
      size,
      dir: this.dir,
      env: { ...process.env, ...this.endpoints.env, ...this.options.workerEnv },
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
    const person = await RoomPerson.join(await this.labBrowser(), {
      room: { ...this.endpoints.room, roomId },
      display: options.display,
      toneHz: options.toneHz,
      ...(options.color === undefined ? {} : { color: options.color }),
      ...(options.record === undefined ? {} : { record: options.record }),
    });
    this.persons.push(person);
    return person;
  }

  /** A simulated person joins the lab's Chime meeting (as its own attendee, on the same SDK the bot uses). */
  async addChimePerson(options: LabPersonOptions): Promise<RoomPerson> {
    const chime = this.endpoints.chime;
    if (this.chime === undefined || chime === undefined) throw new Error('this lab runs no Chime stand-in (LabOptions.chime)');
    const person = await RoomPerson.join(await this.labBrowser(), {
      room: { provider: 'chime', ...this.chime.meetings.joinInfo(chime.meetingId, chimeUserId(options.display)) },
      display: options.display,
      toneHz: options.toneHz,
      ...(options.color === undefined ? {} : { color: options.color }),
      ...(options.record === undefined ? {} : { record: options.record }),
    });
    this.chimePersons.push(person);
    return person;
  }

  /**
   * The lab's Chime meeting as a dial request's room: a JoinInfo made here (as a caller with an AWS account would,
   * with `tiles` more attendees for a split), or only the meeting's id (the worker then creates the attendees).
   */
  /** A new attendee's JoinInfo in the lab's Chime meeting, as a customer's app gets it from its own backend. */
  chimeJoinInfo(display: string): Pick<ChimeRoomJoin, 'meeting' | 'attendee'> {
    const chime = this.endpoints.chime;
    if (this.chime === undefined || chime === undefined) throw new Error('this lab runs no Chime stand-in (LabOptions.chime)');
    return this.chime.meetings.joinInfo(chime.meetingId, chimeUserId(display));
  }

  chimeRoom(options: { readonly join: 'join-info' | 'meeting-id'; readonly display?: string; readonly tiles?: readonly string[] }): ChimeRoomJoin {
    const chime = this.endpoints.chime;
    if (this.chime === undefined || chime === undefined) throw new Error('this lab runs no Chime stand-in (LabOptions.chime)');
    if (options.join === 'meeting-id') {
      return { provider: 'chime', meetingId: chime.meetingId, ...(options.display === undefined ? {} : { display: options.display }) };
    }
    const { meeting, attendee } = this.chime.meetings.joinInfo(chime.meetingId, chimeUserId(options.display ?? 'Phone'));
    const tiles = (options.tiles ?? []).map((name) => this.chime!.meetings.joinInfo(chime.meetingId, chimeUserId(name)).attendee);
    return { provider: 'chime', meeting, attendee, ...(tiles.length === 0 ? {} : { tileAttendees: tiles }) };
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

/** An ExternalUserId as Chime's own demo makes them: a unique tag, `#`, the name people see. */
function chimeUserId(name: string): string {
  return `${randomBytes(4).toString('hex')}#${name}`.slice(0, 64);
}

import type { Logger } from '../worker/logger.js';
import type { SipPhoneOptions } from './sip-phone.js';

/** What a lab starts with (`Lab.start`), and where everything in a running lab is (`lab.endpoints`). */

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
  /**
   * Dial-in: start the Kamailio registrar (lab/sip-registrar.ts) and have the workers register there for inbound
   * calls, routed by the emulated routes table. @default false
   */
  readonly dialIn?: boolean;
  /**
   * Serve the lab dashboard (lab/dashboard/) on the host's loopback, its URL in `endpoints.dashboard`; the workers then
   * write their metrics as EMF lines (ROOMLINE_METRICS=emf), which it reads from their stdout. @default false
   */
  readonly dashboard?: boolean;
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
  /** The lab dashboard's page (with `dashboard`). */
  readonly dashboard?: string;
  /** Environment that points the CLI, the client library or a worker at this lab. */
  readonly env: Readonly<Record<string, string>>;
}

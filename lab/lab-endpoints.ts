import type { ChimeMeeting } from '../contracts/rooms/chime.js';
import type { ChimeStandIn } from './chime/chime-stand-in.js';
import type { Emulators } from './emulators.js';
import { FAKE_SDK_CONTROL_PORT } from './fake-sdks/protocol.js';
import { LAB_ROOM_IDS, type JanusServer } from './janus-server.js';
import type { LabEndpoints, LabOptions } from './lab-options.js';
import { LAB_BROWSER_USER, LAB_ROOM_HOSTS, LAB_SIP_HOSTS, type LabNetns } from './netns.js';
import type { ServiceGate } from './service-gate.js';
import { SipFailures, UNREACHABLE_SIP_PORT } from './sip-failures.js';
import { SipPhone } from './sip-phone.js';
import type { SipRegistrar } from './sip-registrar.js';

/** The running parts of a lab that its addresses and its workers' environment come from. */
export interface LabParts {
  readonly dir: string;
  readonly netns: LabNetns;
  readonly emulators: Emulators;
  readonly janus: JanusServer;
  readonly sipJanus: readonly JanusServer[];
  /** The room's Janus as reached from the host. */
  readonly hostWsUrl: string;
  /** The room server's token (VideoRoom plugin only). */
  readonly roomToken: string;
  /** The host port forwarded to the phone's ctrl_tcp. */
  readonly phoneControlPort: number;
  readonly gates: { readonly sqs: ServiceGate; readonly dynamodb: ServiceGate } | undefined;
  readonly chime: ChimeStandIn | undefined;
  readonly chimeMeeting: ChimeMeeting | undefined;
  /** The workers' trunks file, when the lab runs the trunk. */
  readonly trunksFile: string | undefined;
  /** The fake-SDK build of the bot page, when the lab serves it. */
  readonly botPageDir: string | undefined;
  readonly registrar: SipRegistrar | undefined;
}

/**
 * Where everything in the lab is, and the environment that points a worker, the CLI or the client library at it;
 * with the room hosts its calls may connect to (ROOMLINE_ROOM_HOSTS).
 */
export function labEndpoints(options: LabOptions, parts: LabParts): { readonly roomHosts: string; readonly endpoints: LabEndpoints } {
  const { dir, netns, emulators, janus, sipJanus, roomToken } = parts;
  const visibilityTimeoutS = options.visibilityTimeoutS ?? 30;
  // Where lab calls may connect: the lab's Janus; page-mode apps, served at localhost and 127.0.0.1 inside the
  // namespace; and, for the fake SDKs, their providers' public names (the namespace resolves no name, so none is
  // reached). The fake SDKs' control channel is an instrument of the lab, always open to the bot page.
  const roomHosts = [LAB_ROOM_HOSTS, ...(options.webApps === true ? ['localhost', '127.0.0.1'] : []), ...(options.fakeSdks === true ? ['*'] : [])].join(',');
  const janusSipUrls = sipJanus.length > 0 ? sipJanus.map((node) => node.wsUrl) : [janus.wsUrl];
  const env: Record<string, string> = {
    ...emulators.env(),
    ...(parts.gates === undefined
      ? {}
      : { AWS_ENDPOINT_URL_SQS: parts.gates.sqs.url, AWS_ENDPOINT_URL_DYNAMODB: parts.gates.dynamodb.url }),
    // the lab's Chime stand-in, or (without it) a closed loopback port: a Chime lookup never reaches AWS from here
    AWS_ENDPOINT_URL_CHIME_SDK_MEETINGS: parts.chime?.apiEndpoint ?? 'http://127.0.0.1:9',
    ROOMLINE_JANUS_URLS: janusSipUrls.join(','),
    ROOMLINE_JANUS_API_SECRET: janus.apiSecret,
    // for `roomline dial --room-token-from-env` in `lab exec`: the room server's token
    ROOMLINE_ROOM_TOKEN: roomToken,
    ROOMLINE_CHROMIUM_NETNS: netns.name,
    ROOMLINE_CHROMIUM_USER: LAB_BROWSER_USER,
    ROOMLINE_SIP_FROM: 'sip:roomline@127.0.0.1',
    // the lab's own addresses, which the default allow-lists refuse: the room server and the SIP peers
    ROOMLINE_ROOM_HOSTS: roomHosts,
    ...(options.fakeSdks === true ? { ROOMLINE_EXTRA_BROWSER_ORIGINS: `ws://127.0.0.1:${FAKE_SDK_CONTROL_PORT}` } : {}),
    ROOMLINE_SIP_HOSTS: LAB_SIP_HOSTS,
    ROOMLINE_MAX_RECEIVES: String(options.maxReceives ?? 3),
    ROOMLINE_VISIBILITY_TIMEOUT_S: String(visibilityTimeoutS),
    ROOMLINE_LOG_LEVEL: 'debug',
    ...(parts.trunksFile === undefined ? {} : { ROOMLINE_TRUNKS_FILE: parts.trunksFile }),
    ...(parts.botPageDir === undefined ? {} : { ROOMLINE_BOT_PAGE_DIR: parts.botPageDir }),
    ...(parts.registrar === undefined ? {} : parts.registrar.workerEnv(emulators.routesTableName)),
  };
  const roomId = LAB_ROOM_IDS[0];
  const { chime, chimeMeeting } = parts;
  const endpoints: LabEndpoints = {
    dir,
    netns: netns.name,
    sqs: {
      endpoint: emulators.sqsEndpoint,
      queueUrl: emulators.queueUrl,
      deadLetterQueueUrl: emulators.deadLetterQueueUrl,
    },
    dynamodb: { endpoint: emulators.dynamodbEndpoint, table: emulators.tableName },
    janus: { wsUrl: janus.wsUrl, hostWsUrl: parts.hostWsUrl },
    janusSipUrls,
    room: { provider: 'janus', serverUrl: janus.wsUrl, roomId, token: roomToken },
    ...(chime === undefined || chimeMeeting === undefined
      ? {}
      : {
          chime: {
            apiEndpoint: chime.apiEndpoint,
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
    phoneControl: `127.0.0.1:${parts.phoneControlPort}`,
    env,
  };
  return { roomHosts, endpoints };
}

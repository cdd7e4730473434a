import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabProcess } from './child-process.js';
import { LAB_ICE_INTERFACE, LAB_JANUS_IP, type LabNetns } from './netns.js';
import { waitUntil } from './wait.js';

/** Rooms the lab's Janus creates at start (1234 to 1249); the demo uses the first. */
export const LAB_ROOM_IDS: readonly [number, number, ...number[]] = [1234, 1235, ...Array.from({ length: 14 }, (_, i) => 1236 + i)];
export const LAB_JANUS_WS_PORT = 8188;
/** The lab's one room with a pin (JanusServer.roomPin), apart from LAB_ROOM_IDS, which have none. */
export const LAB_PINNED_ROOM_ID = 1250;

/**
 * How Janus finds a WebSocket client that is gone without a word (a connection cut, no FIN): it pings a connection idle
 * for `trigger` seconds and drops it when no pong came `timeout` seconds later, destroying its sessions, so the SIP
 * plugin hangs up their calls (a BYE, or a CANCEL while ringing). The same values are in the Janus image
 * (infra/janus-image/entrypoint.sh). A client that closes its socket (a process that dies) is seen at once.
 */
export const JANUS_PINGPONG = { triggerS: 1, timeoutS: 2 } as const;

export interface JanusServerOptions {
  readonly netns: LabNetns;
  /** Folder for the generated configuration and the log. */
  readonly dir: string;
  readonly janusBinary?: string;
  /** Names the configuration folder and the log (`<name>/`, `<name>.log`). @default "janus" */
  readonly name?: string;
  /** WebSocket API port, inside the namespace. @default 8188 */
  readonly wsPort?: number;
  /** Port range for the WebRTC side's RTP, inside the namespace. @default "20000-29999" */
  readonly rtpPortRange?: string;
  /** Port range for the SIP plugin's RTP, inside the namespace. @default "30000-30999" */
  readonly sipRtpPortRange?: string;
  /** Certificates for SIP over TLS (`agent.pem`, `cafile.pem`): the SIP plugin's `sips_certs_dir`. @default none */
  readonly sipsCertsDir?: string;
  /** Create the lab's rooms (VideoRoom plugin); a SIP-only node has none, as in AWS. @default true */
  readonly rooms?: boolean;
  /**
   * The API and token secrets, to start a second node that the same workers and participants may use.
   * @default random per server
   */
  readonly secrets?: { readonly apiSecret: string; readonly tokenSecret: string };
}

/**
 * A Janus WebRTC Server with a generated configuration: WebSocket API on the namespace's ICE address, ICE restricted
 * to the namespace's veth, the SIP plugin on the namespace's loopback, and a few VideoRooms. It can be killed and
 * started again with the same configuration (fault tests).
 *
 * It plays two parts, as production keeps apart: the SIP node of the workers, and a room server. Every request must
 * carry its API secret (what the workers have, as on AWS) or a token signed with its token secret; the lab hands room
 * participants tokens for the VideoRoom plugin only, so a room's credential cannot drive the SIP plugin. Both
 * secrets are random per lab.
 */
export class JanusServer {
  readonly wsUrl: string;
  private current: LabProcess;

  private constructor(
    private readonly command: { command: string; args: string[] },
    readonly logFile: string,
    readonly wsPort: number,
    /** The API secret (ROOMLINE_JANUS_API_SECRET of the lab's workers). */
    readonly apiSecret: string,
    private readonly tokenSecret: string,
    /** The pin of room {@link LAB_PINNED_ROOM_ID}. */
    readonly roomPin: string,
  ) {
    this.wsUrl = `ws://${LAB_JANUS_IP}:${wsPort}/`;
    this.current = LabProcess.start('janus', command.command, command.args, { logFile });
  }

  static async start(options: JanusServerOptions): Promise<JanusServer> {
    const name = options.name ?? 'janus';
    const configDir = join(options.dir, name);
    const wsPort = options.wsPort ?? LAB_JANUS_WS_PORT;
    await mkdir(configDir, { recursive: true });
    const apiSecret = options.secrets?.apiSecret ?? randomBytes(18).toString('base64url');
    const tokenSecret = options.secrets?.tokenSecret ?? randomBytes(18).toString('base64url');
    const roomPin = randomBytes(9).toString('base64url');
    await writeJanusConfig(configDir, {
      wsPort,
      rtpPortRange: options.rtpPortRange ?? '20000-29999',
      sipRtpPortRange: options.sipRtpPortRange ?? '30000-30999',
      rooms: options.rooms ?? true,
      serverName: `roomline-lab-${name}`,
      auth: { apiSecret, tokenSecret, roomPin },
      sipsCertsDir: options.sipsCertsDir,
    });
    const command = options.netns.wrap(options.janusBinary ?? 'janus', [
      '-F',
      configDir,
      '-C',
      join(configDir, 'janus.jcfg'),
      '-o',
      '-d',
      '4',
    ]);
    return new JanusServer(command, join(options.dir, `${name}.log`), wsPort, apiSecret, tokenSecret, roomPin);
  }

  /** The secrets of this server, to start another node with the same ones. */
  get secrets(): { readonly apiSecret: string; readonly tokenSecret: string } {
    return { apiSecret: this.apiSecret, tokenSecret: this.tokenSecret };
  }

  /**
   * A Janus signed token (`<expiry>,janus,<plugins>:<HMAC-SHA1, base64>`) for `plugins` only, valid for `validS`
   * seconds: what a room's operator would hand a participant.
   */
  token(plugins: readonly string[] = ['janus.plugin.videoroom'], validS = 86_400): string {
    const data = [String(Math.floor(Date.now() / 1000) + validS), 'janus', ...plugins].join(',');
    return `${data}:${createHmac('sha1', this.tokenSecret).update(data).digest('base64')}`;
  }

  /** The running Janus process. */
  get process(): LabProcess {
    return this.current;
  }

  /** Waits until the WebSocket API answers `info`, through a host-side forward of its port. */
  async waitReady(hostWsUrl: string, timeoutMs = 15_000): Promise<void> {
    await this.current.whileRunning(
      waitUntil(() => janusAnswersInfo(hostWsUrl, this.apiSecret), { timeoutMs, what: 'Janus WebSocket API' }),
    );
  }

  /** Kills Janus at once (SIGKILL: no goodbye to anyone) and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.current.running) this.current.child.kill('SIGKILL');
    await this.current.stop();
  }

  /** Starts Janus again with the same configuration, and waits until it answers. */
  async restart(hostWsUrl: string): Promise<void> {
    await this.kill();
    this.current = LabProcess.start('janus', this.command.command, this.command.args, { logFile: this.logFile });
    await this.waitReady(hostWsUrl);
  }

  stop(): Promise<void> {
    return this.current.stop();
  }
}

/** Janus answers `info` unauthenticated; a session is created only with the API secret, which proves it is checked. */
async function janusAnswersInfo(url: string, apiSecret: string): Promise<boolean> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, 'janus-protocol');
    } catch {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      ws.close();
      resolve(false);
    }, 1_000);
    ws.onopen = () => ws.send(JSON.stringify({ janus: 'create', apisecret: apiSecret, transaction: 'ready' }));
    ws.onmessage = (event) => {
      clearTimeout(timer);
      ws.close();
      resolve(String(event.data).includes('"success"'));
    };
    ws.onerror = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
}

/** Debian's multiarch folder name for this machine. */
export function multiarch(): string {
  return process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
}

async function writeJanusConfig(
  dir: string,
  options: {
    wsPort: number;
    rtpPortRange: string;
    sipRtpPortRange: string;
    rooms: boolean;
    serverName: string;
    auth: { apiSecret: string; tokenSecret: string; roomPin: string };
    sipsCertsDir: string | undefined;
  },
): Promise<void> {
  const libDir = `/usr/lib/${multiarch()}/janus`;
  const disabledPlugins = [
    'libjanus_audiobridge.so',
    'libjanus_duktape.so',
    'libjanus_lua.so',
    'libjanus_nosip.so',
    'libjanus_recordplay.so',
    'libjanus_streaming.so',
    'libjanus_textroom.so',
    'libjanus_videocall.so',
    'libjanus_voicemail.so',
    'libjanus_echotest.so',
    ...(options.rooms ? [] : ['libjanus_videoroom.so']),
  ];
  const files: Record<string, string> = {
    'janus.jcfg': `general: {
  configs_folder = "${dir}"
  plugins_folder = "${libDir}/plugins"
  transports_folder = "${libDir}/transports"
  events_folder = "${libDir}/events"
  loggers_folder = "${libDir}/loggers"
  debug_level = 4
  server_name = "${options.serverName}"
  session_timeout = 60
  hide_dependencies = true
  api_secret = "${options.auth.apiSecret}"
  token_auth = true
  token_auth_secret = "${options.auth.tokenSecret}"
}
media: {
  rtp_port_range = "${options.rtpPortRange}"
}
nat: {
  nice_debug = false
  ice_enforce_list = "${LAB_ICE_INTERFACE}"
}
plugins: {
  disable = "${disabledPlugins.join(',')}"
}
transports: {
  disable = "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
events: {
  broadcast = false
}
`,
    'janus.transport.websockets.jcfg': `general: {
  json = "compact"
  pingpong_trigger = ${JANUS_PINGPONG.triggerS}
  pingpong_timeout = ${JANUS_PINGPONG.timeoutS}
  ws = true
  ws_port = ${options.wsPort}
  ws_ip = "${LAB_JANUS_IP}"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`,
    'janus.plugin.sip.jcfg': `general: {
  local_ip = "127.0.0.1"
  sdp_ip = "127.0.0.1"
  keepalive_interval = 0
  behind_nat = false
  register_ttl = 3600
  rtp_port_range = "${options.sipRtpPortRange}"
${options.sipsCertsDir === undefined ? '' : `  sips_certs_dir = "${options.sipsCertsDir}"\n`}  sip_timer_t1x64 = 4000
  user_agent = "Roomline lab (Janus SIP)"
  events = false
}
`,
    ...(options.rooms
      ? {
          'janus.plugin.videoroom.jcfg': `general: {
  events = false
}
${[...LAB_ROOM_IDS, LAB_PINNED_ROOM_ID].map(
  (id) => `room-${id}: {
  description = "Roomline lab room ${id}"
  publishers = 16
  bitrate = 1024000
  fir_freq = 2
  audiocodec = "opus"
  videocodec = "vp8,h264,vp9"
  notify_joining = true
  audiolevel_event = false${id === LAB_PINNED_ROOM_ID ? `\n  pin = "${options.auth.roomPin}"` : ''}
}
`,
).join('')}`,
        }
      : {}),
  };
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
}

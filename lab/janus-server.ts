import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabProcess } from './child-process.js';
import { LAB_ICE_INTERFACE, LAB_JANUS_IP, type LabNetns } from './netns.js';
import { waitUntil } from './wait.js';

/** Rooms the lab's Janus creates at start (1234 to 1249); the demo uses the first. */
export const LAB_ROOM_IDS: readonly [number, number, ...number[]] = [1234, 1235, ...Array.from({ length: 14 }, (_, i) => 1236 + i)];
export const LAB_JANUS_WS_PORT = 8188;

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
  /** Create the lab's rooms (VideoRoom plugin); a SIP-only node has none, as in AWS. @default true */
  readonly rooms?: boolean;
}

/**
 * A Janus WebRTC Server with a generated configuration: WebSocket API on the namespace's ICE address, ICE restricted
 * to the namespace's veth, the SIP plugin on the namespace's loopback, and a few VideoRooms. It can be killed and
 * started again with the same configuration (fault tests).
 */
export class JanusServer {
  readonly wsUrl: string;
  private current: LabProcess;

  private constructor(
    private readonly command: { command: string; args: string[] },
    readonly logFile: string,
    readonly wsPort: number,
  ) {
    this.wsUrl = `ws://${LAB_JANUS_IP}:${wsPort}/`;
    this.current = LabProcess.start('janus', command.command, command.args, { logFile });
  }

  static async start(options: JanusServerOptions): Promise<JanusServer> {
    const name = options.name ?? 'janus';
    const configDir = join(options.dir, name);
    const wsPort = options.wsPort ?? LAB_JANUS_WS_PORT;
    await mkdir(configDir, { recursive: true });
    await writeJanusConfig(configDir, {
      wsPort,
      rtpPortRange: options.rtpPortRange ?? '20000-29999',
      sipRtpPortRange: options.sipRtpPortRange ?? '30000-30999',
      rooms: options.rooms ?? true,
      serverName: `roomline-lab-${name}`,
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
    return new JanusServer(command, join(options.dir, `${name}.log`), wsPort);
  }

  /** The running Janus process. */
  get process(): LabProcess {
    return this.current;
  }

  /** Waits until the WebSocket API answers `info`, through a host-side forward of its port. */
  async waitReady(hostWsUrl: string, timeoutMs = 15_000): Promise<void> {
    await this.current.whileRunning(
      waitUntil(() => janusAnswersInfo(hostWsUrl), { timeoutMs, what: 'Janus WebSocket API' }),
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

async function janusAnswersInfo(url: string): Promise<boolean> {
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
    ws.onopen = () => ws.send(JSON.stringify({ janus: 'info', transaction: 'ready' }));
    ws.onmessage = (event) => {
      clearTimeout(timer);
      ws.close();
      resolve(String(event.data).includes('server_info'));
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
  options: { wsPort: number; rtpPortRange: string; sipRtpPortRange: string; rooms: boolean; serverName: string },
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
  sip_timer_t1x64 = 4000
  user_agent = "Roomline lab (Janus SIP)"
  events = false
}
`,
    ...(options.rooms
      ? {
          'janus.plugin.videoroom.jcfg': `general: {
  events = false
}
${LAB_ROOM_IDS.map(
  (id) => `room-${id}: {
  description = "Roomline lab room ${id}"
  publishers = 16
  bitrate = 1024000
  fir_freq = 2
  audiocodec = "opus"
  videocodec = "vp8,h264,vp9"
  notify_joining = true
  audiolevel_event = false
}
`,
).join('')}`,
        }
      : {}),
  };
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
}

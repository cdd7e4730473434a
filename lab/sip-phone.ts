import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaresipControl, type PhoneEvent } from './baresip-control.js';
import { LabProcess } from './child-process.js';
import type { LabNetns } from './netns.js';
import { receivedRequests, type ReceivedInvite } from './sip-trace.js';
import { waitUntil } from './wait.js';

export const PHONE_SIP_PORT = 5090;
export const PHONE_CTRL_PORT = 4444;

/**
 * The phone's accounts, all on one baresip:
 * - `probe` answers at once (every codec baresip has);
 * - `ringing` rings and never answers (ring timeouts, CANCEL);
 * - `pcmu`, `pcma`, `g722` answer at once with that one audio codec (legacy phones);
 * - `srtp` answers at once and requires SDES-SRTP (`mediaenc=srtp-mand`);
 * - `desk` answers at once: the target of transfers.
 * (baresip 1.0's `answermode=early` sends a 183 but no early media: SIPp plays that part, lab/sipp.ts.)
 */
export const PHONE_ACCOUNTS = {
  probe: 'answermode=auto',
  ringing: 'answermode=manual',
  pcmu: 'answermode=auto;audio_codecs=PCMU',
  pcma: 'answermode=auto;audio_codecs=PCMA',
  // baresip registers G.722 at its 16 kHz audio rate (the SDP says 8000, RFC 3551)
  g722: 'answermode=auto;audio_codecs=G722/16000/1',
  srtp: 'answermode=auto;mediaenc=srtp-mand',
  desk: 'answermode=auto',
} as const;
export type PhoneUser = keyof typeof PHONE_ACCOUNTS;

/** The phone's calling identity for dial-in: a number with a display name (it never answers calls itself). */
export const PHONE_CALLER = { number: '+15550100', displayName: 'Ada Lovelace' } as const;

export interface SipPhoneOptions {
  readonly netns: LabNetns;
  readonly dir: string;
  /** Frequency of the tone the phone sends, in Hz. @default 1000 */
  readonly toneHz?: number;
  /** A WAV file (16-bit stereo, 48 kHz) the phone plays instead of its tone (e.g. a click train). */
  readonly audioFile?: string;
  /** Video codecs the phone accepts (issue: legacy peers). Empty = audio only. @default [] */
  readonly videoCodecs?: readonly ('H264' | 'VP8' | 'VP9')[];
  /** A video file the phone sends as its camera (needs videoCodecs). */
  readonly videoFile?: string;
  /** The address baresip listens on for SIP and media (one of the namespace's). @default "127.0.0.1" */
  readonly address?: string;
}

/**
 * The lab's SIP phone: baresip on the namespace's loopback with the accounts of `PHONE_ACCOUNTS`; every call sends
 * a tone and records what it hears (sndfile: one -dec.wav per call). It is driven and observed through ctrl_tcp
 * (JSON in netstrings): baresip's own commands hold, resume, transfer and send DTMF on the current call.
 */
export class SipPhone extends EventEmitter {
  readonly recordingsDir: string;
  readonly events: PhoneEvent[] = [];
  private readonly control = new BaresipControl((event) => {
    this.events.push(event);
    this.emit('event', event);
  });
  private kept = 0;
  private watcher: FSWatcher | undefined;

  private constructor(
    readonly process: LabProcess,
    readonly dir: string,
    /** The address baresip listens on (SipPhoneOptions.address). */
    readonly address: string,
  ) {
    super();
    this.recordingsDir = join(dir, 'recordings');
  }

  static uri(user: PhoneUser, address = '127.0.0.1'): string {
    return `sip:${user}@${address}:${PHONE_SIP_PORT}`;
  }

  static async start(options: SipPhoneOptions): Promise<SipPhone> {
    const dir = join(options.dir, 'baresip');
    await mkdir(join(dir, 'recordings'), { recursive: true });
    await writeBaresipConfig(dir, options);
    // -s: SIP trace in the log, so what the phone received (e.g. an offer's m-lines) can be checked afterwards
    const { command, args } = options.netns.wrap('baresip', ['-f', dir, '-v', '-s']);
    const proc = LabProcess.start('baresip', command, args, {
      logFile: join(options.dir, 'baresip.log'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const phone = new SipPhone(proc, dir, options.address ?? '127.0.0.1');
    phone.watchRecordings();
    return phone;
  }

  /**
   * Connects to ctrl_tcp through a host-side forward and starts collecting events. The forward accepts at once even
   * while baresip is still starting, so a connection only counts once baresip answers a command over it.
   */
  async attachControl(hostPort: number, timeoutMs = 10_000): Promise<void> {
    await this.process.whileRunning(
      waitUntil(
        async () => {
          if (!(await this.control.connect(hostPort))) return false;
          const answer = await this.command('listcalls', '', 1_000).catch(() => undefined);
          if (answer?.ok === true) return true;
          this.control.close();
          return false;
        },
        { timeoutMs, what: 'baresip ctrl_tcp (with menu.so) to answer' },
      ),
    );
  }

  /** Sends a ctrl_tcp command (e.g. `hangup`) and resolves with baresip's response. */
  command(command: string, params = '', timeoutMs = 5_000): Promise<{ ok: boolean; data?: string }> {
    return this.control.command(command, params, timeoutMs);
  }

  /**
   * Makes `user`'s account the current one, so that the commands that act on "the current call" (hold, resume,
   * transfer, sndcode, accept) reach its call.
   */
  async useAccount(user: PhoneUser): Promise<void> {
    const answer = await this.command('uafind', SipPhone.uri(user, this.address));
    if (!answer.ok) throw new Error(`baresip has no account ${user}: ${answer.data ?? ''}`);
  }

  /**
   * Calls `uri` from the caller identity (`PHONE_CALLER`); resolves when baresip has sent the INVITE. What happens
   * next arrives as events (CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED with the SIP reason).
   */
  async call(uri: string): Promise<void> {
    const found = await this.command('uafind', `sip:${PHONE_CALLER.number}@${this.address}:${PHONE_SIP_PORT}`);
    if (!found.ok) throw new Error(`baresip has no caller account: ${found.data ?? ''}`);
    const dialled = await this.command('dial', uri);
    if (!dialled.ok) throw new Error(`baresip could not dial ${uri}: ${dialled.data ?? ''}`);
  }

  /**
   * RTP packets the current call has received so far (baresip's `audio_debug`: the RTCP session's `rcvd`). baresip's
   * recording of a call stops when it is put on hold, so what the phone receives after a resume is counted here.
   */
  async packetsReceived(): Promise<number> {
    const answer = await this.command('audio_debug');
    const match = /rcvd=(\d+)/.exec(answer.data ?? '');
    if (!answer.ok || match === null) throw new Error(`baresip reported no audio stream: ${answer.data ?? ''}`);
    return Number(match[1]);
  }

  /** Digits baresip received on its calls since `since` (RFC 2833 or SIP INFO: its CALL_DTMF_START events). */
  digitsSince(since = 0): string {
    return this.eventsOf('CALL_DTMF_START', since)
      .map((e) => e.param ?? '')
      .join('');
  }

  /** Events of one type seen so far, optionally only those after `since` (epoch ms). */
  eventsOf(type: string, since = 0): PhoneEvent[] {
    return this.events.filter((e) => e.type === type && e.receivedAt >= since);
  }

  /**
   * Calls that reached the phone since `since`, one entry per call, at the first event baresip reported for it (an
   * auto-answering account reports no CALL_INCOMING, only the offer it received).
   */
  invitesSince(since = 0): PhoneEvent[] {
    const seen = new Set<string>();
    const invites: PhoneEvent[] = [];
    for (const event of this.events) {
      if (event.receivedAt < since) continue;
      const isInvite = event.type === 'CALL_INCOMING' || (event.type === 'CALL_REMOTE_SDP' && event.param === 'offer');
      const key = event.id ?? `${event.peeruri ?? ''}@${event.receivedAt}`;
      if (!isInvite || seen.has(key)) continue;
      seen.add(key);
      invites.push(event);
    }
    return invites;
  }

  /** Resolves with the first event of `type` arriving after `since` (or already seen after it). */
  async nextEvent(type: string, options: { since?: number; timeoutMs?: number } = {}): Promise<PhoneEvent> {
    const since = options.since ?? 0;
    const seen = this.eventsOf(type, since)[0];
    if (seen !== undefined) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new Error(`the phone saw no ${type} within ${options.timeoutMs ?? 20_000} ms`));
      }, options.timeoutMs ?? 20_000);
      const onEvent = (event: PhoneEvent) => {
        if (event.type !== type || event.receivedAt < since) return;
        clearTimeout(timer);
        this.off('event', onEvent);
        resolve(event);
      };
      this.on('event', onEvent);
    });
  }

  /** A PNG of the next video frame the phone decodes (baresip's snapshot module; needs a video phone). */
  async snapshot(path: string, timeoutMs = 5_000): Promise<string> {
    const answer = await this.command('snapshot_recv', path);
    if (!answer.ok) throw new Error(`baresip refused snapshot_recv: ${answer.data ?? ''}`);
    // baresip creates the file, then writes it: only a PNG that ends in its IEND chunk is whole
    await waitUntil(async () => isWholePng(await readFile(path).catch(() => undefined)), { timeoutMs, what: `the phone's snapshot ${path}, whole` });
    return path;
  }

  /** Every INVITE the phone received, parsed from its SIP trace (retransmissions counted once). */
  receivedInvites(): Promise<ReceivedInvite[]> {
    return this.receivedRequests('INVITE');
  }

  /**
   * Every request of `method` (INVITE, CANCEL, BYE...) the phone received, parsed from its SIP trace, with its headers
   * and body (retransmissions counted once).
   */
  async receivedRequests(method: string): Promise<ReceivedInvite[]> {
    const log = await readFile(this.process.logFile ?? '', 'utf8').catch(() => '');
    return receivedRequests(log, method);
  }

  /**
   * The phone's recordings of calls that started at or after `since` (epoch ms): what it received (`dec`) or sent
   * (`enc`). baresip creates each file at the call's first audio frame (`createdAt`) and writes it frame by frame
   * until the call ends (`endedAt`, the last write). Audio dropped at the start (while the jitter buffer fills) makes a
   * file shorter than the time between the two, so its timeline is best anchored at the end: the last sample is at
   * `endedAt`.
   */
  async recordingsSince(
    since: number,
    kind: 'dec' | 'enc',
  ): Promise<{ path: string; createdAt: number; endedAt: number }[]> {
    const { stat } = await import('node:fs/promises');
    const names = await readdir(this.recordingsDir);
    const files = await Promise.all(
      names
        .filter((n) => n.endsWith(`-${kind}.wav`))
        .map(async (n) => {
          const path = join(this.recordingsDir, n);
          const info = await stat(path);
          return { path, createdAt: info.birthtimeMs, endedAt: info.mtimeMs };
        }),
    );
    return files.filter((f) => f.createdAt >= since).sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Gives each recording a name of its own as soon as baresip creates it. baresip names a recording by the second its
   * stream started (`dump-<date-time>-dec.wav`), so a stream starting within the same second as another (the next
   * call, or the other end of a call the phone places to itself) would open the same file again, truncating it while
   * keeping its creation time: the recording of the later call would look older than the call. Renamed at once, the
   * name is free again and the writer goes on writing into the renamed file. Renaming keeps a file's creation time.
   */
  private watchRecordings(): void {
    this.watcher = watch(this.recordingsDir, (_event, name) => {
      if (name !== null && DUMP_NAME.test(name)) void this.keepRecordings();
    });
  }

  /** Names every recording that still has baresip's own name (the watcher does this as they appear). */
  async keepRecordings(): Promise<void> {
    const { rename } = await import('node:fs/promises');
    for (const name of await readdir(this.recordingsDir)) {
      if (!DUMP_NAME.test(name)) continue;
      const kept = `call${String(++this.kept).padStart(5, '0')}-${name.slice('dump-'.length)}`;
      // a file another pass renamed first is gone: nothing to do
      await rename(join(this.recordingsDir, name), join(this.recordingsDir, kept)).catch(() => undefined);
    }
  }

  /** The WAV files baresip wrote for what it received (`-dec.wav`), oldest first. */
  async receivedRecordings(): Promise<string[]> {
    const names = await readdir(this.recordingsDir);
    return names
      .filter((n) => n.endsWith('-dec.wav'))
      .sort()
      .map((n) => join(this.recordingsDir, n));
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    this.control.close();
    await this.process.stop();
  }
}

/** A recording as baresip names it. */
const DUMP_NAME = /^dump-.*-(dec|enc)\.wav$/;

/** PNG's last chunk: length 0, type IEND, and its CRC. */
const PNG_END = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

function isWholePng(bytes: Buffer | undefined): boolean {
  return bytes !== undefined && bytes.length > PNG_END.length && bytes.subarray(bytes.length - PNG_END.length).equals(PNG_END);
}

async function writeBaresipConfig(dir: string, options: SipPhoneOptions): Promise<void> {
  const videoCodecs = options.videoCodecs ?? [];
  const videoModules = new Set<string>();
  for (const codec of videoCodecs) videoModules.add(codec === 'H264' ? 'avcodec.so' : codec === 'VP8' ? 'vp8.so' : 'vp9.so');
  const hasVideo = videoCodecs.length > 0;
  const address = options.address ?? '127.0.0.1';
  const config = `poll_method epoll
sip_listen ${address}:${PHONE_SIP_PORT}
net_interface ${address}
call_local_timeout 120
call_max_calls 32
audio_player aubridge,roomline-sink
audio_source ${options.audioFile === undefined ? `ausine,${options.toneHz ?? 1000}` : `aufile,${options.audioFile}`}
audio_alert aubridge,roomline-sink
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
audio_buffer 20-160
jitter_buffer_delay 1-10
rtcp_mux yes
${hasVideo ? `video_source ${options.videoFile === undefined ? 'fakevideo,nil' : `avformat,${options.videoFile}`}
video_display fakevideo,nil
video_size 640x480
video_bitrate 1000000
video_fps 30.00
` : ''}module_path /usr/lib/baresip/modules
module g711.so
module g722.so
module opus.so
module srtp.so
module aubridge.so
module ausine.so
module aufile.so
module sndfile.so
${hasVideo ? ['fakevideo.so', 'snapshot.so', ...(options.videoFile === undefined ? [] : ['avformat.so']), ...videoModules].map((m) => `module ${m}`).join('\n') + '\n' : ''}module_tmp uuid.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:${PHONE_CTRL_PORT}
snd_path ${join(dir, 'recordings')}
opus_bitrate 32000
`;
  // without video modules, baresip answers an offer's video m-line with port 0 (declines it)
  const videoParam = hasVideo ? `;video_codecs=${videoCodecs.join(',')}` : '';
  const accounts = Object.entries(PHONE_ACCOUNTS)
    .map(([user, params]) => `<${SipPhone.uri(user as PhoneUser, address)}>;regint=0;${params}${videoParam}\n`)
    .join('');
  const caller = `"${PHONE_CALLER.displayName}" <sip:${PHONE_CALLER.number}@${address}:${PHONE_SIP_PORT}>;regint=0;answermode=manual${videoParam}\n`;
  await writeFile(join(dir, 'config'), config);
  await writeFile(join(dir, 'accounts'), accounts + caller);
  await writeFile(join(dir, 'contacts'), '');
}

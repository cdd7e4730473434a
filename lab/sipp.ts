import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabProcess, run } from './child-process.js';
import type { LabNetns } from './netns.js';
import { G711, toneRtpPcap } from './rtp-pcap.js';
import { waitUntil } from './wait.js';

/**
 * Scripted SIP peers for what baresip cannot do: SIPp (Debian's `sip-tester`) running one scenario as the callee of
 * one call, on the namespace's loopback. Its exit code says whether the call went as the script expects (0: every
 * message it waited for came, every request it sent was answered as expected).
 */
export const SIPP_SCENARIOS = {
  /** Answers with PCMU, then sends the digits 7, 3, # by SIP INFO (application/dtmf-relay); waits for the BYE. */
  'info-dtmf': infoDtmfScenario,
  /**
   * Answers with PCMU; re-INVITEs with its audio `sendonly` (hold), then with PCMA only (resume with a new codec),
   * after which it plays its tone in A-law; waits for the BYE.
   */
  reinvite: reinviteScenario,
  /** Answers 183 Session Progress with SDP (PCMA) and plays its tone as early media; answers 3 s later. */
  'early-media': (pcap: string) => earlyMediaScenario(pcap, true),
  /** The same early media, but never answers: waits for the CANCEL. */
  'early-media-unanswered': (pcap: string) => earlyMediaScenario(pcap, false),
} as const satisfies Record<string, (tonePcap: string) => string>;
export type SippScenario = keyof typeof SIPP_SCENARIOS;

const SIPP_FIRST_PORT = 5100;
const SIPP_FIRST_MEDIA_PORT = 6000;

/** The digits the `info-dtmf` scenario sends. */
export const SIPP_INFO_DIGITS = '73#';
/** The tone the scenarios play (G.711 A-law from a generated capture), distinct from the phone's and the room's. */
export const SIPP_TONE_HZ = 700;

export class SippPeer {
  private constructor(
    readonly process: LabProcess,
    readonly port: number,
    readonly messageLog: string,
    private readonly netns: LabNetns,
  ) {}

  /** The SIP URI that reaches this peer. */
  get uri(): string {
    return `sip:sipp@127.0.0.1:${this.port}`;
  }

  /**
   * Starts SIPp with `scenario` as a callee; the `index`-th peer of a lab listens on 127.0.0.1:5100 + 2 x index, its
   * media on 6000 + 10 x index (SIPp binds four media ports: audio and video, RTP and RTCP).
   */
  static async start(options: { netns: LabNetns; dir: string; scenario: SippScenario; index: number }): Promise<SippPeer> {
    const port = SIPP_FIRST_PORT + 2 * options.index;
    const dir = join(options.dir, `sipp-${options.index}-${options.scenario}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${options.scenario}.xml`);
    const tonePcap = join(dir, 'tone.pcap');
    await writeFile(tonePcap, toneRtpPcap({ hz: SIPP_TONE_HZ, seconds: 8, payloadType: G711.PCMA }));
    await writeFile(file, SIPP_SCENARIOS[options.scenario](tonePcap));
    const messageLog = join(dir, 'messages.log');
    const { command, args } = options.netns.wrap('sipp', [
      '-sf', file,
      '-i', '127.0.0.1',
      '-p', String(port),
      '-mi', '127.0.0.1',
      '-mp', String(SIPP_FIRST_MEDIA_PORT + 10 * options.index),
      '-m', '1',
      '-nostdin',
      '-timeout', '120s',
      '-timeout_error',
      '-trace_msg', '-message_file', messageLog,
      '-trace_err', '-error_file', join(dir, 'errors.log'),
    ]);
    const process = LabProcess.start(`sipp-${options.scenario}`, command, args, { logFile: join(dir, 'sipp.log'), cwd: dir });
    const peer = new SippPeer(process, port, messageLog, options.netns);
    await peer.waitReady();
    return peer;
  }

  private async waitReady(timeoutMs = 10_000): Promise<void> {
    const { command, args } = this.netns.wrap('ss', ['-lun']);
    await this.process.whileRunning(
      waitUntil(async () => (await run(command, args)).includes(`127.0.0.1:${this.port}`), { timeoutMs, what: 'SIPp', intervalMs: 100 }),
    );
  }

  /** Resolves with SIPp's exit code once its one call is over (0: the script ran as written). */
  async finished(timeoutMs = 60_000): Promise<number | null> {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`SIPp did not finish within ${timeoutMs} ms (${this.messageLog})`)), timeoutMs).unref(),
    );
    return (await Promise.race([this.process.exited, timeout])).code;
  }

  /** Every SIP message SIPp sent or received, as its trace shows them. */
  messages(): Promise<string> {
    return readFile(this.messageLog, 'utf8').catch(() => '');
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

/** SDP of the peer's audio: one codec (PCMU = 0, PCMA = 8) plus telephone-event, with a direction. */
function sdp(payload: 0 | 8, direction: 'sendrecv' | 'sendonly' | 'inactive'): string {
  const name = payload === 0 ? 'PCMU' : 'PCMA';
  return `v=0
o=sipp 1 [cseq] IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP ${payload} 101
a=rtpmap:${payload} ${name}/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=${direction}
`;
}

/** How long the `early-media` scenario plays early media before it answers. */
export const SIPP_EARLY_MEDIA_MS = 3_000;

/** Answers the INVITE with PCMU, keeping what a request of our own in the dialog needs (their From, their Contact). */
const ANSWER = `
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="^.*$" search_in="hdr" header="From:" assign_to="their_from" />
      <ereg regexp="sips?:[^>;]+" search_in="hdr" header="Contact:" assign_to="their_contact" />
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]>
  </send>
  <send retrans="500">
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Allow: INVITE, ACK, BYE, CANCEL, INFO, UPDATE
Content-Type: application/sdp
Content-Length: [len]

${sdp(0, 'sendrecv')}]]>
  </send>
  <recv request="ACK" rtd="true" crlf="true" />
`;

/** A request of ours inside the dialog (SIPp is the callee: its From is the dialog's To). */
function inDialog(method: string, cseq: number, extra: string, body = ''): string {
  return `
  <send retrans="500">
    <![CDATA[
${method} [$their_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: [$their_from]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${extra}Content-Length: [len]

${body}]]>
  </send>`;
}

const WAIT_FOR_BYE = `
  <recv request="BYE" />
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
`;

function scenario(name: string, body: string): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
${body}
  <ResponseTimeRepartition value="10, 20, 30" />
</scenario>
`;
}

function infoDtmfScenario(): string {
  const infos = [...SIPP_INFO_DIGITS]
    .map(
      (digit, i) => `
  <pause milliseconds="${i === 0 ? 1500 : 400}" />
${inDialog('INFO', i + 1, 'Content-Type: application/dtmf-relay\n', `Signal=${digit}\r\nDuration=160\r\n`)}
  <recv response="200" />`,
    )
    .join('');
  return scenario('roomline info-dtmf', `${ANSWER}${infos}${WAIT_FOR_BYE}`);
}

function reinviteScenario(tonePcap: string): string {
  const reinvite = (cseq: number, payload: 0 | 8, direction: 'sendrecv' | 'sendonly') => `
${inDialog('INVITE', cseq, 'Content-Type: application/sdp\n', sdp(payload, direction))}
  <recv response="100" optional="true" />
  <recv response="200" rtd="true" />
  <send>
    <![CDATA[
ACK [$their_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: [$their_from]
Call-ID: [call_id]
CSeq: ${cseq} ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>`;
  return scenario(
    'roomline reinvite',
    `${ANSWER}
  <pause milliseconds="1500" />
${reinvite(1, 0, 'sendonly')}
  <pause milliseconds="1500" />
${reinvite(2, 8, 'sendrecv')}
  <nop>
    <action>
      <exec play_pcap_audio="${tonePcap}" />
    </action>
  </nop>
${WAIT_FOR_BYE}`,
  );
}

function earlyMediaScenario(tonePcap: string, answer: boolean): string {
  // SIPp refuses a variable that is set but never used: the CSeq is kept only for the 487 of the unanswered call
  const progress = `
  <recv request="INVITE" crlf="true">${answer ? '' : `
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="invite_cseq" />
    </action>`}
  </recv>
  <send>
    <![CDATA[
SIP/2.0 183 Session Progress
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${sdp(8, 'sendrecv')}]]>
  </send>
  <nop>
    <action>
      <exec play_pcap_audio="${tonePcap}" />
    </action>
  </nop>`;
  const answered = `
  <pause milliseconds="${SIPP_EARLY_MEDIA_MS}" />
  <send retrans="500">
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${sdp(8, 'sendrecv')}]]>
  </send>
  <recv request="ACK" crlf="true" />
${WAIT_FOR_BYE}`;
  const cancelled = `
  <recv request="CANCEL" />
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
  <send>
    <![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invite_cseq] INVITE
Content-Length: 0

]]>
  </send>
  <recv request="ACK" />`;
  return scenario(`roomline early media${answer ? '' : ' (unanswered)'}`, progress + (answer ? answered : cancelled));
}

import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CallControl } from '../contracts/call-control.js';
import { isFinalState, type CallRecord } from '../contracts/call-record.js';
import { DTMF_CARRIAGES, SIP_AUDIO_CODECS, SRTP_MODES, TRANSFER_POLICIES } from '../contracts/telephony.js';
import { ROOM_PROVIDER_NAMES, RoomlineError, VIDEO_DIRECTIONS, SIP_VIDEO_CODECS } from '../contracts/index.js';
import { RoomlineClient } from './client.js';
import { loadWorkerConfig } from './config.js';
import { labModulePath } from './paths.js';
import { SHUTDOWN_DEADLINE_MS, Worker } from './worker.js';

/**
 * The `roomline` command line: dial, status, hangup, worker, lab, demo, smoke. Configuration comes from the environment
 * (ROOMLINE_QUEUE_URL, ROOMLINE_TABLE, AWS_REGION, AWS_ENDPOINT_URL_SQS/_DYNAMODB, and for workers ROOMLINE_JANUS_URLS
 * and the rest documented in worker/config.ts); `roomline lab exec -- <command>` sets it for the local lab.
 */
const EXIT = { ok: 0, failed: 1, invalid: 2, callFailed: 3 } as const;

// The SQS emulator (fauxqs) uses node:sqlite, whose "experimental" warning would land in every lab command's output.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).includes('SQLite is an experimental feature')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const program = new Command('roomline')
  .description(
    'Bridge WebRTC rooms to SIP phones: dial requests on SQS, one warm Chromium worker per call. A connected call takes\n' +
      'DTMF, hold, resume and transfer requests through its call record (dtmf, hold, resume, transfer).',
  )
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Environment:
  ROOMLINE_QUEUE_URL          dial queue URL (dial, worker)
  ROOMLINE_TABLE              calls table name (dial, status, hangup, dtmf, hold, resume, transfer, worker)
  AWS_REGION                  region (default us-east-1 with endpoint overrides)
  AWS_ENDPOINT_URL_SQS        SQS endpoint override (emulators)
  AWS_ENDPOINT_URL_DYNAMODB   DynamoDB endpoint override (emulators)
  ROOMLINE_JANUS_URLS         Janus WebSocket URLs for the SIP leg, comma-separated (worker)
  ROOMLINE_ROOM_PIN           room pin for dial --room-pin-from-env (keeps it out of the process list)
  ROOMLINE_ROOM_TOKEN         room server token for dial --room-token-from-env (the lab sets it)
  ROOMLINE_ROOM_HOSTS         room servers a request may name (dial refuses others early, as workers do)
  ROOMLINE_SIP_HOSTS          SIP hosts a request without a trunk may name (likewise)

Examples:
  npm run demo                                   the lab: one call, report, teardown
  roomline lab up && roomline lab exec -- roomline dial --to sip:probe@127.0.0.1:5090 \\
      --room-url ws://10.77.0.1:8188/ --room-id 1234 --room-token-from-env --wait
  roomline dial --json request.json --wait       a dial request from a file ("-" reads stdin)
  roomline dtmf <callId> ',,1234#' --wait        wait 4 s, then send a conference PIN
  roomline hold <callId> && roomline resume <callId>`,
  );

const collect = (value: string, previous: string[]) => [...previous, value];
const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

program
  .command('dial')
  .description('put a dial request on the queue and print its callId')
  .option('--json <file>', 'read the whole dial request (JSON) from a file, or "-" for stdin')
  .option('--to <uri>', 'SIP target, e.g. sip:alice@pbx.example.com')
  .option('--from <uri>', 'caller SIP URI')
  .option('--from-name <name>', 'caller display name')
  .option('--header <X-Name=value>', 'extra X- header for the INVITE (repeatable)', collect, [])
  .option('--trunk <name>', 'SIP trunk configured on the workers')
  .option('--dtmf-after-answer <digits>', 'digits to send once answered (e.g. a conference PIN; "," pauses 2 s)')
  .addOption(new Option('--dtmf <how>', 'how digits are sent').choices([...DTMF_CARRIAGES]))
  .addOption(new Option('--srtp <mode>', 'SDES-SRTP on the SIP leg').choices([...SRTP_MODES]))
  .option('--audio-codecs <list>', `audio codecs offered, in order, comma-separated (${SIP_AUDIO_CODECS.join(', ')})`)
  .addOption(new Option('--transfer <policy>', 'what a REFER from the SIP peer does').choices([...TRANSFER_POLICIES]))
  .option('--dtmf-to-room', 'send the digits the SIP peer dials into the room as data messages')
  .option(
    '--room <json|file>',
    `the room as JSON (e.g. '{"provider":"janus",...}') or a JSON file; providers: ${ROOM_PROVIDER_NAMES.join(', ')}`,
  )
  .option('--room-url <url>', 'Janus VideoRoom shortcut: the Janus server WebSocket URL of the room')
  .option('--room-id <id>', 'Janus VideoRoom shortcut: the room id')
  .option('--room-pin-from-env', 'Janus VideoRoom shortcut: take the room pin from ROOMLINE_ROOM_PIN')
  .option('--room-token-from-env', 'Janus VideoRoom shortcut: take the room server token from ROOMLINE_ROOM_TOKEN')
  .option('--display <name>', "the bot's name in the room")
  .addOption(new Option('--video <direction>', 'video on the SIP leg').choices([...VIDEO_DIRECTIONS]))
  .addOption(new Option('--sip-video-codec <codec>', 'video codec offered to SIP').choices([...SIP_VIDEO_CODECS]))
  .option('--ring-timeout <s>', 'seconds to ring before giving up', positiveInt)
  .option('--max-duration <s>', 'longest call in seconds', positiveInt)
  .option('--call-id <id>', 'idempotency key (default: a new UUID)')
  .option('--metadata <key=value>', 'metadata kept in the call record (repeatable)', collect, [])
  .option('--wait', 'show each state change until the call ends')
  .option('--wait-timeout <s>', 'give up waiting after this many seconds', positiveInt, 4 * 3600)
  .action(async (options: DialFlags) => {
    const request = await buildDialRequest(options);
    const client = new RoomlineClient();
    const callId = await client.enqueueDial(request);
    process.stdout.write(`${callId}\n`);
    if (options.wait === true) process.exitCode = await follow(client, callId, options.waitTimeout);
  });

program
  .command('status')
  .description('show a call record')
  .argument('<callId>')
  .option('--json', 'print the whole record as JSON')
  .option('--wait', 'show each state change until the call ends')
  .action(async (callId: string, options: { json?: boolean; wait?: boolean }) => {
    const client = new RoomlineClient();
    if (options.wait === true) {
      process.exitCode = await follow(client, callId, 4 * 3600);
      return;
    }
    const record = await client.getCall(callId);
    if (record === undefined) throw new RoomlineError('INVALID_REQUEST', `no call with callId ${callId}`);
    process.stdout.write(options.json === true ? `${JSON.stringify(record, null, 2)}\n` : summarise(record));
  });

program
  .command('hangup')
  .description('ask the worker to end a call (BYE when connected, CANCEL while ringing)')
  .argument('<callId>')
  .option('--wait', 'wait until the call has ended')
  .action(async (callId: string, options: { wait?: boolean }) => {
    const client = new RoomlineClient();
    const record = await client.requestHangup(callId);
    process.stdout.write(
      isFinalState(record.state) ? `call ${callId} is already ${record.state}\n` : `hangup requested for ${callId}\n`,
    );
    if (options.wait === true && !isFinalState(record.state)) process.exitCode = await follow(client, callId, 60);
  });

/** Sends a control request and, with --wait, waits for the worker's acknowledgement. */
async function runControl(callId: string, control: CallControl, options: { wait?: boolean; waitTimeout: number }): Promise<void> {
  const client = new RoomlineClient();
  const id = await client.control(callId, control);
  if (options.wait !== true) {
    process.stdout.write(`${control.type} requested for ${callId} (request ${id})\n`);
    return;
  }
  const request = await client.waitForControl(callId, id, { timeoutMs: options.waitTimeout * 1000 });
  if (request.status === 'done') {
    process.stdout.write(`${control.type} done for ${callId}\n`);
  } else {
    process.stderr.write(`${control.type} failed for ${callId}: ${request.error ?? 'no reason given'}\n`);
    process.exitCode = EXIT.failed;
  }
}

const controlWait = (command: Command) =>
  command
    .option('--wait', "wait until the worker has carried it out; exit 1 if it could not")
    .option('--wait-timeout <s>', 'give up waiting after this many seconds', positiveInt, 60);

controlWait(
  program
    .command('dtmf')
    .description('send DTMF digits to the SIP peer of a connected call (e.g. a PIN: roomline dtmf <callId> 1234#)')
    .argument('<callId>')
    .argument('<digits>', 'digits 0-9 * # A-D; "," pauses 2 s')
    .addOption(
      new Option('--carriage <how>', 'RFC 2833 telephone-events or SIP INFO (default: as the call sends digits)').choices([...DTMF_CARRIAGES]),
    ),
).action(async (callId: string, digits: string, options: { carriage?: 'rfc2833' | 'info'; wait?: boolean; waitTimeout: number }) => {
  await runControl(callId, { type: 'dtmf', digits, ...(options.carriage === undefined ? {} : { carriage: options.carriage }) }, options);
});

controlWait(
  program.command('hold').description('put the SIP leg of a connected call on hold (the room goes on unheard)').argument('<callId>'),
).action(async (callId: string, options: { wait?: boolean; waitTimeout: number }) => {
  await runControl(callId, { type: 'hold' }, options);
});

controlWait(
  program.command('resume').description('take the SIP leg of a call off hold').argument('<callId>'),
).action(async (callId: string, options: { wait?: boolean; waitTimeout: number }) => {
  await runControl(callId, { type: 'resume' }, options);
});

controlWait(
  program
    .command('transfer')
    .description('blind-transfer the SIP peer to another SIP URI (REFER); the bridge leaves the call once the peer reached it')
    .argument('<callId>')
    .argument('<uri>', 'the new target, e.g. sip:desk@pbx.example.com'),
).action(async (callId: string, uri: string, options: { wait?: boolean; waitTimeout: number }) => {
  await runControl(callId, { type: 'transfer', to: uri }, options);
});

program
  .command('worker')
  .description('run one warm worker: take one call from the queue, run it, exit (SIGTERM hangs up and exits)')
  .action(async () => {
    const config = loadWorkerConfig();
    const worker = new Worker(config);
    const stop = (signal: string) => {
      worker.stop(signal);
      // the last resort if a hangup hangs: ECS kills the task after its stop timeout anyway
      setTimeout(() => process.exit(EXIT.failed), SHUTDOWN_DEADLINE_MS - 500).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    if (process.send !== undefined) process.once('disconnect', () => stop('parent process gone'));
    const code = await worker.run();
    process.exitCode = code;
    if (process.connected) process.disconnect();
    // everything is closed by now; should a stray handle keep the loop alive, do not linger as a zombie worker
    setTimeout(() => process.exit(code), 2_000).unref();
  });

const lab = program.command('lab').description('the local lab: emulators, Janus, a SIP phone, a room, warm workers');
lab
  .command('up')
  .description('start the lab in the background and print its endpoints as JSON')
  .option('--workers <n>', 'warm workers to keep running', positiveInt, 1)
  .action(async (options: { workers: number }) => {
    process.stdout.write(`${JSON.stringify(await (await loadLab()).labUp(options), null, 2)}\n`);
  });
lab
  .command('down')
  .description('stop the lab started by "lab up"')
  .action(async () => {
    process.stdout.write(`${await (await loadLab()).labDown()}\n`);
  });
lab
  .command('exec')
  .description('run a command with the environment that reaches the lab (e.g. roomline lab exec -- roomline dial ...)')
  .argument('<command...>', 'the command and its arguments (after --)')
  .action(async (command: string[]) => {
    process.exitCode = await (await loadLab()).labExec(command);
  });
lab
  .command('serve', { hidden: true })
  .description('run the lab in the foreground (used by "lab up")')
  .option('--workers <n>', 'warm workers', positiveInt, 1)
  .action(async (options: { workers: number }) => {
    await (await loadLab()).labServe(options);
  });

program
  .command('demo')
  .description('start the lab, dial the phone into the room, hang up after a few seconds, print a report')
  .option('--talk <s>', 'seconds to stay connected', positiveInt, 6)
  .option('--keep', 'keep the lab folder (logs, recordings)')
  .option('--video', 'video both ways: H.264 to an H.264-only phone, its 2x2 composite split into four room feeds')
  .addOption(
    new Option(
      '--room <kind>',
      'the room the phone is bridged into: "janus" (a Janus VideoRoom), "chime" (an Amazon Chime SDK meeting on the lab\'s ' +
        'stand-in, joined with the real amazon-chime-sdk-js; with --video each tile of the split is its own attendee) or ' +
        '"page" (the Janus demo web app, joined in page mode as a person joins it)',
    )
      .choices(['janus', 'chime', 'page'])
      .default('janus'),
  )
  .action(async (options: { talk: number; keep?: boolean; video?: boolean; room: 'janus' | 'chime' | 'page' }) => {
    process.exitCode = await (await loadLab()).runDemo({
      talkS: options.talk,
      keep: options.keep === true,
      video: options.video === true,
      room: options.room,
    });
  });

program
  .command('smoke')
  .description('join a real Daily or Vonage room with credentials from the environment and check what crosses (see README)')
  .argument('<provider>', 'daily or vonage')
  .action(async (provider: string) => {
    if (provider !== 'daily' && provider !== 'vonage') {
      throw new InvalidArgumentError(`provider must be daily or vonage, not ${provider}`);
    }
    process.exitCode = await (await loadLab()).runSmoke(provider);
  });

type LabModule = typeof import('../lab/index.js');

/** The lab is built apart from the worker and is not part of the worker image: loaded only by `lab`, `demo` and `smoke`. */
async function loadLab(): Promise<LabModule> {
  const path = labModulePath();
  if (path === undefined) {
    throw new RoomlineError('INVALID_REQUEST', 'the lab is not part of this installation (dist/lab.mjs): use a clone of the repository');
  }
  return (await import(pathToFileURL(path).href)) as LabModule;
}

interface DialFlags {
  json?: string;
  to?: string;
  from?: string;
  fromName?: string;
  header: string[];
  trunk?: string;
  dtmfAfterAnswer?: string;
  dtmf?: string;
  srtp?: string;
  audioCodecs?: string;
  transfer?: string;
  dtmfToRoom?: boolean;
  room?: string;
  roomUrl?: string;
  roomId?: string;
  roomPinFromEnv?: boolean;
  roomTokenFromEnv?: boolean;
  display?: string;
  video?: string;
  sipVideoCodec?: string;
  ringTimeout?: number;
  maxDuration?: number;
  callId?: string;
  metadata: string[];
  wait?: boolean;
  waitTimeout: number;
}

async function buildDialRequest(flags: DialFlags): Promise<unknown> {
  if (flags.json !== undefined) {
    const text = flags.json === '-' ? await readStdin() : await readFile(flags.json, 'utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // the parser's message quotes the input: it may hold a secret or a line break, so it is not repeated
      throw new RoomlineError('INVALID_REQUEST', `invalid dial request: json: ${flags.json === '-' ? 'standard input' : 'the file'} is not JSON`);
    }
  }
  const missing = [
    flags.to === undefined ? '--to' : undefined,
    ...(flags.room === undefined
      ? [flags.roomUrl === undefined ? '--room-url' : undefined, flags.roomId === undefined ? '--room-id' : undefined]
      : []),
  ].filter((m) => m !== undefined);
  if (missing.length > 0) {
    throw new RoomlineError('INVALID_REQUEST', `dial needs ${missing.join(', ')} (or --room <json|file>, or --json <file>)`);
  }
  const pairs = (list: string[], what: string) =>
    Object.fromEntries(
      list.map((entry) => {
        const at = entry.indexOf('=');
        if (at <= 0) throw new RoomlineError('INVALID_REQUEST', `${what} "${entry}" must look like name=value`);
        return [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  return {
    version: 1,
    ...(flags.callId === undefined ? {} : { callId: flags.callId }),
    to: flags.to,
    ...(flags.from === undefined ? {} : { from: { uri: flags.from, ...(flags.fromName === undefined ? {} : { displayName: flags.fromName }) } }),
    ...(flags.trunk === undefined ? {} : { trunk: flags.trunk }),
    ...(flags.header.length === 0 ? {} : { headers: pairs(flags.header, '--header') }),
    room: { ...(await roomFromFlags(flags)), ...(flags.display === undefined ? {} : { display: flags.display }) },
    sip: {
      ...(flags.dtmfAfterAnswer === undefined ? {} : { dtmfAfterAnswer: flags.dtmfAfterAnswer }),
      ...(flags.dtmf === undefined ? {} : { dtmf: flags.dtmf }),
      ...(flags.srtp === undefined ? {} : { srtp: flags.srtp }),
      ...(flags.audioCodecs === undefined ? {} : { audioCodecs: flags.audioCodecs.split(',').map((c) => c.trim()) }),
      ...(flags.transfer === undefined ? {} : { transfer: flags.transfer }),
      ...(flags.dtmfToRoom === true ? { dtmfToRoom: true } : {}),
    },
    media: {
      ...(flags.video === undefined ? {} : { video: flags.video }),
      ...(flags.sipVideoCodec === undefined ? {} : { sipVideoCodec: flags.sipVideoCodec }),
    },
    limits: {
      ...(flags.ringTimeout === undefined ? {} : { ringTimeoutS: flags.ringTimeout }),
      ...(flags.maxDuration === undefined ? {} : { maxDurationS: flags.maxDuration }),
    },
    ...(flags.metadata.length === 0 ? {} : { metadata: pairs(flags.metadata, '--metadata') }),
  };
}

/** The room of a dial: `--room` (JSON, or a JSON file), or the Janus VideoRoom shortcuts. */
async function roomFromFlags(flags: DialFlags): Promise<Record<string, unknown>> {
  if (flags.room !== undefined) {
    const shortcuts = ['roomUrl', 'roomId', 'roomPinFromEnv', 'roomTokenFromEnv'].filter((k) => flags[k as keyof DialFlags] !== undefined);
    if (shortcuts.length > 0) {
      throw new RoomlineError('INVALID_REQUEST', '--room cannot be combined with --room-url, --room-id, --room-pin-from-env or --room-token-from-env');
    }
    const text = flags.room.trimStart().startsWith('{') ? flags.room : await readFile(flags.room, 'utf8').catch((error: unknown) => {
      throw new RoomlineError('INVALID_REQUEST', `--room: not JSON, and no such file: ${flags.room} (${String(error)})`);
    });
    let room: unknown;
    try {
      room = JSON.parse(text) as unknown;
    } catch {
      throw new RoomlineError('INVALID_REQUEST', '--room is not JSON');
    }
    if (typeof room !== 'object' || room === null || Array.isArray(room)) {
      throw new RoomlineError('INVALID_REQUEST', '--room must be a JSON object such as {"provider":"janus",...}');
    }
    return room as Record<string, unknown>;
  }
  const pin = flags.roomPinFromEnv === true ? process.env['ROOMLINE_ROOM_PIN'] : undefined;
  if (flags.roomPinFromEnv === true && pin === undefined) {
    throw new RoomlineError('INVALID_REQUEST', '--room-pin-from-env is set but ROOMLINE_ROOM_PIN is not');
  }
  const token = flags.roomTokenFromEnv === true ? process.env['ROOMLINE_ROOM_TOKEN'] : undefined;
  if (flags.roomTokenFromEnv === true && token === undefined) {
    throw new RoomlineError('INVALID_REQUEST', '--room-token-from-env is set but ROOMLINE_ROOM_TOKEN is not');
  }
  const roomId = /^\d+$/.test(flags.roomId!) ? Number(flags.roomId) : flags.roomId;
  return { provider: 'janus', serverUrl: flags.roomUrl, roomId, ...(pin === undefined ? {} : { pin }), ...(token === undefined ? {} : { token }) };
}

/** Prints each state change until the call is final; the exit code says how it ended. */
async function follow(client: RoomlineClient, callId: string, timeoutS: number): Promise<number> {
  let shown = 0;
  let last: CallRecord | undefined;
  for await (const record of client.watchCall(callId, { signal: AbortSignal.timeout(timeoutS * 1000) })) {
    for (const entry of record.history.slice(shown)) {
      process.stdout.write(
        `${entry.at}  ${entry.state.padEnd(9)}${entry.sipCode === undefined ? '' : ` ${entry.sipCode}`}  ${entry.detail ?? ''}\n`,
      );
    }
    shown = record.history.length;
    last = record;
  }
  if (last === undefined || !isFinalState(last.state)) {
    process.stderr.write(`stopped waiting after ${timeoutS} s; the call goes on (roomline status ${callId})\n`);
    return EXIT.failed;
  }
  return last.state === 'ENDED' ? EXIT.ok : EXIT.callFailed;
}

function summarise(record: CallRecord): string {
  const lines = [
    `call      ${record.callId}`,
    `state     ${record.state}${record.endedBy === undefined ? '' : ` (ended by ${record.endedBy})`}`,
    `to        ${record.to ?? '?'}`,
    ...(record.failure === undefined ? [] : [`failure   ${record.failure.code}: ${record.failure.reason}`]),
    ...(record.sip?.lastCode === undefined ? [] : [`sip       ${record.sip.lastCode} ${record.sip.lastReason ?? ''}`]),
    ...(record.workerId === undefined ? [] : [`worker    ${record.workerId}`]),
    ...(record.janusNode === undefined ? [] : [`janus     ${record.janusNode}`]),
    ...(record.media?.sipAudioCodec === undefined ? [] : [`audio     ${record.media.sipAudioCodec}`]),
    'history',
    ...record.history.map((h) => `  ${h.at}  ${h.state.padEnd(9)} ${h.detail ?? ''}`),
    ...((record.controls?.length ?? 0) === 0 ? [] : ['controls']),
    ...(record.controls ?? []).map(
      (c) => `  ${c.requestedAt}  ${c.control.type.padEnd(9)} ${c.status}${c.error === undefined ? '' : `: ${c.error}`}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const failure = RoomlineError.from(error);
  process.stderr.write(`roomline: ${failure.message}\n`);
  process.exitCode = failure.code === 'INVALID_REQUEST' ? EXIT.invalid : EXIT.failed;
}

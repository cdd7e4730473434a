import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QualitySummary } from '../contracts/call-record.js';
import { mediaSchema } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import type { PageEventOf } from '../contracts/page-rpc.js';
import { ROOM_PROVIDERS, redactRoom, roomOrigins, type RoomJoin } from '../contracts/rooms/index.js';
import { BrowserSource } from '../worker/browser-source.js';
import { PageSite } from '../worker/page-site.js';
import { createLogger } from '../worker/logger.js';
import { PageBridge } from '../worker/page-bridge.js';
import { botPageDir } from '../worker/paths.js';
import { hasTone } from './audio-analysis.js';
import { RoomPerson } from './room-person.js';
import { waitUntil } from './wait.js';
import { labBrowserIsolation } from './netns.js';

/**
 * Live smoke tests of the CPaaS rooms (`npm run smoke:daily`, `npm run smoke:vonage`) for a user with an account:
 * the real bot page (dist/bot-page, the real SDK) in a local Chromium joins a real room with credentials from the
 * environment, and a second local page (the lab's participant page, same SDK) joins it too, speaking a tone and showing
 * a camera. It checks what can be checked from one machine: the bot is admitted, sees the participant, receives the
 * participant's audio and camera, publishes its own audio, and the participant receives it; with a Janus node and a SIP
 * target that echoes audio, the participant's tone makes the round trip through SIP. It reaches the provider's servers
 * over the internet, so it is not part of `npm test`. Nothing secret is printed: tokens are never echoed and are
 * scrubbed from every line.
 */
export type SmokeProvider = 'daily' | 'vonage';

/** The environment each smoke test reads: required and optional variables. */
export const SMOKE_ENV = {
  daily: {
    required: { ROOMLINE_SMOKE_DAILY_URL: 'the room URL, e.g. https://your-team.daily.co/room-name' },
    optional: { ROOMLINE_SMOKE_DAILY_TOKEN: 'a meeting token for the room (private rooms); used by both participants' },
  },
  vonage: {
    required: {
      ROOMLINE_SMOKE_VONAGE_APPLICATION_ID: 'the Vonage application id (or OpenTok API key)',
      ROOMLINE_SMOKE_VONAGE_SESSION_ID: 'a session id of that application',
      ROOMLINE_SMOKE_VONAGE_TOKEN: 'a client token for the session (publisher role); used by both participants',
    },
    optional: {},
  },
  sip: {
    ROOMLINE_SMOKE_JANUS_URL: 'a Janus WebSocket URL with the SIP plugin (with ROOMLINE_SMOKE_SIP_TO: the SIP round trip)',
    ROOMLINE_SMOKE_SIP_TO: 'a SIP URI that echoes audio back (an echo test extension)',
    ROOMLINE_SMOKE_SIP_FROM: 'the From URI of the SIP call (default sip:roomline@roomline.invalid)',
  },
} as const;

export interface SmokeSettings {
  readonly room: RoomJoin;
  readonly sip: { readonly janusUrl: string; readonly to: string; readonly from: string } | undefined;
  /** Values never to print. */
  readonly secrets: readonly string[];
}

/** The smoke test's room and SIP target from the environment, checked by the provider's own contract. */
export function smokeSettings(provider: SmokeProvider, env: NodeJS.ProcessEnv): SmokeSettings {
  const spec = SMOKE_ENV[provider];
  const missing = Object.keys(spec.required).filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    const lines = Object.entries({ ...spec.required, ...spec.optional }).map(([name, what]) => `  ${name.padEnd(38)} ${what}`);
    throw new RoomlineError(
      'INVALID_REQUEST',
      `the ${provider} smoke test needs credentials of your own ${ROOM_PROVIDERS[provider].title} account; missing: ${missing.join(', ')}\n${lines.join('\n')}`,
    );
  }
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const input =
    provider === 'daily'
      ? { provider, url: value('ROOMLINE_SMOKE_DAILY_URL'), ...(value('ROOMLINE_SMOKE_DAILY_TOKEN') === undefined ? {} : { token: value('ROOMLINE_SMOKE_DAILY_TOKEN') }) }
      : {
          provider,
          applicationId: value('ROOMLINE_SMOKE_VONAGE_APPLICATION_ID'),
          sessionId: value('ROOMLINE_SMOKE_VONAGE_SESSION_ID'),
          token: value('ROOMLINE_SMOKE_VONAGE_TOKEN'),
        };
  const parsed = ROOM_PROVIDERS[provider].schema.safeParse({ ...input, display: 'Roomline smoke bot' });
  if (!parsed.success) {
    // zod's messages name the field and the rule, never the value
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new RoomlineError('INVALID_REQUEST', `the ${provider} smoke test's settings are not valid:\n${problems}`);
  }
  const janusUrl = value('ROOMLINE_SMOKE_JANUS_URL');
  const to = value('ROOMLINE_SMOKE_SIP_TO');
  if ((janusUrl === undefined) !== (to === undefined)) {
    throw new RoomlineError('INVALID_REQUEST', 'the SIP round trip needs both ROOMLINE_SMOKE_JANUS_URL and ROOMLINE_SMOKE_SIP_TO (or neither)');
  }
  if (janusUrl !== undefined && !/^wss?:\/\/[^\s@]+$/.test(janusUrl)) {
    throw new RoomlineError('INVALID_REQUEST', 'ROOMLINE_SMOKE_JANUS_URL must be a ws:// or wss:// URL without credentials');
  }
  if (to !== undefined && !/^sips?:\S+$/.test(to)) throw new RoomlineError('INVALID_REQUEST', 'ROOMLINE_SMOKE_SIP_TO must be a sip: URI');
  const room = parsed.data as RoomJoin;
  return {
    room,
    sip: janusUrl === undefined || to === undefined ? undefined : { janusUrl, to, from: value('ROOMLINE_SMOKE_SIP_FROM') ?? 'sip:roomline@roomline.invalid' },
    secrets: 'token' in room && typeof room.token === 'string' ? [room.token] : [],
  };
}

/** How long each check waits for what it looks for. */
const CHECK_TIMEOUT_MS = 30_000;
/** The smoke participant's tone and camera. */
const PERSON_TONE_HZ = 440;
const PERSON_COLOR = [0, 160, 220] as const;

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Runs the smoke test of `provider`; resolves with the exit code (0 all checks passed, 1 some failed, 2 bad settings). */
export async function runSmoke(
  provider: SmokeProvider,
  options: { env?: NodeJS.ProcessEnv; out?: (line: string) => void } = {},
): Promise<number> {
  const env = options.env ?? process.env;
  let settings: SmokeSettings;
  try {
    settings = smokeSettings(provider, env);
  } catch (error) {
    const line = `roomline smoke ${provider}: ${error instanceof Error ? error.message : String(error)}`;
    if (options.out === undefined) process.stderr.write(`${line}\n`);
    else options.out(line);
    return 2;
  }
  return checkRoom(settings, {
    ...(options.out === undefined ? {} : { out: options.out }),
    ...(env['ROOMLINE_CHROMIUM_PATH'] ? { chromiumPath: env['ROOMLINE_CHROMIUM_PATH'] } : {}),
  });
}

/**
 * The smoke test's checks on any room: the bot page and a participant page join it, and what crosses is checked.
 * Resolves with the exit code (0 all checks passed, 1 otherwise). `netns` runs Chromium in a network namespace (the
 * lab's own test of these checks, against its Janus room).
 */
export async function checkRoom(
  settings: SmokeSettings,
  options: { out?: (line: string) => void; chromiumPath?: string; netns?: string } = {},
): Promise<number> {
  const write = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const scrub = (text: string) => settings.secrets.reduce((t, secret) => t.split(secret).join('…'), text);
  const out = (line: string) => write(scrub(line));
  out(`Roomline smoke test: ${ROOM_PROVIDERS[settings.room.provider].title}`);
  out(`  room: ${JSON.stringify(redactRoom(settings.room))}${'token' in settings.room ? ' (token given)' : ''}`);
  out(`  the page may reach: ${roomOrigins(settings.room).join(' ')}`);
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    out(`  [${ok ? 'ok' : 'FAILED'}] ${name}${detail === '' ? '' : `: ${detail}`}`);
  };
  // warnings of the worker's own code (e.g. an origin the page was refused), scrubbed like every line
  const logger = createLogger({
    level: 'warn',
    base: { component: 'smoke' },
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        out(`  log: ${chunk.toString().trim()}`);
        done();
      },
    }),
  });
  const browser = await BrowserSource.launch({
    logger,
    ...labBrowserIsolation(),
    ...(options.chromiumPath === undefined ? {} : { executablePath: options.chromiumPath }),
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  });
  let person: RoomPerson | undefined;
  try {
    const page = await browser.newPage(await PageSite.load(botPageDir()));
    browser.allowOrigins(page, roomOrigins(settings.room));
    const bridge = await PageBridge.attach(page, { logger, commandTimeoutMs: 60_000 });
    const seen = { participants: 0, audioIn: false, audioOut: false, lost: undefined as string | undefined };
    bridge.on('room-participant', (event) => (seen.participants = event.count));
    bridge.on('media-flowing', (event: PageEventOf<'media-flowing'>) => {
      if (event.leg !== 'room' || event.kind !== 'audio') return;
      if (event.direction === 'in') seen.audioIn = true;
      else seen.audioOut = true;
    });
    bridge.on('room-lost', (event) => (seen.lost = event.reason));
    bridge.on('log', (event) => {
      if (event.level === 'warn' || event.level === 'error') out(`  page ${event.level}: ${event.msg} ${JSON.stringify(event.data ?? {})}`);
    });
    await browser.load(page);
    await bridge.waitReady();
    if (settings.sip !== undefined) {
      await bridge.send({ type: 'init', janusUrl: settings.sip.janusUrl, iceServers: [] });
      out(`  Janus session open at ${settings.sip.janusUrl}`);
    }

    const media = mediaSchema.parse({ video: 'sendonly' });
    const joinStarted = Date.now();
    const joined = await bridge
      .send({ type: 'join-room', room: settings.room, display: 'Roomline smoke bot', media })
      .then((result) => ({ ok: true as const, result }), (error: unknown) => ({ ok: false as const, error: RoomlineError.from(error) }));
    if (!joined.ok) {
      check('the bot joins the room', false, `${joined.error.code}: ${joined.error.message}`);
      return summary(checks, out);
    }
    check('the bot joins the room', true, `admitted in ${Date.now() - joinStarted} ms, ${joined.result.participants.length} other participant(s) there`);

    person = await RoomPerson.join(browser, { room: settings.room, display: 'Roomline smoke participant', toneHz: PERSON_TONE_HZ, color: PERSON_COLOR });
    const until = (condition: () => boolean | Promise<boolean>, what: string) =>
      waitUntil(condition, { timeoutMs: CHECK_TIMEOUT_MS, what, intervalMs: 250 }).then(() => true, () => false);
    check('the bot sees the smoke participant join (presence)', await until(() => seen.participants > 0, 'presence'), `${seen.participants} participant(s)`);
    check('the participant\'s audio reaches the bot', await until(() => seen.audioIn, 'room audio in'), '');
    let stats: QualitySummary | undefined;
    const videoIn = await until(async () => {
      stats = await bridge.send({ type: 'get-stats' });
      return (stats.room.videoIn?.frames ?? 0) > 0;
    }, 'room video in');
    check('the participant\'s camera reaches the bot', videoIn, `${stats?.room.videoIn?.frames ?? 0} frames decoded`);
    check('the bot publishes its audio', await until(() => seen.audioOut, 'room audio out'), `${stats?.room.audioOut?.packets ?? 0} packets sent`);
    const receivedBot = await until(async () => (await person!.hearing()).feeds.length > 0, 'the participant to receive the bot');
    check('the participant receives the bot\'s audio track', receivedBot, '');

    if (settings.sip === undefined) {
      out('  [skipped] the SIP round trip: set ROOMLINE_SMOKE_JANUS_URL and ROOMLINE_SMOKE_SIP_TO (an echo service) to check it');
    } else {
      const dialed = Date.now();
      const accepted = new Promise<boolean>((resolve) => {
        bridge.on('sip-progress', (event) => event.event === 'accepted' && resolve(true));
        bridge.on('sip-ended', () => resolve(false));
      });
      await bridge.send({
        type: 'dial',
        to: settings.sip.to,
        from: { uri: settings.sip.from },
        headers: {},
        media: mediaSchema.parse({}),
        display: 'Roomline smoke bot',
      });
      const answered = await Promise.race([accepted, sleep(CHECK_TIMEOUT_MS).then(() => false)]);
      check('the SIP target answers', answered, answered ? `in ${Date.now() - dialed} ms` : 'no answer');
      if (answered) {
        const since = Date.now();
        const echoed = await until(async () => hasTone((await person!.hearing(since)).tone, PERSON_TONE_HZ), 'the echo');
        const tone = (await person.hearing(since)).tone;
        check('the participant\'s tone comes back through SIP', echoed, `heard ${tone.frequencyHz} Hz at ${tone.levelDbfs} dBFS`);
        await bridge.send({ type: 'hangup' }).catch(() => undefined);
      }
    }
    if (seen.lost !== undefined) check('the bot stays in the room', false, seen.lost);
    await bridge.send({ type: 'leave' }).catch(() => undefined);
    return summary(checks, out);
  } catch (error) {
    out(`  the smoke test stopped: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await person?.leave();
    await browser.close();
  }
}

function summary(checks: readonly Check[], out: (line: string) => void): number {
  const passed = checks.filter((c) => c.ok).length;
  out(`RESULT: ${passed} of ${checks.length} checks passed`);
  return passed === checks.length && checks.length > 0 ? 0 : 1;
}

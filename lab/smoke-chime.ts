import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  ChimeSDKMeetingsClient,
  CreateAttendeeCommand,
  CreateMeetingCommand,
  DeleteMeetingCommand,
  GetAttendeeCommand,
} from '@aws-sdk/client-chime-sdk-meetings';
import type { Page } from 'puppeteer-core';
import type { PageEvent } from '../contracts/page-rpc.js';
import { chimeMeetingSchema, type ChimeRoomJoin } from '../contracts/rooms/chime.js';
import { mediaSchema } from '../contracts/dial-request.js';
import { BrowserSource } from '../worker/browser-source.js';
import { PageSite } from '../worker/page-site.js';
import { ChimeAttendees } from '../worker/chime-attendees.js';
import { createLogger } from '../worker/logger.js';
import { PageBridge } from '../worker/page-bridge.js';
import { botPageDir } from '../worker/paths.js';
import { RoomPerson, labSite } from './room-person.js';
import { labBrowserIsolation } from './netns.js';

/**
 * `npm run smoke:chime`: the live check of the Chime room against a real Amazon Chime SDK meeting, for a user with an
 * AWS account (credentials and region from the environment, as the AWS SDK reads them). Not part of `npm test`: it
 * needs the internet and creates billable resources, and deletes every one of them at the end.
 *
 *   1. CreateMeeting; the real MediaPlacement must pass Roomline's Chime contract.
 *   2. A meetingId join as the worker does it: GetMeeting + CreateAttendee, then DeleteAttendee (GetAttendee must then
 *      answer NotFound).
 *   3. `--join`: the bot page (the real SDK, in a headless Chromium here) joins the real meeting as that attendee, a
 *      second headless page joins as another attendee speaking a tone; checks: the bot is admitted, sees the other
 *      attendee, and receives the meeting's mixed audio (real TURN/relay, the real server's SDP and mixing).
 *   4. `--janus <ws url> --to <sip uri>` (with `--join`): the bot also calls the SIP target through that Janus server and
 *      bridges it for `--hold` seconds; checks media both ways on both legs.
 *   Finally DeleteMeeting.
 */
const { values } = parseArgs({
  options: {
    join: { type: 'boolean', default: false },
    janus: { type: 'string' },
    to: { type: 'string' },
    hold: { type: 'string', default: '10' },
  },
});

const logger = createLogger({ level: process.env['ROOMLINE_LOG_LEVEL'] ?? 'warn', base: { component: 'smoke-chime' } });
const region = process.env['AWS_REGION'] ?? 'us-east-1';
const client = new ChimeSDKMeetingsClient({ region });
const results: { check: string; ok: boolean; detail?: string }[] = [];
const check = (name: string, ok: boolean, detail?: string) => {
  results.push({ check: name, ok, ...(detail === undefined ? {} : { detail }) });
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail === undefined ? '' : ` (${detail})`}\n`);
};

let meetingId: string | undefined;
let browser: BrowserSource | undefined;
try {
  const created = await client.send(
    new CreateMeetingCommand({ ClientRequestToken: randomUUID(), MediaRegion: region, ExternalMeetingId: `roomline-smoke-${Date.now()}` }),
  );
  meetingId = created.Meeting?.MeetingId;
  const meeting = chimeMeetingSchema.safeParse(created.Meeting);
  check('CreateMeeting returns a meeting Roomline\'s contract accepts', meeting.success && meetingId !== undefined, meetingId);
  if (meetingId === undefined) throw new Error('no meeting');

  const attendees = new ChimeAttendees({ region, logger });
  const prepared = await attendees.prepare({ provider: 'chime', meetingId }, { callId: randomUUID(), display: 'Roomline smoke', tiles: [] });
  const bot = prepared.room.attendee;
  check('GetMeeting + CreateAttendee make a JoinInfo for the bot', bot?.JoinToken !== undefined, bot?.AttendeeId);

  if (values.join && bot !== undefined) {
    browser = await BrowserSource.launch({ logger, ...labBrowserIsolation() });
    await bridgeCall(browser, prepared.room, meetingId);
  }

  await prepared.release();
  const gone = await client
    .send(new GetAttendeeCommand({ MeetingId: meetingId, AttendeeId: bot?.AttendeeId ?? '' }))
    .then(() => false)
    .catch((error: unknown) => error instanceof Error && error.name === 'NotFoundException');
  check('DeleteAttendee removes the bot\'s attendee when the call ends', gone);
  attendees.destroy();
} catch (error) {
  check('the smoke run', false, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
} finally {
  await browser?.close();
  if (meetingId !== undefined) {
    await client
      .send(new DeleteMeetingCommand({ MeetingId: meetingId }))
      .then(() => process.stdout.write(`deleted meeting ${meetingId}\n`))
      .catch((error: unknown) => process.stdout.write(`could not delete meeting ${meetingId}: ${String(error)}\n`));
  }
  client.destroy();
}
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;

/** The bot page joins the real meeting (and optionally calls a SIP target); a second page speaks a tone in it. */
async function bridgeCall(source: BrowserSource, room: ChimeRoomJoin, id: string): Promise<void> {
  const page: Page = await source.newPage(await PageSite.load(botPageDir()));
  const bridge = await PageBridge.attach(page, { logger, commandTimeoutMs: 30_000 });
  const events: PageEvent[] = [];
  for (const type of ['room-participant', 'room-lost', 'sip-progress', 'sip-ended', 'media-flowing'] as const) {
    bridge.on(type, (event) => events.push(event));
  }
  await source.load(page);
  await bridge.waitReady();
  const sip = values.janus !== undefined && values.to !== undefined;
  if (sip) await bridge.send({ type: 'init', janusUrl: values.janus!, iceServers: [] });
  source.allowOrigins(page, ['https://' + new URL(room.meeting!.MediaPlacement.SignalingUrl).host]);
  const media = mediaSchema.parse({});
  const joined = await bridge.send({ type: 'join-room', room, display: 'Roomline smoke', media });
  check('the bot page (amazon-chime-sdk-js) is admitted to the real meeting', joined.selfId === room.attendee?.AttendeeId);

  const other = await new ChimeSDKMeetingsClient({ region }).send(
    new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: `${randomUUID().slice(0, 8)}#Smoke listener` }),
  );
  const person = await RoomPerson.join(source, {
    room: { provider: 'chime', meeting: room.meeting!, attendee: other.Attendee as never },
    display: 'Smoke listener',
    toneHz: 440,
  });
  await waitFor(() => events.some((e) => e.type === 'room-participant' && e.change === 'joined'), 20_000);
  check('the bot sees the other attendee join (presence from the real server)', events.some((e) => e.type === 'room-participant' && e.change === 'joined'));
  if (sip) {
    await bridge.send({ type: 'dial', to: values.to!, from: { uri: 'sip:roomline-smoke@roomline.invalid' }, headers: {}, media, display: 'Roomline smoke' });
    await waitFor(() => events.some((e) => e.type === 'sip-progress' && e.event === 'accepted') || events.some((e) => e.type === 'sip-ended'), 60_000);
    check('the SIP target answered', events.some((e) => e.type === 'sip-progress' && e.event === 'accepted'));
  }
  await new Promise((resolve) => setTimeout(resolve, Number(values.hold) * 1000));
  const stats = await bridge.send({ type: 'get-stats' });
  check('the bot receives the meeting\'s mixed audio (real TURN/relay and SDP)', (stats.room.audioIn?.packets ?? 0) > 100, `${stats.room.audioIn?.packets ?? 0} packets`);
  check('the bot sends audio into the meeting', (stats.room.audioOut?.packets ?? 0) > 100, `${stats.room.audioOut?.packets ?? 0} packets`);
  if (sip) {
    check('audio flows both ways on the SIP leg', (stats.sip.audioIn?.packets ?? 0) > 100 && (stats.sip.audioOut?.packets ?? 0) > 100);
    await bridge.send({ type: 'hangup' }).catch(() => undefined);
  }
  await bridge.send({ type: 'leave' }).catch(() => undefined);
  await person.leave();
  bridge.stop();
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
}

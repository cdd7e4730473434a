import { Option, type Command } from 'commander';
import { isFinalState } from '../../contracts/call-record.js';
import { DTMF_CARRIAGES, SIP_AUDIO_CODECS, SRTP_MODES, TRANSFER_POLICIES } from '../../contracts/telephony.js';
import { ROOM_PROVIDER_NAMES, RoomlineError, VIDEO_DIRECTIONS, SIP_VIDEO_CODECS } from '../../contracts/index.js';
import { RoomlineClient } from '../client.js';
import { follow, summarise } from './call-report.js';
import { buildDialRequest, type DialFlags } from './dial-flags.js';
import { collect, positiveInt } from './flag-values.js';

/** The call commands: `dial` (a dial request onto the queue), `status` (a call record), `hangup`. */
export function addCallCommands(program: Command): void {
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
}

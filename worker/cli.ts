import { Command } from 'commander';
import { RoomlineError } from '../contracts/index.js';
import { addCallCommands } from './cli/call-commands.js';
import { addControlCommands } from './cli/control-commands.js';
import { EXIT } from './cli/exit-codes.js';
import { addLabCommands } from './cli/lab-commands.js';
import { addPlanCommand } from './cli/plan-command.js';
import { addRouteCommands } from './cli/route-commands.js';
import { addWorkerCommand } from './cli/worker-command.js';

// The SQS emulator (fauxqs) uses node:sqlite, whose "experimental" warning would land in every lab command's output.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).includes('SQLite is an experimental feature')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

/**
 * The `roomline` command line: dial, status, hangup, worker, lab, demo, smoke, plan. Configuration comes from the environment
 * (ROOMLINE_QUEUE_URL, ROOMLINE_TABLE, AWS_REGION, AWS_ENDPOINT_URL_SQS/_DYNAMODB, and for workers ROOMLINE_JANUS_URLS
 * and the rest documented in worker/config.ts); `roomline lab exec -- <command>` sets it for the local lab. Each group
 * of commands is a file of worker/cli/.
 */
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
  ROOMLINE_ROUTES_TABLE       dial-in routes table name (route, worker with dial-in)
  AWS_REGION                  region (default us-east-1 with endpoint overrides)
  AWS_ENDPOINT_URL_SQS        SQS endpoint override (emulators)
  AWS_ENDPOINT_URL_DYNAMODB   DynamoDB endpoint override (emulators)
  ROOMLINE_JANUS_URLS         Janus WebSocket URLs for the SIP leg, comma-separated (worker)
  ROOMLINE_ROOM_PIN           room pin for dial --room-pin-from-env (keeps it out of the process list)
  ROOMLINE_ROOM_TOKEN         room server token for dial --room-token-from-env (the lab sets it)
  ROOMLINE_ROOM_HOSTS         room servers a request may name (dial refuses others early, as workers do)
  ROOMLINE_SIP_HOSTS          SIP hosts a request without a trunk may name (likewise)
  ROOMLINE_ROUTE_PIN          dial-in PIN for route add --pin-from-env

Examples:
  npm run demo                                   the lab: one call, report, teardown
  roomline lab up && roomline lab exec -- roomline dial --to sip:probe@127.0.0.1:5090 \\
      --room-url ws://10.77.0.1:8188/ --room-id 1234 --room-token-from-env --wait
  roomline dial --json request.json --wait       a dial request from a file ("-" reads stdin)
  roomline dtmf <callId> ',,1234#' --wait        wait 4 s, then send a conference PIN
  roomline hold <callId> && roomline resume <callId>
  roomline route add --number +15551230000 --room room.json --caller-name name
  roomline plan --calls-per-hour 60 --burst 10 --duration-min 5 --p99-under-s 10`,
  );

addCallCommands(program);
addControlCommands(program);
addRouteCommands(program);
addWorkerCommand(program);
addLabCommands(program);
addPlanCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const failure = RoomlineError.from(error);
  process.stderr.write(`roomline: ${failure.message}\n`);
  process.exitCode = failure.code === 'INVALID_REQUEST' ? EXIT.invalid : EXIT.failed;
}

import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { RoomlineError } from '../../contracts/errors.js';
import { labModulePath } from '../paths.js';
import { positiveInt } from './flag-values.js';

/** The local lab's commands: `lab up`, `lab down`, `lab exec`, `lab serve`, and `demo` and `smoke`, which use it. */
export function addLabCommands(program: Command): void {
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
    .option('--dial-in', 'dial-in instead: the phone calls a routed number at the lab\'s registrar and lands in the room')
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
    .action(async (options: { talk: number; keep?: boolean; video?: boolean; dialIn?: boolean; room: 'janus' | 'chime' | 'page' }) => {
      process.exitCode = await (await loadLab()).runDemo({
        dialIn: options.dialIn === true,
        talkS: options.talk,
        keep: options.keep === true,
        video: options.video === true,
        room: options.room,
      });
    });

  program
    .command('smoke')
    .description('join a real Daily or Vonage room with credentials from the environment and check what crosses (see docs/rooms.md)')
    .argument('<provider>', 'daily or vonage')
    .action(async (provider: string) => {
      if (provider !== 'daily' && provider !== 'vonage') {
        throw new InvalidArgumentError(`provider must be daily or vonage, not ${provider}`);
      }
      process.exitCode = await (await loadLab()).runSmoke(provider);
    });
}

type LabModule = typeof import('../../lab/index.js');

/** The lab is built apart from the worker and is not part of the worker image: loaded only by `lab`, `demo` and `smoke`. */
async function loadLab(): Promise<LabModule> {
  const path = labModulePath();
  if (path === undefined) {
    throw new RoomlineError('INVALID_REQUEST', 'the lab is not part of this installation (dist/lab.mjs): use a clone of the repository');
  }
  return (await import(pathToFileURL(path).href)) as LabModule;
}

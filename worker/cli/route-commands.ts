import { Option, type Command } from 'commander';
import { ROOM_PROVIDER_NAMES, RoomlineError } from '../../contracts/index.js';
import { CALLER_NAMES, displayRouteId, type RouteInput } from '../../contracts/dial-in.js';
import { RoomlineClient } from '../client.js';
import { positiveInt } from './flag-values.js';
import { buildRoute, type RouteFlags } from './route-flags.js';

/** The dial-in routes: `route add`, `route list`, `route remove`. */
export function addRouteCommands(program: Command): void {
  const route = program
    .command('route')
    .description('dial-in routes: which room an inbound call joins, by dialled number or X- header (ROOMLINE_ROUTES_TABLE)');
  route
    .command('add')
    .description('add a route and print its id')
    .option('--json <file>', 'read the whole route (JSON) from a file, or "-" for stdin')
    .option('--number <digits>', 'the dialled number that takes this route, e.g. +15551230000')
    .option('--header <X-Name=value>', 'an X- header of the INVITE that takes this route')
    .option('--collect-pin', 'with --number: a PIN line, whose callers enter a PIN after a spoken prompt')
    .option('--pin-from-env', 'with --number: the route a PIN opens on that PIN line, the PIN from ROOMLINE_ROUTE_PIN')
    .option('--room <json|file>', `the room as JSON or a JSON file; providers: ${ROOM_PROVIDER_NAMES.join(', ')}`)
    .option('--room-url <url>', 'Janus VideoRoom shortcut: the Janus server WebSocket URL of the room')
    .option('--room-id <id>', 'Janus VideoRoom shortcut: the room id')
    .option('--room-pin-from-env', 'Janus VideoRoom shortcut: take the room pin from ROOMLINE_ROOM_PIN')
    .addOption(new Option('--caller-name <how>', "the bot's name in the room: the caller's masked number, whole number, or display name").choices([...CALLER_NAMES]))
    .option('--max-duration <s>', 'longest call in seconds', positiveInt)
    .option('--empty-room-timeout <s>', 'seconds the room may stay empty before the bot hangs up', positiveInt)
    .option('--description <text>', 'what this route is for')
    .option('--replace', 'replace a route with the same match')
    .action(async (flags: RouteFlags) => {
      const input = await buildRoute(flags);
      const added = await new RoomlineClient().addRoute(input as RouteInput, { replace: flags.replace === true });
      process.stdout.write(`${displayRouteId(added.routeId)}\n`);
    });
  route
    .command('list')
    .description('list the routes (rooms without their pins and tokens)')
    .option('--json', 'print the routes as JSON')
    .action(async (options: { json?: boolean }) => {
      const routes = await new RoomlineClient().listRoutes();
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(routes, null, 2)}\n`);
        return;
      }
      for (const r of routes) {
        const target = r.collectPin ? 'PIN line' : (r.room?.provider ?? '?');
        process.stdout.write(`${r.routeId}  ${target}  caller name: ${r.callerName}${r.description === undefined ? '' : `  ${r.description}`}\n`);
      }
    });
  route
    .command('remove')
    .description('remove a route by its id (as `route list` shows it)')
    .argument('<routeId>')
    .action(async (routeId: string) => {
      const removed = await new RoomlineClient().removeRoute(routeId);
      if (!removed) throw new RoomlineError('INVALID_REQUEST', `no route ${routeId}`);
      process.stdout.write(`removed ${routeId}\n`);
    });
}

import { readFile } from 'node:fs/promises';
import { RoomlineError } from '../../contracts/errors.js';
import { readStdin } from './flag-values.js';
import { roomFromFlags, type RoomFlags } from './room-flags.js';

/** The options of `roomline route add`. */
export interface RouteFlags extends Omit<RoomFlags, 'roomTokenFromEnv'> {
  json?: string;
  number?: string;
  collectPin?: boolean;
  pinFromEnv?: boolean;
  header?: string;
  callerName?: string;
  maxDuration?: number;
  emptyRoomTimeout?: number;
  description?: string;
  replace?: boolean;
}

/** The dial-in route the options describe (or the one `--json` reads), for the client to check and add. */
export async function buildRoute(flags: RouteFlags): Promise<unknown> {
  if (flags.json !== undefined) {
    const text = flags.json === '-' ? await readStdin() : await readFile(flags.json, 'utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new RoomlineError('INVALID_REQUEST', `${flags.json} is not JSON: ${String(error)}`);
    }
  }
  if ((flags.number === undefined) === (flags.header === undefined)) {
    throw new RoomlineError('INVALID_REQUEST', 'route add needs exactly one of --number or --header (or --json <file>)');
  }
  const hasRoom = flags.room !== undefined || (flags.roomUrl !== undefined && flags.roomId !== undefined);
  if (flags.collectPin === true) {
    if (flags.number === undefined || hasRoom) {
      throw new RoomlineError('INVALID_REQUEST', '--collect-pin needs --number and no room (its PIN routes have the rooms)');
    }
  } else if (!hasRoom) {
    throw new RoomlineError('INVALID_REQUEST', 'route add needs --room <json|file>, or --room-url and --room-id');
  }
  const pin = flags.pinFromEnv === true ? process.env['ROOMLINE_ROUTE_PIN'] : undefined;
  if (flags.pinFromEnv === true && (pin === undefined || flags.number === undefined)) {
    throw new RoomlineError('INVALID_REQUEST', '--pin-from-env needs --number and ROOMLINE_ROUTE_PIN');
  }
  let match: Record<string, unknown>;
  if (flags.number !== undefined) {
    match = pin === undefined ? { kind: 'number', number: flags.number } : { kind: 'pin', number: flags.number, pin };
  } else {
    const header = flags.header!;
    const at = header.indexOf('=');
    if (at <= 0) throw new RoomlineError('INVALID_REQUEST', `--header "${header}" must look like X-Name=value`);
    match = { kind: 'header', name: header.slice(0, at), value: header.slice(at + 1) };
  }
  return {
    match,
    ...(flags.collectPin === true ? { collectPin: true } : { room: await roomFromFlags(flags) }),
    ...(flags.callerName === undefined ? {} : { callerName: flags.callerName }),
    limits: {
      ...(flags.maxDuration === undefined ? {} : { maxDurationS: flags.maxDuration }),
      ...(flags.emptyRoomTimeout === undefined ? {} : { emptyRoomTimeoutS: flags.emptyRoomTimeout }),
    },
    ...(flags.description === undefined ? {} : { description: flags.description }),
  };
}

import { readFile } from 'node:fs/promises';
import { RoomlineError } from '../../contracts/errors.js';

/** The options that name a room: `--room`, or the Janus VideoRoom shortcuts. */
export interface RoomFlags {
  room?: string;
  roomUrl?: string;
  roomId?: string;
  roomPinFromEnv?: boolean;
  roomTokenFromEnv?: boolean;
}

/** The room of a dial or a route: `--room` (JSON, or a JSON file), or the Janus VideoRoom shortcuts. */
export async function roomFromFlags(flags: RoomFlags): Promise<Record<string, unknown>> {
  if (flags.room !== undefined) {
    const shortcuts = ['roomUrl', 'roomId', 'roomPinFromEnv', 'roomTokenFromEnv'].filter((k) => flags[k as keyof RoomFlags] !== undefined);
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

import { readFile } from 'node:fs/promises';
import { RoomlineError } from '../../contracts/errors.js';
import { readStdin } from './flag-values.js';
import { roomFromFlags, type RoomFlags } from './room-flags.js';

/** The options of `roomline dial`. */
export interface DialFlags extends RoomFlags {
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

/** The dial request the options describe (or the one `--json` reads), for the client to check and send. */
export async function buildDialRequest(flags: DialFlags): Promise<unknown> {
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

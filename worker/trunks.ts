import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { z } from 'zod';
import { sipUriSchema } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import { PROXY_URI_PARAMS, sipUriSchemaWith } from '../contracts/sip-uri.js';
import type { SipAccount } from '../contracts/page-rpc.js';
import {
  DTMF_CARRIAGES,
  SIP_TRANSPORTS,
  SRTP_MODES,
  audioCodecListSchema,
  type DtmfCarriage,
  type SipAudioCodec,
  type SipTransport,
  type SrtpMode,
} from '../contracts/telephony.js';

/**
 * SIP trunks: a dial request names one (`"trunk": "acme"`); the worker looks its credentials and settings up, here
 * and nowhere else, and never logs the password. Two sources: AWS Secrets Manager (one secret per trunk, the AWS
 * deployment; worker/aws/trunk-credentials.ts) or a JSON file of trunks by name (`ROOMLINE_TRUNKS_FILE`: on premises,
 * and the lab). Both hold the same object per trunk (version 1):
 *
 * ```json
 * {
 *   "proxy": "sip:sip.trunk.example.com:5060",
 *   "username": "sip:roomline@sip.trunk.example.com",
 *   "password": "…",
 *   "authUsername": "roomline",
 *   "realm": "sip.trunk.example.com",
 *   "register": false,
 *   "outboundProxy": "sip:edge.trunk.example.com:5060",
 *   "transport": "udp",
 *   "srtp": "off",
 *   "audioCodecs": ["PCMU", "PCMA"],
 *   "dtmf": "rfc2833"
 * }
 * ```
 *
 * - `proxy`: the trunk's registrar (Janus SIP `proxy`: where a REGISTER goes). Required.
 * - `username`: the identity on the trunk, a SIP URI: the From of every call through it (Janus `username`). Required.
 * - `password`: the digest secret answering 401 and 407 challenges (Janus `secret`). Required.
 * - `authUsername`: user name for digest authentication when it differs from the URI's user part (Janus `authuser`).
 * - `realm`: the realm the trunk challenges with, for documentation and checks. Optional.
 * - `register`: send a REGISTER before calling (Janus `send_register`); with `false` the credentials only answer the
 *   trunk's 401/407 challenges to the INVITE. @default false
 * - `outboundProxy`: send every request through this proxy, whatever the target (Janus `outbound_proxy`). Optional.
 * - `transport`: `udp`, `tcp`, or `tls` (Janus `sips`; the SIP plugin needs `sips_certs_dir`). @default "udp"
 * - `srtp`: SDES-SRTP `off`, `optional` or `mandatory`, unless a request says otherwise. @default "off"
 * - `audioCodecs`: the audio codecs offered, in order (e.g. G.711 first for the PSTN), unless a request says
 *   otherwise. @default every codec the browser has, opus first
 * - `dtmf`: how digits are sent (`rfc2833` or `info`), unless a request says otherwise. @default "rfc2833"
 */
export const trunkSecretSchema = z.strictObject({
  proxy: sipUriSchemaWith(PROXY_URI_PARAMS),
  username: sipUriSchema,
  password: z.string().min(1, 'must not be empty').max(1024),
  authUsername: z.string().min(1).max(256).optional(),
  realm: z.string().min(1).max(256).optional(),
  register: z.boolean().default(false),
  outboundProxy: sipUriSchemaWith(PROXY_URI_PARAMS).optional(),
  transport: z.enum(SIP_TRANSPORTS).default('udp'),
  srtp: z.enum(SRTP_MODES).optional(),
  audioCodecs: audioCodecListSchema.optional(),
  dtmf: z.enum(DTMF_CARRIAGES).optional(),
});
export type TrunkSecret = z.output<typeof trunkSecretSchema>;

/** A trunk's credentials and settings. Its password is readable through `password`, and hidden from every printed form. */
export class TrunkCredentials {
  readonly trunk: string;
  readonly proxy: string;
  readonly username: string;
  readonly authUsername: string | undefined;
  readonly realm: string | undefined;
  readonly register: boolean;
  readonly outboundProxy: string | undefined;
  readonly transport: SipTransport;
  readonly srtp: SrtpMode | undefined;
  readonly audioCodecs: readonly SipAudioCodec[] | undefined;
  readonly dtmf: DtmfCarriage | undefined;
  readonly #password: string;

  constructor(trunk: string, secret: TrunkSecret) {
    this.trunk = trunk;
    this.proxy = secret.proxy;
    this.username = secret.username;
    this.authUsername = secret.authUsername;
    this.realm = secret.realm;
    this.register = secret.register;
    this.outboundProxy = secret.outboundProxy;
    this.transport = secret.transport;
    this.srtp = secret.srtp;
    this.audioCodecs = secret.audioCodecs;
    this.dtmf = secret.dtmf;
    this.#password = secret.password;
  }

  /** The digest secret: pass it to Janus only. */
  get password(): string {
    return this.#password;
  }

  /** The account the SIP leg registers (and answers challenges) with. */
  toSipAccount(): SipAccount {
    return {
      username: this.username,
      secret: this.#password,
      proxy: this.proxy,
      ...(this.authUsername === undefined ? {} : { authUsername: this.authUsername }),
      register: this.register,
      ...(this.outboundProxy === undefined ? {} : { outboundProxy: this.outboundProxy }),
      transport: this.transport,
    };
  }

  /** What logs may show: everything but the password. */
  toJSON(): Record<string, unknown> {
    return {
      trunk: this.trunk,
      proxy: this.proxy,
      username: this.username,
      register: this.register,
      transport: this.transport,
      ...(this.outboundProxy === undefined ? {} : { outboundProxy: this.outboundProxy }),
      password: '[redacted]',
    };
  }

  [inspect.custom](): string {
    return `TrunkCredentials ${JSON.stringify(this.toJSON())}`;
  }
}

/** Where a worker finds trunks. */
export interface TrunkSource {
  /** The trunk's credentials; `TRUNK_UNKNOWN` (final) when there is no such trunk. */
  get(trunk: string): Promise<TrunkCredentials>;
}

/**
 * Parses one trunk's object (from a secret or a file). Errors name `where` and the invalid fields, never a value.
 */
export function parseTrunk(trunk: string, json: unknown, where: string): TrunkCredentials {
  const parsed = trunkSecretSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(trunk)'}: ${issue.message}`).join('; ');
    throw new RoomlineError('INTERNAL', `${where} of trunk "${trunk}" is invalid: ${fields}`);
  }
  return new TrunkCredentials(trunk, parsed.data);
}

/**
 * Trunks from a JSON file: an object of trunks by name, each the object documented above. The file is read at each
 * lookup (a worker takes one call; an edited file needs no restart). Keep it readable by the worker only.
 */
export class TrunkFile implements TrunkSource {
  constructor(private readonly path: string) {}

  async get(trunk: string): Promise<TrunkCredentials> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      throw new RoomlineError('INTERNAL', `cannot read the trunks file ${this.path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RoomlineError('INTERNAL', `the trunks file ${this.path} is not JSON`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new RoomlineError('INTERNAL', `the trunks file ${this.path} must hold an object of trunks by name`);
    }
    if (!Object.hasOwn(json, trunk)) {
      throw new RoomlineError('TRUNK_UNKNOWN', `no SIP trunk named "${trunk}" (not in the trunks file)`);
    }
    return parseTrunk(trunk, (json as Record<string, unknown>)[trunk], `the trunks file's entry`);
  }
}

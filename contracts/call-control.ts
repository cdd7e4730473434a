import { z } from 'zod';
import { sipUriSchema } from './dial-request.js';
import { RoomlineError } from './errors.js';
import { DTMF_CARRIAGES, dtmfDigitsSchema } from './telephony.js';
import { describeIssues } from './dial-request.js';

/**
 * What a client can ask of a live call besides hanging up: send DTMF, hold, resume, blind-transfer. A request goes
 * into the call record (`controls`), the worker carries it out and acknowledges it there. One schema validates it in
 * the client, the CLI and the worker.
 */
export const callControlSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('dtmf'),
    /** 0-9 * # A-D, "," for a 2-second pause. */
    digits: dtmfDigitsSchema,
    /** How they travel. @default the call's (request, else trunk, else "rfc2833") */
    carriage: z.enum(DTMF_CARRIAGES).optional(),
  }),
  z.strictObject({ type: z.literal('hold') }),
  z.strictObject({ type: z.literal('resume') }),
  z.strictObject({ type: z.literal('transfer'), to: sipUriSchema }),
]);
export type CallControl = z.output<typeof callControlSchema>;
export type CallControlType = CallControl['type'];
export const CALL_CONTROL_TYPES = ['dtmf', 'hold', 'resume', 'transfer'] as const satisfies readonly CallControlType[];

/** Validates a control request, throwing `INVALID_REQUEST` with every problem as `path: message`. */
export function parseCallControl(input: unknown): CallControl {
  const result = callControlSchema.safeParse(input);
  if (!result.success) throw new RoomlineError('INVALID_REQUEST', `invalid control request: ${describeIssues(result.error.issues)}`);
  return result.data;
}

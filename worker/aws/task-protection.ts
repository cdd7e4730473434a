import { z } from 'zod';
import { RoomlineError } from '../../contracts/errors.js';

/**
 * ECS task scale-in protection, set by the worker itself through the ECS agent endpoint
 * (`$ECS_AGENT_URI/task-protection/v1/state`). While a call lasts the task is protected, so that the service scaling
 * in (or a deployment) stops idle workers only. Off ECS (no `ECS_AGENT_URI`) every call is a no-op.
 */

/** Longest protection the ECS agent accepts, in minutes (48 hours). */
export const MAX_PROTECTION_MINUTES = 2_880;

/** The protection state the agent reports. */
export interface ProtectionState {
  readonly protectionEnabled: boolean;
  /** When the protection lapses by itself (ISO 8601), if it is on. */
  readonly expirationDate: string | undefined;
  readonly taskArn: string | undefined;
}

export type ProtectionResult =
  | { readonly kind: 'applied'; readonly state: ProtectionState }
  /** Not running on ECS: nothing to protect. */
  | { readonly kind: 'not-on-ecs' };

export interface TaskProtectionOptions {
  /** Base URI of the ECS agent. @default process.env.ECS_AGENT_URI (unset: every call is a no-op) */
  readonly agentUri?: string | undefined;
  /** Time allowed for one request, in ms. @default 5000 */
  readonly timeoutMs?: number;
  /** fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const protectionSchema = z.object({
  ProtectionEnabled: z.boolean(),
  ExpirationDate: z.string().optional(),
  TaskArn: z.string().optional(),
});
const agentResponseSchema = z.union([
  z.object({ protection: protectionSchema }),
  z.object({ failure: z.object({ Arn: z.string().optional(), Reason: z.string().optional(), Detail: z.string().nullish() }) }),
  z.object({ error: z.object({ Arn: z.string().optional(), Code: z.string().optional(), Message: z.string().optional() }) }),
]);

/**
 * Client of the ECS agent's task-protection endpoint.
 *
 * Failures throw a `RoomlineError` with code `INTERNAL`, `retryable: true` (the agent or ECS was unavailable, e.g.
 * throttled) or `retryable: false` (the agent refused the request); the message carries the agent's reason.
 */
export class TaskProtection {
  readonly #stateUrl: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: TaskProtectionOptions = {}) {
    const agentUri = 'agentUri' in options ? options.agentUri : process.env['ECS_AGENT_URI'];
    this.#stateUrl = agentUri === undefined || agentUri === '' ? undefined : `${agentUri.replace(/\/+$/, '')}/task-protection/v1/state`;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** Whether this process runs in an ECS task (the agent endpoint is known). */
  get onEcs(): boolean {
    return this.#stateUrl !== undefined;
  }

  /**
   * Protects the task from scale-in for `expiresInMinutes` (1..2880; larger values are capped at 2880). Call it right
   * after receiving a dial message, before claiming the call.
   */
  async protect(expiresInMinutes: number): Promise<ProtectionResult> {
    if (!Number.isFinite(expiresInMinutes) || expiresInMinutes < 1) {
      throw new RoomlineError('INTERNAL', `task protection needs at least 1 minute, got ${expiresInMinutes}`);
    }
    const minutes = Math.min(MAX_PROTECTION_MINUTES, Math.ceil(expiresInMinutes));
    return this.#request('PUT', { ProtectionEnabled: true, ExpiresInMinutes: minutes });
  }

  /** Removes the protection (call it when the call is final, before the worker exits). */
  async unprotect(): Promise<ProtectionResult> {
    return this.#request('PUT', { ProtectionEnabled: false });
  }

  /** Reads the current protection state. */
  async state(): Promise<ProtectionResult> {
    return this.#request('GET', undefined);
  }

  async #request(method: 'GET' | 'PUT', body: Record<string, unknown> | undefined): Promise<ProtectionResult> {
    if (this.#stateUrl === undefined) return { kind: 'not-on-ecs' };
    const action = body === undefined ? 'read task protection' : body['ProtectionEnabled'] === true ? 'protect the task' : 'unprotect the task';
    let response: Response;
    try {
      response = await this.#fetch(this.#stateUrl, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new RoomlineError('INTERNAL', `could not ${action}: ECS agent unreachable (${describe(error)})`, {
        retryable: true,
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: z.output<typeof agentResponseSchema> | undefined;
    try {
      const result = agentResponseSchema.safeParse(JSON.parse(text));
      parsed = result.success ? result.data : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined && 'protection' in parsed && response.ok) {
      return {
        kind: 'applied',
        state: {
          protectionEnabled: parsed.protection.ProtectionEnabled,
          expirationDate: parsed.protection.ExpirationDate,
          taskArn: parsed.protection.TaskArn,
        },
      };
    }
    const retryable = response.status >= 500 || response.status === 429;
    const reason =
      parsed === undefined || 'protection' in parsed
        ? `HTTP ${response.status}`
        : 'failure' in parsed
          ? `${parsed.failure.Reason ?? 'failure'}${parsed.failure.Detail ? `: ${parsed.failure.Detail}` : ''}`
          : `${parsed.error.Code ?? 'error'}${parsed.error.Message ? `: ${parsed.error.Message}` : ''}`;
    throw new RoomlineError('INTERNAL', `could not ${action}: ECS agent answered ${response.status} (${reason})`, {
      retryable,
    });
  }
}

/**
 * Minutes of protection a call needs: the ring timeout plus the longest call, plus a margin for setup and teardown,
 * capped at what the agent accepts.
 */
export function protectionMinutesFor(limits: { readonly ringTimeoutS: number; readonly maxDurationS: number }, marginMinutes = 5): number {
  return Math.min(MAX_PROTECTION_MINUTES, Math.ceil((limits.ringTimeoutS + limits.maxDurationS) / 60) + marginMinutes);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}

/**
 * Janus answered with an error, or the transport failed.
 * - `code`: the error code Janus sent, if it answered with one;
 * - `plugin`: the code is the plugin's (`error_code` in its answer), not the core's (e.g. 458 no such session);
 * - `transport`: the connection failed (closed, or could not be opened);
 * - `sent`: whether the request left at all (false: Janus never saw it).
 */
export class JanusError extends Error {
  override readonly name = 'JanusError';
  readonly code: number | undefined;
  readonly plugin: boolean;
  readonly transport: boolean;
  readonly sent: boolean;

  constructor(message: string, options: { code?: number; plugin?: boolean; transport?: boolean; sent?: boolean } = {}) {
    super(message);
    this.code = options.code;
    this.plugin = options.plugin ?? false;
    this.transport = options.transport ?? false;
    this.sent = options.sent ?? true;
  }
}

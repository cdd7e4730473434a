import type { CallControlRequest, CallRecord } from '../contracts/call-record.js';
import { parseCallControl } from '../contracts/call-control.js';
import { RoomlineError, assertNever } from '../contracts/errors.js';
import { dtmfDigitCount, type DtmfCarriage } from '../contracts/telephony.js';
import type { CallProgress } from './call-progress.js';
import type { CallRecordWriter } from './call-record-writer.js';
import type { CallPage } from './call-session-options.js';
import { acknowledgeControl, pendingControls } from './call-state.js';
import type { Logger } from './logger.js';

export interface CallControlsOptions {
  readonly bridge: CallPage;
  readonly logger: Logger;
  readonly writer: CallRecordWriter;
  readonly progress: CallProgress;
}

/**
 * A connected call's controls (DTMF, hold, resume, transfer): the control requests of its record, each taken once and
 * carried out one after another on the SIP leg, and acknowledged in the record.
 */
export class CallControls {
  /** How digits are sent on this call unless a control says otherwise (request, else trunk, else RFC 2833). */
  carriage: DtmfCarriage = 'rfc2833';
  /** Control requests already taken (by id), and the queue that carries them out one after another. */
  private readonly taken = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: CallControlsOptions) {}

  /** Takes the record's new control requests, in order, into the control queue. */
  take(stored: CallRecord): void {
    for (const request of pendingControls(stored)) {
      if (this.taken.has(request.id)) continue;
      this.taken.add(request.id);
      this.enqueue(() => this.carryOut(request));
    }
  }

  /** Queues the request's digits to send once the call is answered (e.g. a conference PIN). */
  sendAfterAnswer(digits: string): void {
    this.enqueue(() => this.sendDtmf(digits, this.carriage, 'request'));
  }

  /** Runs one control after the others (a DTMF string is sent whole before a hold, and so on). */
  private enqueue(run: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.options.progress.over) return;
      await run().catch((error: unknown) => this.options.logger.warn({ error: String(error) }, 'control failed'));
    });
  }

  /** Carries out a control request and acknowledges it in the record. */
  private async carryOut(request: CallControlRequest): Promise<void> {
    const { bridge, logger, writer, progress } = this.options;
    let outcome: { ok: true } | { ok: false; error: string } = { ok: true };
    const control = request.control;
    try {
      // the record is open to any writer: what arrives is checked like any request
      parseCallControl(control);
      if (!progress.connected) throw new RoomlineError('INVALID_REQUEST', 'the call is not connected');
      switch (control.type) {
        case 'dtmf':
          await this.sendDtmf(control.digits, control.carriage ?? this.carriage, 'control');
          break;
        case 'hold':
          await bridge.send({ type: 'hold' });
          break;
        case 'resume':
          await bridge.send({ type: 'resume' });
          break;
        case 'transfer':
          await bridge.send({ type: 'transfer', to: control.to });
          break;
        default:
          assertNever(control, 'call control');
      }
    } catch (error) {
      outcome = { ok: false, error: RoomlineError.from(error).message.slice(0, 512) };
    }
    logger.info({ control: control.type, id: request.id, ok: outcome.ok }, 'control carried out');
    await writer.update((base) => acknowledgeControl(base, request.id, outcome, new Date())).catch(() => undefined);
  }

  /** Sends digits on the SIP leg and records how many went (never which: they may be a PIN). */
  private async sendDtmf(digits: string, carriage: DtmfCarriage, source: 'request' | 'control'): Promise<void> {
    const pauses = digits.length - dtmfDigitCount(digits);
    // 2 s a pause, under 200 ms a digit (Janus answers each SIP INFO), and room to spare
    const timeoutMs = pauses * 2_000 + dtmfDigitCount(digits) * 500 + 10_000;
    const { sent } = await this.options.bridge.send({ type: 'send-dtmf', digits, carriage }, timeoutMs);
    this.options.logger.info({ count: sent, carriage, source }, 'DTMF sent');
    await this.options.writer.event(
      { type: 'dtmf-sent', count: sent, carriage, source },
      `${sent} DTMF digit${sent === 1 ? '' : 's'} sent (${carriage})`,
    );
  }
}

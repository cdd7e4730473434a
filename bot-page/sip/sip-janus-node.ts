import { RoomlineError } from '../../contracts/errors.js';
import type { PageCommandResults } from '../../contracts/page-rpc.js';
import { emit, errorMessage } from '../host.js';
import { JanusSession } from '../janus/janus-client.js';

/** What the node needs of the bot: the SIP plugin's set-up on a new session, and whether the bot is leaving. */
export interface SipJanusNodeOptions {
  /** Attaches the SIP plugin on a new session (the warm leg); a failure gives the session up. */
  setUp(session: JanusSession): Promise<void>;
  /** The bot is leaving: its session closing is no news. */
  leaving(): boolean;
}

/**
 * The Janus session the bot's SIP legs run on, on one Janus node: opened at warm-up, kept while that node is asked
 * for again, replaced by one on another node when the worker heals onto it, and reported (`janus-lost`) when the
 * session in use is lost.
 */
export class SipJanusNode {
  private sessionValue: JanusSession | undefined;
  /** The node of the session, and the session being opened, if one is. */
  private url: string | undefined;
  private opening: Promise<JanusSession> | undefined;

  constructor(private readonly options: SipJanusNodeOptions) {}

  /** The session in use, once one is set up. */
  get session(): JanusSession | undefined {
    return this.sessionValue;
  }

  /**
   * A session on `url`. Idempotent for the worker, which may ask again when an earlier answer came too late for it: a
   * session open on that node is kept, one being opened is awaited. A session on another node is given up for the
   * new one; `replacing` runs before a new one is opened.
   */
  async open(url: string, apiSecret: string | undefined, replacing: () => void): Promise<JanusSession> {
    await this.opening?.catch(() => undefined);
    const current = this.sessionValue;
    if (current !== undefined && !current.isClosed) {
      if (this.url === url) return current;
      this.sessionValue = undefined;
      current.abandon(`replaced by a session on ${url}`);
    }
    this.sessionValue = undefined;
    replacing();
    const opening = this.connect(url, apiSecret);
    this.opening = opening;
    try {
      return await opening;
    } finally {
      if (this.opening === opening) this.opening = undefined;
    }
  }

  /** Whether a call can be placed now: the Janus session is open and answers a keepalive in time. */
  async health(timeoutMs: number): Promise<PageCommandResults['health']> {
    const session = this.sessionValue;
    if (session === undefined || session.isClosed) return { janus: 'closed' };
    if (await session.ping(timeoutMs)) return { janus: 'open' };
    // a session that does not answer is given up, so that `init` can open another
    session.abandon(`Janus did not answer a keepalive within ${timeoutMs} ms`);
    return { janus: 'silent' };
  }

  /** What the page knows of the session's health without asking: open or not, and how long ago Janus was heard. */
  get known(): { readonly open: boolean; readonly heardMs?: number } {
    const session = this.sessionValue;
    if (session === undefined || session.isClosed) return { open: false };
    return { open: true, heardMs: session.heardMs };
  }

  async destroy(): Promise<void> {
    await this.sessionValue?.destroy();
  }

  private async connect(url: string, apiSecret: string | undefined): Promise<JanusSession> {
    let session: JanusSession;
    try {
      session = await JanusSession.connect(url, { timeoutMs: 5_000, apiSecret });
    } catch (error) {
      throw new RoomlineError('JANUS_UNAVAILABLE', `cannot reach Janus at ${url}: ${errorMessage(error)}`);
    }
    // only the loss of the session in use is news (one given up for another, or closed by leave(), is not)
    session.onClosed((reason) => {
      if (this.sessionValue === session && !this.options.leaving()) emit({ type: 'janus-lost', reason });
    });
    try {
      await this.options.setUp(session);
    } catch (error) {
      session.abandon('the SIP plugin could not be set up');
      throw error instanceof RoomlineError
        ? error
        : new RoomlineError('JANUS_UNAVAILABLE', `the SIP plugin of ${url} could not be set up: ${errorMessage(error)}`);
    }
    this.sessionValue = session;
    this.url = url;
    return session;
  }
}

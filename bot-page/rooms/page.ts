import type { LegQuality } from '../../contracts/call-record.js';
import { RoomlineError } from '../../contracts/errors.js';
import { APP_JOIN_TIMEOUT_S, JOIN_STEP_TIMEOUT_S, pageRoom, type JoinStep, type PageRoomJoin } from '../../contracts/rooms/page.js';
import { errorMessage, log } from '../host.js';
import { currentMediaHub } from '../page-mode/current.js';
import type { CapturedTrack, MediaHub } from '../page-mode/media-hub.js';
import type {
  PublishedTracks,
  RoomAdapter,
  RoomAdapterEvents,
  RoomAdapterFactory,
  RoomFeed,
  RoomJoined,
  RoomParticipant,
} from './room-adapter.js';

/**
 * What an app may expose as `window.roomline` so the bridge joins and follows it without join steps (docs/rooms.md, "Page
 * mode"). Every member is optional but `join`.
 */
export interface RoomlineAppApi {
  /** Joins the app's meeting as `display`; resolves once joined. */
  join(options: { readonly display: string }): Promise<void> | void;
  /** Leaves the meeting. */
  leave?(): Promise<void> | void;
  /** The people in the meeting now, other than the bot. */
  participants?(): readonly { readonly id: string; readonly name?: string }[];
  /** Registers a callback the app calls when the meeting is over for the bot (ended, removed). */
  onEnded?(callback: (reason: string) => void): void;
}

/** How often presence and captured tracks are looked at. */
const SWEEP_MS = 500;
/** How long the app has to publish the bridge's microphone after joining. */
const PUBLISH_TIMEOUT_MS = 30_000;
/** How long the app's own `join` may take. */
const APP_JOIN_TIMEOUT_MS = APP_JOIN_TIMEOUT_S * 1000;

export const createPageRoom: RoomAdapterFactory<'page'> = (room, events) => {
  const hub = currentMediaHub();
  if (hub === undefined) {
    throw new RoomlineError('INTERNAL', 'a page-mode room is joined from inside the app\'s page, which this page is not');
  }
  return new PageRoom(room, events, hub);
};

interface MediaParticipant {
  readonly participant: RoomParticipant;
  readonly tracks: Set<CapturedTrack>;
}

/**
 * The customer's own web app as a room. Joining is what the app's users do: `window.roomline.join` when the app has
 * it, else the request's join steps, else nothing (the app joins by itself). Presence comes from the app's
 * `participants()` when it has one, else from the tracks it receives: each remote stream of a live connection is a
 * participant until its tracks end or its connection closes.
 */
class PageRoom implements RoomAdapter {
  readonly provider = 'page' as const;
  readonly capabilities = pageRoom.capabilities;
  /** Participants as the captured tracks tell (by `<connection>/<stream>`). */
  private readonly media = new Map<string, MediaParticipant>();
  /** Participants as the app's API tells, when it has one. */
  private readonly listed = new Map<string, RoomParticipant>();
  private app: RoomlineAppApi | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private left = false;

  constructor(
    private readonly room: PageRoomJoin,
    private readonly events: RoomAdapterEvents,
    private readonly hub: MediaHub,
  ) {}

  async join(display: string, tracks: PublishedTracks): Promise<RoomJoined> {
    this.hub.setAudio(tracks.audio);
    this.hub.setVideo(tracks.video);
    this.hub.listen({ track: (captured) => this.onTrack(captured) });
    this.app = appApi();
    if (this.app !== undefined) {
      log.info('page mode: joining through the app\'s window.roomline');
      await withTimeout(Promise.resolve(this.app.join({ display })), APP_JOIN_TIMEOUT_MS, 'the app\'s window.roomline.join').catch(
        (error: unknown) => {
          throw new RoomlineError('ROOM_JOIN_FAILED', `the app refused to join: ${errorMessage(error)}`);
        },
      );
      this.app.onEnded?.((reason) => this.events.lost(`the app ended the meeting: ${String(reason).slice(0, 200)}`));
    } else {
      const steps = this.room.joinSteps ?? [];
      log.info('page mode: joining', { steps: steps.length });
      for (const [index, step] of steps.entries()) await this.runStep(step, index, display);
    }
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweep();
    const published = this.waitPublished();
    published.catch(() => undefined);
    return { selfId: 'page', participants: this.participants(), published };
  }

  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    if (kind === 'audio') this.hub.setAudio(track);
    else this.hub.setVideo(track);
  }

  async addFeed(): Promise<RoomFeed> {
    throw new RoomlineError('INVALID_REQUEST', 'page mode publishes no extra feeds (the app has one camera)');
  }

  participants(): RoomParticipant[] {
    return this.app?.participants !== undefined ? [...this.listed.values()] : [...this.media.values()].map((m) => m.participant);
  }

  async sendData(): Promise<void> {
    // capabilities.dataMessages is false: a request asking for data messages is refused at the edge
    throw new RoomlineError('INTERNAL', 'data messages are not supported for page-mode rooms');
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    await withTimeout(Promise.resolve(this.app?.leave?.()), 3_000, 'the app\'s window.roomline.leave').catch(() => undefined);
  }

  stats(): Promise<LegQuality> {
    return this.hub.stats();
  }

  private onTrack(captured: CapturedTrack): void {
    let entry = this.media.get(captured.key);
    if (entry === undefined) {
      entry = { participant: { id: captured.key }, tracks: new Set() };
      this.media.set(captured.key, entry);
      if (this.app?.participants === undefined) this.events.participantJoined(entry.participant);
    }
    entry.tracks.add(captured);
    this.events.track(captured.key, captured.track);
  }

  /** Ends what has gone: tracks of closed connections or ended; participants with no track left; the API's list. */
  private sweep(): void {
    if (this.left) return;
    for (const [key, entry] of this.media) {
      for (const captured of entry.tracks) {
        if (captured.track.readyState === 'ended' || captured.connection.signalingState === 'closed') {
          entry.tracks.delete(captured);
          this.events.trackEnded(key, captured.track);
        }
      }
      if (entry.tracks.size === 0) {
        this.media.delete(key);
        if (this.app?.participants === undefined) this.events.participantLeft(entry.participant);
      }
    }
    if (this.app?.participants !== undefined) this.syncListed(this.app.participants());
  }

  private syncListed(list: readonly { readonly id: string; readonly name?: string }[]): void {
    const now = new Map(
      list.slice(0, 256).map((p) => [String(p.id), { id: String(p.id), ...(p.name === undefined ? {} : { display: String(p.name).slice(0, 64) }) }]),
    );
    for (const [id, participant] of this.listed) {
      if (now.has(id)) continue;
      this.listed.delete(id);
      this.events.participantLeft(participant);
    }
    for (const [id, participant] of now) {
      if (this.listed.has(id)) continue;
      this.listed.set(id, participant);
      this.events.participantJoined(participant);
    }
  }

  /** Resolves once one of the app's connections sends audio (the bridge's microphone). */
  private async waitPublished(): Promise<void> {
    const deadline = performance.now() + PUBLISH_TIMEOUT_MS;
    while (!this.left) {
      const leg = await this.hub.stats();
      if ((leg.audioOut?.packets ?? 0) > 0) return;
      if (performance.now() > deadline) {
        throw new RoomlineError('ROOM_JOIN_FAILED', `the app sent no audio within ${PUBLISH_TIMEOUT_MS / 1000} s of joining`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** One join step: waits for its element, then types or clicks as a person would. */
  private async runStep(step: JoinStep, index: number, display: string): Promise<void> {
    const what = `join step ${index + 1} (${step.action} "${step.selector}")`;
    const timeoutS = step.action === 'wait' ? (step.timeoutS ?? JOIN_STEP_TIMEOUT_S) : JOIN_STEP_TIMEOUT_S;
    const element = await waitForElement(step.selector, timeoutS * 1000, what);
    switch (step.action) {
      case 'wait':
        return;
      case 'click':
        if (element instanceof HTMLElement) element.click();
        else element.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        return;
      case 'fill': {
        const value =
          step.value === 'display'
            ? display
            : 'text' in step.value
              ? step.value.text
              : (this.room.secrets?.[step.value.secret] ?? '');
        fill(element, value, what);
        return;
      }
      default:
        step satisfies never;
    }
  }
}

/** The app's `window.roomline`, when it has one with a `join`. */
function appApi(): RoomlineAppApi | undefined {
  const candidate = (globalThis as unknown as { roomline?: unknown }).roomline;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  return typeof (candidate as { join?: unknown }).join === 'function' ? (candidate as RoomlineAppApi) : undefined;
}

/** Waits until `selector` matches a rendered element. */
async function waitForElement(selector: string, timeoutMs: number, what: string): Promise<Element> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let element: Element | null;
    try {
      element = document.querySelector(selector);
    } catch (error) {
      throw new RoomlineError('ROOM_JOIN_FAILED', `${what}: not a valid selector (${errorMessage(error)})`);
    }
    if (element !== null && element.getClientRects().length > 0) return element;
    if (performance.now() > deadline) {
      throw new RoomlineError('ROOM_JOIN_FAILED', `${what}: no such element within ${Math.round(timeoutMs / 1000)} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Types `value` into a field the way frameworks notice: the native value setter, then input and change events. */
function fill(element: Element, value: string, what: string): void {
  if (!(element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement)) {
    throw new RoomlineError('ROOM_JOIN_FAILED', `${what}: the element is not a text field`);
  }
  element.focus();
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(element) as object, 'value')?.set;
  if (setter !== undefined) setter.call(element, value);
  else element.value = value;
  element.dispatchEvent(new Event('input', { bubbles: true }));
  element.dispatchEvent(new Event('change', { bubbles: true }));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import { randomBytes } from 'node:crypto';
import type { ChimeAttendee, ChimeMeeting, ChimeRoomJoin } from '../../contracts/rooms/chime.js';
import type { ChimeMeetings } from './meetings.js';

/** The lab's Chime meeting as callers reach it: a JoinInfo per new attendee, or the meeting as a dial request's room. */
export class LabChimeMeeting {
  constructor(
    private readonly meetings: ChimeMeetings,
    readonly meetingId: string,
  ) {}

  /** A new attendee's JoinInfo in the meeting, as a customer's app gets it from its own backend. */
  joinInfo(display: string): { meeting: ChimeMeeting; attendee: ChimeAttendee } {
    return this.meetings.joinInfo(this.meetingId, chimeUserId(display));
  }

  /**
   * The meeting as a dial request's room: a JoinInfo made here (as a caller with an AWS account would, with `tiles`
   * more attendees for a split), or only the meeting's id (the worker then creates the attendees).
   */
  room(options: { readonly join: 'join-info' | 'meeting-id'; readonly display?: string; readonly tiles?: readonly string[] }): ChimeRoomJoin {
    if (options.join === 'meeting-id') {
      return { provider: 'chime', meetingId: this.meetingId, ...(options.display === undefined ? {} : { display: options.display }) };
    }
    const { meeting, attendee } = this.joinInfo(options.display ?? 'Phone');
    const tiles = (options.tiles ?? []).map((name) => this.joinInfo(name).attendee);
    return { provider: 'chime', meeting, attendee, ...(tiles.length === 0 ? {} : { tileAttendees: tiles }) };
  }
}

/** An ExternalUserId as Chime's own demo makes them: a unique tag, `#`, the name people see. */
function chimeUserId(name: string): string {
  return `${randomBytes(4).toString('hex')}#${name}`.slice(0, 64);
}

import { describe, expect, it } from 'vitest';
import type { DialRequestInput } from '../../contracts/dial-request.js';
import { hasTone } from '../../lab/audio-analysis.js';
import { dialAndMeasure } from '../../lab/demo.js';
import type { Lab } from '../../lab/lab.js';
import { states, useLab } from '../support/lab.js';

/**
 * Page mode on the real lab, against a meeting web app nobody here wrote: Debian's janus-demos VideoRoom page, served
 * inside the lab's namespace, joined by the bot as a person joins it (press Start, type a name, press Join), with
 * the lab's Janus behind it. The room person is in the same VideoRoom through the lab's own participant page.
 */
let lab: Lab;
useLab({ workers: 1, webApps: true }, (started) => {
  lab = started;
});

function janusDemoRoom(display = 'Phone'): DialRequestInput['room'] {
  return {
    provider: 'page',
    url: lab.webApps!.janusVideoRoomUrl(lab.endpoints.room.roomId),
    joinSteps: [
      { action: 'click', selector: '#start' },
      { action: 'fill', selector: '#username', value: 'display' },
      { action: 'click', selector: '#register' },
    ],
    display,
  };
}

describe('page mode: the customer\'s own web app as the room', () => {
  it('joins the Janus demo page as a person does and carries tones both ways', async () => {
    const report = await dialAndMeasure(lab, { talkS: 4, request: { room: janusDemoRoom() } });

    expect(report.finalState, report.failure).toBe('ENDED');
    expect(states(report.record)).toEqual(['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'RINGING', 'CONNECTED', 'ENDED']);
    expect(hasTone(report.phoneHeard!, 440), `phone heard ${JSON.stringify(report.phoneHeard)}`).toBe(true);
    expect(hasTone(report.personHeard, 1000), `person heard ${JSON.stringify(report.personHeard)}`).toBe(true);
  });
});

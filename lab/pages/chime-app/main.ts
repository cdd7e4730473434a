import {
  ConsoleLogger,
  DefaultDeviceController,
  DefaultMeetingSession,
  LogLevel,
  MeetingSessionConfiguration,
  type VideoTileState,
} from 'amazon-chime-sdk-js';

/**
 * A meeting web app of the kind customers build on the Amazon Chime SDK: its page gets the meeting's JoinInfo (here in
 * the `join` query parameter, base64 JSON: a secret, since it holds the JoinToken), asks for a name, and on "Join"
 * takes the microphone and camera with getUserMedia, starts the meeting, plays its audio and shows every camera. It
 * offers `window.roomline` (join, participants) the way an app's developers would let a bridge join it. The lab
 * serves it for page-mode tests against its Chime stand-in.
 */
interface JoinInfo {
  readonly meeting: ConstructorParameters<typeof MeetingSessionConfiguration>[0];
  readonly attendee: ConstructorParameters<typeof MeetingSessionConfiguration>[1] & { AttendeeId: string };
}

const joinInfo = JSON.parse(atob(new URLSearchParams(location.search).get('join') ?? '')) as JoinInfo;
const logger = new ConsoleLogger('chime-app', LogLevel.WARN);
const session = new DefaultMeetingSession(
  new MeetingSessionConfiguration({ Meeting: joinInfo.meeting }, { Attendee: joinInfo.attendee }),
  logger,
  new DefaultDeviceController(logger),
);
const av = session.audioVideo;
const people = new Map<string, string>();
const self = (joinInfo.attendee as { AttendeeId: string }).AttendeeId;

av.realtimeSubscribeToAttendeeIdPresence((attendeeId, present, externalUserId) => {
  if (attendeeId === self) return;
  if (present) people.set(attendeeId, externalUserId?.split('#').pop() ?? attendeeId);
  else people.delete(attendeeId);
});
av.addObserver({
  videoTileDidUpdate: (tile: VideoTileState) => {
    if (tile.localTile || tile.tileId === null || document.getElementById(`tile-${tile.tileId}`) !== null) return;
    const video = document.createElement('video');
    video.id = `tile-${tile.tileId}`;
    video.autoplay = true;
    video.muted = true;
    document.getElementById('tiles')?.append(video);
    av.bindVideoElement(tile.tileId, video);
  },
});

async function join(name: string): Promise<void> {
  (document.getElementById('me') as HTMLElement).textContent = name;
  const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  await av.bindAudioElement(document.getElementById('meeting-audio') as HTMLAudioElement);
  await av.startAudioInput(media);
  await av.startVideoInput(media);
  await new Promise<void>((resolve, reject) => {
    av.addObserver({ audioVideoDidStart: () => resolve(), audioVideoDidStop: (status) => reject(new Error(`stopped: ${status.statusCode()}`)) });
    av.start();
  });
  av.startLocalVideoTile();
}

document.getElementById('join')?.addEventListener('click', () => {
  void join((document.getElementById('name') as HTMLInputElement).value);
});

Object.assign(window, {
  roomline: {
    join: ({ display }: { display: string }) => join(display),
    leave: () => av.stop(),
    participants: () => [...people].map(([id, name]) => ({ id, name })),
  },
});

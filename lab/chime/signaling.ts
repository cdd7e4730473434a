import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type * as Protocol from 'amazon-chime-sdk-js/build/signalingprotocol/SignalingProtocol.js';
import type { SubscribeAnswer, SubscribeRequest } from '../pages/chime-media/main.js';
import type { ChimeMeetings, LabAttendee } from './meetings.js';

/**
 * The signalling side of the lab's Chime stand-in: the WebSocket the Chime SDK opens to `SignalingUrl`, speaking the
 * SDK's own protocol with the compiled protobuf codec shipped in the SDK package (each frame: the byte 0x05, then an
 * `SdkSignalFrame`). JOIN → JOIN_ACK and INDEX; SUBSCRIBE (a complete SDP offer) → SUBSCRIBE_ACK with the media
 * page's answer and the track mapping; presence as AUDIO_STREAM_ID_INFO once an attendee's audio flows; volumes as
 * AUDIO_METADATA; PING → PONG; LEAVE → LEAVE_ACK; a deleted meeting closes every session with 4410.
 */

const require = createRequire(import.meta.url);
const proto = require('amazon-chime-sdk-js/build/signalingprotocol/SignalingProtocol.js') as typeof Protocol;
const { SdkSignalFrame, SdkStreamMediaType, SdkPingPongType } = proto;
const Type = SdkSignalFrame.Type;
const FRAME_PREFIX = 0x05;
/** The subprotocol the SDK offers along with its join token. */
const SESSION_PROTOCOL = '_aws_wt_session';
/** WebSocket close code for "the meeting ended". */
export const MEETING_ENDED_CLOSE = 4410;

/** What the signalling server needs from the media side (the lab's media page). */
export interface MediaSide {
  subscribe(request: SubscribeRequest): Promise<SubscribeAnswer>;
  drop(attendeeId: string): Promise<void>;
}

interface Session {
  readonly ws: WebSocket;
  readonly meetingId: string;
  readonly attendee: LabAttendee;
  readonly audioStreamId: number;
  readonly groupId: number;
  /** The stream id of its camera (allocated at its first SUBSCRIBE with video). */
  videoStreamId?: number;
  /** The media side has its picture: a source in everyone else's INDEX. */
  videoPublished: boolean;
  sendsVideo: boolean;
  present: boolean;
  /** SUBSCRIBEs are answered one at a time, in order. */
  queue: Promise<void>;
}

export class ChimeSignaling {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(SESSION_PROTOCOL) ? SESSION_PROTOCOL : false),
  });
  private readonly sessions = new Set<Session>();
  private nextStreamId = 1;
  private nextGroupId = 1;
  /** Told about what the stand-in could not do (the lab logs it). */
  onError: ((message: string) => void) | undefined;
  /** Frames received, by type name (what a test can count). */
  readonly received = new Map<string, number>();

  constructor(
    private readonly meetings: ChimeMeetings,
    private readonly media: MediaSide,
  ) {
    meetings.onChange({
      meetingEnded: (meetingId) => {
        // as Chime does: audio status 410 (the SDK's MeetingEnded) to a connected session, then the close code
        for (const session of this.inMeeting(meetingId)) {
          this.send(session, { type: Type.AUDIO_STATUS, audioStatus: { audioStatus: 410 } });
          session.ws.close(MEETING_ENDED_CLOSE, 'meeting ended');
        }
      },
      attendeeRemoved: (meetingId, attendeeId) => {
        for (const session of this.inMeeting(meetingId)) {
          if (session.attendee.AttendeeId !== attendeeId) continue;
          this.send(session, { type: Type.AUDIO_STATUS, audioStatus: { audioStatus: 411 } });
          session.ws.close(1000, 'attendee removed');
        }
      },
    });
  }

  /** Takes an HTTP upgrade to `/control/<meetingId>` whose join token belongs to an attendee of that meeting. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const meetingId = /^\/control\/([^/?]+)/.exec(request.url ?? '')?.[1];
    const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const token = offered.find((p) => p !== SESSION_PROTOCOL && p.length > 0);
    const owner = token === undefined ? undefined : this.meetings.attendeeByToken(token);
    if (meetingId === undefined || !offered.includes(SESSION_PROTOCOL) || owner === undefined || owner.meetingId !== meetingId) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.open(ws, owner.meetingId, owner.attendee));
  }

  /** Sends every session the volume of each attendee (dBFS), as Chime's volume indicators. */
  levels(levels: Readonly<Record<string, number>>): void {
    const byMeeting = new Map<string, Session[]>();
    for (const session of this.sessions) byMeeting.set(session.meetingId, [...(byMeeting.get(session.meetingId) ?? []), session]);
    for (const sessions of byMeeting.values()) {
      const attendeeStates = sessions
        .filter((s) => s.present && levels[s.attendee.AttendeeId] !== undefined)
        .map((s) => ({
          audioStreamId: s.audioStreamId,
          volume: Math.round(Math.min(127, Math.max(0, -(levels[s.attendee.AttendeeId] ?? -127)))),
          signalStrength: 2,
        }));
      if (attendeeStates.length === 0) continue;
      for (const session of sessions) this.send(session, { type: Type.AUDIO_METADATA, audioMetadata: { attendeeStates } });
    }
  }

  /** The media side receives this attendee's audio: present, for everyone in the meeting. */
  audioFlowing(attendeeId: string): void {
    const session = [...this.sessions].find((s) => s.attendee.AttendeeId === attendeeId);
    if (session === undefined || session.present) return;
    session.present = true;
    const entry = this.presenceEntry(session);
    for (const other of this.inMeeting(session.meetingId)) {
      this.send(other, { type: Type.AUDIO_STREAM_ID_INFO, audioStreamIdInfo: { streams: [entry] } });
    }
  }

  /** The media side has this attendee's camera: a video source for everyone else. */
  videoReady(attendeeId: string): void {
    const session = [...this.sessions].find((s) => s.attendee.AttendeeId === attendeeId);
    if (session === undefined || session.videoPublished || session.videoStreamId === undefined) return;
    session.videoPublished = true;
    this.broadcastIndex(session.meetingId);
  }

  close(): void {
    for (const session of this.sessions) session.ws.terminate();
    this.wss.close();
  }

  private open(ws: WebSocket, meetingId: string, attendee: LabAttendee): void {
    const session: Session = {
      ws,
      meetingId,
      attendee,
      audioStreamId: this.nextStreamId++,
      groupId: this.nextGroupId++,
      sendsVideo: false,
      videoPublished: false,
      present: false,
      queue: Promise.resolve(),
    };
    this.sessions.add(session);
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary || data.length < 2 || data[0] !== FRAME_PREFIX) return;
      let frame: Protocol.SdkSignalFrame;
      try {
        frame = SdkSignalFrame.decode(data.subarray(1));
      } catch {
        return;
      }
      this.count(frame.type);
      this.onFrame(session, frame);
    });
    ws.on('close', () => this.remove(session));
    ws.on('error', () => this.remove(session));
  }

  private onFrame(session: Session, frame: Protocol.SdkSignalFrame): void {
    switch (frame.type) {
      case Type.JOIN:
        // no TURN credentials: the stand-in has no relay (media stays inside the lab's namespace)
        this.send(session, { type: Type.JOIN_ACK, joinack: {} });
        this.send(session, { type: Type.INDEX, index: this.index(session) });
        break;
      case Type.SUBSCRIBE:
        session.queue = session.queue
          .then(() => this.subscribe(session, frame.sub ?? {}))
          .catch((error: unknown) => this.onError?.(`answering a SUBSCRIBE failed: ${String(error)}`));
        break;
      case Type.PING_PONG:
        if (frame.pingPong?.type === SdkPingPongType.PING) {
          this.send(session, { type: Type.PING_PONG, pingPong: { type: SdkPingPongType.PONG, pingId: frame.pingPong.pingId } });
        }
        break;
      case Type.LEAVE:
        this.send(session, { type: Type.LEAVE_ACK, leaveAck: {} });
        this.remove(session);
        break;
      default:
        // metrics, pause/resume, data messages, timings: nothing to answer
        break;
    }
  }

  private async subscribe(session: Session, sub: Protocol.ISdkSubscribeFrame): Promise<void> {
    const sendStreams = sub.sendStreams ?? [];
    const sendsVideo = sendStreams.some((s) => s.mediaType === SdkStreamMediaType.VIDEO || s.mediaType === undefined || s.mediaType === null);
    const stoppedVideo = session.sendsVideo && !sendsVideo;
    session.sendsVideo = sendsVideo;
    if (sendsVideo) session.videoStreamId ??= this.nextStreamId++;
    const sources: Record<string, string> = {};
    for (const other of this.inMeeting(session.meetingId)) {
      if (other.videoPublished && other.videoStreamId !== undefined) sources[String(other.videoStreamId)] = other.attendee.AttendeeId;
    }
    const answer = await this.media.subscribe({
      attendeeId: session.attendee.AttendeeId,
      sdpOffer: sub.sdpOffer ?? '',
      receiveStreamIds: sub.receiveStreamIds ?? [],
      sources,
    });
    const send = sendStreams[0];
    this.send(session, {
      type: Type.SUBSCRIBE_ACK,
      suback: {
        sdpAnswer: answer.sdpAnswer,
        tracks: answer.tracks,
        allocations:
          sendsVideo && send !== undefined
            ? [{ trackLabel: send.trackLabel ?? '', streamId: session.videoStreamId ?? 0, groupId: session.groupId }]
            : [],
      },
    });
    // everyone present so far (the newcomer is announced to all once its audio flows)
    const present = this.inMeeting(session.meetingId).filter((s) => s.present).map((s) => this.presenceEntry(s));
    if (present.length > 0) this.send(session, { type: Type.AUDIO_STREAM_ID_INFO, audioStreamIdInfo: { streams: present } });
    if (stoppedVideo && session.videoPublished) {
      session.videoPublished = false;
      this.broadcastIndex(session.meetingId);
    }
  }

  private remove(session: Session): void {
    if (!this.sessions.delete(session)) return;
    void this.media.drop(session.attendee.AttendeeId).catch(() => undefined);
    if (session.ws.readyState === session.ws.OPEN) session.ws.close(1000, 'left');
    if (session.present) {
      for (const other of this.inMeeting(session.meetingId)) {
        this.send(other, { type: Type.AUDIO_STREAM_ID_INFO, audioStreamIdInfo: { streams: [{ audioStreamId: session.audioStreamId }] } });
      }
    }
    if (session.videoPublished) this.broadcastIndex(session.meetingId);
  }

  private presenceEntry(session: Session): Protocol.ISdkAudioStreamIdInfo {
    return {
      audioStreamId: session.audioStreamId,
      attendeeId: session.attendee.AttendeeId,
      externalUserId: session.attendee.ExternalUserId,
      muted: false,
    };
  }

  /** The video sources of the meeting as one attendee sees them (everyone's camera but its own). */
  private index(session: Session): Protocol.ISdkIndexFrame {
    const others = this.inMeeting(session.meetingId);
    return {
      sources: others
        .filter((s) => s !== session && s.videoPublished && s.videoStreamId !== undefined)
        .map((s) => ({
          streamId: s.videoStreamId ?? 0,
          groupId: s.groupId,
          attendeeId: s.attendee.AttendeeId,
          externalUserId: s.attendee.ExternalUserId,
          mediaType: SdkStreamMediaType.VIDEO,
          trackLabel: `video-${s.attendee.AttendeeId}`,
          maxBitrateKbps: 1_500,
          avgBitrateBps: 1_000_000,
          framerate: 30,
          width: 640,
          height: 480,
        })),
      numParticipants: others.length,
    };
  }

  private broadcastIndex(meetingId: string): void {
    for (const session of this.inMeeting(meetingId)) this.send(session, { type: Type.INDEX, index: this.index(session) });
  }

  private inMeeting(meetingId: string): Session[] {
    return [...this.sessions].filter((s) => s.meetingId === meetingId);
  }

  private send(session: Session, frame: Omit<Protocol.ISdkSignalFrame, 'timestampMs'>): void {
    if (session.ws.readyState !== session.ws.OPEN) return;
    const bytes = SdkSignalFrame.encode(SdkSignalFrame.create({ timestampMs: Date.now(), ...frame })).finish();
    const message = Buffer.alloc(bytes.length + 1);
    message[0] = FRAME_PREFIX;
    message.set(bytes, 1);
    session.ws.send(message);
  }

  private count(type: number): void {
    const name = Type[type] ?? String(type);
    this.received.set(name, (this.received.get(name) ?? 0) + 1);
  }
}

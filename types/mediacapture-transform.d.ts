/**
 * Chromium's MediaStreamTrackProcessor / MediaStreamTrackGenerator (mediacapture-transform, available on the main
 * thread in Chromium), which TypeScript's DOM library does not declare.
 */
interface MediaStreamTrackProcessorInit {
  track: MediaStreamTrack;
  maxBufferSize?: number;
}
declare class MediaStreamTrackProcessor<T extends VideoFrame | AudioData = VideoFrame> {
  constructor(init: MediaStreamTrackProcessorInit);
  readonly readable: ReadableStream<T>;
}
interface MediaStreamTrackGeneratorInit {
  kind: 'audio' | 'video';
}
declare class MediaStreamTrackGenerator<T extends VideoFrame | AudioData = VideoFrame> extends MediaStreamTrack {
  constructor(init: MediaStreamTrackGeneratorInit);
  readonly writable: WritableStream<T>;
}
type MediaStreamVideoTrack = MediaStreamTrack;

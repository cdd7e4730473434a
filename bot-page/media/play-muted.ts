/**
 * Plays a remote track in a muted <audio> or <video> element. Chromium decodes remote WebRTC audio only while
 * something plays it (forwarding, mixing and recording all need this); a <video> element is what a picture is read
 * from.
 */
export function playMuted(track: MediaStreamTrack): HTMLMediaElement {
  const element = document.createElement(track.kind === 'video' ? 'video' : 'audio');
  element.muted = true;
  element.autoplay = true;
  element.srcObject = new MediaStream([track]);
  document.body.append(element);
  void element.play().catch(() => undefined);
  return element;
}

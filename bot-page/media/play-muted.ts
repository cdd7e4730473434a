/**
 * Plays a remote track in a muted <audio> element. Chromium decodes remote WebRTC audio only while something plays
 * it: forwarding it, mixing it or recording it all need this.
 */
export function playMuted(track: MediaStreamTrack): HTMLAudioElement {
  const element = document.createElement('audio');
  element.muted = true;
  element.autoplay = true;
  element.srcObject = new MediaStream([track]);
  document.body.append(element);
  void element.play().catch(() => undefined);
  return element;
}

/**
 * A camera of one colour, with a small moving square so every frame differs (encoders skip static input).
 * @param size width, height and frames per second @default 640x480 at 30
 */
export function camera(
  color: readonly [number, number, number],
  size: { readonly width: number; readonly height: number; readonly fps: number } = { width: 640, height: 480, fps: 30 },
): MediaStreamTrack | undefined {
  const canvas = document.createElement('canvas');
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext('2d');
  if (context === null) return undefined;
  let tick = 0;
  const draw = () => {
    context.fillStyle = `rgb(${color[0]}, ${color[1]}, ${color[2]})`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = '#fff';
    context.fillRect((tick * 4) % (canvas.width - 8), 4, 8, 8);
    tick++;
  };
  draw();
  setInterval(draw, 1000 / size.fps);
  return canvas.captureStream(size.fps).getVideoTracks()[0];
}

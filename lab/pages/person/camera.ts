/** A camera of one colour, with a small moving square so every frame differs (encoders skip static input). */
export function camera(color: readonly [number, number, number]): MediaStreamTrack | undefined {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
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
  setInterval(draw, 1000 / 30);
  return canvas.captureStream(30).getVideoTracks()[0];
}

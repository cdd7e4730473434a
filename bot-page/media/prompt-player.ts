import type { PinPrompt } from '../../contracts/dial-in.js';
import { RoomlineError } from '../../contracts/errors.js';

/**
 * Plays the dial-in prompts (WAVs served with the bot page under `prompts/`) into one audio track: what a PIN line
 * sends the caller before the bot is in a room. Silence between prompts.
 */
export class PromptPlayer {
  private readonly context = new AudioContext({ sampleRate: 48_000 });
  private readonly destination = this.context.createMediaStreamDestination();
  private readonly buffers = new Map<PinPrompt, AudioBuffer>();

  get track(): MediaStreamTrack {
    const track = this.destination.stream.getAudioTracks()[0];
    if (track === undefined) throw new RoomlineError('INTERNAL', 'the prompt player has no track');
    return track;
  }

  /** Plays one prompt to its end; resolves with how long it played. */
  async play(prompt: PinPrompt): Promise<number> {
    const buffer = await this.load(prompt);
    if (this.context.state === 'suspended') await this.context.resume();
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.destination);
    const started = performance.now();
    await new Promise<void>((resolve) => {
      source.onended = () => resolve();
      source.start();
    });
    source.disconnect();
    return Math.round(performance.now() - started);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }

  private async load(prompt: PinPrompt): Promise<AudioBuffer> {
    const cached = this.buffers.get(prompt);
    if (cached !== undefined) return cached;
    const response = await fetch(`prompts/${prompt}.wav`);
    if (!response.ok) throw new RoomlineError('INTERNAL', `prompt ${prompt} is missing from the bot page (${response.status})`);
    const buffer = await this.context.decodeAudioData(await response.arrayBuffer());
    this.buffers.set(prompt, buffer);
    return buffer;
  }
}

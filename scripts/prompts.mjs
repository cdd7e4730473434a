// The dial-in PIN line's prompts, made at build time into the bot page's folder (served with it): spoken by eSpeak NG
// when it is installed (`npm run system-deps` installs it), else synthesized tone patterns. Plain JavaScript, used by
// scripts/build.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What each prompt says, and the tone pattern that stands in for it without speech (Hz, ms; 0 Hz = a pause). */
export const PROMPTS = {
  'enter-pin': {
    text: 'Welcome. Please enter your meeting PIN, then press the pound key.',
    tones: [[660, 150], [0, 80], [880, 150], [0, 80], [1100, 250]],
  },
  'wrong-pin': { text: 'That PIN is not valid. Please try again.', tones: [[440, 200], [0, 100], [440, 200], [0, 100], [880, 250]] },
  goodbye: { text: 'That PIN is not valid. Goodbye.', tones: [[440, 300], [0, 100], [330, 500]] },
};

const ESPEAK = '/usr/bin/espeak-ng';

/** Writes `<dir>/<prompt>.wav` for every prompt; returns how they were made. */
export async function writePrompts(dir) {
  await mkdir(dir, { recursive: true });
  const speech = existsSync(ESPEAK);
  for (const [name, prompt] of Object.entries(PROMPTS)) {
    const file = join(dir, `${name}.wav`);
    if (speech) {
      const result = spawnSync(ESPEAK, ['-v', 'en-us', '-s', '160', '-w', file, prompt.text], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (result.status === 0) continue;
      process.stderr.write(`roomline: espeak-ng failed for ${name} (${result.stderr}); using tones\n`);
    }
    await writeFile(file, toneWav(prompt.tones));
  }
  return speech ? 'speech (espeak-ng)' : 'tones (espeak-ng is not installed)';
}

/** A 16-bit mono 16 kHz WAV of a tone pattern. */
function toneWav(tones) {
  const rate = 16_000;
  const samples = [];
  for (const [hz, ms] of tones) {
    const n = Math.round((rate * ms) / 1000);
    for (let i = 0; i < n; i++) samples.push(hz === 0 ? 0 : Math.round(0.4 * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)));
  }
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

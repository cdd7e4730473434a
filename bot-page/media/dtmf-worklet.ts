import { DTMF_PROCESSOR, DtmfDetector } from './dtmf-detector.js';

/**
 * The AudioWorklet processor that listens for DTMF in the SIP leg's decoded audio: each render quantum goes through
 * the detector, each digit found is posted to the page. Built as its own file (dtmf-worklet.js) and loaded with
 * `audioWorklet.addModule`.
 */

// the AudioWorkletGlobalScope, which TypeScript's DOM library does not describe
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessorBase): void;
declare class AudioWorkletProcessorBase {
  readonly port: MessagePort;
}
const Processor = (globalThis as unknown as { AudioWorkletProcessor: typeof AudioWorkletProcessorBase }).AudioWorkletProcessor;

class DtmfProcessor extends Processor {
  private readonly detector = new DtmfDetector({
    sampleRate,
    onDigit: (digit) => this.port.postMessage({ digit }),
  });

  process(inputs: Float32Array[][]): boolean {
    const samples = inputs[0]?.[0];
    if (samples !== undefined) this.detector.push(samples);
    return true;
  }
}

registerProcessor(DTMF_PROCESSOR, DtmfProcessor);

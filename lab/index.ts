/** The lab as the CLI loads it (`roomline lab ...`, `roomline demo`): built to dist/lab.mjs, never part of the image. */
export { labDown, labExec, labServe, labUp } from './lab-daemon.js';
export { runDemo } from './demo.js';
export { runSmoke } from './smoke.js';

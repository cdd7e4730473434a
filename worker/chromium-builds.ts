/**
 * The Chromium builds a worker can run: the distribution's (`system`) and `@sparticuz/chromium` (`sparticuz`, a
 * headless-shell build for serverless, started with its own flags less those that relax web security).
 */
export const CHROMIUM_BUILDS = ['system', 'sparticuz'] as const;
export type ChromiumBuild = (typeof CHROMIUM_BUILDS)[number];

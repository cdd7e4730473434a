import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { HTTPRequest } from 'puppeteer-core';
import { RoomlineError } from '../contracts/errors.js';

/**
 * Where the built pages are served to Chromium: from memory, through request interception, at `http://localhost/`
 * (a secure context, which getUserMedia, WebCodecs and AudioWorklet need), with no HTTP server and no network path
 * between the worker and the browser.
 */
export const PAGE_ORIGIN = 'http://localhost';

/** Built pages (a folder of .html, .js and .map files), read once and served from memory. */
export class PageSite {
  private constructor(private readonly files: ReadonlyMap<string, Buffer>) {}

  static async load(dir: string): Promise<PageSite> {
    const files = new Map<string, Buffer>();
    const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && extname(entry.name) in CONTENT_TYPES)
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'));
    await Promise.all(names.map(async (name) => files.set(name, await readFile(join(dir, name)))));
    return new PageSite(files);
  }

  /** The text of the file at `path`. */
  text(path: string): string {
    const body = this.files.get(path);
    if (body === undefined) throw new RoomlineError('INTERNAL', `the built pages have no ${path}`);
    return body.toString('utf8');
  }

  /** The file at `path` (relative to the site's root), with its content type. */
  get(path: string): { body: Buffer; contentType: string } | undefined {
    const body = this.files.get(path);
    return body === undefined ? undefined : { body, contentType: CONTENT_TYPES[extname(path)] ?? 'text/plain' };
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  // the dial-in PIN line's prompts
  '.wav': 'audio/wav',
};

/**
 * Answers one intercepted request of a page: a file of `site` at PAGE_ORIGIN (404 when it has none), a request to an
 * `allowed` origin goes on, and every other one is refused (`onRefused` hears of its origin).
 */
export async function servePageRequest(
  request: HTTPRequest,
  site: PageSite,
  allowed: ReadonlySet<string>,
  onRefused: (origin: string) => void,
): Promise<void> {
  const url = new URL(request.url());
  if (url.origin !== PAGE_ORIGIN) {
    if (allowed.has(url.origin)) {
      await request.continue().catch(() => undefined);
      return;
    }
    onRefused(url.origin);
    await request.abort('blockedbyclient').catch(() => undefined);
    return;
  }
  const file = site.get(decodeURIComponent(url.pathname).replace(/^\/+/, ''));
  if (file === undefined) {
    await request.respond({ status: 404, body: 'not found' }).catch(() => undefined);
    return;
  }
  await request
    .respond({ status: 200, body: file.body, headers: { 'content-type': file.contentType } })
    .catch(() => undefined);
}

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import type { Lab } from '../../lab/lab.js';
import { resolveChromium } from '../../worker/chromium-builds.js';
import { isFinal, useLab } from '../support/lab.js';

/**
 * The lab dashboard in the real Chromium, fed by a real lab: one call that connects and is hung up, one that the SIP
 * side refuses (486 Busy Here). The page must count them by state, name the failure's reason, list both calls with
 * links to their records, and draw its charts (checked on the screenshot's pixels). The screenshot is kept in
 * test-results/ as the run's artifact.
 */
const ARTIFACTS = join(import.meta.dirname, '../../test-results');
const VIEWPORT = { width: 1400, height: 1300 };

let lab: Lab;
useLab({ workers: 2, dashboard: true }, (started) => {
  lab = started;
});

let browser: Browser;
let page: Page;
let connected: CallRecord;
let failed: CallRecord;

beforeAll(async () => {
  await lab.pool!.waitReady(2);
  const [goodId, busyId] = await Promise.all([
    lab.client.enqueueDial(lab.dialRequest()),
    lab.client.enqueueDial(lab.dialRequest({ to: lab.endpoints.sip.busy })),
  ]);
  await lab.client.waitForCall(goodId, (r) => r.state === 'CONNECTED' || isFinal(r), { timeoutMs: 60_000 });
  await lab.client.requestHangup(goodId);
  [connected, failed] = await Promise.all([
    lab.client.waitForCall(goodId, isFinal, { timeoutMs: 30_000 }),
    lab.client.waitForCall(busyId, isFinal, { timeoutMs: 60_000 }),
  ]);
  const chromium = await resolveChromium('system', process.env['ROOMLINE_CHROMIUM_PATH']);
  browser = await launch({ executablePath: chromium.path, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage();
  await page.setViewport(VIEWPORT);
}, 240_000);

afterAll(async () => {
  await browser?.close();
});

/** Waits until the page's calls list shows both calls in their final states (the page updates over SSE). */
async function openDashboard(): Promise<void> {
  await page.goto(lab.endpoints.dashboard!, { waitUntil: 'load' });
  await page.waitForFunction(
    (ids: string[]) =>
      ids.every((id) => {
        const state = document.querySelector(`tr[data-call-id="${id}"] .call-state`)?.textContent;
        return state === 'ENDED' || state === 'FAILED';
      }),
    { timeout: 30_000 },
    [connected.callId, failed.callId],
  );
  // the metric lines of the ends of both calls have been read
  await page.waitForFunction(() => /failed 1/.test(document.getElementById('totals-line')?.textContent ?? ''), { timeout: 30_000 });
}

describe('the lab dashboard', () => {
  it('is served on loopback and shows the calls by state, the failure reason and the calls with their records', async () => {
    expect(connected.state).toBe('ENDED');
    expect(failed.state).toBe('FAILED');
    expect(failed.failure?.code).toBe('SIP_BUSY');
    expect(new URL(lab.endpoints.dashboard!).hostname).toBe('127.0.0.1');
    await openDashboard();

    const counts = await page.$$eval('.state', (boxes) => Object.fromEntries(boxes.map((b) => [b.getAttribute('data-state'), Number(b.querySelector('b')?.textContent)])));
    expect(counts['ENDED']).toBe(1);
    expect(counts['FAILED']).toBe(1);
    expect(counts['CONNECTED']).toBe(0);
    const totals = await page.$eval('#totals-line', (e) => e.textContent);
    expect(totals).toBe('started 2 · connected 1 · ended 1 · failed 1');
    const reasons = await page.$$eval('#failed-reasons li', (items) => items.map((i) => i.textContent));
    expect(reasons).toEqual(['SIP_BUSY: 1']);
    const setup = await page.$eval('#setup-line', (e) => e.textContent);
    expect(setup).toMatch(/^1 calls answered · p50 \d+ ms · p95 \d+ ms$/);
    const legs = await page.$$eval('#legs tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    expect(legs[1]?.[0]).toBe('SIP');
    expect(Number(legs[1]?.[1])).toBeLessThan(5);

    const failedRow = await page.$eval(`tr[data-call-id="${failed.callId}"]`, (row) => ({
      failure: row.querySelector('.failure')?.textContent,
      history: row.querySelector('.history')?.textContent,
      href: row.querySelector<HTMLAnchorElement>('a.record')?.href,
    }));
    expect(failedRow.failure).toBe('SIP_BUSY');
    expect(failedRow.history).toMatch(/^QUEUED .* → FAILED/);
    const connectedHistory = await page.$eval(`tr[data-call-id="${connected.callId}"] .history`, (e) => e.textContent);
    expect(connectedHistory).toMatch(/CONNECTED .* → ENDED/);

    // the record link serves the call's record from the emulated calls table
    const response = await page.goto(failedRow.href!);
    expect(response?.status()).toBe(200);
    const record = JSON.parse(await page.$eval('body', (b) => b.innerText)) as CallRecord;
    expect(record.callId).toBe(failed.callId);
    expect(record.state).toBe('FAILED');
    expect(record.failure?.code).toBe('SIP_BUSY');
    expect(record.history.map((h) => h.state)).toContain('DIALING');
    const missing = await page.goto(new URL('calls/no-such-call', lab.endpoints.dashboard!).href);
    expect(missing?.status()).toBe(404);
  });

  it('draws its charts: a screenshot of the expected size whose chart areas are not blank', async () => {
    await openDashboard();
    const png = await page.screenshot({ type: 'png', fullPage: false });
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, 'lab-dashboard.png'), png);

    const bytes = Buffer.from(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([VIEWPORT.width, VIEWPORT.height]);

    // the chart boxes where the screenshot has them; the screenshot decoded by the browser, each box's pixels measured
    const boxes = await page.$$eval('.chart canvas', (canvases) =>
      canvases.map((c) => {
        const r = c.getBoundingClientRect();
        return { id: c.closest('.chart')!.id, x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.width), h: Math.round(r.height) };
      }),
    );
    expect(boxes.map((b) => b.id)).toEqual(expect.arrayContaining(['chart-calls', 'chart-failed', 'chart-setup', 'chart-quality', 'chart-pool', 'chart-setup-histogram']));
    const measured = await page.evaluate(
      async (dataUrl: string, regions: typeof boxes) => {
        const image = new Image();
        image.src = dataUrl;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        return regions.map((region) => {
          const { data } = context.getImageData(region.x, region.y, Math.max(1, region.w), Math.max(1, region.h));
          let sum = 0;
          let squares = 0;
          let coloured = 0;
          const pixels = data.length / 4;
          for (let i = 0; i < data.length; i += 4) {
            const grey = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
            sum += grey;
            squares += grey * grey;
            // a saturated pixel: a drawn series (axes, grid and text are grey)
            if (Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 60) coloured++;
          }
          const mean = sum / pixels;
          return { id: region.id, variance: squares / pixels - mean * mean, coloured };
        });
      },
      `data:image/png;base64,${bytes.toString('base64')}`,
      boxes,
    );
    for (const region of measured) expect(region.variance, `${region.id} is blank`).toBeGreaterThan(20);
    const byId = Object.fromEntries(measured.map((m) => [m.id, m]));
    // charts with data draw it in colour (the calls' points, the setup time's, the failure's, the histogram's bar)
    for (const id of ['chart-calls', 'chart-failed', 'chart-setup', 'chart-setup-histogram']) expect(byId[id]!.coloured, `${id} draws nothing`).toBeGreaterThan(15);
    // every chart is inside the screenshot, so the measures above are of what it shows
    expect(boxes.every((b) => b.y + b.h <= VIEWPORT.height), 'a chart lies below the screenshot').toBe(true);
  });
});

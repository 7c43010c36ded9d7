/**
 * The API reference page in a real browser: headless Chromium (the same machinery as the CORS
 * browser test) opens /docs on the local stack without a token; Swagger UI, served by the stack
 * itself (nothing from a CDN: any request to another origin fails the test), renders
 * openapi.yaml, and every operation of the spec is on the page. The screenshot is kept under
 * test-output/ to look at.
 */
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { documentedOperations } from '../support/openapi.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';

const outputDir = fileURLToPath(new URL('../../test-output/', import.meta.url));
const screenshot = `${outputDir}docs.png`;

const { stack } = useTestStack(RELAXED_RATE_LIMITS, { gateway: { publishDocs: true } });

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the API reference page', () => {
  it('renders every operation of openapi.yaml from the stack’s own assets, without a token', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const origin = new URL(stack.url).origin;
    const elsewhere: string[] = [];
    const failed: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) elsewhere.push(request.url());
    });
    page.on('requestfailed', (request) => failed.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });

    const response = await page.goto(`${stack.url}/docs`, { waitUntil: 'networkidle0' });
    expect(response?.status()).toBe(200);
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });

    const shown = await page.$$eval('.opblock', (blocks) =>
      blocks.map((block) => ({
        method: block.querySelector('.opblock-summary-method')?.textContent?.trim().toUpperCase(),
        path: block.querySelector('.opblock-summary-path')?.getAttribute('data-path'),
        operationId: block.getAttribute('id'),
      })),
    );
    const expected = documentedOperations().map((operation) => `${operation.method} ${operation.pathTemplate}`);
    expect(expected.length).toBeGreaterThanOrEqual(15);
    expect(shown.map((block) => `${block.method} ${block.path}`).sort()).toEqual([...new Set(expected)].sort());
    const title = await page.$eval('.info .title', (element) => element.textContent ?? '');
    expect(title).toMatch(/invitation/i);

    expect(elsewhere, 'the page must load nothing from another origin (no CDN)').toEqual([]);
    expect(failed).toEqual([]);

    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    // A blank page is a few KB; the rendered reference is far more.
    expect(statSync(screenshot).size).toBeGreaterThan(50_000);
    await page.close();
  });

  it('is public, and publishes nothing else: the API still needs a token', async () => {
    for (const path of ['/docs', '/openapi.yaml']) {
      const response = await fetch(`${stack.url}${path}`);
      expect(response.status, path).toBe(200);
    }
    const spec = await (await fetch(`${stack.url}/openapi.yaml`)).text();
    expect(spec).toMatch(/^openapi: 3\./m);
    expect((await fetch(`${stack.url}/v1/user/organizations`)).status).toBe(401);
    expect((await fetch(`${stack.url}/docs/other`)).status).toBe(401);
  });
});

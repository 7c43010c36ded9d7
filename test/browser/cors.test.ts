/**
 * The API from a real browser on another origin: headless Chromium (the distribution's package,
 * driven by puppeteer-core; nothing is downloaded) loads a page from a second local origin, and
 * the page's script calls the local gateway with fetch and a bearer token, as the Jaqpot
 * frontend does. Every call is cross-origin and preflighted (Authorization, JSON bodies,
 * Idempotency-Key), so this fails unless the gateway answers preflights without the authorizer
 * and exposes the headers the script reads. From an origin that is not allowed, the browser
 * must block the call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { RELAXED_RATE_LIMITS, uniqueOrgName, useTestStack } from '../support/stack.ts';

/** A tiny site: one empty page, so that its scripts run with this server's origin. */
async function startSite(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>frontend</title></head><body></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const site = await startSite();
// Same server, two origins: 127.0.0.1 is allowed, localhost is not (origins compare as strings).
const allowedOrigin = `http://127.0.0.1:${site.port}`;
const disallowedOrigin = `http://localhost:${site.port}`;

const { stack, user } = useTestStack({ ...RELAXED_RATE_LIMITS, ALLOWED_ORIGINS: allowedOrigin });

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => site.server.close(() => resolve()));
});

async function pageAt(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  return page;
}

describe('a browser page on an allowed origin', () => {
  it('creates an organization, invites idempotently, reads the exposed headers and pages with the cursor', async () => {
    const admin = user('browser-admin');
    const page = await pageAt(allowedOrigin);
    const result = await page.evaluate(
      async (api: string, token: string, orgName: string) => {
        const call = async (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
          const response = await fetch(`${api}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(init.body !== undefined && { 'content-type': 'application/json' }),
              ...init.headers,
            },
            body: init.body === undefined ? undefined : JSON.stringify(init.body),
          });
          const header = (name: string) => response.headers.get(name);
          return {
            status: response.status,
            body: await response.json(),
            location: header('location'),
            replayed: header('idempotent-replayed'),
            remaining: header('x-ratelimit-remaining'),
            limit: header('x-ratelimit-limit'),
            nextCursor: header('x-next-cursor'),
          };
        };
        const org = await call('POST', '/v1/organizations', {
          body: { name: orgName, contactEmail: 'hello@acme.test', visibility: 'PRIVATE' },
        });
        const invitations = `/v1/organizations/${encodeURIComponent(orgName)}/invitations`;
        const invite = () =>
          call('POST', invitations, { body: { emails: ['first@acme.test'] }, headers: { 'Idempotency-Key': 'browser-key-1' } });
        const first = await invite();
        const replay = await invite();
        const second = await call('POST', invitations, { body: { emails: ['second@acme.test'] } });
        const page1 = await call('GET', `${invitations}?limit=1`);
        const page2 = await call('GET', `${invitations}?limit=1&cursor=${encodeURIComponent(page1.nextCursor ?? '')}`);
        return { org, first, replay, second, page1, page2 };
      },
      stack.url,
      admin.token,
      uniqueOrgName('browser'),
    );

    expect(result.org.status).toBe(201);
    expect(result.org.location).toMatch(/\/v1\/organizations\//);
    expect(result.first).toMatchObject({ status: 201, replayed: null, remaining: expect.stringMatching(/^\d+$/), limit: '1000' });
    expect(result.replay).toMatchObject({ status: 201, replayed: 'true', remaining: result.first.remaining });
    expect(result.replay.body).toEqual(result.first.body);
    expect(result.second.status).toBe(201);
    expect(result.page1.status).toBe(200);
    expect(result.page1.body).toHaveLength(1);
    expect(result.page1.nextCursor).toBeTruthy();
    expect(result.page2.status).toBe(200);
    expect(result.page2.body).toHaveLength(1);
    const listed = [...(result.page1.body as Array<{ userEmail: string }>), ...(result.page2.body as Array<{ userEmail: string }>)];
    const emails = listed.map((invitation) => invitation.userEmail);
    expect(emails.sort()).toEqual(['first@acme.test', 'second@acme.test']);
    await page.close();
  });

  it("can read the gateway's 401 for an expired token (a browser client must see it to sign in again)", async () => {
    const expired = stack.issuer.token({ sub: 'late', email: 'late@example.com', expiresIn: -120 });
    const page = await pageAt(allowedOrigin);
    const status = await page.evaluate(async (api: string, token: string) => {
      const response = await fetch(`${api}/v1/user/organizations`, { headers: { authorization: `Bearer ${token}` } });
      return response.status;
    }, stack.url, expired);
    expect(status).toBe(401);
    await page.close();
  });
});

describe('a browser page on an origin that is not allowed', () => {
  it('is blocked by the browser: fetch rejects with a TypeError', async () => {
    const page = await pageAt(disallowedOrigin);
    const outcome = await page.evaluate(async (api: string, token: string) => {
      try {
        const response = await fetch(`${api}/v1/user/organizations`, { headers: { authorization: `Bearer ${token}` } });
        return { read: response.status };
      } catch (error) {
        return { rejected: (error as Error).name };
      }
    }, stack.url, user('outsider').token);
    expect(outcome).toEqual({ rejected: 'TypeError' });
    await page.close();
  });
});

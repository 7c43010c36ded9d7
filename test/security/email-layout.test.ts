/**
 * The invitation email's HTML, rendered by a real browser (Chromium, headless) at a phone's
 * width: nothing may be wider than the screen, however long the link or the names are.
 */
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { renderInvitationEmail, type InvitationEmailInput } from '../../shared/domain/invitation-email.ts';

const PHONE_WIDTH = 390;

const input: InvitationEmailInput = {
  orgName: 'acme-labs',
  inviterName: 'alice',
  invitationId: '3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f',
  expiresAt: Date.UTC(2026, 11, 5, 14, 3) / 1000,
  frontendUrl: 'https://app.jaqpot.org',
  brandName: 'Jaqpot',
};

let browser: Browser | undefined;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** The widest element's right edge and the document's scroll width, at PHONE_WIDTH. */
async function layoutAt390(html: string) {
  const page = await browser!.newPage();
  try {
    await page.setViewport({ width: PHONE_WIDTH, height: 800 });
    await page.setContent(html, { waitUntil: 'load' });
    // Runs in the page (this project's TypeScript has no DOM types).
    return await page.evaluate(() => {
      const { document, getComputedStyle } = globalThis as any;
      return {
        scrollWidth: document.documentElement.scrollWidth as number,
        widestRight: Math.max(...Array.from(document.querySelectorAll('body *') as any[], (e) => e.getBoundingClientRect().right as number)),
        fontOfParagraph: getComputedStyle(document.querySelector('p')).fontFamily as string,
      };
    });
  } finally {
    await page.close();
  }
}

describe('the invitation email at 390 px', () => {
  it.each([
    ['the usual email', input],
    ['a long organization name without spaces', { ...input, orgName: 'o'.repeat(200) }],
    ['a long inviter name without spaces', { ...input, inviterName: 'n'.repeat(200) }],
    ['a long frontend URL', { ...input, frontendUrl: `https://app.jaqpot.org/${'segment'.repeat(20)}` }],
  ])('%s has no horizontal overflow', async (_, values) => {
    const { html } = renderInvitationEmail(values);
    const layout = await layoutAt390(html);
    expect(layout.scrollWidth, 'document wider than the screen').toBeLessThanOrEqual(PHONE_WIDTH);
    expect(layout.widestRight, 'an element reaches past the screen').toBeLessThanOrEqual(PHONE_WIDTH);
  });

  it('keeps its font when a client drops the <body> attributes', async () => {
    const { html } = renderInvitationEmail(input);
    const layout = await layoutAt390(html.replace(/<body[^>]*>/, '<body>'));
    expect(layout.fontOfParagraph).toBe('sans-serif');
  });
});

/**
 * The Chromium the browser tests drive with puppeteer-core: the distribution's package (nothing
 * is downloaded). A missing browser fails the test with how to install it, never a silent skip.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** CHROME_PATH when set, else the usual install paths. */
export function chromiumPath(): string {
  const candidates = process.env.CHROME_PATH
    ? [process.env.CHROME_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `The browser tests need Chromium (looked for ${candidates.join(', ')}): install it with ` +
        '`sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), or set CHROME_PATH to a Chromium or Chrome executable.',
    );
  }
  return found;
}

/** Headless; --no-sandbox because CI runs as root. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

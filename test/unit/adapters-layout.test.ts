import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ADAPTERS = fileURLToPath(new URL('../../shared/adapters/', import.meta.url));

/** Adapters implementing a port (the classes the wiring creates), by file. */
const PORT_ADAPTER = /(-store|rate-limiter|mailer)\.ts$/;

describe('shared/adapters', () => {
  it('has no adapter that imports another: shared pieces live in operations.ts, items.ts, keys.ts', () => {
    const files = readdirSync(ADAPTERS, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(files.filter((file) => PORT_ADAPTER.test(file)).length).toBeGreaterThanOrEqual(5);
    const crossImports = files.flatMap((file) => {
      const source = readFileSync(join(ADAPTERS, file), 'utf8');
      const imported = [...source.matchAll(/from '(\.[^']+)'/g)].map((match) => match[1]!);
      return imported.filter((path) => PORT_ADAPTER.test(path)).map((path) => `${file} imports ${path}`);
    });
    expect(crossImports).toEqual([]);
  });
});

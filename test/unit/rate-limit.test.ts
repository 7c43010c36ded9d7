import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../shared/domain/errors.ts';
import { parseRateLimit, rateLimitWindow, rateLimited, type RateLimitState } from '../../shared/domain/rate-limit.ts';

describe('parseRateLimit', () => {
  it.each([
    ['5/600', { limit: 5, windowSeconds: 600 }],
    ['1/1', { limit: 1, windowSeconds: 1 }],
    ['10/600', { limit: 10, windowSeconds: 600 }],
    [' 5/600 ', { limit: 5, windowSeconds: 600 }],
    ['\t100/3600\n', { limit: 100, windowSeconds: 3600 }],
    ['007/060', { limit: 7, windowSeconds: 60 }],
  ])('parses %j', (text, expected) => {
    expect(parseRateLimit(text)).toEqual(expected);
  });

  it.each([
    ['zero requests', '0/10'],
    ['zero seconds', '5/0'],
    ['no window', '5'],
    ['letters', 'a/b'],
    ['empty', ''],
    ['missing limit', '/600'],
    ['missing window', '5/'],
    ['negative', '-5/600'],
    ['fraction', '1.5/600'],
    ['spaces around the slash', '5 / 600'],
    ['three parts', '5/600/1'],
    ['unit suffix', '5/600s'],
    ['exponent', '1e3/600'],
    ['beyond a safe integer', '9007199254740993/600'],
  ])('rejects %s (%j), quoting the text', (_name, text) => {
    expect(() => parseRateLimit(text)).toThrow(`got "${text}"`);
    expect(() => parseRateLimit(text)).toThrow(/<requests>\/<seconds>/);
  });
});

describe('rateLimitWindow', () => {
  const policy = { limit: 5, windowSeconds: 600 };

  it.each([
    [0, 0, 600],
    [599_999, 0, 600],
    [600_000, 1, 1200],
    [600_001, 1, 1200],
    [1_199_999, 1, 1200],
    [1_200_000, 2, 1800],
    // 1_700_000_400 is a multiple of 600
    [1_700_000_399_999, 2_833_333, 1_700_000_400],
    [1_700_000_400_000, 2_833_334, 1_700_001_000],
    [1_700_000_999_999, 2_833_334, 1_700_001_000],
  ])('at %d ms: index %d, resets at %d s', (nowMs, index, resetAt) => {
    expect(rateLimitWindow(policy, nowMs)).toEqual({ index, resetAt });
  });

  it('uses one-second windows for "N/1"', () => {
    expect(rateLimitWindow({ limit: 1, windowSeconds: 1 }, 1_700_000_000_500)).toEqual({
      index: 1_700_000_000,
      resetAt: 1_700_000_001,
    });
  });

  it('always places now inside [resetAt - window, resetAt)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }), // up to 2100
        fc.integer({ min: 1, max: 86_400 * 30 }),
        (nowMs, windowSeconds) => {
          const { index, resetAt } = rateLimitWindow({ limit: 1, windowSeconds }, nowMs);
          expect(Number.isInteger(index)).toBe(true);
          expect(resetAt).toBe((index + 1) * windowSeconds);
          expect(nowMs).toBeLessThan(resetAt * 1000);
          expect(nowMs).toBeGreaterThanOrEqual((resetAt - windowSeconds) * 1000);
        },
      ),
    );
  });
});

describe('rateLimited', () => {
  const state: RateLimitState = { limit: 5, remaining: 0, resetAt: 1_700_001_000 };

  it('is a RATE_LIMITED DomainError carrying the state', () => {
    const error = rateLimited(state, 1_700_000_400_000);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.kind).toBe('RATE_LIMITED');
    expect(error.details).toEqual({ rateLimit: state, retryAfterSeconds: 600 });
    expect(error.message).toContain('600 seconds');
  });

  it.each([
    ['a whole window before reset', 1_700_000_400_000, 600],
    ['1.5 s before reset (rounds up)', 1_700_000_998_500, 2],
    ['2 s before reset', 1_700_000_998_000, 2],
    ['1 ms before reset', 1_700_000_999_999, 1],
    ['exactly at reset (never 0)', 1_700_001_000_000, 1],
    ['after reset (clock skew)', 1_700_001_005_000, 1],
  ])('retryAfterSeconds %s', (_name, nowMs, expected) => {
    expect(rateLimited(state, nowMs).details?.retryAfterSeconds).toBe(expected);
  });

  it('never tells the client to retry before the window resets, and is always at least 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }), fc.integer({ min: 0, max: 3_600_000 }), (resetAt, msBefore) => {
        const nowMs = resetAt * 1000 - msBefore;
        const retry = rateLimited({ limit: 1, remaining: 0, resetAt }, nowMs).details?.retryAfterSeconds as number;
        expect(Number.isInteger(retry)).toBe(true);
        expect(retry).toBeGreaterThanOrEqual(1);
        expect(nowMs + retry * 1000).toBeGreaterThanOrEqual(resetAt * 1000);
        expect(retry).toBeLessThanOrEqual(Math.max(1, Math.ceil(msBefore / 1000)));
      }),
    );
  });
});

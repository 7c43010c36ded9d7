/**
 * The timer rules (shared/domain/timers.ts): which deadline a pending invitation waits for, what
 * firing a due one does, the shard of an invitation and the timer worker that owns it; and the
 * index keys (keys.ts).
 */
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { timerKeys } from '../../shared/adapters/dynamodb/items.ts';
import type { Invitation, InvitationTimings } from '../../shared/domain/invitation.ts';
import { TIMER_WORKERS, timerShardsOfWorker } from '../../shared/domain/sharding.ts';
import { decideTimer, nextTimerAt, reminderAt, TIMER_SHARDS, timerShard, type TimerState } from '../../shared/domain/timers.ts';

const DAY = 86_400;
const TIMINGS: InvitationTimings = { expirySeconds: 7 * DAY, retentionSeconds: 30 * DAY, answeredRetentionSeconds: 365 * DAY, reminderBeforeSeconds: 2 * DAY };
const EXPIRES_AT = 1_800_000_000;

type TimerFields = Pick<Invitation, 'status' | 'expiresAt' | 'lifetimeSeconds' | 'emailStatus' | 'remindedFor'>;
const pending = (overrides: Partial<TimerFields> = {}): TimerFields => ({
  status: 'PENDING',
  expiresAt: EXPIRES_AT,
  lifetimeSeconds: 7 * DAY,
  emailStatus: 'SENT',
  ...overrides,
});

describe('nextTimerAt / reminderAt', () => {
  it('a pending emailed invitation waits for its reminder, REMINDER_BEFORE_SECONDS before expiry', () => {
    expect(reminderAt(pending(), TIMINGS)).toBe(EXPIRES_AT - 2 * DAY);
    expect(nextTimerAt(pending(), TIMINGS)).toBe(EXPIRES_AT - 2 * DAY);
    expect(nextTimerAt(pending({ emailStatus: 'PENDING' }), TIMINGS)).toBe(EXPIRES_AT - 2 * DAY);
    expect(nextTimerAt(pending({ emailStatus: 'FAILED' }), TIMINGS)).toBe(EXPIRES_AT - 2 * DAY);
  });

  it('no reminder: link-only, bounced, complained, already reminded this lifetime, reminders off → the expiry', () => {
    for (const emailStatus of ['NOT_REQUESTED', 'BOUNCED', 'COMPLAINED'] as const) {
      expect(nextTimerAt(pending({ emailStatus }), TIMINGS), emailStatus).toBe(EXPIRES_AT);
    }
    expect(nextTimerAt(pending({ remindedFor: EXPIRES_AT }), TIMINGS)).toBe(EXPIRES_AT);
    // A reminder of an earlier lifetime (before a resend) does not count for this one.
    expect(nextTimerAt(pending({ remindedFor: EXPIRES_AT - 7 * DAY }), TIMINGS)).toBe(EXPIRES_AT - 2 * DAY);
    expect(nextTimerAt(pending(), { ...TIMINGS, reminderBeforeSeconds: 0 })).toBe(EXPIRES_AT);
  });

  it('no reminder when the whole lifetime is shorter than twice the lead; exactly twice gets one', () => {
    expect(nextTimerAt(pending({ lifetimeSeconds: 4 * DAY - 1 }), TIMINGS)).toBe(EXPIRES_AT);
    expect(nextTimerAt(pending({ lifetimeSeconds: 4 * DAY }), TIMINGS)).toBe(EXPIRES_AT - 2 * DAY);
    // Items without their own lifetime use INVITATION_EXPIRY_SECONDS.
    expect(nextTimerAt(pending({ lifetimeSeconds: undefined }), { ...TIMINGS, expirySeconds: 3 * DAY })).toBe(EXPIRES_AT);
  });

  it('answered or revoked invitations have no deadline', () => {
    for (const status of ['ACCEPTED', 'REJECTED', 'REVOKED'] as const) expect(nextTimerAt(pending({ status }), TIMINGS)).toBeUndefined();
  });
});

describe('decideTimer', () => {
  const REMINDER_AT = EXPIRES_AT - 2 * DAY;
  const state = (overrides: Partial<TimerState> = {}): TimerState => ({
    status: 'PENDING',
    expiresAt: EXPIRES_AT,
    emailStatus: 'SENT',
    remindedFor: undefined,
    timerAt: REMINDER_AT,
    ...overrides,
  });

  it('nothing before the deadline, or without an entry', () => {
    expect(decideTimer(state(), REMINDER_AT - 1)).toEqual({ kind: 'none' });
    expect(decideTimer(state({ timerAt: undefined }), EXPIRES_AT + 1)).toEqual({ kind: 'none' });
  });

  it('a due reminder deadline reminds; a due expiry deadline expires', () => {
    expect(decideTimer(state(), REMINDER_AT)).toEqual({ kind: 'remind' });
    expect(decideTimer(state({ timerAt: EXPIRES_AT }), EXPIRES_AT)).toEqual({ kind: 'expire' });
  });

  it('a reminder deadline found after the expiry (a backlog) expires without reminding', () => {
    expect(decideTimer(state(), EXPIRES_AT + 5)).toEqual({ kind: 'expire' });
  });

  it('a reminder no longer wanted (bounced, complained, already sent) moves the entry to the expiry', () => {
    for (const emailStatus of ['BOUNCED', 'COMPLAINED', 'NOT_REQUESTED'] as const) {
      expect(decideTimer(state({ emailStatus }), REMINDER_AT + 1)).toEqual({ kind: 'reschedule', at: EXPIRES_AT });
    }
    expect(decideTimer(state({ remindedFor: EXPIRES_AT }), REMINDER_AT + 1)).toEqual({ kind: 'reschedule', at: EXPIRES_AT });
  });

  it('an answered or revoked invitation still indexed is dropped from the index', () => {
    for (const status of ['ACCEPTED', 'REJECTED', 'REVOKED'] as const) {
      expect(decideTimer(state({ status }), REMINDER_AT)).toEqual({ kind: 'drop' });
    }
  });
});

describe('timer shards and keys', () => {
  it('the shard is stable, within range, and spreads ids over every shard', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `${i.toString(16).padStart(8, '0')}-7d4a-4e5b-9c6d-0a1b2c3d4e5f`);
    const counts = new Array<number>(TIMER_SHARDS).fill(0);
    for (const id of ids) {
      const shard = timerShard(id);
      expect(shard).toBe(timerShard(id));
      counts[shard]!++;
    }
    // 125 expected per shard: none empty, none more than twice its share.
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThan(250);
  });

  it('the timer workers split the shards evenly, each shard owned by exactly one worker', () => {
    expect(TIMER_SHARDS % TIMER_WORKERS, 'a divisor: even shares').toBe(0);
    const owners = new Array<number[]>(TIMER_SHARDS).fill([]).map(() => [] as number[]);
    for (let worker = 0; worker < TIMER_WORKERS; worker++) {
      const shards = timerShardsOfWorker(worker);
      expect(shards).toHaveLength(TIMER_SHARDS / TIMER_WORKERS);
      for (const shard of shards) owners[shard]!.push(worker);
    }
    expect(owners.every((workers) => workers.length === 1)).toBe(true);
  });

  it('a timer worker is an integer in range: anything else is refused, never read as "all" or "none"', () => {
    for (const bad of [undefined, null, -1, TIMER_WORKERS, 1.5, Number.NaN, '3', [3], {}]) {
      expect(() => timerShardsOfWorker(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(() => timerShardsOfWorker(undefined)).toThrow(`a timer worker is an integer from 0 to ${TIMER_WORKERS - 1}, not undefined`);
  });

  it('sort keys order by deadline as numbers, and the bound takes exactly the deadlines at or before now', () => {
    const id = '3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f';
    const at = (deadline: number) => keys.timer(0, deadline, id).GSI4SK;
    expect(at(999) < at(1000)).toBe(true);
    expect(at(1000) < keys.timerSortKeyBound(1000)).toBe(true);
    expect(at(1001) < keys.timerSortKeyBound(1000)).toBe(false);
    expect(at(1000) < keys.timerSortKeyBound(1000.9)).toBe(true);
    expect(keys.timerDeadline(at(EXPIRES_AT))).toBe(EXPIRES_AT);
  });

  it('timerKeys: the invitation\'s shard partition and next deadline; none once answered', () => {
    const id = '3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f';
    expect(timerKeys({ ...pending(), id }, TIMINGS)).toEqual(keys.timer(timerShard(id), EXPIRES_AT - 2 * DAY, id));
    expect(timerKeys({ ...pending({ status: 'ACCEPTED' }), id }, TIMINGS)).toBeUndefined();
  });
});

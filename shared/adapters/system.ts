import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '../ports.ts';

export const systemClock: Clock = { nowMs: () => Date.now() };
export const randomIds: IdGenerator = { uuid: () => randomUUID() };

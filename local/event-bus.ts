/**
 * The local stand-in for the EventBridge bus (there is no EventBridge emulator): every entry the
 * local pipe puts is printed as one line, appended to a JSON-lines file (truncated on start) and
 * kept in memory, which the local API serves at GET /_local/events. Entries are checked the way
 * PutEvents checks them (source, detail-type of at most 128 characters, detail a JSON object).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PublishedEvent } from '../shared/deployment/event-publishing.ts';

export interface LocalEventBusOptions {
  /** JSON lines of the published entries; truncated now. None: kept in memory only. */
  readonly file?: string;
  /** JSON lines of what the pipe dead-lettered; truncated now. */
  readonly deadLetterFile?: string;
  /** One line per event (default: console.log); false: silent. */
  readonly print?: false | ((line: string) => void);
}

export class LocalEventBus {
  readonly events: PublishedEvent[] = [];
  readonly deadLetters: unknown[] = [];
  /**
   * Fault injection for tests: while it returns an error, put() fails with it, as PutEvents
   * fails an entry (EventBridge cannot be made to fail on purpose otherwise).
   */
  fault: ((entry: PublishedEvent) => Error | undefined) | undefined;
  private readonly print: ((line: string) => void) | undefined;

  constructor(private readonly options: LocalEventBusOptions = {}) {
    for (const file of [options.file, options.deadLetterFile]) {
      if (file) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, '');
      }
    }
    this.print = options.print === false ? undefined : (options.print ?? ((line) => console.log(line)));
  }

  put(entry: PublishedEvent): void {
    const problem = entryProblem(entry) ?? this.fault?.(entry)?.message;
    if (problem) throw new Error(`PutEvents failed for ${entry['detail-type']}: ${problem}`);
    this.events.push(entry);
    if (this.options.file) appendFileSync(this.options.file, `${JSON.stringify(entry)}\n`);
    const { detail } = entry;
    this.print?.(`event ${entry['detail-type']} ${String(detail.id)} org=${String(detail.orgName)} invitation=${String(detail.invitationId ?? '-')}`);
  }

  deadLetter(record: unknown): void {
    this.deadLetters.push(record);
    if (this.options.deadLetterFile) appendFileSync(this.options.deadLetterFile, `${JSON.stringify(record)}\n`);
  }
}

function entryProblem(entry: PublishedEvent): string | undefined {
  if (!entry.source) return 'no source';
  if (!entry['detail-type'] || entry['detail-type'].length > 128) return 'detail-type must have 1-128 characters';
  if (typeof entry.detail !== 'object' || entry.detail === null || Array.isArray(entry.detail)) return 'detail must be a JSON object';
  return undefined;
}

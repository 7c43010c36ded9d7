/**
 * Page cursors are opaque to clients: base64url of a small JSON object of the position. Each
 * store checks the fields strictly on the way back (a forged cursor, or one of another list, is
 * a 400, never a read of another partition or position); this is only the envelope.
 */
import { invalidInput } from '../../domain/errors.ts';

export function encodeCursor(fields: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(fields)).toString('base64url');
}

/** The cursor's fields, unchecked; 400 when it is not base64url JSON of an object. */
export function decodeCursor(cursor: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidCursor();
  return parsed as Record<string, unknown>;
}

export const invalidCursor = () => invalidInput('cursor is not valid.');

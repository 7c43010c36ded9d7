/**
 * The invitation email, as pure text. Every inserted value is HTML-escaped in the HTML part, and
 * every value in the subject or naming someone gets control and Unicode format characters
 * removed (bidi overrides, zero-width characters) and the subject a length cap, so nothing a user
 * typed can shape a header or the markup, or disguise itself. Addresses never appear in headers
 * we build: SES takes them as structured destinations.
 */
export interface InvitationEmailInput {
  readonly orgName: string;
  /** The inviter's display name (preferred_username, or a verified email); none: a neutral wording. */
  readonly inviterName: string | undefined;
  readonly invitationId: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** Configuration, never request headers. */
  readonly frontendUrl: string;
  readonly brandName: string;
  /** REMINDER: the reminder before it expires (domain/timers.ts); default the invitation itself. */
  readonly kind?: 'INVITATION' | 'REMINDER';
}

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

const MAX_SUBJECT_VALUE = 80;

export function invitationLink(input: Pick<InvitationEmailInput, 'frontendUrl' | 'orgName' | 'invitationId'>): string {
  const base = input.frontendUrl.replace(/\/+$/, '');
  return `${base}/dashboard/organizations/${encodeURIComponent(input.orgName)}/invitations/${encodeURIComponent(input.invitationId)}`;
}

export function renderInvitationEmail(input: InvitationEmailInput): RenderedEmail {
  const link = invitationLink(input);
  const expires = formatExpiry(input.expiresAt);
  const org = singleLine(input.orgName);
  const brand = singleLine(input.brandName);
  const named = singleLine(input.inviterName ?? '');
  const reminder = input.kind === 'REMINDER';
  // Without a name the identity provider vouches for, say only what the service knows.
  const inviter = named || `An admin of ${org}`;
  const subject = reminder
    ? `Reminder: your invitation to join ${truncate(org)} on ${truncate(brand)} expires soon, on ${expires}`
    : named
      ? `${truncate(named)} invited you to join ${truncate(org)} on ${truncate(brand)}`
      : `An admin of ${truncate(org)} invited you to join ${truncate(org)} on ${truncate(brand)}`;
  const because = named ? `${named} invited this address` : `an admin of ${org} invited this address`;
  const expiryLine = reminder
    ? `The invitation expires soon, on ${expires}, unless you answer it before then.`
    : `The invitation expires on ${expires}.`;

  const text = [
    ...(reminder ? ['Reminder: your invitation has not been answered yet.', ''] : []),
    `${inviter} invited you to join the organization ${org} on ${brand}.`,
    '',
    `Accept or decline the invitation here:`,
    link,
    '',
    expiryLine,
    '',
    `You received this email because ${because} to ${org}. If you were not expecting it, you can ignore this email.`,
  ].join('\n');

  const e = escapeHtml;
  // Styles sit on a wrapper, not <body> (some clients drop <body>'s attributes); the long link
  // may break anywhere so that it never widens a narrow (390 px) screen.
  const html = `<!doctype html>
<html><body style="margin: 0;">
<div style="font-family: sans-serif; line-height: 1.5; color: #222; padding: 16px; max-width: 600px; overflow-wrap: anywhere; word-break: break-word;">
${reminder ? '<p><strong>Reminder:</strong> your invitation has not been answered yet.</p>\n' : ''}<p>${named ? `<strong>${e(named)}</strong>` : e(inviter)} invited you to join the organization <strong>${e(org)}</strong> on ${e(brand)}.</p>
<p><a href="${e(link)}" style="display: inline-block; padding: 10px 16px; background: #2563eb; color: #fff; text-decoration: none; border-radius: 4px;">View the invitation</a></p>
<p>Or open this link: <a href="${e(link)}" style="overflow-wrap: anywhere; word-break: break-all;">${e(link)}</a></p>
<p>${e(expiryLine)}</p>
<p style="color: #666; font-size: 0.9em;">You received this email because ${e(because)} to ${e(org)}. If you were not expecting it, you can ignore this email.</p>
</div>
</body></html>`;

  return { subject, html, text };
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Control characters (CR, LF, tabs, ...) become spaces: a value stays on one line. Format
 * characters (\p{Cf}: bidi overrides such as U+202E, zero-width spaces and joiners, ...) are
 * removed: they could reorder or hide what a reader sees, e.g. make a name read as another.
 */
export function singleLine(value: string): string {
  return value
    .replace(/\p{Cf}+/gu, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .trim();
}

/** Cuts by whole code points, so an emoji (two UTF-16 units) is never split. */
function truncate(value: string): string {
  const characters = Array.from(value);
  return characters.length > MAX_SUBJECT_VALUE ? `${characters.slice(0, MAX_SUBJECT_VALUE - 1).join('')}…` : value;
}

function formatExpiry(expiresAt: number): string {
  // e.g. "Saturday, 5 December 2026 at 14:03 UTC": unambiguous in every locale.
  return new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'full',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(new Date(expiresAt * 1000)) + ' UTC';
}

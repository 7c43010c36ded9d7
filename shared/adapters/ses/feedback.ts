/**
 * SES event notifications (configuration set → SNS), reduced to what the service needs: which
 * invitation (from the message tags we set) and whether it bounced or drew a complaint. Accepts
 * both event-publishing (`eventType`) and identity-notification (`notificationType`) payloads.
 */
export interface EmailFeedback {
  readonly orgId: number;
  readonly invitationId: string;
  readonly messageId: string;
  readonly status: 'BOUNCED' | 'COMPLAINED';
  /** Short and safe to show to an organization admin. */
  readonly reason: string;
}

interface SesNotification {
  eventType?: string;
  notificationType?: string;
  mail?: { messageId?: string; tags?: Record<string, string[]> };
  bounce?: { bounceType?: string; bounceSubType?: string };
  complaint?: { complaintFeedbackType?: string };
}

export function parseSesFeedback(message: string): EmailFeedback | undefined {
  let notification: SesNotification;
  try {
    notification = JSON.parse(message) as SesNotification;
  } catch {
    return undefined;
  }
  if (typeof notification !== 'object' || notification === null) return undefined;
  const type = notification.eventType ?? notification.notificationType;
  const invitationId = notification.mail?.tags?.invitationId?.[0];
  const orgId = Number(notification.mail?.tags?.orgId?.[0]);
  const messageId = notification.mail?.messageId;
  if (!invitationId || !Number.isSafeInteger(orgId) || !messageId) return undefined;
  if (type === 'Bounce') {
    // Transient bounces (mailbox full, auto-replies) are retried by SES itself: not a failure.
    if (notification.bounce?.bounceType !== 'Permanent') return undefined;
    const subType = notification.bounce.bounceSubType ?? 'General';
    return { orgId, invitationId, messageId, status: 'BOUNCED', reason: `The address bounced permanently (${safeWord(subType)}).` };
  }
  if (type === 'Complaint') {
    return { orgId, invitationId, messageId, status: 'COMPLAINED', reason: 'The recipient marked the email as spam.' };
  }
  return undefined;
}

/** SES sub-types are single words; anything else is not echoed to admins. */
function safeWord(value: string): string {
  return /^[A-Za-z]{1,40}$/.test(value) ? value : 'General';
}

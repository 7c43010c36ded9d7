/**
 * Helpers for the email delivery tests: unique recipients, waiting for emails in the shared SES
 * emulator (filtered by recipient: other test files send to the same emulator, and its store is
 * never cleared), waiting for stored invitation state, and realistic SES / SNS / stream events.
 */
import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, SNSEvent } from 'aws-lambda';
import { expect } from 'vitest';
import { listLocalEmails, type LocalEmail } from '../../local/ses-local.ts';
import type { TestStack } from './stack.ts';
import { storedInvitation } from './table.ts';

/** The local function environment's SENDER_EMAIL and FRONTEND_URL (local/environment.ts). */
export const LOCAL_SENDER = 'invitations@jaqpot.local';
export const LOCAL_FRONTEND_URL = 'http://localhost:3001';

/** A recipient no other test (or test file) uses. */
export function uniqueAddress(label = 'invitee'): string {
  return `${label}-${randomUUID().slice(0, 12)}@example.com`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until `done` holds for its result, and returns that result. On timeout, returns
 * the last result (the caller's assertions then say what was wrong).
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}

/** Emails in the emulator at `endpoint` addressed (To, Cc or Bcc) to any of `recipients`, oldest first. */
export async function emailsTo(endpoint: string, recipients: readonly string[]): Promise<LocalEmail[]> {
  const wanted = new Set(recipients.map((r) => r.toLowerCase()));
  const all = await listLocalEmails(endpoint);
  return all.filter((email) =>
    [...email.destination.to, ...email.destination.cc, ...email.destination.bcc].some((address) =>
      wanted.has(address.toLowerCase()),
    ),
  );
}

/** Waits until at least `count` emails to `recipients` are in the emulator; returns them all. */
export async function waitForEmails(
  endpoint: string,
  recipients: readonly string[],
  count: number,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<LocalEmail[]> {
  return pollUntil(() => emailsTo(endpoint, recipients), (emails) => emails.length >= count, options);
}

/**
 * Asserts that exactly `count` emails to `recipients` arrive: waits for them (10 s), then
 * `settleMs` more to catch a late duplicate.
 */
export async function expectExactlyEmails(
  endpoint: string,
  recipients: readonly string[],
  count: number,
  settleMs = 1_000,
): Promise<LocalEmail[]> {
  const arrived = await waitForEmails(endpoint, recipients, count);
  expect(arrived, `emails to ${recipients.join(', ')}`).toHaveLength(count);
  await sleep(settleMs);
  const settled = await emailsTo(endpoint, recipients);
  expect(settled, `emails to ${recipients.join(', ')} after waiting ${settleMs} ms more`).toHaveLength(count);
  return settled;
}

type StoredItem = Record<string, any>;

/** Polls the stored invitation until `done` holds (10 s), and returns it. */
export async function waitForStoredInvitation(
  stack: TestStack,
  orgId: number,
  invitationId: string,
  done: (item: StoredItem) => boolean,
  timeoutMs = 10_000,
): Promise<StoredItem> {
  const item = await pollUntil(
    () => storedInvitation(stack, orgId, invitationId),
    (value) => value !== undefined && done(value),
    { timeoutMs },
  );
  expect(item, `invitation ${invitationId}`).toBeDefined();
  return item!;
}

/** Waits until the invitation's email request `seq` is recorded as sent. */
export const waitUntilSent = (stack: TestStack, orgId: number, invitationId: string, seq = 1) =>
  waitForStoredInvitation(stack, orgId, invitationId, (item) => item.emailStatus === 'SENT' && item.deliveredSeq >= seq);

// ---------------------------------------------------------------------------------------------
// Events

/**
 * A DynamoDB stream record as Lambda delivers it (the shape local/stream-poller.ts produces),
 * with the stored invitation item as its new image.
 */
export function streamRecordOf(
  item: StoredItem,
  sequenceNumber: string,
  eventName: 'INSERT' | 'MODIFY' = 'INSERT',
): DynamoDBRecord {
  return {
    eventID: randomUUID().replace(/-/g, ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/test/stream/2026-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: marshall({ PK: item.PK, SK: item.SK }) as any,
      NewImage: marshall(item, { removeUndefinedValues: true }) as any,
      SequenceNumber: sequenceNumber,
      SizeBytes: 512,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export interface SesEventTarget {
  readonly messageId: string;
  readonly recipient: string;
  readonly orgId: number;
  readonly invitationId: string;
  readonly deliverySeq?: number;
}

/** The `mail` object of an SES event-publishing notification, with the tags the mailer sets. */
function sesMail(target: SesEventTarget) {
  const sentAt = new Date(Date.now() - 5_000).toISOString();
  return {
    timestamp: sentAt,
    source: LOCAL_SENDER,
    sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/jaqpot.local',
    sendingAccountId: '123456789012',
    messageId: target.messageId,
    destination: [target.recipient],
    headersTruncated: false,
    headers: [
      { name: 'From', value: LOCAL_SENDER },
      { name: 'To', value: target.recipient },
      { name: 'Subject', value: 'alice invited you to join acme on Jaqpot' },
      { name: 'MIME-Version', value: '1.0' },
      { name: 'Content-Type', value: 'multipart/alternative; boundary="----=_Part_1"' },
    ],
    commonHeaders: {
      from: [LOCAL_SENDER],
      to: [target.recipient],
      messageId: target.messageId,
      subject: 'alice invited you to join acme on Jaqpot',
    },
    tags: {
      'ses:configuration-set': ['organization-invitations'],
      'ses:source-ip': ['192.0.2.10'],
      'ses:from-domain': ['jaqpot.local'],
      'ses:caller-identity': ['deliver-invitation-emails'],
      'ses:outgoing-ip': ['198.51.100.7'],
      invitationId: [target.invitationId],
      orgId: [String(target.orgId)],
      deliverySeq: [String(target.deliverySeq ?? 1)],
    },
  };
}

/** An SES event-publishing Bounce notification (configuration set → SNS). */
export function sesBounceEvent(
  target: SesEventTarget,
  bounce: { bounceType?: string; bounceSubType?: string } = {},
): Record<string, unknown> {
  return {
    eventType: 'Bounce',
    bounce: {
      feedbackId: `0100019${randomUUID().replace(/-/g, '')}-000000`,
      bounceType: bounce.bounceType ?? 'Permanent',
      bounceSubType: bounce.bounceSubType ?? 'General',
      bouncedRecipients: [
        {
          emailAddress: target.recipient,
          action: 'failed',
          status: '5.1.1',
          diagnosticCode: 'smtp; 550 5.1.1 user unknown',
        },
      ],
      timestamp: new Date().toISOString(),
      reportingMTA: 'dns; b224-13.smtp-out.amazonses.com',
    },
    mail: sesMail(target),
  };
}

/** An SES event-publishing Complaint notification. */
export function sesComplaintEvent(target: SesEventTarget): Record<string, unknown> {
  return {
    eventType: 'Complaint',
    complaint: {
      feedbackId: `0100019${randomUUID().replace(/-/g, '')}-000000`,
      complaintSubType: null,
      complainedRecipients: [{ emailAddress: target.recipient }],
      timestamp: new Date().toISOString(),
      userAgent: 'Yahoo!-Mail-Feedback/2.0',
      complaintFeedbackType: 'abuse',
      arrivalDate: new Date(Date.now() - 2_000).toISOString(),
    },
    mail: sesMail(target),
  };
}

/** An SES event-publishing Delivery notification (not feedback the service acts on). */
export function sesDeliveryEvent(target: SesEventTarget): Record<string, unknown> {
  return {
    eventType: 'Delivery',
    delivery: {
      timestamp: new Date().toISOString(),
      processingTimeMillis: 546,
      recipients: [target.recipient],
      smtpResponse: '250 ok:  Message 64111812 accepted',
      reportingMTA: 'a8-70.smtp-out.amazonses.com',
    },
    mail: sesMail(target),
  };
}

/** An SNS event carrying one record per message (objects are JSON-encoded, strings sent as is). */
export function snsEvent(...messages: Array<Record<string, unknown> | string>): SNSEvent {
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:organization-invitations-ses-events';
  return {
    Records: messages.map((message) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
      Sns: {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topicArn,
        Subject: 'Amazon SES Email Event Notification',
        Message: typeof message === 'string' ? message : JSON.stringify(message),
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        Signature: 'RXhhbXBsZVNpZ25hdHVyZQ==',
        SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
        UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}`,
        MessageAttributes: {},
      },
    })),
  };
}

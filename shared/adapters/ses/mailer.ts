import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { MailerError, type Mailer, type OutgoingEmail } from '../../ports.ts';

export interface SesMailerOptions {
  /** A verified SES identity (address, or an address at a verified domain). */
  readonly from: string;
  readonly replyTo?: string;
  readonly configurationSet?: string;
  /** Only for the local emulator. */
  readonly endpoint?: string;
}

/** One SendEmail attempt ends after at most `requestTimeoutMs` (the timer covers connecting too). */
export const SES_CALL_LIMITS = { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 } as const;

/**
 * SES v2 SendEmail. Errors are classified for the caller: throttling and transient faults are
 * retryable; everything SES says about the message, the identity or the account is permanent
 * and reported with a short reason an admin can act on (never the raw SDK message).
 */
export class SesMailer implements Mailer {
  private readonly client: SESv2Client;

  constructor(private readonly options: SesMailerOptions) {
    this.client = new SESv2Client({
      ...(options.endpoint && { endpoint: options.endpoint }),
      // Retries are ours (with the stream's bounded retries behind them); keep each call short,
      // so a black-holed network cannot hold the function until its timeout.
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: SES_CALL_LIMITS.connectionTimeoutMs,
        requestTimeout: SES_CALL_LIMITS.requestTimeoutMs,
        // Without this the SDK only warns when requestTimeout passes: an SES endpoint that
        // accepts the connection and never answers would hold the delivery until its timeout.
        throwOnRequestTimeout: true,
      },
    });
  }

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    try {
      const response = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.options.from,
          ...(this.options.replyTo && { ReplyToAddresses: [this.options.replyTo] }),
          Destination: { ToAddresses: [email.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: { Html: { Data: email.html, Charset: 'UTF-8' }, Text: { Data: email.text, Charset: 'UTF-8' } },
            },
          },
          EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value })),
          ...(this.options.configurationSet && { ConfigurationSetName: this.options.configurationSet }),
        }),
      );
      return { messageId: response.MessageId ?? 'unknown' };
    } catch (error) {
      throw classifySesError(error);
    }
  }
}

const PERMANENT_REASONS: Record<string, string> = {
  MessageRejected: 'SES rejected the message (in the SES sandbox, the recipient address must be verified).',
  MailFromDomainNotVerifiedException: 'The sender domain is not verified in SES.',
  AccountSuspendedException: 'The SES account is suspended.',
  SendingPausedException: 'Email sending is paused for this SES account or configuration set.',
  NotFoundException: 'The SES configuration set or identity does not exist.',
  BadRequestException: 'SES refused the request as invalid.',
};

const RETRYABLE = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'LimitExceededException',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);

export function classifySesError(error: unknown): MailerError {
  const name = (error as { name?: string })?.name ?? '';
  const message = (error as { message?: string })?.message ?? '';
  if (PERMANENT_REASONS[name]) {
    // Suppressed recipients come back as MessageRejected with a telling message.
    if (name === 'MessageRejected' && /suppress/i.test(message)) {
      return new MailerError(false, 'The recipient is on the SES account suppression list.');
    }
    return new MailerError(false, PERMANENT_REASONS[name]);
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const networkFault = (error as { code?: string })?.code !== undefined || status === undefined;
  if (RETRYABLE.has(name) || (status !== undefined && status >= 500) || status === 429 || networkFault) {
    return new MailerError(true, 'SES was unavailable or throttled the request.');
  }
  return new MailerError(false, 'SES refused the message.');
}

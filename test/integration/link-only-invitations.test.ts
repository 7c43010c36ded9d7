/**
 * Link-only invitations (`sendEmail: false`) end to end, with the stream → delivery function and
 * the sweep running: no email, emailStatus NOT_REQUESTED, outside the outbox (no pending-email
 * index entry), the admins' `link` to pass on, and a later resend sends exactly one email.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamodb/keys.ts';
import { emailsTo, expectExactlyEmails, LOCAL_FRONTEND_URL, waitForEmails, waitUntilSent } from '../support/emails.ts';
import { createOrganization, invite, paths } from '../support/fixtures.ts';
import { RELAXED_RATE_LIMITS, useTestStack } from '../support/stack.ts';
import { storedInvitation } from '../support/table.ts';

const { stack, user } = useTestStack(RELAXED_RATE_LIMITS, { emailDelivery: true });

describe('link-only invitations (sendEmail: false)', () => {
  it('send no email, say NOT_REQUESTED, carry the link for admins only; a resend sends exactly one email', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const invitee = user('link-only');
    const created = await stack.api.post(paths.invitations(org.name), {
      token: admin.token,
      body: { emails: [invitee.email], sendEmail: false },
    });
    expect(created.status, created.text).toBe(201);
    const invitation = created.body.invitations[0];
    const link = `${LOCAL_FRONTEND_URL}/dashboard/organizations/${org.name}/invitations/${invitation.id}`;
    expect(invitation).toMatchObject({ emailStatus: 'NOT_REQUESTED', sendCount: 0, link });

    // Outside the outbox: never in the pending-email index, and no email request numbered.
    const stored = await storedInvitation(stack, org.id, invitation.id);
    expect(stored).toMatchObject({ emailStatus: 'NOT_REQUESTED', deliverySeq: 0, deliveredSeq: 0 });
    expect(stored).not.toHaveProperty('GSI2PK');

    // Requested an hour ago as far as the sweep could tell (a stream MODIFY record too, which the
    // filter must drop), then an emailed invitation: once its email is out, the stream has passed both.
    await stack.db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: keys.invitation(org.id, invitation.id),
        UpdateExpression: 'SET emailRequestedAt = :longAgo',
        ExpressionAttributeValues: { ':longAgo': new Date(Date.now() - 3_600_000).toISOString() },
      }),
    );
    const later = user('emailed');
    const { invitations: emailed } = await invite(stack, admin, org.name, [later.email]);
    await waitUntilSent(stack, org.id, emailed[0].id);
    await stack.events!.runSweep();
    await waitForEmails(stack.sesEndpoint, [later.email], 1);
    expect(await emailsTo(stack.sesEndpoint, [invitee.email])).toEqual([]);

    const adminView = await stack.api.get(paths.invitation(org.name, invitation.id), { token: admin.token });
    expect(adminView.body).toMatchObject({ emailStatus: 'NOT_REQUESTED', sendCount: 0, link });
    const inviteeView = await stack.api.get(paths.invitation(org.name, invitation.id), { token: invitee.token });
    expect(inviteeView.status, inviteeView.text).toBe(200);
    expect(inviteeView.body.emailStatus).toBe('NOT_REQUESTED');
    expect(inviteeView.body).not.toHaveProperty('link');
    const filtered = await stack.api.get(`${paths.invitations(org.name)}?emailStatus=NOT_REQUESTED`, { token: admin.token });
    expect(filtered.body.map((i: any) => i.id)).toEqual([invitation.id]);

    const resent = await stack.api.post(paths.resend(org.id, invitation.id), { token: admin.token });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body).toMatchObject({ emailStatus: 'PENDING', link });
    const [email] = await expectExactlyEmails(stack.sesEndpoint, [invitee.email], 1);
    expect(email!.body.text).toContain(link);
    const sent = await waitUntilSent(stack, org.id, invitation.id);
    expect(sent).toMatchObject({ emailStatus: 'SENT', sendCount: 1, deliverySeq: 1, deliveredSeq: 1 });
  });

  it('accepting a link-only invitation works without any email', async () => {
    const admin = user('admin');
    const org = await createOrganization(stack, admin);
    const invitee = user('joiner');
    const created = await stack.api.post(paths.invitations(org.name), {
      token: admin.token,
      body: { emails: [invitee.email], sendEmail: false, associationType: 'ADMIN', expiresInSeconds: 3600 },
    });
    const invitation = created.body.invitations[0];
    const accepted = await stack.api.put(paths.invitation(org.name, invitation.id), { token: invitee.token, body: { status: 'ACCEPTED' } });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'ACCEPTED', associationType: 'ADMIN', emailStatus: 'NOT_REQUESTED' });
    expect(await emailsTo(stack.sesEndpoint, [invitee.email])).toEqual([]);
  });
});

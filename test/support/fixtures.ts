/** Small helpers over the API for integration tests. */
import { expect } from 'vitest';
import type { TestStack, UserFactory } from './stack.ts';
import { uniqueOrgName } from './stack.ts';

export interface TestUser {
  readonly sub: string;
  readonly email: string;
  readonly token: string;
}

/** Request paths of the API. */
export const paths = {
  organizations: '/v1/organizations',
  organization: (orgName: string) => `/v1/organizations/${orgName}`,
  invitations: (orgName: string) => `/v1/organizations/${orgName}/invitations`,
  invitation: (orgName: string, invitationId: string) => `/v1/organizations/${orgName}/invitations/${invitationId}`,
  resend: (orgId: number | string, invitationId: string) => `/v1/organizations/${orgId}/invitations/${invitationId}/resend`,
  member: (orgName: string, userId: string) => `/v1/organizations/${orgName}/members/${encodeURIComponent(userId)}`,
};

export async function createOrganization(
  stack: TestStack,
  admin: TestUser,
  options: { name?: string; visibility?: 'PUBLIC' | 'PRIVATE' } = {},
): Promise<{ id: number; name: string }> {
  const name = options.name ?? uniqueOrgName();
  const response = await stack.api.post(paths.organizations, {
    token: admin.token,
    body: { name, contactEmail: 'contact@example.com', visibility: options.visibility ?? 'PRIVATE' },
  });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.id, name };
}

/** A PRIVATE organization created by a fresh user named `admin`. */
export async function newOrganization(stack: TestStack, user: UserFactory) {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  return { admin, ...org };
}

export async function invite(stack: TestStack, admin: TestUser, orgName: string, emails: string[]) {
  const response = await stack.api.post(paths.invitations(orgName), { token: admin.token, body: { emails } });
  expect(response.status, response.text).toBe(201);
  return response.body as { invitations: any[]; skipped: { email: string; reason: string }[] };
}

/** The invitee answers an invitation; expects 200 and returns the answered invitation. */
export async function answerInvitation(
  stack: TestStack,
  invitee: TestUser,
  orgName: string,
  invitationId: string,
  status: 'ACCEPTED' | 'REJECTED',
) {
  const response = await stack.api.put(paths.invitation(orgName, invitationId), { token: invitee.token, body: { status } });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** Makes `member` a plain MEMBER: invited by `admin`, then accepted with the member's own token. */
export async function addMember<T extends TestUser>(stack: TestStack, admin: TestUser, orgName: string, member: T): Promise<T> {
  const { invitations } = await invite(stack, admin, orgName, [member.email]);
  await answerInvitation(stack, member, orgName, invitations[0].id, 'ACCEPTED');
  return member;
}

/**
 * A PRIVATE organization created by a fresh admin, with one pending invitation to a fresh user
 * (with the given email, if any).
 */
export async function orgWithInvitation(stack: TestStack, user: UserFactory, options: { inviteeEmail?: string } = {}) {
  const admin = user('admin');
  const org = await createOrganization(stack, admin);
  const invitee = user('invitee', options.inviteeEmail === undefined ? {} : { email: options.inviteeEmail });
  const { invitations } = await invite(stack, admin, org.name, [invitee.email]);
  expect(invitations).toHaveLength(1);
  return { admin, org, invitee, invitation: invitations[0] };
}

import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableSchema } from '../../deployment/table-schema.ts';
import type { AdminAuthority } from '../../domain/access.ts';
import type { Caller } from '../../domain/caller.ts';
import { DomainError } from '../../domain/errors.ts';
import {
  applyOrganizationUpdate,
  nameRecentlyUsed,
  nameTaken,
  resolvesTo,
  type AssociationType,
  type Membership,
  type NewOrganizationInput,
  type Organization,
  type OrganizationUpdate,
} from '../../domain/organization.ts';
import type { MemberAccess, OrganizationAccess, OrganizationStore, OrganizationWithMembers } from '../../ports.ts';
import { memberRemoved, memberRoleChanged } from '../../domain/invitation-events.ts';
import {
  accessFrom,
  findItem,
  putEvent,
  fromMembershipItem,
  fromNameItem,
  fromOrganizationItem,
  toMembershipItem,
  toNameItem,
  toOrganizationItem,
  type Item,
} from './items.ts';
import { keys } from './keys.ts';
import { batchGet, call, queryAll, serviceBusy, transactWrite, transactWriteAsAdmin, type CancellationReason } from './operations.ts';

export class DynamoOrganizationStore implements OrganizationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** How long the member events these changes record are kept (EVENT_RETENTION_SECONDS). */
    private readonly eventRetentionSeconds: number,
  ) {}

  /**
   * The organization a name resolves to: its current name, or an old name still reserved for it
   * after a rename (an alias item, checked against the clock here: TTL deletion is lazy).
   */
  async findIdByName(name: string, nowMs: number): Promise<number | undefined> {
    const { Item } = await call(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.organizationName(name) })),
    );
    return resolvesTo(Item && fromNameItem(Item), nowMs);
  }

  /** One Query: the organization item and its membership items share a partition and an SK prefix. */
  async getWithMembers(orgId: number): Promise<OrganizationWithMembers | undefined> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.orgPartition(orgId), ':prefix': 'ORG' },
      ConsistentRead: true,
    });
    const orgItem = items.find((item) => item.SK === 'ORG');
    if (!orgItem) return undefined;
    return {
      organization: fromOrganizationItem(orgItem),
      members: items.filter((item) => item.SK !== 'ORG').map(fromMembershipItem),
    };
  }

  async getAccess(orgId: number, userId: string): Promise<OrganizationAccess | undefined> {
    const items = await batchGet(this.client, this.tableName, [
      keys.organization(orgId),
      keys.membership(orgId, userId),
    ]);
    return accessFrom(items, orgId, userId);
  }

  /** One strongly consistent BatchGetItem: the organization, the caller's membership and the target's. */
  async getMemberAccess(orgId: number, userId: string, targetUserId: string): Promise<MemberAccess | undefined> {
    const items = await batchGet(this.client, this.tableName, [
      keys.organization(orgId),
      ...new Map([userId, targetUserId].map((id) => [id, keys.membership(orgId, id)])).values(),
    ]);
    const access = accessFrom(items, orgId, userId);
    if (!access) return undefined;
    const targetItem = findItem(items, keys.membership(orgId, targetUserId));
    return { ...access, target: targetItem ? fromMembershipItem(targetItem) : undefined };
  }

  /**
   * Deletes the membership item (its GSI1 entry, "my organizations", goes with it), if it still
   * exists, and records `organization.member.removed` in the same transaction: false when it was
   * already gone (removed concurrently; nothing written). An admin whose authority is their ADMIN
   * membership removes only while it holds (transactWriteAsAdmin).
   */
  async removeMember(
    org: Pick<Organization, 'id' | 'name'>,
    userId: string,
    actor: string,
    nowMs: number,
    authority: AdminAuthority | undefined,
  ): Promise<boolean> {
    const result = await transactWriteAsAdmin(this.client, this.tableName, authority, [
      { Delete: { TableName: this.tableName, Key: keys.membership(org.id, userId), ConditionExpression: 'attribute_exists(PK)' } },
      putEvent(this.tableName, memberRemoved(org, userId, actor, nowMs), this.eventRetentionSeconds),
    ]);
    if (result.ok) return true;
    requireMembershipGone(result.reasons);
    return false;
  }

  /**
   * Sets the member's role if the membership still exists (a concurrent removal wins: the item is
   * never recreated), with `organization.member.role.changed` in the same transaction when the
   * role differs from the one read. Returns the membership, or undefined when it is gone. An
   * admin whose authority is their ADMIN membership sets it only while that holds.
   */
  async setMemberRole(
    org: Pick<Organization, 'id' | 'name'>,
    member: Membership,
    associationType: AssociationType,
    actor: string,
    nowMs: number,
    authority: AdminAuthority,
  ): Promise<Membership | undefined> {
    const changed = member.associationType !== associationType;
    const result = await transactWriteAsAdmin(this.client, this.tableName, authority, [
      {
        Update: {
          TableName: this.tableName,
          Key: keys.membership(org.id, member.userId),
          UpdateExpression: 'SET associationType = :type',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':type': associationType },
        },
      },
      ...(changed
        ? [putEvent(this.tableName, memberRoleChanged(org, { userId: member.userId, associationType }, actor, nowMs), this.eventRetentionSeconds)]
        : []),
    ]);
    if (!result.ok) {
      requireMembershipGone(result.reasons);
      return undefined;
    }
    // The membership's other fields never change after it is created: the one read is current.
    return { ...member, associationType };
  }

  async create(input: NewOrganizationInput, creator: Caller, nowMs: number): Promise<Organization> {
    // Ids come from an atomic counter; a name clash below wastes one id, which is harmless.
    const { Attributes } = await call(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.organizationIdCounter(),
          UpdateExpression: 'ADD #value :one',
          ExpressionAttributeNames: { '#value': 'value' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    const now = new Date(nowMs).toISOString();
    const organization: Organization = {
      ...input,
      id: Attributes!.value as number,
      creator: { id: creator.userId, username: creator.username, email: creator.email },
      createdAt: now,
      updatedAt: now,
    };
    const membership: Membership = {
      orgId: organization.id,
      userId: creator.userId,
      username: creator.username,
      email: creator.email,
      associationType: 'ADMIN',
    };
    const result = await transactWrite(this.client, [
      this.claimName(input.name, organization.id, nowMs),
      {
        Put: {
          TableName: this.tableName,
          Item: toOrganizationItem(organization),
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      { Put: { TableName: this.tableName, Item: toMembershipItem(membership) } },
    ]);
    if (!result.ok) throw nameConflict(input.name, result.reasons[0]?.Item);
    return organization;
  }

  /**
   * One transaction: an UpdateItem of the organization's fields (SET, and REMOVE for a cleared
   * description; fields the update does not name are kept), conditioned on the name we read so a
   * concurrent rename makes it fail rather than silently overwrite. On rename it also claims the
   * new name and turns the old name's item into an alias of this organization until
   * `oldNameReservedUntil` (earlier aliases keep theirs: every old name keeps resolving).
   */
  async update(
    current: Organization,
    update: OrganizationUpdate,
    nowMs: number,
    oldNameReservedUntil: number,
    authority: AdminAuthority,
  ): Promise<Organization> {
    const updated = applyOrganizationUpdate(current, update, nowMs);
    const renamed = update.name !== current.name;
    const set = ['#name = :name', 'contactEmail = :contactEmail', 'visibility = :visibility', 'updatedAt = :updatedAt'];
    const values: Item = {
      ':name': updated.name,
      ':contactEmail': updated.contactEmail,
      ':visibility': updated.visibility,
      ':updatedAt': updated.updatedAt,
      ':currentName': current.name,
    };
    if (typeof update.description === 'string') {
      set.push('description = :description');
      values[':description'] = update.description;
    }
    const result = await transactWriteAsAdmin(this.client, this.tableName, authority, [
      {
        Update: {
          TableName: this.tableName,
          Key: keys.organization(current.id),
          UpdateExpression: `SET ${set.join(', ')}${update.description === null ? ' REMOVE description' : ''}`,
          ConditionExpression: '#name = :currentName',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: values,
        },
      },
      ...(renamed
        ? [
            this.claimName(update.name, current.id, nowMs),
            {
              Update: {
                TableName: this.tableName,
                Key: keys.organizationName(current.name),
                UpdateExpression: 'SET aliasUntil = :until, #ttl = :until',
                ConditionExpression: 'orgId = :id AND attribute_not_exists(aliasUntil)',
                ExpressionAttributeNames: { '#ttl': tableSchema.ttlAttribute },
                ExpressionAttributeValues: { ':until': oldNameReservedUntil, ':id': current.id },
              },
            },
          ]
        : []),
    ]);
    if (!result.ok) {
      if (renamed && result.reasons[1]?.Code === 'ConditionalCheckFailed') throw nameConflict(update.name, result.reasons[1].Item);
      throw new DomainError('UNAVAILABLE', 'The organization changed while processing the request. Please retry.');
    }
    return updated;
  }

  /**
   * Makes `name` the current name of organization `orgId`: if nobody holds it, if it is an old
   * name of this same organization (taking it back), or if its reservation has ended.
   */
  private claimName(name: string, orgId: number, nowMs: number) {
    return {
      Put: {
        TableName: this.tableName,
        Item: toNameItem(name, orgId),
        ConditionExpression: 'attribute_not_exists(PK) OR (attribute_exists(aliasUntil) AND (orgId = :id OR aliasUntil <= :now))',
        ExpressionAttributeValues: { ':id': orgId, ':now': nowMs / 1000 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
  }

  async listForUser(userId: string): Promise<OrganizationAccess[]> {
    const membershipItems = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: tableSchema.userOrganizationsIndex.name,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.userOrganizations(userId).GSI1PK },
    });
    const memberships = membershipItems.map(fromMembershipItem);
    if (memberships.length === 0) return [];
    const orgItems = await batchGet(
      this.client,
      this.tableName,
      memberships.map((m) => keys.organization(m.orgId)),
    );
    return memberships.flatMap((membership) => {
      const item = findItem(orgItems, keys.organization(membership.orgId));
      return item ? [{ organization: fromOrganizationItem(item), membership }] : [];
    });
  }
}

/**
 * A member change whose transaction was cancelled because the membership was gone (its
 * condition failed). Otherwise only the event's own condition failed: the same change of the
 * same member in the same millisecond (same id and key), so it is not recorded; a 503 the
 * client may retry.
 */
function requireMembershipGone(reasons: CancellationReason[]): void {
  if (reasons[0]?.Code === 'ConditionalCheckFailed') return;
  throw serviceBusy();
}

/** 409: the name is another organization's current name, or reserved for it after a rename. */
function nameConflict(name: string, holder: Item | undefined): DomainError {
  const aliasUntil = holder?.aliasUntil as number | undefined;
  return aliasUntil === undefined ? nameTaken(name) : nameRecentlyUsed(name, aliasUntil);
}

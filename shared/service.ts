/**
 * The service's name: the Powertools `service` of every log line and metric (the dimension the
 * alarms use) and of the authorizer's log lines. A module of its own so the authorizer's bundle
 * stays tiny.
 */
export const SERVICE_NAME = 'organization-invitations';

/** The verified identity of whoever is calling, as the authorizer established it. */
export interface Caller {
  /** The token's `sub`. */
  readonly userId: string;
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly username: string | undefined;
  /** Holds the realm role `admin` (`realm_access.roles`): admin of every organization. */
  readonly isRealmAdmin: boolean;
}

/**
 * A local OIDC issuer for development and tests: an RSA key pair generated once into .local/
 * (ignored by git), its JWKS, and a signer for tokens shaped like Keycloak's. aws-jwt-verify only
 * fetches JWKS over https, so the local server preloads this JWKS into the verifier with
 * cacheJwks(); the JWKS URI below is never fetched (a token with an unknown `kid` makes the
 * verifier try, and that fails fast, as it should).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOCAL_ISSUER = 'http://127.0.0.1/local-issuer';
export const LOCAL_JWKS_URI = 'https://127.0.0.1:9/local-issuer/jwks.json';
export const LOCAL_AUDIENCE = 'jaqpot-local';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const defaultKeyFile = join(repoRoot, '.local', 'issuer', 'private-key.pem');

export interface Jwks {
  keys: Array<Record<string, unknown>>;
}

export interface TokenClaims {
  sub: string;
  email?: string;
  emailVerified?: boolean;
  username?: string;
  realmRoles?: string[];
  /** Seconds from now; negative for an already expired token. */
  expiresIn?: number;
  /** Raw claim overrides (iss, aud, nbf, ...); `undefined` removes a claim. */
  extra?: Record<string, unknown>;
}

export class LocalIssuer {
  readonly issuer = LOCAL_ISSUER;
  readonly jwksUri = LOCAL_JWKS_URI;
  readonly audience = LOCAL_AUDIENCE;
  readonly kid: string;
  readonly jwks: Jwks;

  constructor(private readonly privateKey: KeyObject) {
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    this.kid = `local-${(jwk.n as string).slice(0, 12)}`;
    this.jwks = { keys: [{ ...jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  /** Loads the key from `keyFile`, generating it on first use. */
  static fromFile(keyFile = defaultKeyFile): LocalIssuer {
    if (!existsSync(keyFile)) {
      mkdirSync(dirname(keyFile), { recursive: true });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    return new LocalIssuer(createPrivateKey(readFileSync(keyFile)));
  }

  /** A throwaway issuer (tests). */
  static ephemeral(): LocalIssuer {
    return new LocalIssuer(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  }

  token(claims: TokenClaims): string {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.audience,
      sub: claims.sub,
      iat: now,
      exp: now + (claims.expiresIn ?? 3600),
      jti: randomUUID(),
      ...(claims.email !== undefined && { email: claims.email, email_verified: claims.emailVerified ?? true }),
      ...(claims.username !== undefined && { preferred_username: claims.username }),
      realm_access: { roles: claims.realmRoles ?? ['default-roles-jaqpot'] },
      ...claims.extra,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return this.signRaw({ alg: 'RS256', typ: 'JWT', kid: this.kid }, payload);
  }

  /** Signs any header and payload with the issuer's key (RS256), for tests of hostile tokens. */
  signRaw(header: Record<string, unknown>, payload: Record<string, unknown>): string {
    const signingInput = `${base64url(header)}.${base64url(payload)}`;
    const signature = sign('RSA-SHA256', Buffer.from(signingInput), this.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

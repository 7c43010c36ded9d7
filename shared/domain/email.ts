/**
 * Email addresses: a practical RFC 5321/5322 subset. Dot-atom local part (no quoted strings),
 * a DNS host name with at least two labels (no IP literals), ASCII only (internationalized
 * domains must be given in punycode, which also keeps Cyrillic lookalikes out), at most 254
 * characters. Invitations store the address as given (trimmed) plus a normalized form
 * (lower case) used for every comparison.
 */
const MAX_LENGTH = 254;
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOP_LEVEL_LABEL = /^([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

/** Surrounding spaces and tabs are forgiven; anything else (CR, LF, NUL, ...) is not. */
export function trimEmail(raw: string): string {
  return raw.replace(/^[ \t]+|[ \t]+$/g, '');
}

export function isValidEmail(address: string): boolean {
  if (address.length === 0 || address.length > MAX_LENGTH) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at !== address.indexOf('@')) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) return false;
  if (domain.length > 253) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  if (!labels.every((label) => DOMAIN_LABEL.test(label))) return false;
  return TOP_LEVEL_LABEL.test(labels[labels.length - 1]!);
}

/**
 * The comparison form: ASCII letters lower-cased, nothing else touched. Token emails are
 * compared with this too, without trimming. Full Unicode lower-casing would fold lookalikes
 * into ASCII (the Kelvin sign U+212A becomes "k"), letting another address match.
 */
export function normalizeEmail(address: string): string {
  return address.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

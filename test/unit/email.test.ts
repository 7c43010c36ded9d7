import { describe, expect, it } from 'vitest';
import { isValidEmail, normalizeEmail, trimEmail } from '../../shared/domain/email.ts';

const label = (length: number, char = 'a') => char.repeat(length);

/** local(64) + '@' + a 189-character domain made of legal labels = 254 characters. */
const LOCAL_64 = label(64, 'l');
const DOMAIN_189 = `${label(63, 'a')}.${label(63, 'b')}.${label(57, 'c')}.com`;
const EMAIL_254 = `${LOCAL_64}@${DOMAIN_189}`;

describe('isValidEmail', () => {
  it('builds the boundary fixtures with the intended lengths', () => {
    expect(LOCAL_64).toHaveLength(64);
    expect(DOMAIN_189).toHaveLength(189);
    expect(EMAIL_254).toHaveLength(254);
  });

  it.each([
    ['simple', 'alice@example.com'],
    ['upper case', 'Alice.Smith@Example.COM'],
    ['plus addressing', 'alice+invites@example.com'],
    ['dots in the local part', 'first.middle.last@example.com'],
    ['subdomains', 'alice@mail.eu.example.co.uk'],
    ['punycode top-level domain', 'alice@example.xn--p1ai'],
    ['punycode label and TLD', 'alice@xn--e1afmkfd.xn--80akhbyknj4f'],
    ['digits in domain labels', 'alice@123.example4.com'],
    ['all-digit non-top labels', 'alice@1.2.3.example.org'],
    ['hyphen inside a label', 'alice@my-host.example-domain.io'],
    ['double hyphen inside a label', 'alice@ex--ample.com'],
    ['digits-only local part', '12345@example.com'],
    ['RFC 5322 atext specials', "!#$%&'*+/=?^_`{|}~-@example.com"],
    ['single-character local part and labels', 'a@b.co'],
    ['63-character domain label', `alice@${label(63)}.com`],
    ['63-character top-level domain', `alice@example.${label(63, 'z')}`],
    ['64-character local part', `${LOCAL_64}@example.com`],
    ['254 characters in total', EMAIL_254],
  ])('accepts %s: %s', (_name, address) => {
    expect(isValidEmail(address)).toBe(true);
  });

  it.each([
    ['empty string', ''],
    ['no @', 'alice.example.com'],
    ['two @', 'alice@bob@example.com'],
    ['two adjacent @', 'alice@@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'alice@'],
    ['only @', '@'],
    ['leading dot in local part', '.alice@example.com'],
    ['trailing dot in local part', 'alice.@example.com'],
    ['double dot in local part', 'al..ice@example.com'],
    ['trailing dot in domain', 'alice@example.com.'],
    ['leading dot in domain', 'alice@.example.com'],
    ['double dot in domain', 'alice@example..com'],
    ['single-label domain', 'alice@localhost'],
    ['label starting with a hyphen', 'alice@-example.com'],
    ['label ending with a hyphen', 'alice@example-.com'],
    ['TLD starting with a hyphen', 'alice@example.-com'],
    ['64-character domain label', `alice@${label(64)}.com`],
    ['64-character top-level domain', `alice@example.${label(64, 'z')}`],
    ['numeric top-level domain', 'alice@example.123'],
    ['single-letter top-level domain', 'alice@example.c'],
    ['bare punycode prefix as TLD', 'alice@example.xn--'],
    ['underscore in the domain', 'alice@ex_ample.com'],
    ['255 characters in total', `${LOCAL_64}@${label(63, 'a')}.${label(63, 'b')}.${label(58, 'c')}.com`],
    ['65-character local part', `${label(65)}@example.com`],
    ['space inside the local part', 'ali ce@example.com'],
    ['space inside the domain', 'alice@exa mple.com'],
    ['surrounding spaces (not trimmed by the validator)', ' alice@example.com '],
    ['tab inside', 'ali\tce@example.com'],
    ['CR at the end', 'alice@example.com\r'],
    ['LF at the end', 'alice@example.com\n'],
    ['CRLF header injection', 'alice@example.com\r\nBcc: evil@example.com'],
    ['LF inside the local part', 'ali\nce@example.com'],
    ['NUL at the end', 'alice@example.com\u0000'],
    ['NUL inside', 'ali\u0000ce@example.com'],
    ['BEL control character', 'ali\u0007ce@example.com'],
    ['DEL control character', 'alice\u007f@example.com'],
    ['vertical tab', 'alice@exam\u000bple.com'],
    ['form feed', 'alice\f@example.com'],
    ['Cyrillic а lookalike in the local part', 'p\u0430ypal@example.com'],
    ['Cyrillic а lookalike in the domain', 'alice@p\u0430ypal.com'],
    ['unicode local part', 'jöhn@example.com'],
    ['unicode domain (not punycode)', 'alice@bücher.de'],
    ['unicode TLD', 'alice@example.рф'],
    ['emoji', '😀@example.com'],
    ['non-breaking space', 'alice\u00a0@example.com'],
    ['zero-width space', 'ali\u200bce@example.com'],
    ['quoted local part', '"alice"@example.com'],
    ['quoted local part with a space', '"al ice"@example.com'],
    ['quoted local part with @', '"al@ice"@example.com'],
    ['IPv4 literal', 'alice@[127.0.0.1]'],
    ['IPv6 literal', 'alice@[IPv6:::1]'],
    ['bare IPv4 address', 'alice@127.0.0.1'],
    ['display-name form', 'Alice <alice@example.com>'],
    ['comma-separated list', 'alice@example.com,bob@example.com'],
    ['semicolon-separated list', 'alice@example.com;bob@example.com'],
    ['parenthesised comment', 'alice(comment)@example.com'],
    ['backslash', 'ali\\ce@example.com'],
    ['port in the domain', 'alice@example.com:25'],
    ['path after the domain', 'alice@example.com/x'],
  ])('rejects %s', (_name, address) => {
    expect(isValidEmail(address)).toBe(false);
  });
});

describe('trimEmail', () => {
  it.each([
    ['leading and trailing spaces', '  alice@example.com  ', 'alice@example.com'],
    ['leading and trailing tabs', '\t\talice@example.com\t', 'alice@example.com'],
    ['mixed spaces and tabs', ' \t alice@example.com \t ', 'alice@example.com'],
    ['nothing to trim', 'alice@example.com', 'alice@example.com'],
    ['only whitespace', ' \t ', ''],
  ])('removes %s', (_name, raw, expected) => {
    expect(trimEmail(raw)).toBe(expected);
  });

  it('keeps whitespace inside the address', () => {
    expect(trimEmail('  ali ce@example.com ')).toBe('ali ce@example.com');
    expect(trimEmail('\tali\tce@example.com\t')).toBe('ali\tce@example.com');
  });

  it.each([
    ['trailing CR', 'alice@example.com\r'],
    ['trailing LF', 'alice@example.com\n'],
    ['trailing CRLF', 'alice@example.com\r\n'],
    ['leading LF', '\nalice@example.com'],
    ['trailing NUL', 'alice@example.com\u0000'],
    ['trailing vertical tab', 'alice@example.com\u000b'],
    ['trailing form feed', 'alice@example.com\f'],
    ['trailing non-breaking space', 'alice@example.com\u00a0'],
  ])('does not remove %s', (_name, raw) => {
    expect(trimEmail(raw)).toBe(raw);
  });

  it('stops at a CR or LF: spaces beyond it are kept', () => {
    expect(trimEmail(' alice@example.com \n ')).toBe('alice@example.com \n');
    expect(trimEmail(' \r alice@example.com')).toBe('\r alice@example.com');
  });

  it('a trimmed address with a CR/LF is still invalid', () => {
    expect(isValidEmail(trimEmail(' alice@example.com\r\n '))).toBe(false);
    expect(isValidEmail(trimEmail(' \talice@example.com\t '))).toBe(true);
  });
});

describe('normalizeEmail', () => {
  it('lower-cases both parts', () => {
    expect(normalizeEmail('Alice.Smith@Example.COM')).toBe('alice.smith@example.com');
  });

  it('is idempotent', () => {
    const once = normalizeEmail('MiXeD+Tag@Sub.Example.Org');
    expect(normalizeEmail(once)).toBe(once);
  });

  it('does not trim (token emails are compared as they are)', () => {
    expect(normalizeEmail(' Alice@Example.com ')).toBe(' alice@example.com ');
  });

  it('does not fold a Cyrillic lookalike onto ASCII', () => {
    expect(normalizeEmail('P\u0410YPAL@example.com')).not.toBe(normalizeEmail('PAYPAL@example.com'));
  });

  it('keeps punycode as is (apart from case)', () => {
    expect(normalizeEmail('alice@XN--P1AI.xn--p1ai')).toBe('alice@xn--p1ai.xn--p1ai');
  });
});

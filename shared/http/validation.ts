/**
 * Validating a request against its declaration (valibot schemas in bodies.ts and params.ts).
 * Checks stop at the first issue, in declaration order, and its message is the answer, so a
 * client learns the first thing wrong, named by its field.
 */
import * as v from 'valibot';
import { invalidInput, type DomainError } from '../domain/errors.ts';
import { ORGANIZATION_NAME } from '../domain/organization.ts';

export function validate<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  refuse: (message: string) => DomainError = invalidInput,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  throw refuse(messageOf(result.issues[0]));
}

/**
 * An issue inside a list names its entry (`emails[3] is not a valid email address.`): entry
 * schemas declare the rest of the message, since only the finished issue knows the index.
 */
function messageOf(issue: v.BaseIssue<unknown>): string {
  const path = issue.path ?? [];
  if (!path.some((item) => item.type === 'array')) return issue.message;
  const label = path
    .map((item, index) => (item.type === 'array' ? `[${String(item.key)}]` : `${index === 0 ? '' : '.'}${String(item.key)}`))
    .join('');
  return `${label} ${issue.message}`;
}

/**
 * An organization name (the domain's rule) in a body or a path, with the messages of the
 * caller's choice: `type` when it is no string, `rule` when it breaks the rule.
 */
export function organizationName(type: v.ErrorMessage<v.StringIssue> | undefined, rule?: string) {
  return v.pipe(
    v.string(type),
    v.regex(ORGANIZATION_NAME.pattern, rule),
    v.minLength(ORGANIZATION_NAME.minLength, rule),
    v.maxLength(ORGANIZATION_NAME.maxLength, rule),
  );
}

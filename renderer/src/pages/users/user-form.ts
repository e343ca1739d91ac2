/** Field checks of the user dialogs, with the control contract's own schemas. */
import type { z } from 'zod';
import { passwordSchema, senderAddressSchema, userNameSchema } from '../../../../server/protocol/index.ts';
import { fieldIssuesFromZod } from '../../state/config-validation.ts';
import { issueText } from '../../settings/issue-text.ts';
import { t } from '../../i18n/index.ts';

function check(schema: z.ZodType, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : issueText(fieldIssuesFromZod(r.error.issues)[0]);
}

/** The allowed-senders text area: one address per line (commas and spaces separate too). */
export function parseSenders(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface UserFormErrors {
  name?: string | undefined;
  password?: string | undefined;
  confirm?: string | undefined;
  senders?: string | undefined;
}

/** Problems of the add-user / set-password form; `name` is checked only when given. */
export function userFormErrors(form: { name?: string; password: string; confirm: string; senders?: string }): UserFormErrors {
  const errors: UserFormErrors = {};
  if (form.name !== undefined) errors.name = check(userNameSchema, form.name);
  errors.password = check(passwordSchema, form.password);
  if (!errors.password && form.password !== form.confirm) errors.confirm = t('users.form.mismatch');
  if (form.senders !== undefined) {
    const bad = parseSenders(form.senders).find((s) => !senderAddressSchema.safeParse(s).success);
    if (bad) errors.senders = t('users.form.badSender', { address: bad });
  }
  return errors;
}

export function hasErrors(errors: UserFormErrors): boolean {
  return Object.values(errors).some(Boolean);
}

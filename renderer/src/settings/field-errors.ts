/** Translated field errors of a config editor, by key path. */
import type { ConfigEditor } from '../state/config-editor.svelte.ts';
import type { FieldIssue } from '../state/config-validation.ts';
import { issueText } from './issue-text.ts';

/** `err('general.profile.hostname')` → the translated message, or undefined. */
export function errorsOf(editor: ConfigEditor): (path: string) => string | undefined {
  return (path) => issueText(editor.issueAt(path));
}

/** The same for an item validated on its own (list dialogs). */
export function errorsIn(issues: ReadonlyMap<string, FieldIssue>, show = true): (path: string) => string | undefined {
  return (path) => (show ? issueText(issues.get(path)) : undefined);
}

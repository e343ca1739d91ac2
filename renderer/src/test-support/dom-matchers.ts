/**
 * The few DOM matchers the component tests use (jest-dom is not a dependency): disabled / enabled,
 * checked, attributes, presence in the document.
 */
import { expect } from 'vitest';

interface DomMatchers<R = unknown> {
  toBeDisabled(): R;
  toBeEnabled(): R;
  toBeChecked(): R;
  toBeInTheDocument(): R;
  toHaveAttribute(name: string, value?: string): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any -- augmenting vitest's own generic interface
  interface Assertion<T = any> extends DomMatchers<T> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- augmenting vitest's own interface
  interface AsymmetricMatchersContaining extends DomMatchers {}
}

function element(received: unknown): Element {
  if (!(received instanceof Element)) throw new TypeError(`expected a DOM element, got ${String(received)}`);
  return received;
}

function isDisabled(el: Element): boolean {
  return (el as HTMLButtonElement).disabled === true || el.closest('fieldset:disabled') !== null;
}

expect.extend({
  toBeDisabled(received: unknown) {
    const pass = isDisabled(element(received));
    return { pass, message: () => `expected element ${pass ? 'not ' : ''}to be disabled` };
  },
  toBeEnabled(received: unknown) {
    const pass = !isDisabled(element(received));
    return { pass, message: () => `expected element ${pass ? 'not ' : ''}to be enabled` };
  },
  toBeChecked(received: unknown) {
    const pass = (element(received) as HTMLInputElement).checked === true;
    return { pass, message: () => `expected element ${pass ? 'not ' : ''}to be checked` };
  },
  toBeInTheDocument(received: unknown) {
    const pass = element(received).ownerDocument.contains(element(received));
    return { pass, message: () => `expected element ${pass ? 'not ' : ''}to be in the document` };
  },
  toHaveAttribute(received: unknown, name: string, value?: string) {
    const el = element(received);
    const actual = el.getAttribute(name);
    const pass = value === undefined ? el.hasAttribute(name) : actual === value;
    return { pass, message: () => `expected ${name}${value === undefined ? '' : `="${value}"`} ${pass ? 'not ' : ''}to be set (it is ${actual === null ? 'absent' : `"${actual}"`})` };
  },
});

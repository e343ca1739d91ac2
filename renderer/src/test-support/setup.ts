// Component tests: unmount after each test, and start every test in English.
import '@testing-library/svelte/vitest';
import './dom-matchers.ts';
import { beforeEach } from 'vitest';
import { i18n } from '../i18n/index.ts';

beforeEach(() => {
  i18n.setLocale('en');
  window.location.hash = '';
});

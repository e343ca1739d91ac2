import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Settings } from '../api/relay-desk.ts';
import { i18n } from '../i18n/index.ts';
import { createTestApi, ok, testContext } from '../test-support/fake-api.ts';
import LanguageSwitch from './LanguageSwitch.svelte';

const base: Settings = { keepLocalRelayRunning: false, startLocalRelay: true, language: 'system' };

async function setup(stored: Partial<Settings> = {}) {
  const t = createTestApi({
    getSettings: vi.fn(async () => ok({ ...base, ...stored })),
    updateSettings: vi.fn(async (patch?: Partial<Settings>) => ok({ ...base, ...stored, ...patch })),
  });
  const { context } = await testContext(t.api);
  render(LanguageSwitch, { context });
  await waitFor(() => expect(t.api.getSettings).toHaveBeenCalled());
  return t;
}

// The shared setup switches to English, which saves 'en'; start each test with nothing saved.
beforeEach(() => localStorage.clear());

describe('language switch', () => {
  it('switches the UI and stores the choice as the app setting (so main follows)', async () => {
    const t = await setup();
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'de' } });
    expect(i18n.locale).toBe('de');
    expect(document.documentElement.lang).toBe('de');
    expect(screen.getByText('Sprache')).toBeInTheDocument();
    expect(t.api.updateSettings).toHaveBeenCalledWith({ language: 'de' });
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'en' } });
    expect(t.api.updateSettings).toHaveBeenLastCalledWith({ language: 'en' });
    expect(i18n.locale).toBe('en');
  });

  it('starts in the stored language', async () => {
    await setup({ language: 'de' });
    await waitFor(() => expect(i18n.locale).toBe('de'));
    expect((screen.getByTestId('language') as HTMLSelectElement).value).toBe('de');
  });

  it('follows a language change made elsewhere, without storing it again', async () => {
    const t = await setup();
    t.emit('onSettingsChanged', { ...base, language: 'de' });
    await waitFor(() => expect(i18n.locale).toBe('de'));
    t.emit('onSettingsChanged', { ...base, language: 'system' });
    expect(i18n.locale).toBe('de');
    expect(t.api.updateSettings).not.toHaveBeenCalled();
  });

  it('keeps "system" as it is, but carries over a choice made in this window before the setting existed', async () => {
    const fresh = await setup();
    expect(fresh.api.updateSettings).not.toHaveBeenCalled();
    localStorage.setItem('relayDesk.locale', 'de');
    const earlier = await setup();
    await waitFor(() => expect(earlier.api.updateSettings).toHaveBeenCalledWith({ language: 'de' }));
  });
});

import { describe, expect, it } from 'vitest';
import { I18n } from './i18n.svelte.ts';
import { wordMessage } from './message-text.ts';

// The app's own catalog: these are the words a German user reads.
const de = new I18n({ locale: 'de' });

describe('wordMessage', () => {
  it('words a known key in the user’s language, causes included', () => {
    const refused = { key: 'errors.ssh.refused', params: { address: 'nas.lan:22' } };
    expect(wordMessage({ message: 'nothing listens on nas.lan:22 (connection refused)', say: refused }, de)).toBe(
      'Unter nas.lan:22 nimmt kein Dienst Verbindungen an (Verbindung abgelehnt)',
    );
    const lost = { key: 'errors.ssh.lostBecause', params: { reason: refused } };
    expect(wordMessage({ message: 'the SSH connection was lost (…); reconnecting', say: lost }, de)).toBe(
      'Die SSH-Verbindung ist abgebrochen (Unter nas.lan:22 nimmt kein Dienst Verbindungen an (Verbindung abgelehnt)); es wird neu verbunden',
    );
  });

  it('formats number params for the locale', () => {
    const say = { key: 'errors.remote.commandTimeout', params: { seconds: 1.5 } };
    expect(wordMessage({ message: 'a command on the host took longer than 1.5 s', say }, de)).toBe('Ein Befehl auf dem Host hat länger als 1,5 s gedauert');
  });

  it('falls back to the English message for an unknown key, also inside a cause, and without a key', () => {
    expect(wordMessage({ message: 'the flux capacitor is cold', say: { key: 'errors.flux.cold' } }, de)).toBe('the flux capacitor is cold');
    const nested = { key: 'errors.ssh.notConnectedBecause', params: { reason: { key: 'errors.flux.cold' } } };
    expect(wordMessage({ message: 'not connected: the flux capacitor is cold', say: nested }, de)).toBe('not connected: the flux capacitor is cold');
    expect(wordMessage({ message: 'queue.show: no such message' }, de)).toBe('queue.show: no such message');
  });
});

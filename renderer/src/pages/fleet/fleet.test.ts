import { describe, expect, it } from 'vitest';
import type { InstanceState } from '../../api/relay-desk.ts';
import { catalog } from '../../i18n/catalog.ts';
import { LOCALES } from '../../i18n/message-types.ts';
import { ALERT_KEYS, alertsFor } from './fleet-alerts.ts';

const state = (status: InstanceState['status'], extra: Partial<InstanceState> = {}): InstanceState => ({ status, message: '', since: 0, retryAt: null, relayVersion: null, hostKey: null, ...extra });

describe('fleet alerts', () => {
  it('names what needs attention', () => {
    expect(alertsFor(state('connected'), 0)).toEqual([]);
    expect(alertsFor(state('connected'), 3)).toEqual([{ kind: 'oldDeferred', severity: 'warning', count: 3 }]);
    expect(alertsFor(state('auth-failed'), null).map((a) => a.kind)).toEqual(['authFailed']);
    expect(alertsFor(state('host-key-changed'), null).map((a) => a.kind)).toEqual(['hostKeyChanged']);
    expect(alertsFor(state('relay-stopped'), null).map((a) => a.kind)).toEqual(['relayDown']);
    expect(alertsFor(state('failed'), null).map((a) => a.kind)).toEqual(['relayDown']);
  });
  it('tells a lost connection from one closed on purpose', () => {
    expect(alertsFor(state('disconnected'), null)).toEqual([]);
    expect(alertsFor(state('disconnected', { retryAt: 5, message: 'connection reset' }), null).map((a) => a.kind)).toEqual(['relayDown']);
  });
  it('has the text of every alert in every language', () => {
    for (const locale of LOCALES) expect(Object.values(ALERT_KEYS).filter((k) => !catalog.messages[locale].has(k))).toEqual([]);
  });
});

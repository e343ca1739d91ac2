import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../server/config/config-file.ts';
import type { RelayConfig } from '../../server/config/schema.ts';
import { checkConfigWrite, configRevision, redactConfig, resolveConfigWrite } from '../../server/control/config-access.ts';
import { ControlError, findMethod, redactedConfigSchema } from '../../server/protocol/index.ts';

function withRelayHosts(): RelayConfig {
  const c = defaultConfig();
  c.delivery = {
    mode: 'relayHost',
    relayHost: { host: 'smtp.example.com', port: 587, security: 'starttls', username: 'relay', password: 'main-secret', verifyCertificate: true },
    exceptions: [
      {
        name: 'partners',
        targetType: 'recipient',
        targets: ['partner.example'],
        relayHost: { host: 'mx.partner.example', port: 25, security: 'none', username: 'p', password: 'partner-secret', verifyCertificate: true },
      },
    ],
  };
  return c;
}

describe('config as the control API shows and takes it', () => {
  it('never shows a password, only whether one is set', () => {
    const red = redactConfig(withRelayHosts());
    expect(JSON.stringify(red)).not.toContain('secret');
    expect(red.delivery.relayHost).toMatchObject({ host: 'smtp.example.com', hasPassword: true });
    expect(red.delivery.exceptions[0]!.relayHost.hasPassword).toBe(true);
    expect(findMethod('config.get')!.result.safeParse({ config: red, revision: 'r' }).success).toBe(true);
    // The contract itself refuses a password in a read.
    const leaked = { ...red, delivery: { ...red.delivery, relayHost: { ...red.delivery.relayHost, password: 'x' } } };
    expect(redactedConfigSchema.safeParse(leaked).success).toBe(false);
  });

  it('keeps stored passwords when a write leaves them out, clears them when given empty', () => {
    const current = withRelayHosts();
    const roundTrip = resolveConfigWrite(redactConfig(current), current);
    expect(roundTrip.delivery.relayHost!.password).toBe('main-secret');
    expect(roundTrip.delivery.exceptions[0]!.relayHost.password).toBe('partner-secret');
    expect(roundTrip).toEqual(current);

    const red = redactConfig(current);
    const cleared = resolveConfigWrite({ ...red, delivery: { ...red.delivery, relayHost: { ...red.delivery.relayHost!, password: '' } } }, current);
    expect(cleared.delivery.relayHost!.password).toBe('');
    const changed = resolveConfigWrite({ ...red, delivery: { ...red.delivery, relayHost: { ...red.delivery.relayHost!, password: 'new' } } }, current);
    expect(changed.delivery.relayHost!.password).toBe('new');
  });

  it('does not hand an old password to a different host or user', () => {
    const current = withRelayHosts();
    const red = redactConfig(current);
    const moved = resolveConfigWrite({ ...red, delivery: { ...red.delivery, relayHost: { ...red.delivery.relayHost!, host: 'evil.example.net' } } }, current);
    expect(moved.delivery.relayHost!.password).toBe('');
    const otherUser = resolveConfigWrite({ ...red, delivery: { ...red.delivery, relayHost: { ...red.delivery.relayHost!, username: 'other' } } }, current);
    expect(otherUser.delivery.relayHost!.password).toBe('');
    const renamed = resolveConfigWrite(
      { ...red, delivery: { ...red.delivery, exceptions: [{ ...red.delivery.exceptions[0]!, name: 'renamed' }] } },
      current,
    );
    expect(renamed.delivery.exceptions[0]!.relayHost.password).toBe('');
  });

  it('lists every problem with its key path, including the cross-field rules', () => {
    const current = defaultConfig();
    const r = checkConfigWrite({ listeners: [{ port: 25 }, { port: 25 }], delivery: { mode: 'relayHost' }, queue: { retrySchedule: ['soon'] } }, current);
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path);
    expect(paths).toContain('queue.retrySchedule[0]');
    // Cross-field rules run on the merged config.
    const cross = checkConfigWrite({ listeners: [{ port: 25 }, { port: 25 }], delivery: { mode: 'relayHost' } }, current);
    expect(cross.ok ? [] : cross.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['delivery.relayHost', 'listeners[1].port']));
    expect(() => resolveConfigWrite({ nope: 1 }, current)).toThrow(ControlError);
    try {
      resolveConfigWrite({ nope: 1 }, current);
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', issues: [{ path: '(root)', message: 'unknown key "nope"' }] });
    }
  });

  it('gives a revision that follows the content', () => {
    const a = defaultConfig();
    const b = defaultConfig();
    expect(configRevision(a)).toBe(configRevision(b));
    b.general.profile.banner = 'changed';
    expect(configRevision(a)).not.toBe(configRevision(b));
  });

  it('gives a revision that follows a password change but cannot be used to test password guesses', () => {
    const withPassword = (password: string) => {
      const c = defaultConfig();
      c.delivery.relayHost = { host: 'smtp.example.com', port: 587, security: 'starttls', username: 'relay', password, verifyCertificate: true };
      return c;
    };
    const real = withPassword('hunter2');
    expect(configRevision(real)).not.toBe(configRevision(withPassword('other')));
    // A reader knows everything but the password (config.get); a guess hashed the obvious way must not match.
    const guess = createHash('sha256').update(JSON.stringify(withPassword('hunter2'))).digest('hex');
    expect(guess.startsWith(configRevision(real))).toBe(false);
    expect(JSON.stringify(redactConfig(real))).not.toContain('hunter2');
  });
});

import { describe, expect, it } from 'vitest';
import { defaultConfig, validateConfig, loadConfigFile, saveConfigFile, ConfigFileError } from '../../server/config/config-file.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { promises as fs } from 'node:fs';
import path from 'node:path';

describe('config schema', () => {
  it('defaults to STARTTLS on 127.0.0.1:2525, direct delivery, loopback trusted', () => {
    const c = defaultConfig();
    expect(c.listeners).toEqual([{ name: 'smtp', host: '127.0.0.1', port: 2525, tls: 'starttls' }]);
    expect(c.delivery.mode).toBe('direct');
    expect(c.relayControl.trustedNetworks.map((t) => t.network)).toEqual(['127.0.0.0/8', '::1/128']);
    expect(c.general.auth.requireTls).toBe(true);
  });

  it('fills every key left out, so a config may name only what differs', () => {
    const r = validateConfig({ general: { profile: { hostname: 'relay.example.com' } } });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.general.profile.hostname).toBe('relay.example.com');
      expect(r.config.general.profile.maxRecipientsPerMessage).toBe(100);
      expect(r.config.queue.retrySchedule.length).toBeGreaterThan(0);
      // The greeting is "220 <hostname> ESMTP <banner>": the default banner must not say ESMTP again.
      expect(r.config.general.profile.banner).not.toMatch(/ESMTP/);
    }
  });

  it.each([
    [{ listeners: [{ port: 70000 }] }, 'listeners[0].port'],
    [{ lsteners: [] }, '(root)'],
    [{ general: { profile: { hostname: 'not a host' } } }, 'general.profile.hostname'],
    [{ delivery: { mode: 'relayHost' } }, 'delivery.relayHost'],
    [{ relayControl: { trustedNetworks: [{ name: 'x', network: '10.0.0.0/33' }] } }, 'relayControl.trustedNetworks[0].network'],
    [{ relayControl: { relayDomains: [{ name: 'x', domain: 'a.example', nextHop: 'host:99999' }] } }, 'relayControl.relayDomains[0].nextHop'],
    [{ dns: { external: ['dns.example'] } }, 'dns.external[0]'],
    // Shorthand IPv4 forms that ipaddr.js takes but node:dns does not (they crashed the relay at its first connection).
    [{ dns: { external: ['127.1'] } }, 'dns.external[0]'],
    [{ dns: { internal: ['0x7f000001:53'] } }, 'dns.internal[0]'],
    [{ queue: { retrySchedule: ['5 minutes'] } }, 'queue.retrySchedule[0]'],
    [{ security: { lists: [{ name: 'r', type: 'allow', action: 'reject', criterion: 'helo', value: 'x' }] } }, 'security.lists[0].action'],
    [{ listeners: [{ port: 25 }, { port: 25 }] }, 'listeners[1].port'],
  ])('refuses %j naming %s', (input, keyPath) => {
    const r = validateConfig(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(keyPath);
  });

  it('accepts IPv6 next hops and resolvers with ports', () => {
    const r = validateConfig({
      relayControl: { relayDomains: [{ name: 'x', domain: 'a.example', nextHop: '[2001:db8::1]:2525' }] },
      dns: { internal: ['127.0.0.1:5353', '[::1]:53'], external: ['192.0.2.53'] },
    });
    expect(r).toMatchObject({ ok: true });
  });

  it('saves atomically with mode 0600 and loads back; a broken file names the file and reason', async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.path, 'config.json');
      await saveConfigFile(file, defaultConfig());
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      expect(await loadConfigFile(file)).toEqual(defaultConfig());
      expect((await fs.readdir(tmp.path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await fs.writeFile(file, '{"listeners": [');
      await expect(loadConfigFile(file)).rejects.toThrow(ConfigFileError);
      await expect(loadConfigFile(file)).rejects.toThrow(/config\.json: \(file\): not valid JSON/);
    } finally {
      tmp.remove();
    }
  });
});

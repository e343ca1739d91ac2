/**
 * The IPC contract's receiving side without Electron: what main does with a renderer call before any
 * service runs (validate the channel and every argument, refuse with a clear error, answer as data),
 * the sender-frame policy, and the names the preload generates `window.relayDesk` from.
 */
import { describe, expect, it } from 'vitest';
import {
  apiFunctionNames,
  ipcCalls,
  ipcEvents,
  parseCallArgs,
  routedMethodNames,
  type CallChannel,
  type Result,
} from '../../electron/ipc-contract.ts';
import { APP_INDEX_URL, resolveAppFile, senderRefusal } from '../../electron/main/sender-policy.ts';
import { said } from '../../electron/services/app-error-text.ts';
import { AppError } from '../../electron/services/app-error.ts';
import type { CallHandlers } from '../../electron/services/app-services.ts';
import { dispatchCall } from '../../electron/services/ipc-dispatch.ts';

function refused(channel: string, args: unknown): string {
  const r = parseCallArgs(channel, args);
  if (r.ok) throw new Error(`${channel} accepted ${JSON.stringify(args)}`);
  expect(r.error.code).toBe('INVALID_ARGUMENT');
  return r.error.message;
}

const goodRemote = { name: 'NAS', host: 'nas.local', username: 'admin', auth: { method: 'agent' } };

describe('IPC contract: argument validation', () => {
  it('accepts good arguments and fills defaults', () => {
    const r = parseCallArgs('instances.add', { instance: goodRemote });
    expect(r).toMatchObject({ ok: true, value: { args: { instance: { port: 22, dataDir: '~/.local/share/mailrelay', nodePath: 'node' } } } });
    expect(parseCallArgs('instances.list', undefined)).toMatchObject({ ok: true });
    expect(parseCallArgs('control.call', { instanceId: 'local', method: 'status' })).toMatchObject({ ok: true });
  });

  it('fills no defaults into an update patch (an absent field stays as it is)', () => {
    expect(parseCallArgs('instances.update', { instanceId: 'r1', patch: { name: 'B' } })).toEqual({ ok: true, value: { channel: 'instances.update', args: { instanceId: 'r1', patch: { name: 'B' } } } });
    expect(refused('instances.update', { instanceId: 'r1', patch: { port: 0 } })).toMatch(/patch\.port/);
  });

  it('refuses unknown channels, also ones that look like object keys', () => {
    expect(refused('shell.exec', {})).toMatch(/unknown call "shell.exec"/);
    expect(refused('__proto__', {})).toMatch(/unknown call/);
    expect(refused('constructor', {})).toMatch(/unknown call/);
  });

  it('names every wrong key path and says what is expected', () => {
    const msg = refused('instances.add', { instance: { ...goodRemote, port: 70000, auth: { method: 'telnet' } } });
    expect(msg).toMatch(/^addInstance\(\): /);
    expect(msg).toMatch(/instance\.port: /);
    expect(msg).toMatch(/instance\.auth.*agent.*key.*password/);
  });

  it('refuses unknown keys (nothing extra slips through to the services)', () => {
    expect(refused('connection.connect', { instanceId: 'local', command: 'rm -rf /' })).toMatch(/unknown key "command"/);
    expect(refused('instances.add', { instance: { ...goodRemote, privateKey: '-----BEGIN' } })).toMatch(/instance: unknown key "privateKey"/);
  });

  it('never lets renderer input become a shell word or option on the remote host', () => {
    expect(refused('instances.add', { instance: { ...goodRemote, host: '-oProxyCommand=touch /tmp/x' } })).toMatch(/instance\.host/);
    expect(refused('instances.add', { instance: { ...goodRemote, host: 'nas.local; reboot' } })).toMatch(/instance\.host/);
    expect(refused('instances.add', { instance: { ...goodRemote, dataDir: '~/data; rm -rf ~' } })).toMatch(/instance\.dataDir/);
    expect(refused('instances.add', { instance: { ...goodRemote, dataDir: '/srv/$(reboot)' } })).toMatch(/instance\.dataDir/);
    expect(refused('instances.add', { instance: { ...goodRemote, installDir: '~/../../etc' } })).toMatch(/instance\.installDir: must not contain "\.\."/);
    expect(refused('instances.add', { instance: { ...goodRemote, installDir: 'relative/dir' } })).toMatch(/instance\.installDir/);
    expect(refused('instances.add', { instance: { ...goodRemote, nodePath: '-e' } })).toMatch(/instance\.nodePath/);
    expect(refused('instances.add', { instance: { ...goodRemote, nodePath: 'node --inspect' } })).toMatch(/instance\.nodePath/);
    expect(refused('instances.add', { instance: { ...goodRemote, username: 'root -p 2222' } })).toMatch(/instance\.username/);
  });

  it('takes key files as absolute paths only', () => {
    expect(refused('instances.add', { instance: { ...goodRemote, auth: { method: 'key', keyPath: 'id_ed25519' } } })).toMatch(/keyPath: must be an absolute path/);
    expect(parseCallArgs('instances.add', { instance: { ...goodRemote, auth: { method: 'key', keyPath: 'C:\\Users\\me\\.ssh\\id_ed25519' } } }).ok).toBe(true);
    expect(parseCallArgs('instances.add', { instance: { ...goodRemote, auth: { method: 'key', keyPath: '/home/me/.ssh/id_ed25519' } } }).ok).toBe(true);
  });

  it('checks instance ids, fingerprints and prompt answers', () => {
    expect(refused('connection.connect', { instanceId: '../local' })).toMatch(/instanceId: must be an instance id/);
    expect(refused('connection.connect', {})).toMatch(/instanceId/);
    expect(refused('hostKeys.trust', { instanceId: 'a1', fingerprint: 'MD5:aa:bb' })).toMatch(/fingerprint: must be a SHA256: fingerprint/);
    expect(refused('auth.respond', { promptId: 'p', answers: 'pw' })).toMatch(/answers/);
  });

  it('routes only contract methods through control.call (no auth, no connection-bound subscriptions)', () => {
    expect(routedMethodNames).toContain('queue.list');
    expect(routedMethodNames).not.toContain('auth');
    expect(refused('control.call', { instanceId: 'local', method: 'auth' })).toMatch(/method/);
    expect(refused('control.call', { instanceId: 'local', method: 'logs.subscribe' })).toMatch(/method/);
    expect(refused('control.call', { instanceId: 'local', method: 'exec' })).toMatch(/method/);
  });

  it('refuses a secret where the auth method has none, and an empty secret', () => {
    expect(refused('instances.add', { instance: goodRemote, secrets: { password: '' } })).toMatch(/secrets\.password: must not be empty/);
  });

  it('takes the UI language setting as en, de or system only', () => {
    for (const language of ['en', 'de', 'system']) {
      expect(parseCallArgs('settings.update', { language })).toEqual({ ok: true, value: { channel: 'settings.update', args: { language } } });
    }
    expect(refused('settings.update', { language: 'fr' })).toMatch(/^updateSettings\(\): language: must be "en", "de" or "system"$/);
    expect(refused('settings.update', { language: 'DE' })).toMatch(/language/);
    expect(refused('settings.update', { language: null })).toMatch(/language/);
    expect(refused('settings.update', { lang: 'de' })).toMatch(/unknown key "lang"/);
    expect(ipcCalls['settings.get'].result.safeParse({ keepLocalRelayRunning: false, startLocalRelay: true }).success).toBe(false);
    expect(ipcEvents['settings.changed'].payload.parse({ keepLocalRelayRunning: false, startLocalRelay: true, language: 'de' })).toMatchObject({ language: 'de' });
  });
});

describe('IPC dispatch: results as data', () => {
  const calls: unknown[] = [];
  const handlers = new Proxy({} as CallHandlers, {
    get: (_t, channel: string) => async (args: unknown) => {
      calls.push({ channel, args });
      if (channel === 'instances.remove') throw new AppError('UNKNOWN_INSTANCE', said('instances.unknown', { id: 'x1' }));
      if (channel === 'instances.list') throw new Error('disk on fire');
      return { echoed: args };
    },
  });

  it('answers {ok:true, value} with the parsed (defaulted) arguments', async () => {
    const r = await dispatchCall(handlers, 'instances.export', undefined);
    expect(r).toEqual({ ok: true, value: { echoed: { includeHostKeys: true } } });
  });

  it('never calls a handler with bad arguments', async () => {
    calls.length = 0;
    const r = await dispatchCall(handlers, 'connection.connect', { instanceId: 5 });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', issues: [{ path: 'instanceId' }] } });
    expect(calls).toEqual([]);
  });

  it('turns thrown errors into {ok:false, error:{code, message}}; unexpected ones are INTERNAL', async () => {
    expect(await dispatchCall(handlers, 'instances.remove', { instanceId: 'x1' })).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_INSTANCE', message: 'no instance with id "x1"', say: { key: 'errors.instances.unknown', params: { id: 'x1' } } },
    });
    expect(await dispatchCall(handlers, 'instances.list', {})).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'disk on fire' } });
  });

  it('a call never rejects, whatever the renderer sends', async () => {
    for (const junk of [null, 42, 'x', [], { a: 1 }, Symbol.for('x'), () => 1]) {
      for (const channel of [...Object.keys(ipcCalls), 'nope']) {
        const r: Result<unknown> = await dispatchCall(handlers, channel, junk);
        expect(typeof r.ok).toBe('boolean');
      }
    }
  });
});

describe('sender frame policy (stands in for Electron: main checks event.senderFrame with it)', () => {
  it('accepts only the main frame of our window on app://relay-desk', () => {
    expect(senderRefusal({ url: APP_INDEX_URL, isOwnMainFrame: true })).toBeNull();
    expect(senderRefusal({ url: 'app://relay-desk/#/queue', isOwnMainFrame: true })).toBeNull();
    expect(senderRefusal({ url: APP_INDEX_URL, isOwnMainFrame: false })).toMatch(/main frame/);
    expect(senderRefusal({ url: 'https://evil.example/', isOwnMainFrame: true })).toMatch(/not Relay Desk's own page/);
    expect(senderRefusal({ url: 'file:///tmp/x.html', isOwnMainFrame: true })).toMatch(/not Relay Desk's own page/);
    expect(senderRefusal({ url: 'app://other/index.html', isOwnMainFrame: true })).toMatch(/not Relay Desk's own page/);
    expect(senderRefusal({ url: null, isOwnMainFrame: true })).toMatch(/gone/);
  });

  it('serves files below the renderer folder only', () => {
    expect(resolveAppFile('/r', '/')).toBe('/r/index.html');
    expect(resolveAppFile('/r', '/assets/app.js')).toBe('/r/assets/app.js');
    expect(resolveAppFile('/r', '/../etc/passwd')).toBeNull();
    expect(resolveAppFile('/r', '/%2e%2e/etc/passwd')).toBeNull();
    expect(resolveAppFile('/r', '/a/..%2f..%2fsecret')).toBeNull();
    expect(resolveAppFile('/r', '/a%5c..%5csecret')).toBeNull();
    expect(resolveAppFile('/r', '/%00')).toBeNull();
    expect(resolveAppFile('/r', '/%E0%A4%A')).toBeNull();
  });
});

describe('window.relayDesk names (what the preload generates)', () => {
  it('one distinct function per call and one on* per event', () => {
    const callFns = Object.values(ipcCalls).map((d) => d.fn);
    const eventFns = Object.values(ipcEvents).map((d) => d.fn);
    expect(new Set([...callFns, ...eventFns]).size).toBe(callFns.length + eventFns.length);
    for (const fn of eventFns) expect(fn).toMatch(/^on[A-Z]/);
    for (const fn of callFns) expect(fn).not.toMatch(/^on[A-Z]/);
    expect(Object.keys(apiFunctionNames.calls).sort()).toEqual([...callFns].sort());
    expect(apiFunctionNames.calls.controlCall).toBe('control.call' satisfies CallChannel);
  });

  it('covers what the renderer needs', () => {
    expect(Object.keys(apiFunctionNames.calls)).toEqual(
      expect.arrayContaining([
        'listInstances',
        'addInstance',
        'updateInstance',
        'removeInstance',
        'importInstances',
        'exportInstances',
        'connect',
        'disconnect',
        'trustHostKey',
        'importKnownHosts',
        'installRelay',
        'upgradeRelay',
        'controlCall',
        'subscribeLogs',
      ]),
    );
    expect(Object.keys(apiFunctionNames.events)).toEqual(expect.arrayContaining(['onInstanceState', 'onInstancesChanged', 'onLogEvent', 'onInstallProgress']));
  });
});

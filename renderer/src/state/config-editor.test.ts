import { describe, expect, it } from 'vitest';
import { createTestApi, ok, redactedConfig } from '../test-support/fake-api.ts';
import { ConfigEditor } from './config-editor.svelte.ts';

function relayWith(config = redactedConfig(), revision = 'r1') {
  const t = createTestApi();
  const state = { config, revision, applied: [] as unknown[] };
  t.control.set('config.get', () => ok({ config: structuredClone(state.config), revision: state.revision }));
  t.control.set('config.apply', (p) => {
    const params = p as { config: typeof config; baseRevision: string };
    if (params.baseRevision !== state.revision) return { ok: false, error: { code: 'CONFLICT', message: 'changed meanwhile' } };
    state.applied.push(params.config);
    state.config = structuredClone(params.config);
    state.revision = `${state.revision}+`;
    return ok({ revision: state.revision });
  });
  return { ...t, state, editor: new ConfigEditor(t.api, 'local') };
}

describe('ConfigEditor', () => {
  it('loads the config and starts clean', async () => {
    const { editor } = relayWith();
    await editor.load();
    expect(editor.loadState).toBe('ready');
    expect(editor.revision).toBe('r1');
    expect(editor.dirty).toBe(false);
    expect(editor.issues()).toEqual([]);
  });

  it('takes a config with settings of a newer relay without issues, and applies them back unchanged', async () => {
    const base = redactedConfig();
    const newer = { ...base, general: { ...base.general, greylisting: { enabled: true } } } as typeof base;
    const { editor, state } = relayWith(newer);
    await editor.load();
    expect(editor.issues()).toEqual([]);
    editor.draft!.general.auth.enabled = true;
    expect(await editor.apply()).toBe('applied');
    expect((state.applied[0] as { general: Record<string, unknown> }).general.greylisting).toEqual({ enabled: true });
  });

  it('is dirty after a change and clean again after discard', async () => {
    const { editor } = relayWith();
    await editor.load();
    editor.draft!.general.auth.enabled = true;
    expect(editor.dirty).toBe(true);
    expect(editor.isDirtyIn(['general'])).toBe(true);
    expect(editor.isDirtyIn(['security'])).toBe(false);
    editor.discard();
    expect(editor.dirty).toBe(false);
  });

  it('reports schema issues at their key paths and refuses to apply them', async () => {
    const { editor, controlCalls } = relayWith();
    await editor.load();
    editor.draft!.general.profile.hostname = 'not a host';
    editor.draft!.relayControl.trustedNetworks.push({ name: 'x', network: '10.0.0.0/33' });
    expect(editor.issueAt('general.profile.hostname')?.message).toBe('is not a valid host or domain name');
    expect(editor.issueAt('relayControl.trustedNetworks[2].network')).toBeDefined();
    expect(editor.issuesUnder('relayControl.trustedNetworks[2]')).toHaveLength(1);
    expect(await editor.apply()).toBe('invalid');
    expect(controlCalls.filter((c) => c.method === 'config.apply')).toEqual([]);
  });

  it('applies with the revision it read and reloads after', async () => {
    const { editor, state, controlCalls } = relayWith();
    await editor.load();
    editor.draft!.general.disableAutoForwarding = true;
    expect(await editor.apply()).toBe('applied');
    const apply = controlCalls.find((c) => c.method === 'config.apply');
    expect(apply?.params).toMatchObject({ baseRevision: 'r1', config: { general: { disableAutoForwarding: true } } });
    expect(state.revision).toBe('r1+');
    expect(editor.revision).toBe('r1+');
    expect(editor.dirty).toBe(false);
  });

  it('leaves out a relay-host password the user kept, and sends a new one', async () => {
    const { editor, controlCalls } = relayWith(redactedConfig({ delivery: { mode: 'relayHost', relayHost: { host: 'smtp.example.com', password: 'x' } } }, true));
    await editor.load();
    expect(editor.draft!.delivery.relayHost).toMatchObject({ hasPassword: true });
    expect(editor.draft!.delivery.relayHost).not.toHaveProperty('password');
    editor.draft!.delivery.relayHost!.port = 2525;
    await editor.apply();
    let sent = controlCalls.at(-2)?.params as { config: { delivery: { relayHost: Record<string, unknown> } } };
    expect(sent.config.delivery.relayHost).not.toHaveProperty('password');
    editor.draft!.delivery.relayHost!.password = 'new secret';
    await editor.apply();
    sent = controlCalls.at(-2)?.params as typeof sent;
    expect(sent.config.delivery.relayHost['password']).toBe('new secret');
  });

  it('keeps a CONFLICT for the user; reload takes the relay’s config', async () => {
    const { editor, state } = relayWith();
    await editor.load();
    state.revision = 'r2';
    state.config.general.profile.banner = 'theirs';
    editor.draft!.general.profile.banner = 'mine';
    expect(await editor.apply()).toBe('conflict');
    expect(editor.conflict).toBe(true);
    expect(editor.dirty).toBe(true);
    await editor.resolveConflictByReload();
    expect(editor.conflict).toBe(false);
    expect(editor.draft!.general.profile.banner).toBe('theirs');
    expect(editor.revision).toBe('r2');
  });

  it('overwrite applies our changes on top of the other change', async () => {
    const { editor, state } = relayWith();
    await editor.load();
    // Someone else changes the banner; we change max hops.
    state.revision = 'r2';
    state.config.general.profile.banner = 'theirs';
    editor.draft!.general.profile.maxHops = 30;
    expect(await editor.apply()).toBe('conflict');
    expect(await editor.resolveConflictByOverwrite()).toBe('applied');
    const applied = state.applied.at(-1) as { general: { profile: { banner: string; maxHops: number } } };
    expect(applied.general.profile).toMatchObject({ banner: 'theirs', maxHops: 30 });
    expect(editor.dirty).toBe(false);
  });

  it('shows issues the relay reported on apply at their fields', async () => {
    const t = createTestApi();
    t.control.set('config.get', () => ok({ config: redactedConfig(), revision: 'r1' }));
    t.control.set('config.apply', () => ({
      ok: false,
      error: { code: 'BIND_FAILED', message: '0.0.0.0:25 is in use', issues: [{ path: 'config.listeners[0].port', message: '0.0.0.0:25 is in use' }] },
    }));
    const editor = new ConfigEditor(t.api, 'local');
    await editor.load();
    editor.draft!.listeners[0]!.port = 25;
    expect(await editor.apply()).toBe('invalid');
    expect(editor.issueAt('listeners[0].port')?.message).toBe('0.0.0.0:25 is in use');
    expect(editor.applyError?.code).toBe('BIND_FAILED');
  });
});

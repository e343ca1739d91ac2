import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import UsersPage from './UsersPage.svelte';
import { parseSenders, userFormErrors } from './user-form.ts';

describe('user form', () => {
  it('checks name, password, repetition and sender addresses', () => {
    expect(userFormErrors({ name: '', password: '', confirm: '', senders: '' })).toMatchObject({ name: expect.any(String), password: expect.any(String) });
    expect(userFormErrors({ name: 'bob', password: 'x', confirm: 'y', senders: '' }).confirm).toBe('The passwords do not match.');
    expect(userFormErrors({ name: 'bob', password: 'x', confirm: 'x', senders: 'ok@example.com, broken' }).senders).toContain('“broken”');
    expect(userFormErrors({ name: 'bob', password: 'x', confirm: 'x', senders: 'a@b.example' })).toEqual({ name: undefined, password: undefined, confirm: undefined, senders: undefined });
    expect(parseSenders('a@b, c@d\n e@f')).toEqual(['a@b', 'c@d', 'e@f']);
  });
});

describe('UsersPage', () => {
  it('adds a user through the dialog and warns that authentication is off', async () => {
    const t = createTestApi();
    const users: Array<{ name: string; allowedSenders: string[]; createdAt: number; updatedAt: number }> = [];
    t.control.set('users.list', () => ok({ users: [...users] }));
    t.control.set('config.get', () => ok({ config: redactedConfig(), revision: 'r1' }));
    t.control.set('users.add', (p) => {
      const { name, allowedSenders } = p as { name: string; allowedSenders: string[] };
      users.push({ name, allowedSenders, createdAt: 1, updatedAt: 1 });
      return ok({ user: users.at(-1)! });
    });
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'users' });
    render(UsersPage, { props: { instanceId: 'local', tab: undefined }, context });
    await waitFor(() => expect(screen.getByText('SMTP authentication is off')).toBeInTheDocument());
    await fireEvent.click(screen.getByRole('button', { name: 'Add user' }));
    await fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'scanner' } });
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'pw' } });
    await fireEvent.input(screen.getByLabelText('Repeat password'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    await waitFor(() => expect(screen.getByText('User scanner was added.')).toBeInTheDocument());
    expect(t.controlCalls.find((c) => c.method === 'users.add')?.params).toEqual({ name: 'scanner', password: 'pw', allowedSenders: [] });
    expect(screen.getByRole('table', { name: 'SMTP users' }).textContent).toContain('scanner');
  });
});

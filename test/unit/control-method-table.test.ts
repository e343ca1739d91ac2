import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ControlError,
  ERROR_NUMBERS,
  METHODS,
  buildMethodTable,
  errorCodeFromNumber,
  findMethod,
  methodNames,
  permits,
  type MethodDef,
} from '../../server/protocol/index.ts';

/** SPEC §1.7, spelled out independently of the table. */
const SPEC_METHODS = [
  'auth',
  'status',
  'config.get',
  'config.validate',
  'config.apply',
  'queue.list',
  'queue.show',
  'queue.retry',
  'queue.hold',
  'queue.release',
  'queue.delete',
  'queue.bounce',
  'queue.flush',
  'logs.query',
  'logs.subscribe',
  'logs.unsubscribe',
  'stats.get',
  'users.list',
  'users.add',
  'users.remove',
  'users.setPassword',
  'test.send',
  'dns.check',
  'service.reload',
  'service.stop',
];

function issuesOf(name: string, params: unknown): { path: string; message: string }[] {
  const def = findMethod(name)!;
  const r = def.params.safeParse(params);
  expect(r.success, `${name} should refuse ${JSON.stringify(params)}`).toBe(false);
  return r.error!.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

describe('method table', () => {
  it('has exactly the SPEC methods, each with schemas, a permission and a doc line', () => {
    expect([...methodNames].sort()).toEqual([...SPEC_METHODS].sort());
    for (const name of methodNames) {
      const def = METHODS[name] as MethodDef;
      expect(def.name).toBe(name);
      expect(def.params).toBeInstanceOf(z.ZodType);
      expect(def.result).toBeInstanceOf(z.ZodType);
      expect(['read', 'write']).toContain(def.permission);
      expect(def.doc.length).toBeGreaterThan(10);
      expect(def.doc).not.toContain('\n');
    }
  });

  it('refuses a duplicate registration', () => {
    const m = { name: 'x.y', params: z.object({}), result: z.object({}), permission: 'read', doc: 'x' } as const;
    expect(() => buildMethodTable([m, { ...m, doc: 'again' }])).toThrow(/x\.y.*twice/);
  });

  it('does not find prototype keys or unknown names', () => {
    for (const n of ['__proto__', 'constructor', 'toString', 'queue', 'QUEUE.LIST', '']) expect(findMethod(n)).toBeUndefined();
  });

  it('marks changing methods as write and looking ones as read', () => {
    for (const n of ['config.apply', 'queue.delete', 'queue.flush', 'users.add', 'users.setPassword', 'service.stop', 'test.send']) {
      expect(findMethod(n)!.permission).toBe('write');
    }
    for (const n of ['status', 'config.get', 'queue.list', 'logs.query', 'stats.get', 'users.list']) expect(findMethod(n)!.permission).toBe('read');
    expect(permits('read', 'write')).toBe(false);
    expect(permits('write', 'read')).toBe(true);
  });

  it('rejects bad params with key paths', () => {
    expect(issuesOf('queue.list', { limit: 1001 })).toEqual([expect.objectContaining({ path: 'limit' })]);
    expect(issuesOf('queue.list', { filter: { sender: 5 } })[0]!.path).toBe('filter.sender');
    expect(issuesOf('queue.list', { state: 'frozen' })[0]!.path).toBe('state');
    expect(issuesOf('queue.list', { filter: { bogus: 1 } })[0]!.path).toBe('filter');
    expect(issuesOf('queue.show', { id: '../../etc/passwd' })[0]!.path).toBe('id');
    expect(issuesOf('queue.retry', { ids: [] })[0]!.path).toBe('ids');
    expect(issuesOf('queue.retry', {})[0]!.message).toMatch(/either "ids" or "filter"/);
    expect(issuesOf('queue.retry', { ids: ['a'], filter: {} })[0]!.message).toMatch(/either "ids" or "filter"/);
    expect(issuesOf('stats.get', { from: 10, to: 5, step: 60 })[0]!.path).toBe('to');
    expect(issuesOf('stats.get', { from: 0, to: 1000, step: 90 })[0]!.path).toBe('step');
    expect(issuesOf('users.add', { name: 'a\u0000b', password: 'x' })[0]!.path).toBe('name');
    expect(issuesOf('users.add', { name: 'x'.repeat(256), password: 'x' })[0]!.path).toBe('name');
    expect(issuesOf('logs.query', { since: 0, filter: { event: 'nope' } })[0]!.path).toBe('filter.event');
    expect(issuesOf('config.apply', { baseRevision: 'r', config: { listeners: [{ port: 70000 }] } })[0]!.path).toBe('config.listeners.0.port');
    expect(issuesOf('config.apply', { baseRevision: 'r', config: { delivery: { relayHost: { host: 'x.example', passwort: 'y' } } } })[0]!.path).toBe(
      'config.delivery.relayHost',
    );
    expect(issuesOf('status', { extra: true })[0]!.path).toBe('');
  });

  it('fills defaults and accepts the documented shapes', () => {
    expect(findMethod('queue.list')!.params.parse({})).toEqual({ state: 'all', filter: {}, offset: 0, limit: 100 });
    expect(findMethod('queue.hold')!.params.parse({ filter: { domain: 'example.com' } })).toEqual({ filter: { domain: 'example.com' }, state: 'all' });
    expect(findMethod('queue.hold')!.params.parse({ ids: ['0192f3a1c2d4-5f1a9c07e2'] })).toEqual({ ids: ['0192f3a1c2d4-5f1a9c07e2'] });
    expect(findMethod('logs.query')!.params.parse({ since: 0, filter: { event: ['reject', 'auth'] } })).toMatchObject({ limit: 500 });
    const apply = findMethod('config.apply')!.params.parse({ baseRevision: 'r1', config: { delivery: { mode: 'relayHost', relayHost: { host: 'smtp.example.com', hasPassword: true } } } }) as {
      config: { delivery: { relayHost: { password?: string } } };
    };
    expect(apply.config.delivery.relayHost.password).toBeUndefined();
  });
});

describe('error codes', () => {
  it('maps every code to a distinct JSON-RPC number and back', () => {
    const numbers = Object.values(ERROR_NUMBERS);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const [code, n] of Object.entries(ERROR_NUMBERS)) expect(errorCodeFromNumber(n)).toBe(code);
    expect(ERROR_NUMBERS.PARSE_ERROR).toBe(-32700);
    expect(ERROR_NUMBERS.METHOD_NOT_FOUND).toBe(-32601);
    expect(ERROR_NUMBERS.INVALID_PARAMS).toBe(-32602);
    expect(errorCodeFromNumber(12345)).toBe('INTERNAL');
  });

  it('round-trips a ControlError through its wire form', () => {
    const e = new ControlError('CONFLICT', 'the config changed meanwhile', [{ path: 'x', message: 'y' }]);
    const back = ControlError.fromRpcError(JSON.parse(JSON.stringify(e.toRpcError())));
    expect(back).toMatchObject({ code: 'CONFLICT', message: 'the config changed meanwhile', issues: [{ path: 'x', message: 'y' }] });
    expect(ControlError.fromRpcError({ code: -32004, message: 'gone' }).code).toBe('NOT_FOUND');
    expect(ControlError.fromRpcError('nonsense').code).toBe('BAD_RESPONSE');
    expect(new ControlError('TIMEOUT', 't').toRpcError().data.code).toBe('UNAVAILABLE');
  });
});

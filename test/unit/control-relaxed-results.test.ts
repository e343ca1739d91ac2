// An app reads the answers of a newer relay: fields it does not know are dropped at any depth, while
// a missing or mistyped field is still an error. The relay itself keeps checking params strictly.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findMethod, keepingUnknown, relaxed, type MethodResult } from '../../server/protocol/index.ts';
import { newQueueId } from '../../server/queue/queue-id.ts';

const dnsResult = (): MethodResult<'dns.check'> => ({
  ok: false,
  checks: [
    {
      name: 'A record of the host name',
      subject: 'relay.example.com',
      status: 'fail',
      expected: 'at least one A or AAAA record',
      found: [],
      fix: 'Give relay.example.com an A record.',
      code: 'hostname.noAddress',
      params: { host: 'relay.example.com' },
    },
  ],
});

describe('relaxed result schemas', () => {
  it('accept a dns.check answer with fields added at the top and inside a check, and drop them', () => {
    const strict = findMethod('dns.check')!.result;
    const answer = { ...dnsResult(), checkedAt: 123, checks: [{ ...dnsResult().checks[0], severity: 'high' }] };
    expect(strict.safeParse(answer).success).toBe(false);
    const r = relaxed(strict).safeParse(answer);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(dnsResult());
  });

  it('still refuse an answer with a field missing or of the wrong type', () => {
    const schema = relaxed(findMethod('dns.check')!.result);
    const { ok: _ok, ...withoutOk } = dnsResult();
    expect(schema.safeParse(withoutOk).success).toBe(false);
    expect(schema.safeParse({ ...dnsResult(), checks: [{ ...dnsResult().checks[0], status: 'maybe' }] }).success).toBe(false);
  });

  it('keep refinements and reach into arrays, records, unions, optional and nullable values', () => {
    const item = z.object({ x: z.number() }).strict();
    const schema = z
      .object({ a: z.string(), list: z.array(item).optional(), byKey: z.record(z.string(), item).nullable(), either: z.union([item, z.literal('none')]) })
      .strict()
      .refine((v) => v.a !== 'bad', 'a must not be "bad"');
    const loose = relaxed(schema);
    const r = loose.safeParse({ a: 'ok', more: 1, list: [{ x: 1, y: 2 }], byKey: { k: { x: 2, z: 3 } }, either: { x: 3, w: 4 } });
    expect(r.data).toEqual({ a: 'ok', list: [{ x: 1 }], byKey: { k: { x: 2 } }, either: { x: 3 } });
    expect(loose.safeParse({ a: 'bad', byKey: null, either: 'none' }).success).toBe(false);
    // A loose object keeps passing unknown keys through (log lines carry the event's own fields).
    expect(relaxed(z.looseObject({ t: z.number() })).parse({ t: 1, rule: 'x' })).toEqual({ t: 1, rule: 'x' });
    // The original is unchanged: still strict.
    expect(schema.safeParse({ a: 'ok', more: 1, byKey: null, either: 'none' }).success).toBe(false);
  });

  it('keepingUnknown keeps unknown keys at every depth and still checks the known ones', () => {
    const schema = z.object({ a: z.string(), inner: z.object({ n: z.number() }).strict(), list: z.array(z.object({ x: z.number() }).strict()) }).strict();
    const keep = keepingUnknown(schema);
    const value = { a: 'x', extra: { deep: 1 }, inner: { n: 1, more: 'y' }, list: [{ x: 1, z: true }] };
    expect(keep.parse(value)).toEqual(value);
    expect(keep.safeParse({ ...value, inner: { n: 'one' } }).success).toBe(false);
    expect(schema.safeParse(value).success).toBe(false);
  });

  it('relaxes every method result of the table without error, and params stay strict', () => {
    for (const name of ['status', 'config.get', 'queue.list', 'logs.query', 'stats.get', 'users.list', 'test.send', 'dns.check'] as const) {
      expect(() => relaxed(findMethod(name)!.result)).not.toThrow();
    }
    const params = findMethod('queue.retry')!.params;
    const ids = [newQueueId()];
    expect(params.safeParse({ ids }).success).toBe(true);
    expect(params.safeParse({ ids, typo: true }).success).toBe(false);
  });
});

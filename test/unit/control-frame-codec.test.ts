import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../server/control/frame-codec.ts';
import { MAX_FRAME_BYTES } from '../../server/protocol/index.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('frame codec', () => {
  it('splits lines and joins frames split across chunks, also inside a UTF-8 character', () => {
    const d = new FrameDecoder();
    expect(d.push(b('{"a":1}\n{"b":'))).toEqual([{ kind: 'message', value: { a: 1 } }]);
    const euro = b('"€"}\n');
    expect(d.push(euro.subarray(0, 2))).toEqual([]);
    expect(d.push(Buffer.concat([euro.subarray(2), b('\n\r\n[1]\n')]))).toEqual([
      { kind: 'message', value: { b: '€' } },
      { kind: 'message', value: [1] },
    ]);
    expect(d.buffered).toBe(0);
  });

  it('reports garbage as invalid JSON and keeps going', () => {
    const d = new FrameDecoder();
    const out = d.push(b('not json\n{"ok":true}\n'));
    expect(out[0]!.kind).toBe('invalid-json');
    expect(out[1]).toEqual({ kind: 'message', value: { ok: true } });
  });

  it('reports an oversize frame as soon as it passes the cap, without buffering it, and skips its rest', () => {
    const d = new FrameDecoder(100);
    expect(d.push(b('x'.repeat(60)))).toEqual([]);
    expect(d.push(b('x'.repeat(60)))).toEqual([{ kind: 'too-large' }]);
    expect(d.buffered).toBe(0);
    expect(d.push(b('y'.repeat(500)))).toEqual([]);
    expect(d.buffered).toBe(0);
    expect(d.push(b('zzz\n{"after":1}\n'))).toEqual([{ kind: 'message', value: { after: 1 } }]);
  });

  it('accepts a frame of exactly the cap and refuses one byte more', () => {
    const exact = `"${'a'.repeat(MAX_FRAME_BYTES - 2)}"`;
    expect(new FrameDecoder().push(b(`${exact}\n`))[0]!.kind).toBe('message');
    expect(new FrameDecoder().push(b(`${exact} \n`))[0]!.kind).toBe('too-large');
    const d = new FrameDecoder();
    const out = d.push(b(`${'x'.repeat(MAX_FRAME_BYTES + 1)}\n{"n":2}\n`));
    expect(out).toEqual([{ kind: 'too-large' }, { kind: 'message', value: { n: 2 } }]);
  });

  it('encodes one line per message and refuses to encode past the cap', () => {
    expect(encodeFrame({ a: 'b\nc' })).toBe('{"a":"b\\nc"}\n');
    expect(encodeFrame('€'.repeat(MAX_FRAME_BYTES / 3 + 10))).toBeNull();
    expect(encodeFrame('a'.repeat(MAX_FRAME_BYTES - 2))).not.toBeNull();
    expect(encodeFrame('a'.repeat(MAX_FRAME_BYTES - 1))).toBeNull();
  });
});

/**
 * The inspector between the SMTP data stream and the spool: it must always finish (a MIME
 * structure mailsplit gives up on must not leave the session without a reply) and must not pass on
 * more than the message size limit (a client must not be able to fill the disk with one DATA).
 */
import { describe, expect, it } from 'vitest';
import { MessageInspector } from '../../server/smtp/message-inspector.ts';

/** Feed `chunks` to a fresh inspector; resolves with the bytes it let through and the inspector. */
async function inspect(chunks: Buffer[], attachmentLimit: number | null, maxBytes: number | null = null): Promise<{ out: number; inspector: MessageInspector }> {
  const inspector = new MessageInspector(attachmentLimit, maxBytes);
  let out = 0;
  for (const chunk of chunks) if (inspector.inspect(chunk)) out += chunk.length;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the inspector never finished')), 5000);
  });
  try {
    await Promise.race([inspector.finish(), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
  return { out, inspector };
}

function multipart(parts: number, partHeader = 'Content-Type: text/plain'): Buffer {
  let body = 'Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n';
  for (let i = 0; i < parts; i++) body += `--b\r\n${partHeader}\r\n\r\nx\r\n`;
  return Buffer.from(`${body}--b--\r\n`);
}

describe('message inspector', () => {
  it('finishes a message with more MIME parts than mailsplit follows (limit then unenforced)', async () => {
    const msg = multipart(1100);
    const { out, inspector } = await inspect([msg], 1024);
    expect(out).toBe(msg.length);
    expect(inspector.result.oversizeAttachment).toBeNull();
  });

  it('finishes a message whose MIME part header is larger than mailsplit takes', async () => {
    const msg = multipart(2, `Content-Type: text/plain\r\nX-Pad: ${'a'.repeat(300 * 1024)}`);
    const { out } = await inspect([msg], 1024);
    expect(out).toBe(msg.length);
  });

  it('still measures attachments of ordinary messages', async () => {
    const big = Buffer.alloc(4096, 'a').toString();
    const msg = Buffer.from(`Subject: t\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="big.txt"\r\n\r\n${big}\r\n--b--\r\n`);
    const { inspector } = await inspect([msg], 1024);
    expect(inspector.result.oversizeAttachment?.name).toBe('big.txt');
  });

  it('passes nothing past the message size limit and says so', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const head = Buffer.from('Subject: big\r\n\r\n');
    const { out, inspector } = await inspect([head, ...Array.from({ length: 64 }, () => chunk)], null, 256 * 1024);
    expect(inspector.result.sizeExceeded).toBe(true);
    expect(out).toBeLessThanOrEqual(256 * 1024);
  });

  it('passes a message at the limit unchanged', async () => {
    const msg = Buffer.concat([Buffer.from('Subject: t\r\n\r\n'), Buffer.alloc(1000, 'y')]);
    const { out, inspector } = await inspect([msg], null, msg.length);
    expect(inspector.result.sizeExceeded).toBe(false);
    expect(out).toBe(msg.length);
  });

  it('finds the end of the header wherever the chunks split it, as one chunk would', async () => {
    const msg = Buffer.from('Received: from a\r\nReceived: from b\r\nResent-From: x@y.example\r\nSubject: s\r\n\r\nbody\r\n\r\nmore\r\n');
    const whole = (await inspect([msg], null)).inspector.result;
    expect(whole).toMatchObject({ receivedCount: 2, autoForwardMarker: 'Resent-From: x@y.example', headerBytes: msg.indexOf('\r\n\r\n') });
    for (let at = 1; at < msg.length; at++) {
      const split = (await inspect([msg.subarray(0, at), msg.subarray(at)], null)).inspector.result;
      expect(split, `split at ${at}`).toEqual(whole);
    }
    const bytes = Array.from(msg, (b) => Buffer.from([b]));
    expect((await inspect(bytes, null)).inspector.result).toEqual(whole);
    // Bare LF line ends too.
    const lf = Buffer.from('Received: from a\nSubject: s\n\nbody\n');
    expect((await inspect(Array.from(lf, (b) => Buffer.from([b])), null)).inspector.result).toMatchObject({ receivedCount: 1, headerBytes: lf.indexOf('\n\n') });
  });
});

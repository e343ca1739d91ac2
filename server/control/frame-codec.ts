/**
 * Newline-delimited JSON frames with a hard size cap (like ZoneMTA's frame parser): a peer that
 * sends a line longer than the cap is reported as soon as the cap is passed, so nothing ever buffers
 * more than one capped frame per connection.
 */
import { MAX_FRAME_BYTES } from '../protocol/index.ts';

/** What one line of input turned into. */
export type DecodedFrame =
  | { kind: 'message'; value: unknown }
  | { kind: 'invalid-json'; error: string }
  /** The line passed the cap; its remaining bytes up to the next newline are skipped. */
  | { kind: 'too-large' };

const NL = 0x0a;

/** Splits a byte stream into JSON values, one per line. Empty lines are ignored. */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Bytes of an unfinished line held so far. */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.discarding) {
        if (nl !== -1) this.discarding = false;
      } else if (this.size + (end - start) > this.maxBytes) {
        out.push({ kind: 'too-large' });
        this.reset();
        this.discarding = nl === -1;
      } else {
        if (end > start) {
          this.parts.push(chunk.subarray(start, end));
          this.size += end - start;
        }
        if (nl !== -1) {
          const frame = this.take();
          if (frame) out.push(frame);
        }
      }
      if (nl === -1) break;
      start = nl + 1;
    }
    return out;
  }

  private take(): DecodedFrame | null {
    const line = (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size)).toString('utf8');
    this.reset();
    if (line.trim() === '') return null;
    try {
      return { kind: 'message', value: JSON.parse(line) as unknown };
    } catch (err) {
      return { kind: 'invalid-json', error: (err as Error).message };
    }
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
  }
}

/** One message as a frame (JSON + "\n"); null when it would pass the cap. */
export function encodeFrame(message: unknown, maxBytes = MAX_FRAME_BYTES): string | null {
  const text = JSON.stringify(message);
  // UTF-8 needs at most 3 bytes per UTF-16 unit: count bytes only when the text might not fit.
  if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) return null;
  return `${text}\n`;
}

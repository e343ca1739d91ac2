/**
 * Records of the intake log (see intake-log.ts): a message record carries the bytes its spool file
 * would hold (envelope line + body); a done record says the message left the log (delivered, deleted,
 * or written to its own file). Each record checks itself with a CRC-32, so recovery can tell where a
 * write that never completed begins.
 *
 *   0  "RDL1"          magic
 *   4  kind            1 message, 2 done
 *   5  id length       bytes of the queue id that follows the header
 *   6  0, 0            reserved
 *   8  payload length  u32 LE
 *  12  CRC-32          u32 LE, over bytes 4..12, the id and the payload
 *  16  id, payload
 */
import zlib from 'node:zlib';

export const RECORD_MESSAGE = 1;
export const RECORD_DONE = 2;
const MAGIC = 0x314c4452; // "RDL1" read as a little-endian u32
const HEADER = 16;

export interface LogRecord {
  kind: typeof RECORD_MESSAGE | typeof RECORD_DONE;
  id: string;
  /** A view into the segment's bytes (message records only; empty for done records). */
  payload: Buffer;
}

export interface ParsedSegment {
  records: LogRecord[];
  /** Bytes from the start that hold whole, intact records. */
  validBytes: number;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

// zlib's own CRC-32 (Node >= 20.15 / 22.2) is many times faster than the table below, which keeps
// older Node versions working; both give the same values.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (IEEE, as zlib's) of `buf[start, end)`, continuing from `crc` when given. */
export function crc32(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  if (nativeCrc32) return nativeCrc32(buf.subarray(start, end), crc);
  return tableCrc32(buf, start, end, crc);
}

/** The same CRC-32 in plain JavaScript (exported so tests can check it against zlib's). */
export function tableCrc32(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * One record as bytes: the header, the id, then `parts` (the payload) copied behind them. The buffer
 * has its own memory (not a slice of Node's shared pool), so it can be moved to the file thread.
 */
export function encodeRecord(kind: LogRecord['kind'], id: string, parts: readonly Buffer[] = []): Buffer {
  const idLen = Buffer.byteLength(id, 'latin1');
  if (idLen === 0 || idLen > 255) throw new Error(`not a queue id: ${JSON.stringify(id)}`);
  let payloadLen = 0;
  for (const p of parts) payloadLen += p.length;
  const rec = Buffer.allocUnsafeSlow(HEADER + idLen + payloadLen);
  rec.writeUInt32LE(MAGIC, 0);
  rec[4] = kind;
  rec[5] = idLen;
  rec[6] = 0;
  rec[7] = 0;
  rec.writeUInt32LE(payloadLen, 8);
  rec.write(id, HEADER, 'latin1');
  let at = HEADER + idLen;
  for (const p of parts) at += p.copy(rec, at);
  rec.writeUInt32LE(crc32(rec, HEADER, rec.length, crc32(rec, 4, 12)), 12);
  return rec;
}

/**
 * The intact records at the start of a segment. Parsing stops at the first record that is cut short
 * or fails its check: the log is only appended to, and a record is acknowledged only after an fsync
 * that also covers everything before it, so nothing acknowledged can follow a damaged record.
 */
export function parseSegment(buf: Buffer): ParsedSegment {
  const records: LogRecord[] = [];
  let at = 0;
  while (buf.length - at >= HEADER) {
    if (buf.readUInt32LE(at) !== MAGIC) break;
    const kind = buf[at + 4]!;
    const idLen = buf[at + 5]!;
    const payloadLen = buf.readUInt32LE(at + 8);
    const end = at + HEADER + idLen + payloadLen;
    if ((kind !== RECORD_MESSAGE && kind !== RECORD_DONE) || idLen === 0 || end > buf.length) break;
    if (crc32(buf, at + HEADER, end, crc32(buf, at + 4, at + 12)) !== buf.readUInt32LE(at + 12)) break;
    const id = buf.toString('latin1', at + HEADER, at + HEADER + idLen);
    records.push({ kind: kind as LogRecord['kind'], id, payload: buf.subarray(at + HEADER + idLen, end) });
    at = end;
  }
  return { records, validBytes: at };
}

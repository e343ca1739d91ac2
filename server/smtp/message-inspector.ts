/**
 * Looks at a message while it streams to the spool, without holding it in memory: counts Received
 * headers (hop limit), spots auto-forward markers, and — only when an attachment limit is set —
 * measures each MIME part with mailsplit. The caller passes on each chunk `inspect` approves, up to
 * the message size limit: past it nothing more is passed on (the message is refused at the end
 * anyway), so a client cannot fill the spool's disk with one endless DATA. A plain object rather
 * than a Transform stream: a stream per message was a measurable share of the intake's CPU time.
 */
import { Splitter } from 'mailsplit';

/** What the inspector found once the stream ended. */
export interface InspectionResult {
  receivedCount: number;
  /** The header that marks the message as auto-forwarded, e.g. "Auto-Submitted: auto-forwarded". */
  autoForwardMarker: string | null;
  /** The first attachment over the limit. */
  oversizeAttachment: { name: string; bytes: number } | null;
  headerBytes: number;
  /** More bytes came than the size limit allows (the rest was not passed on). */
  sizeExceeded: boolean;
}

const AUTO_FORWARD_HEADERS = ['resent-from', 'resent-sender', 'x-forwarded-to', 'x-forwarded-for', 'x-ms-exchange-inbox-rules-loop', 'x-mailfwdby'];
/** The header block is only parsed up to this size; longer header blocks are counted as they come. */
const MAX_HEADER_SCAN = 256 * 1024;
/** The end of the header block: an empty line. */
const BLANK_LINE = /\r?\n\r?\n/;

export class MessageInspector {
  /** The header block so far, in pieces (joined once, at its end). */
  private headParts: string[] = [];
  private headLength = 0;
  /** The last 3 characters seen, where a blank line may have begun. */
  private headTail = '';
  private headDone = false;
  private splitter: Splitter | null = null;
  private currentPart: { name: string; bytes: number; base64: boolean } | null = null;
  private bytes = 0;
  readonly result: InspectionResult = { receivedCount: 0, autoForwardMarker: null, oversizeAttachment: null, headerBytes: 0, sizeExceeded: false };

  /** `maxBytes`: the message size limit (null: none). */
  constructor(
    private readonly attachmentLimitBytes: number | null,
    private readonly maxBytes: number | null = null,
  ) {
    if (attachmentLimitBytes !== null) this.startSplitter(attachmentLimitBytes);
  }

  /** Look at the next chunk; false once the size limit is passed (drop the chunk, and all after it). */
  inspect(chunk: Buffer): boolean {
    if (this.result.sizeExceeded) return false;
    this.bytes += chunk.length;
    if (this.maxBytes !== null && this.bytes > this.maxBytes) {
      this.result.sizeExceeded = true;
      return false;
    }
    if (!this.headDone) this.scanHead(chunk);
    if (this.splitter) this.splitter.write(chunk);
    return true;
  }

  /** The message has ended: resolves once `result` is complete. Never rejects. */
  finish(): Promise<void> {
    if (!this.headDone) this.finishHead(this.headParts.join(''));
    const splitter = this.splitter;
    if (!splitter) return Promise.resolve();
    // A splitter that fails now (or failed before) never emits 'end', only 'close'.
    return new Promise<void>((resolve) => {
      splitter.once('end', () => resolve());
      splitter.once('close', () => resolve());
      splitter.end();
    });
  }

  private scanHead(chunk: Buffer): void {
    // Only the new text (behind the last 3 characters, where a blank line may have begun) is
    // searched, and the pieces are joined once: smtp-server hands over a chunk per line, and
    // searching or flattening the whole header again for each made a long header quadratic.
    const text = chunk.toString('latin1');
    const window = this.headTail + text;
    const m = BLANK_LINE.exec(window);
    if (m) {
      const cut = m.index - this.headTail.length;
      this.headParts.push(cut >= 0 ? text.slice(0, cut) : '');
      const head = this.headParts.join('');
      // A blank line that began in the previous chunk: drop the part of it already stored.
      this.finishHead(cut >= 0 ? head : head.slice(0, head.length + cut));
      return;
    }
    this.headParts.push(text);
    this.headLength += text.length;
    this.headTail = window.slice(-3);
    if (this.headLength > MAX_HEADER_SCAN) this.finishHead(this.headParts.join(''));
  }

  private finishHead(head: string): void {
    this.headDone = true;
    this.headParts = [];
    this.headTail = '';
    this.result.headerBytes = head.length;
    for (const line of head.split(/\r?\n(?![ \t])/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'received') this.result.receivedCount++;
      else if (!this.result.autoForwardMarker) {
        if (name === 'auto-submitted' && /^auto-forwarded\b/i.test(value)) this.result.autoForwardMarker = `Auto-Submitted: ${value}`;
        else if (AUTO_FORWARD_HEADERS.includes(name)) this.result.autoForwardMarker = `${line.slice(0, colon)}: ${value.slice(0, 80)}`;
      }
    }
  }

  private startSplitter(limit: number): void {
    const splitter = new Splitter({ ignoreEmbedded: false, maxHeadSize: MAX_HEADER_SCAN });
    splitter.on('data', (data: { type: string; value?: Buffer; filename?: string | false; contentType?: string; encoding?: string; multipart?: string | false }) => {
      if (data.type === 'node') {
        this.closePart(limit);
        // multipart containers carry no attachment body of their own
        this.currentPart = data.multipart
          ? null
          : { name: data.filename || data.contentType || 'part', bytes: 0, base64: (data.encoding ?? '').toLowerCase() === 'base64' };
      } else if (data.type === 'body' && this.currentPart && data.value) {
        this.currentPart.bytes += data.value.length;
      }
    });
    splitter.on('end', () => this.closePart(limit));
    // A MIME structure mailsplit cannot follow (too many parts, a huge part header) is not our business
    // to reject: the limit is then unenforced for it. The failed splitter is dropped, so nothing writes
    // to it any more and the end of the message does not wait for an 'end' it will never emit.
    splitter.on('error', () => {
      splitter.removeAllListeners('data');
      if (this.splitter === splitter) this.splitter = null;
      this.currentPart = null;
    });
    this.splitter = splitter;
  }

  private closePart(limit: number): void {
    const p = this.currentPart;
    this.currentPart = null;
    if (!p || this.result.oversizeAttachment) return;
    // Compare the decoded size: base64 carries 3 bytes in 4 characters (plus line breaks).
    const decoded = p.base64 ? Math.floor((p.bytes * 3) / 4 / (78 / 76)) : p.bytes;
    if (decoded > limit) this.result.oversizeAttachment = { name: p.name, bytes: decoded };
  }
}

/** Header fields of a stored message, for `queue.show`: the header block split into fields and unfolded. */

/** One header field, its value unfolded (RFC 5322 §2.2.3) and trimmed. */
export interface HeaderField {
  name: string;
  value: string;
}

/** Most fields returned; a message with more (a mail loop, an attack) is cut here. */
const MAX_FIELDS = 500;
/** Longest value kept per field, so one huge header cannot push the reply past the frame cap. */
const MAX_VALUE_CHARS = 8192;

/**
 * Split a header block (as `readHeaderBlock` returns it) into fields. Continuation lines join the
 * field before them; a line that is neither a field nor a continuation is skipped, as mail readers do.
 */
export function parseHeaderFields(block: Buffer | string): HeaderField[] {
  const text = typeof block === 'string' ? block : block.toString('utf8');
  const fields: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the blank line that ends the header
    if (/^[ \t]/.test(line)) {
      const last = fields[fields.length - 1];
      if (last && last.value.length < MAX_VALUE_CHARS) last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (!/^[!-9;-~]+$/.test(name)) continue;
    if (fields.length >= MAX_FIELDS) break;
    fields.push({ name, value: line.slice(colon + 1).trim() });
  }
  for (const f of fields) if (f.value.length > MAX_VALUE_CHARS) f.value = `${f.value.slice(0, MAX_VALUE_CHARS)}…`;
  return fields;
}

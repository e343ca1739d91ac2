/**
 * Reading a password for `mailrelay user`: from standard input when it is a pipe or file (the first
 * line), else from the terminal without echo, asked twice. Never from the command line, where other
 * users could read it in the process list.
 */
import type { Readable, Writable } from 'node:stream';
import { CliError } from './cli-error.ts';

/** A terminal input stream (process.stdin when it is a TTY). */
interface TtyInput extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** The password from `input`: piped → first line; terminal → prompted twice on `output`, no echo. */
export async function readPassword(input: TtyInput, output: Writable): Promise<string> {
  if (!input.isTTY || !input.setRawMode) return firstLine(input);
  const first = await promptHidden(input, output, 'Password: ');
  const again = await promptHidden(input, output, 'Retype password: ');
  if (first !== again) throw new CliError('the passwords do not match');
  return first;
}

async function firstLine(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buf);
    size += buf.length;
    if (buf.includes(0x0a) || size > 64 * 1024) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split('\n')[0]!.replace(/\r$/, '');
  if (line === '') throw new CliError('no password on standard input (give it as the first line)');
  return line;
}

/** One line typed without echo; Ctrl-C aborts, backspace edits. */
function promptHidden(input: TtyInput, output: Writable, prompt: string): Promise<string> {
  // Echo off before the prompt shows: whatever is typed after it must never appear.
  input.setRawMode!(true);
  input.resume();
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err: Error | null): void => {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u0004' && value === '') return done(new CliError('cancelled', 1));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** `mailrelay dial-stdio`: stdin/stdout joined to the control socket, for an SSH exec channel. */
import { dialStdio } from '../control/dial-stdio.ts';

export const DIAL_STDIO_USAGE = `Usage: mailrelay dial-stdio [--data-dir DIR]

Joins standard input and output to the relay's control socket (DIR/control.sock). It authenticates
with DIR/control.key itself, so the key never leaves this machine, then sends one "ready"
notification and passes control frames both ways. Meant to be run over SSH by Relay Desk:
  ssh relay-host mailrelay dial-stdio --data-dir DIR
On failure it writes one JSON-RPC error (id null) to standard output and exits 1.
`;

export function runDialStdio(dataDir: string): Promise<number> {
  return dialStdio(dataDir, process.stdin, process.stdout, { stderr: process.stderr });
}

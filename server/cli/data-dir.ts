/** Where the relay keeps its config, queue, logs and keys when no --data-dir is given. */
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.MAILRELAY_DATA_DIR) return path.resolve(env.MAILRELAY_DATA_DIR);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'mailrelay');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'mailrelay');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'mailrelay');
}

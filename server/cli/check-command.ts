/** `mailrelay check`: validate a config file and list every problem with its key path. */
import { ConfigFileError, loadConfigFile } from '../config/config-file.ts';

export async function runCheck(file: string): Promise<number> {
  try {
    await loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    process.stderr.write(`${file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}\n`);
    for (const i of err.issues) process.stderr.write(`  ${i.path}: ${i.message}\n`);
    return 1;
  }
  process.stdout.write(`${file}: ok\n`);
  return 0;
}

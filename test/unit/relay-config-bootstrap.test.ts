import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadOrCreateConfig, RelayStartError } from '../../server/runtime/relay.ts';
import { defaultConfig } from '../../server/config/config-file.ts';
import { makeTempDir } from '../support/temp-dir.ts';

describe('config bootstrap', () => {
  it('writes the embedded default (mode 0600) when DIR/config.json is missing', async () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir.path, 'config.json');
      const config = await loadOrCreateConfig(file, true);
      expect(config).toEqual(defaultConfig());
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(defaultConfig());
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      dir.remove();
    }
  });

  it('never creates an explicitly named config file, and names it when it is missing', async () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir.path, 'named.json');
      await expect(loadOrCreateConfig(file, false)).rejects.toThrow(RelayStartError);
      await expect(loadOrCreateConfig(file, false)).rejects.toThrow(/named\.json: \(file\): file not found/);
      writeFileSync(file, '{"general":{"profile":{"hostname":"relay.example.com"}}}');
      expect((await loadOrCreateConfig(file, false)).general.profile.hostname).toBe('relay.example.com');
    } finally {
      dir.remove();
    }
  });
});

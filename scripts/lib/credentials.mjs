// The admin and write keys the services use when they create the default workspace in an empty database.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_DIR, ensureDir, log } from './util.mjs';

export const CREDENTIALS_FILE = join(STATE_DIR, 'credentials.json');

// Env vars win over the saved file; missing keys are generated. The file is written only when a key
// was missing, and then records the keys in effect, so it matches what the database was seeded with.
export function loadCredentials() {
  const saved = existsSync(CREDENTIALS_FILE) ? JSON.parse(readFileSync(CREDENTIALS_FILE, 'utf8')) : {};
  const credentials = {
    ...saved,
    adminKey: process.env.TESSERA_ADMIN_KEY || saved.adminKey || `tsk_${randomBytes(32).toString('base64url')}`,
    writeKey: process.env.TESSERA_WRITE_KEY || saved.writeKey || `twk_${randomBytes(24).toString('base64url')}`,
  };
  if (!saved.adminKey || !saved.writeKey) {
    ensureDir(STATE_DIR);
    writeFileSync(CREDENTIALS_FILE, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    chmodSync(CREDENTIALS_FILE, 0o600); // mode above applies only when the file is new
    log(`credentials: saved to ${CREDENTIALS_FILE}`);
  }
  return credentials;
}

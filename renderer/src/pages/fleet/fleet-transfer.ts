/**
 * Export and import of the relay list (Fleet page): the download file name, the download itself, and
 * a first check of a chosen file before it goes to `importInstances` (which validates it fully).
 */
import type { RelayDeskApi, Result } from '../../api/relay-desk.ts';

/** The export document as `exportInstances` returns it. */
export type InstanceExport = Awaited<ReturnType<RelayDeskApi['exportInstances']>> extends Result<infer T> ? T : never;

/** The export format's marker and version (see `instanceExportSchema` in electron/ipc-contract.ts). */
export const EXPORT_FORMAT = 'relaydesk-instances';
export const EXPORT_VERSION = 1;
/** Larger files are refused before reading: a list of 1000 relays is far smaller. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

/** `relay-desk-relays-YYYY-MM-DD.json`, by the local calendar date of `epochMs`. */
export function exportFileName(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `relay-desk-relays-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}.json`;
}

/** Offer `doc` as a JSON file download (Blob + object URL + a temporary link). */
export function downloadJson(doc: unknown, fileName: string): void {
  const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke after the click has been handled; revoking at once can cancel the download.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Why a chosen file cannot be imported (each has a message under `fleet.import.error`). */
export type ImportFileError = { kind: 'tooLarge' } | { kind: 'notJson' } | { kind: 'notExport' } | { kind: 'version'; version: string } | { kind: 'noInstances' };

export type ParsedImport = { ok: true; document: Record<string, unknown>; count: number } | { ok: false; error: ImportFileError };

/**
 * Read the text of a chosen file: JSON, a Relay Desk relay list of a version this app reads, with an
 * `instances` array. The fields of each relay are checked by the main process.
 */
export function parseImportText(text: string): ParsedImport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: { kind: 'notJson' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: { kind: 'notExport' } };
  const doc = value as Record<string, unknown>;
  if (doc['format'] !== EXPORT_FORMAT) return { ok: false, error: { kind: 'notExport' } };
  if (doc['version'] !== EXPORT_VERSION) return { ok: false, error: { kind: 'version', version: String(doc['version']) } };
  const list = doc['instances'];
  if (!Array.isArray(list)) return { ok: false, error: { kind: 'notExport' } };
  if (list.length === 0) return { ok: false, error: { kind: 'noInstances' } };
  return { ok: true, document: doc, count: list.length };
}

/**
 * Which frames may call the main process (VS Code's manners): only the top frame of our own window,
 * showing our own page from the app:// scheme. Pure (no electron import) so it is unit-tested.
 */

/** The scheme and host the renderer is served from. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'relay-desk';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** What main knows about the frame an IPC message came from. */
export interface SenderFacts {
  /** The frame's URL, or null when the frame is gone (navigated away, destroyed). */
  url: string | null;
  /** Whether it is the main frame of one of our windows. */
  isOwnMainFrame: boolean;
}

/** Null when the sender may call; else why not. */
export function senderRefusal(sender: SenderFacts): string | null {
  if (!sender.isOwnMainFrame) return 'the call did not come from the main frame of a Relay Desk window';
  if (!sender.url) return 'the calling frame is gone';
  let u: URL;
  try {
    u = new URL(sender.url);
  } catch {
    return 'the calling frame has no valid URL';
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return `the calling page (${u.origin}) is not Relay Desk's own page`;
  return null;
}

/** The Content-Security-Policy of every page the app serves: own files only, nothing remote. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // Svelte writes style attributes (transitions, bindings): inline styles, never inline scripts.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Map a request path under app://relay-desk/ to a file below `root`, or null when it escapes it. */
export function resolveAppFile(root: string, pathname: string, sep = '/'): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return null;
  if (parts.length === 0) parts.push('index.html');
  return [root.replace(/[\\/]+$/, ''), ...parts].join(sep);
}

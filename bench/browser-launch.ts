/**
 * Headless Debian chromium for the real-browser tests (tests/browser.test.ts) and the browser
 * bench (bench/browser.ts): playwright-core with executablePath (no browser download), the web
 * app served by scripts/serve.mjs (cross-origin isolated) on a free port.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.EARSHOT_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Why the browser cannot run here, or null. */
export function browserMissing(root: string): string | null {
  if (!existsSync(CHROMIUM)) return `chromium is not installed at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\` (Debian's package via apt-get), set EARSHOT_CHROMIUM=/path/to/chromium, or set EARSHOT_SKIP_BROWSER=1 to skip the real-browser tests knowingly`;
  if (!existsSync(join(root, 'dist', 'web', 'index.html'))) return 'dist/web is not built: run `npm run build`';
  return null;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function serve(): Promise<{ url: string; close(): Promise<void> }> {
  // @ts-expect-error plain ESM script without types
  const { startServer } = (await import('../scripts/serve.mjs')) as { startServer(o: { port: number }): Promise<{ server: { close(cb: () => void): void; closeAllConnections?(): void }; url: string }> };
  const { server, url } = await startServer({ port: 0 });
  return {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

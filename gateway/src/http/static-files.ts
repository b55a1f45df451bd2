import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/**
 * The browser client's files, read once at start-up into memory. Serving only this fixed set of
 * names means no request path ever reaches the file system.
 */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = contentTypes[extname(name)];
    if (!type) continue;
    files.set(`/${name}`, { body: readFileSync(join(dir, name)), contentType: type });
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

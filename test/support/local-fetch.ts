import { open, stat } from 'node:fs/promises';

/**
 * A fetch for readers that only speak HTTP (icebird, hyparquet): absolute
 * local paths and file: URLs are served from disk with HEAD and Range support;
 * anything else is refused, so a test can never reach the network.
 */
export async function localFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const path = url.startsWith('file://') ? url.slice(7) : url.startsWith('file:') ? url.slice(5) : url;
  if (!path.startsWith('/')) throw new Error(`localFetch serves local paths only, got ${url}`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return new Response(null, { status: 404 });
  }
  if (init?.method === 'HEAD') return new Response(null, { headers: { 'content-length': String(size) } });
  const range = /bytes=(\d+)-(\d*)/.exec(new Headers(init?.headers).get('range') ?? '');
  const start = range === null ? 0 : Number(range[1]);
  const end = range === null || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start + 1);
    await handle.read(buffer, 0, buffer.length, start);
    return new Response(buffer, { status: range === null ? 200 : 206 });
  } finally {
    await handle.close();
  }
}

/** Runs `action` with the global fetch serving local files only. */
export async function withLocalFetch<T>(action: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = localFetch as typeof fetch;
  try {
    return await action();
  } finally {
    globalThis.fetch = original;
  }
}

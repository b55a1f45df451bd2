import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './kube-object.js';
import { kindOf, resourcePath, type ResourceKind } from './resource-kinds.js';

/** A non-2xx answer from the API server, with its HTTP status and Status reason/message. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof KubeApiError && error.status === status;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** A metav1.Status, as a watch's ERROR event carries it. */
export interface KubeStatus {
  kind?: 'Status';
  code?: number;
  reason?: string;
  message?: string;
}

/** One event of a watch stream: an object of the watched kind, a bookmark, or an error Status. */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion?: string } } }
  | { type: 'ERROR'; object: KubeStatus };

/**
 * A small typed REST client over the API server. It borrows authentication and TLS from
 * @kubernetes/client-node's KubeConfig (kubeconfig files, in-cluster service account), but
 * builds the requests itself: server-side apply, the status subresource and exact error codes
 * (404, 409, 410) matter more to a controller than generated per-kind methods.
 */
export class KubeClient {
  constructor(
    readonly config: KubeConfig,
    private readonly timeoutMs = 15_000,
  ) {}

  /** From a kubeconfig file, or in-cluster config / $KUBECONFIG / ~/.kube/config when omitted. */
  static load(kubeconfigPath?: string): KubeClient {
    const config = new KubeConfig();
    if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
    else config.loadFromDefault();
    return new KubeClient(config);
  }

  get server(): string {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    return cluster.server;
  }

  /**
   * One HTTP exchange. TLS material and credentials come from the KubeConfig
   * (applyToHTTPSOptions handles client certs, tokens and token files); transport is node:https.
   */
  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const options: RequestOptions = { method, headers: { ...headers } };
    await this.config.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, { ...options, signal }, resolve);
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async request<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string; query?: Record<string, string | undefined> } = {},
  ): Promise<T> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json' };
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await this.send(method, url, headers, payload, AbortSignal.timeout(this.timeoutMs));
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    let parsed: any = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const message = typeof parsed === 'object' && parsed?.message ? parsed.message : `${method} ${path}: HTTP ${status}`;
      throw new KubeApiError(status, parsed?.reason ?? String(status), message);
    }
    return parsed as T;
  }

  async get<T extends KubeObject>(kind: ResourceKind<T>, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', resourcePath(kind, namespace, name));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject>(
    kind: ResourceKind<T>,
    namespace: string | undefined,
    query: { labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<ListResult<T>> {
    const list = await this.request<{ items: T[]; metadata: { resourceVersion: string } }>('GET', resourcePath(kind, namespace), { query });
    // List items lack apiVersion/kind; fill them in so cached objects look like watched ones.
    const items = list.items.map((item) => ({ ...item, apiVersion: kind.apiVersion, kind: kind.kind }));
    return { items, resourceVersion: list.metadata.resourceVersion };
  }

  /** Server-side apply: the manager owns exactly the fields in `obj`; `force` takes conflicting fields over. */
  apply<T extends KubeObject>(obj: T, fieldManager: string, options: { force?: boolean; subresource?: string } = {}): Promise<T> {
    const kind = kindOf(obj.kind);
    return this.request<T>('PATCH', resourcePath(kind, obj.metadata.namespace, obj.metadata.name, options.subresource), {
      body: obj, // JSON is YAML, which the apply content type expects
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: options.force ? 'true' : undefined },
    });
  }

  mergePatch<T extends KubeObject>(kind: ResourceKind<T>, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    return this.request<T>('PATCH', resourcePath(kind, namespace, name, subresource), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    return this.request<T>('POST', resourcePath(kindOf(obj.kind), obj.metadata.namespace), { body: obj });
  }

  /** PUT with the object's resourceVersion: fails with 409 if someone else changed it first. */
  replace<T extends KubeObject>(obj: T): Promise<T> {
    return this.request<T>('PUT', resourcePath(kindOf(obj.kind), obj.metadata.namespace, obj.metadata.name), { body: obj });
  }

  async delete(kind: ResourceKind, namespace: string | undefined, name: string, propagationPolicy = 'Background'): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(kind, namespace, name), { query: { propagationPolicy } });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  /**
   * Streams a watch: calls onEvent per event until the server ends the watch (resolves), the
   * stream fails or stays silent for `idleTimeoutMs` (rejects), or `signal` aborts (resolves).
   * The idle timer restarts on every chunk, so only a dead connection trips it, never a long one.
   */
  async watch<T extends KubeObject>(
    kind: ResourceKind<T>,
    namespace: string | undefined,
    query: Record<string, string | undefined>,
    onEvent: (event: WatchEvent<T>) => void,
    options: { signal: AbortSignal; idleTimeoutMs: number },
  ): Promise<void> {
    const url = new URL(this.server + resourcePath(kind, namespace));
    url.searchParams.set('watch', 'true');
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    const local = new AbortController();
    const onAbort = () => local.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    let idle = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        local.abort();
      }, options.idleTimeoutMs);
      timer.unref();
    };
    try {
      arm();
      const response = await this.send('GET', url, { accept: 'application/json' }, undefined, local.signal);
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        for await (const chunk of response) chunks.push(chunk as Buffer);
        let reason = String(status);
        let message = `watch ${url.pathname}: HTTP ${status}`;
        try {
          const parsed = JSON.parse(Buffer.concat(chunks).toString());
          reason = parsed.reason ?? reason;
          message = parsed.message ?? message;
        } catch {
          // not a Status object
        }
        throw new KubeApiError(status, reason, message);
      }
      const body = response;
      body.on('data', arm);
      const lines = createInterface({ input: body, crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.trim()) continue;
        onEvent(parseWatchEvent<T>(line, url.pathname));
      }
    } catch (error) {
      if (idle) throw new Error(`watch ${url.pathname}: no data for ${options.idleTimeoutMs} ms`);
      if (options.signal.aborted) return;
      throw error;
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
    }
  }
}

/** One line of a watch stream, checked for the shape every event has (the object is the server's). */
export function parseWatchEvent<T>(line: string, path: string): WatchEvent<T> {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line);
  } catch {
    throw new Error(`watch ${path}: not a JSON event: ${line.slice(0, 200)}`);
  }
  const types = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'];
  if (typeof event?.type !== 'string' || !types.includes(event.type) || typeof event.object !== 'object' || event.object === null) {
    throw new Error(`watch ${path}: malformed event: ${line.slice(0, 200)}`);
  }
  return event as WatchEvent<T>;
}

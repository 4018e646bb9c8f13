import type {
  ArtifactManifest,
  Diagnostic,
  GraphDocument,
  GraphPlan,
  Health,
  LineageStep,
  NodeTypeInfo,
  Preview,
  RunDetail,
  RunDiff,
  RunEvent,
  RunMode,
  RowCountPoint,
  RunRow,
  WorkerInfo,
  WorkspaceFile,
} from './types';

/** An API error with the server's message and, for invalid graphs, its diagnostics. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get diagnostics(): Diagnostic[] {
    return Array.isArray(this.body.diagnostics) ? (this.body.diagnostics as Diagnostic[]) : [];
  }
  /** What the engine wants the user to consent to (a 403 from POST /api/runs). */
  get needsTrust(): TrustItem[] {
    return Array.isArray(this.body.needsTrust) ? (this.body.needsTrust as TrustItem[]) : [];
  }
}

/** One thing in a graph that needs the user's consent: unconfined code or a path outside the allowed folders. */
export interface TrustItem {
  nodeId: string;
  field: string;
  reason: 'code' | 'confined-code' | 'path';
  value: string;
}

/** The app settings the engine keeps in the workspace; `sessionGranted` are this engine's `--allow` folders (read-only). */
export interface AppSettings {
  grantedFolders: string[];
  sessionGranted?: string[];
}

/**
 * The token comes from the URL the engine printed (`?token=…`) and is kept for the session, so a
 * reload without it (or a hash route) still works. Every request sends it as a Bearer header.
 */
export function readToken(): string {
  const fromUrl = new URL(window.location.href).searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('forge.token', fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem('forge.token') ?? '';
}

export class ForgeApi {
  constructor(
    readonly token: string,
    readonly base: string = '',
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { error: text };
    }
    if (!res.ok) {
      const b = (json ?? {}) as Record<string, unknown>;
      throw new ApiError(res.status, typeof b.error === 'string' ? b.error : `${method} ${path} failed (${res.status})`, b);
    }
    return json as T;
  }

  health = () => this.request<Health>('GET', '/api/health');
  nodeTypes = () => this.request<NodeTypeInfo[]>('GET', '/api/node-types');
  graphSchema = () => this.request<Record<string, unknown>>('GET', '/api/graph-schema');
  validate = (doc: GraphDocument) => this.request<{ diagnostics: Diagnostic[] }>('POST', '/api/validate', { doc });
  listGraphs = () => this.request<{ path: string }[]>('GET', '/api/graphs');
  listFiles = (pattern?: string) => this.request<WorkspaceFile[]>('GET', `/api/files${pattern ? `?pattern=${encodeURIComponent(pattern)}` : ''}`);
  readGraph = (path: string) => this.request<{ path: string; doc: GraphDocument }>('GET', `/api/graphs/file?path=${encodeURIComponent(path)}`);
  saveGraph = (path: string, doc: GraphDocument) => this.request<{ path: string }>('PUT', '/api/graphs/file', { path, doc });
  /** The engine's plan for this document: per node cached / will run, and why. */
  plan = (doc: GraphDocument, path?: string | null) => this.request<GraphPlan>('POST', '/api/plan', { doc, path: path ?? undefined });
  run = (doc: GraphDocument, opts: { mode: RunMode; target?: string; path?: string | null; force?: boolean; continueOnFailure?: boolean; queue?: string | null }) =>
    this.request<{ runId: string | null }>('POST', '/api/runs', {
      doc,
      mode: opts.mode,
      target: opts.target,
      path: opts.path ?? undefined,
      force: opts.force,
      continueOnFailure: opts.continueOnFailure,
      trigger: 'ui',
      queue: opts.queue ?? undefined,
    });
  /** Workers connected to `queue` (a redis:// address). */
  workers = (queue: string) => this.request<{ queue: string | null; workers: WorkerInfo[] }>('GET', `/api/workers?queue=${encodeURIComponent(queue)}`);
  cancel = (runId: string) => this.request<{ cancelling: boolean }>('POST', `/api/runs/${encodeURIComponent(runId)}/cancel`);
  runs = (limit = 50) => this.request<RunRow[]>('GET', `/api/runs?limit=${limit}`);
  runDetail = (id: string) => this.request<RunDetail>('GET', `/api/runs/${encodeURIComponent(id)}`);
  diff = (a: string, b: string) => this.request<RunDiff>('GET', `/api/runs/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`);
  preview = (hash: string, offset = 0, limit = 100) => this.request<Preview>('GET', `/api/artifacts/${encodeURIComponent(hash)}/preview?offset=${offset}&limit=${limit}`);
  artifact = (hash: string) =>
    this.request<{ hash: string; kind: string; bytes: number; rows: number | null; manifest: ArtifactManifest; producerExecutionId: string | null }>(
      'GET',
      `/api/artifacts/${encodeURIComponent(hash)}`,
    );
  /** Hand labels of a labelling node's sample (document id → agent?), kept beside the graph. */
  labels = (node: string, sample: string, path?: string | null) =>
    this.request<{ node: string; sample: string; file: string; labels: Record<string, boolean> }>(
      'GET',
      `/api/labels?node=${encodeURIComponent(node)}&sample=${encodeURIComponent(sample)}${path ? `&path=${encodeURIComponent(path)}` : ''}`,
    );
  saveLabels = (node: string, sample: string, labels: Record<string, boolean>, path?: string | null) =>
    this.request<{ file: string; count: number }>('PUT', '/api/labels', { node, sample, labels, path: path ?? undefined });
  /** Row counts of each node's dataset outputs over its last `limit` succeeded executions, oldest first. */
  rowHistory = (nodes: string[], limit = 16) => this.request<Record<string, RowCountPoint[]>>('POST', '/api/row-history', { nodes, limit });
  lineage = (hash: string) => this.request<LineageStep[]>('GET', `/api/artifacts/${encodeURIComponent(hash)}/lineage`);
  trustCheck = (doc: GraphDocument, path?: string | null) =>
    this.request<{ trusted: boolean; fingerprint: string; needsTrust: TrustItem[] }>('POST', '/api/trust/check', { doc, path: path ?? undefined });
  /** Records the user's consent for this graph in the workspace (the engine refuses untrusted runs). */
  trust = (doc: GraphDocument, path?: string | null) => this.request<{ fingerprint: string; items: TrustItem[] }>('POST', '/api/trust', { doc, path: path ?? undefined });
  settings = () => this.request<AppSettings>('GET', '/api/settings');
  saveSettings = (s: { grantedFolders: string[] }) => this.request<AppSettings>('PUT', '/api/settings', s);
  exportConfig = (doc: GraphDocument, path?: string | null) => this.request<GraphDocument>('POST', '/api/export', { doc, path: path ?? undefined });

  /** The run event stream; reconnects with backoff while the page lives. */
  events(onEvent: (e: RunEvent) => void, onStatus: (connected: boolean) => void): () => void {
    let ws: WebSocket | null = null;
    let closed = false;
    let delay = 250;
    const connect = () => {
      const origin = this.base || window.location.origin;
      const url = `${origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(this.token)}`;
      ws = new WebSocket(url);
      ws.onopen = () => {
        delay = 250;
        onStatus(true);
      };
      ws.onmessage = (m) => {
        try {
          onEvent(JSON.parse(String(m.data)) as RunEvent);
        } catch {
          /* a malformed frame is dropped, never fatal */
        }
      };
      ws.onclose = () => {
        onStatus(false);
        if (closed) return;
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5000);
      };
    };
    connect();
    return () => {
      closed = true;
      ws?.close();
    };
  }
}

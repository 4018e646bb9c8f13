import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * `forge models pull <hf-repo>[@revision]`: downloads a sentence-transformer's ONNX export and
 * tokenizer from a Hugging Face hub into a local model cache, for users who are online. The folder
 * it writes is what `ml.embed`'s `model` param takes. Files are checked against the hub's LFS
 * SHA-256 when it gives one, and every file's SHA-256 is recorded in `forge-model.json`.
 *
 * Hub layout used: `GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true` lists the files
 * (`siblings[].rfilename`, `lfs.sha256`), `GET {endpoint}/{repo}/resolve/{rev}/{file}` serves one.
 * The endpoint is `FORGE_HF_ENDPOINT` or `HF_ENDPOINT` (default https://huggingface.co); the cache
 * is `FORGE_MODEL_CACHE` (default ~/.cache/forge/models).
 */

/** Files an ONNX sentence-transformer folder needs; the model itself is found separately. */
const WANTED = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'special_tokens_map.json', 'vocab.txt', 'sentence_bert_config.json', 'modules.json', '1_Pooling/config.json'];
const MODEL_FILES = ['onnx/model.onnx', 'model.onnx'];

interface Sibling {
  rfilename: string;
  size?: number;
  lfs?: { sha256?: string; size?: number };
}

export interface PullOptions {
  endpoint?: string;
  cacheDir?: string;
  /** Progress lines go here (stderr in the CLI); none when undefined. */
  progress?: (line: string) => void;
  token?: string;
}

export interface PullResult {
  dir: string;
  files: { file: string; bytes: number; sha256: string; verified: boolean }[];
}

export function modelCacheDir(): string {
  return process.env.FORGE_MODEL_CACHE ?? join(homedir(), '.cache', 'forge', 'models');
}

function parseRepo(spec: string): { repo: string; rev: string } {
  const [repo = '', rev = 'main'] = spec.split('@');
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo)) throw new Error(`"${spec}" is not a hub repository (expected owner/name, optionally @revision)`);
  return { repo, rev };
}

async function fetchOk(url: string, token?: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: 'follow' });
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (gated or private: set HF_TOKEN)' : ''}`);
  return res;
}

function bar(done: number, total: number | undefined): string {
  if (!total) return `${(done / 2 ** 20).toFixed(1)} MiB`;
  const width = 24;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((100 * done) / total).toFixed(0).padStart(3)}% ${(done / 2 ** 20).toFixed(1)}/${(total / 2 ** 20).toFixed(1)} MiB`;
}

/** Streams one file to `dest` (via a .part file), hashing as it goes; returns bytes and SHA-256. */
async function download(url: string, dest: string, label: string, size: number | undefined, o: PullOptions): Promise<{ bytes: number; sha256: string }> {
  const res = await fetchOk(url, o.token);
  const total = size ?? (Number(res.headers.get('content-length')) || undefined);
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const hash = createHash('sha256');
  const out = createWriteStream(part);
  let bytes = 0;
  let lastShown = 0;
  try {
    if (!res.body) throw new Error(`${url}: empty response`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (o.progress && (bytes - lastShown > 4 * 2 ** 20 || bytes === total)) {
        lastShown = bytes;
        o.progress(`${label} ${bar(bytes, total)}`);
      }
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    rmSync(part, { force: true });
    throw err;
  }
  if (total !== undefined && bytes !== total) {
    rmSync(part, { force: true });
    throw new Error(`${label}: got ${bytes} bytes, expected ${total} (interrupted download?)`);
  }
  renameSync(part, dest);
  return { bytes, sha256: hash.digest('hex') };
}

export async function pullModel(spec: string, o: PullOptions = {}): Promise<PullResult> {
  const { repo, rev } = parseRepo(spec);
  const endpoint = (o.endpoint ?? process.env.FORGE_HF_ENDPOINT ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = o.token ?? process.env.HF_TOKEN;
  const info = (await (await fetchOk(`${endpoint}/api/models/${repo}/revision/${encodeURIComponent(rev)}?blobs=true`, token)).json()) as { siblings?: Sibling[] };
  const siblings = new Map((info.siblings ?? []).map((s) => [s.rfilename, s]));
  const model = MODEL_FILES.find((f) => siblings.has(f));
  if (!model) throw new Error(`${repo}@${rev} has no ONNX export (looked for ${MODEL_FILES.join(', ')}); export one with optimum, or pick a repository that ships onnx/model.onnx`);
  if (!siblings.has('tokenizer.json')) throw new Error(`${repo}@${rev} has no tokenizer.json`);
  const files = [model, ...WANTED.filter((f) => siblings.has(f))];
  const dir = join(o.cacheDir ?? modelCacheDir(), ...repo.split('/'), rev);
  const result: PullResult = { dir, files: [] };
  for (const file of files) {
    const s = siblings.get(file)!;
    const expected = s.lfs?.sha256;
    const dest = join(dir, file);
    // A complete file with the hub's checksum is not fetched again.
    if (expected && existsSync(dest) && createHash('sha256').update(readFileSync(dest)).digest('hex') === expected) {
      result.files.push({ file, bytes: readFileSync(dest).length, sha256: expected, verified: true });
      o.progress?.(`${file} already in the cache (sha256 ok)`);
      continue;
    }
    const got = await download(`${endpoint}/${repo}/resolve/${encodeURIComponent(rev)}/${file}`, dest, file, s.lfs?.size ?? s.size, { ...o, token });
    if (expected && got.sha256 !== expected) {
      rmSync(dest, { force: true });
      throw new Error(`${file}: sha256 ${got.sha256} does not match the hub's ${expected}; the download is corrupt (removed)`);
    }
    result.files.push({ file, bytes: got.bytes, sha256: got.sha256, verified: expected !== undefined });
  }
  writeFileSync(join(dir, 'forge-model.json'), `${JSON.stringify({ repo, revision: rev, endpoint, files: result.files }, null, 2)}\n`);
  return result;
}

/** The `forge models …` command; returns the exit code. */
export async function modelsCommand(args: readonly string[], asJson: boolean, quiet: boolean): Promise<number> {
  const [sub, spec] = args;
  if (sub !== 'pull' || !spec) {
    process.stderr.write('usage: forge models pull <owner/name>[@revision]   (downloads an ONNX export + tokenizer into the model cache)\n');
    return 2;
  }
  const tty = process.stderr.isTTY;
  const r = await pullModel(spec, { progress: quiet ? undefined : (line) => process.stderr.write(tty ? `\r\u001b[2K${line}` : `${line}\n`) });
  if (tty && !quiet) process.stderr.write('\n');
  if (asJson) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else
    process.stdout.write(
      `${r.dir}\n${r.files.map((f) => `  ${f.file}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…${f.verified ? ' (verified)' : ''}`).join('\n')}\nuse it as the embedder's model: "${r.dir}"\n`,
    );
  return 0;
}

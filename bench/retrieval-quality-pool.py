#!/usr/bin/python3
"""Builds the labelled evaluation pool of the retrieval-quality bench, offline.

Agent-like documents (Gorilla API references, APIBench instruction -> API-call pairs, BFCL
function-calling items of categories the example graph does not use as seeds, BFCL multi-turn
function docs) are hidden among technical and general text that is not agent data: man pages
rendered to text with groff, Debian changelogs and READMEs from /usr/share/doc, and Project
Gutenberg paragraphs. Every pool row carries `is_agent` and the `source` it came from.

Seeds are what the example graph seeds with (BFCL simple_python + multiple, and the Gorilla records
bundled in resources/data); none of them is in the pool. `general.jsonl` is Gutenberg prose kept
out of the pool: the "general text" a seeds-vs-general classifier is trained against.

Usage: python3 bench/retrieval-quality-pool.py OUT_DIR [--small FILE]
  --small FILE  also write a small stratified sample (for resources/data) to FILE.

Needs man-db/groff and manpages (installed with apt when missing and running as root).
"""
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), 'shared', 'datasets')
RES = os.path.join(REPO, 'resources', 'data')
RNG = random.Random(20261201)

MAN_PAGES = int(os.environ.get('POOL_MAN_PAGES', '1400'))
DOC_FILES = int(os.environ.get('POOL_DOC_FILES', '900'))
MIN_CHARS = 200
MAX_CHARS = 2000


def one_line(s):
    return re.sub(r'\s+', ' ', s).strip()


def jsonl(path):
    out = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a few upstream records are not valid JSON
    return out


def keyvalue(rec, title='api_name'):
    keys = ([title] if title in rec else []) + [k for k in rec if k != title]
    lines = []
    for k in keys:
        v = rec[k]
        if v in (None, '', [], 'N/A'):
            continue
        lines.append(f'{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}')
    return '\n'.join(lines)


def bfcl_item(rec):
    turns = [m.get('content', '') for turn in rec.get('question', []) for m in turn if m.get('role') == 'user']
    funcs = rec.get('function') or []
    body = '\n'.join(f'User: {t}' for t in turns)
    if funcs:
        body += '\nFunctions: ' + json.dumps(funcs, ensure_ascii=False)
    return body


def scalar(v):
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def api_page(rec):
    """A Gorilla record as a documentation page (title, prose, usage), not as the seeds' key: value lines."""
    parts = [str(rec.get('api_name', ''))]
    desc = rec.get('description')
    if desc and desc != 'N/A':
        parts.append(scalar(desc))
    fw = ' '.join(scalar(rec[k]) for k in ('framework', 'functionality') if rec.get(k) not in (None, '', 'N/A'))
    if fw:
        parts.append(f'Part of {fw}.')
    if rec.get('api_call'):
        parts.append('Usage:\n    ' + scalar(rec['api_call']))
    args = rec.get('api_arguments')
    if args not in (None, '', 'N/A', [], {}):
        parts.append('Parameters: ' + (', '.join(f'{k} ({scalar(v)})' for k, v in args.items()) if isinstance(args, dict) else scalar(args)))
    code = rec.get('example_code')
    if code not in (None, '', 'N/A'):
        parts.append('Example:\n' + ('\n'.join(code) if isinstance(code, list) else scalar(code)))
    return '\n\n'.join(parts)


def function_page(fn):
    """A function schema as reference documentation: signature, description, one line per parameter."""
    props = ((fn.get('parameters') or {}).get('properties')) or {}
    req = set(((fn.get('parameters') or {}).get('required')) or [])
    sig = f"{fn.get('name', '')}({', '.join(props)})"
    lines = [sig, '', scalar(fn.get('description', ''))]
    if props:
        lines.append('')
        lines.append('Arguments:')
        for k, v in props.items():
            v = v if isinstance(v, dict) else {}
            opt = '' if k in req else ', optional'
            lines.append(f"  {k} ({v.get('type', 'any')}{opt}): {v.get('description', '')}")
    resp = fn.get('response')
    if isinstance(resp, dict) and resp.get('properties'):
        lines.append('Returns: ' + ', '.join(f"{k} ({(v or {}).get('type', 'any')})" for k, v in resp['properties'].items()))
    return '\n'.join(lines)


def call_trace(rec, answers):
    """A BFCL item as a function-calling trace: the user turn, then the call the assistant makes."""
    turns = [m.get('content', '') for turn in rec.get('question', []) for m in turn if m.get('role') == 'user']
    lines = [f'user: {t}' for t in turns[:3]]
    for gt in answers.get(rec['id'], [])[:3]:
        if not isinstance(gt, dict):  # multi-turn answers are call strings
            lines += [f'assistant -> {c}' for c in (gt if isinstance(gt, list) else [gt])[:3]]
            continue
        for name, args in gt.items():
            shown = ', '.join(f'{k}={json.dumps(v[0] if isinstance(v, list) and v else v, ensure_ascii=False)}' for k, v in args.items())
            lines.append(f'assistant -> {name}({shown})')
    if len(lines) == len(turns[:3]):
        lines += [f"tool available: {f.get('name')}: {f.get('description', '')}" for f in (rec.get('function') or [])[:3]]
    return '\n'.join(lines)


def cap(text):
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS].rsplit(' ', 1)[0]


# ---------------------------------------------------------------------------------------------
# Agent data


def seeds():
    out = []
    bfcl = os.path.join(RES, 'agent', 'bfcl')
    for name in ('BFCL_v4_simple_python.json', 'BFCL_v4_multiple.json'):
        for r in jsonl(os.path.join(bfcl, name)):
            out.append({'id': f'seed:{r["id"]}', 'text': bfcl_item(r), 'source': 'bfcl'})
    gor = os.path.join(RES, 'agent', 'gorilla')
    for name in sorted(os.listdir(gor)):
        for i, r in enumerate(jsonl(os.path.join(gor, name))):
            out.append({'id': f'seed:{name}:{i + 1}', 'text': keyvalue(r), 'source': name.replace('.jsonl', '')})
    for i, r in enumerate(jsonl(os.path.join(RES, 'agent', 'torchhub_api.jsonl'))):
        out.append({'id': f'seed:torchhub_api:{i + 1}', 'text': keyvalue(r), 'source': 'torchhub_api'})
    return out


def hidden_agent(seed_texts):
    # Rendered as documentation pages and call traces, not in the seeds' formats: otherwise a
    # retriever only has to recognise a file format, which real pools never hand it.
    out = []
    gdir = os.path.join(SHARED, 'agent', 'gorilla-api-docs')
    bundled = set()
    for name in os.listdir(os.path.join(RES, 'agent', 'gorilla')):
        bundled |= {one_line(keyvalue(r)) for r in jsonl(os.path.join(RES, 'agent', 'gorilla', name))}
    bundled |= {one_line(keyvalue(r)) for r in jsonl(os.path.join(RES, 'agent', 'torchhub_api.jsonl'))}
    for name in sorted(os.listdir(gdir)):
        if not name.endswith('_api.jsonl'):
            continue
        for i, r in enumerate(jsonl(os.path.join(gdir, name))):
            if one_line(keyvalue(r)) in bundled:
                continue  # a seed
            out.append({'id': f'agent:{name}:{i + 1}', 'text': api_page(r), 'source': 'gorilla-' + name.replace('_api.jsonl', '')})
    for name in ('torchhub_train.json', 'torchhub_eval.json'):
        for i, r in enumerate(jsonl(os.path.join(SHARED, 'agent', 'apibench', name))):
            code = r.get('code', '')
            text = code.replace('###Instruction:', 'Instruction:').replace('###Output:', '\nOutput:')
            out.append({'id': f'agent:apibench:{name}:{i + 1}', 'text': text, 'source': 'apibench'})
    bdir = os.path.join(SHARED, 'agent', 'bfcl')
    answers = {}
    adir = os.path.join(bdir, 'possible_answer')
    for name in os.listdir(adir):
        for r in jsonl(os.path.join(adir, name)):
            answers[r['id']] = r.get('ground_truth') or []
    funcs_seen = set()
    for name in sorted(os.listdir(bdir)):
        if not name.startswith('BFCL_v4_') or name in ('BFCL_v4_simple_python.json', 'BFCL_v4_multiple.json', 'BFCL_v4_irrelevance.json'):
            continue
        for r in jsonl(os.path.join(bdir, name)):
            out.append({'id': f'agent:{r["id"]}', 'text': call_trace(r, answers), 'source': 'bfcl-trace'})
            for fn in r.get('function') or []:
                key = fn.get('name')
                if key and key not in funcs_seen and len(funcs_seen) < 1200:
                    funcs_seen.add(key)
                    out.append({'id': f'agent:fn:{key}', 'text': function_page(fn), 'source': 'bfcl-function-doc'})
    fdir = os.path.join(bdir, 'multi_turn_func_doc')
    for name in sorted(os.listdir(fdir)):
        for i, r in enumerate(jsonl(os.path.join(fdir, name))):
            out.append({'id': f'agent:funcdoc:{name}:{i + 1}', 'text': function_page(r), 'source': 'bfcl-function-doc'})
    # Seeds are not in the pool: drop exact text matches (the bundled Gorilla records are in both).
    kept = [r for r in out if one_line(r['text']) not in seed_texts]
    for r in kept:
        r['text'] = cap(r['text'])
    return kept


# ---------------------------------------------------------------------------------------------
# Not agent data


def ensure_man():
    if shutil.which('man') and shutil.which('groff') and os.path.isdir('/usr/share/man/man1'):
        return
    if os.geteuid() == 0:
        subprocess.run(['apt-get', 'install', '-y', 'man-db', 'manpages', 'groff-base'], check=True)
    else:
        sys.exit('retrieval-quality pool: needs man-db, groff and manpages (sudo apt-get install -y man-db manpages groff-base)')


def package_of_files():
    owner = {}
    for f in os.listdir('/var/lib/dpkg/info'):
        if not f.endswith('.list'):
            continue
        pkg = f[:-5].split(':')[0]
        with open(os.path.join('/var/lib/dpkg/info', f), encoding='utf-8', errors='replace') as h:
            for line in h:
                owner[line.rstrip('\n')] = pkg
    return owner


def paragraphs(text):
    for block in re.split(r'\n\s*\n', text):
        p = one_line(block)
        if len(p) >= MIN_CHARS:
            yield cap(p)


def render_man(path):
    try:
        raw = subprocess.run(['man', '-P', 'cat', '-l', path], capture_output=True, timeout=60, env={**os.environ, 'MANWIDTH': '100', 'MAN_KEEP_FORMATTING': '0', 'LC_ALL': 'C.UTF-8'}).stdout
    except subprocess.TimeoutExpired:
        return ''
    return re.sub(r'.\x08', '', raw.decode('utf-8', errors='replace'))


def man_docs(owner):
    files = []
    for sec in ('man1', 'man5', 'man8'):
        d = os.path.join('/usr/share/man', sec)
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d)) if not os.path.islink(os.path.join(d, f))]
    RNG.shuffle(files)
    files = files[:MAN_PAGES]
    # Paths under a dpkg path-exclude (minimal images) are missing from the .list files: ask dpkg -S.
    missing = [f for f in files if f not in owner]
    for i in range(0, len(missing), 200):
        res = subprocess.run(['dpkg', '-S', *missing[i : i + 200]], capture_output=True, text=True)
        for line in res.stdout.splitlines():
            pkg, _, p = line.partition(': ')
            owner[p] = pkg.split(':')[0].split(',')[0]
    out = []
    with ThreadPoolExecutor(max_workers=4) as ex:
        for path, text in zip(files, ex.map(render_man, files)):
            name = os.path.basename(path)
            for i, p in enumerate(paragraphs(text)):
                out.append({'id': f'man:{name}:{i + 1}', 'text': p, 'source': 'man', 'package': owner.get(path, '')})
    return out


def debian_docs(owner):
    files = []
    for root, _dirs, names in os.walk('/usr/share/doc'):
        for n in names:
            low = n.lower()
            if low.startswith('changelog') or low.startswith('readme') or low.startswith('news'):
                full = os.path.join(root, n)
                if not os.path.islink(full) and os.path.getsize(full) > 300:
                    files.append(full)
    files.sort()
    RNG.shuffle(files)
    out = []
    for full in files[:DOC_FILES]:
        try:
            data = gzip.open(full).read() if full.endswith('.gz') else open(full, 'rb').read()
        except OSError:
            continue
        kind = 'changelog' if 'changelog' in full.lower() else 'readme'
        pkg = owner.get(full, full.split('/')[4])
        for i, p in enumerate(paragraphs(data[:400_000].decode('utf-8', errors='replace'))):
            if i >= 60:
                break  # a few huge changelogs would otherwise dominate
            out.append({'id': f'doc:{pkg}:{os.path.basename(full)}:{i + 1}', 'text': p, 'source': f'debian-{kind}', 'package': pkg})
    return out


def gutenberg():
    out = []
    for d in (os.path.join(SHARED, 'general', 'gutenberg'),):
        for name in sorted(os.listdir(d)):
            text = open(os.path.join(d, name), encoding='utf-8').read()
            m1 = re.search(r'\*\*\* ?START OF.*?\*\*\*', text)
            m2 = re.search(r'\*\*\* ?END OF', text)
            body = text[m1.end() if m1 else 0 : m2.start() if m2 else len(text)]
            for i, p in enumerate(paragraphs(body)):
                out.append({'id': f'prose:{name}:{i + 1}', 'text': p, 'source': 'gutenberg'})
    return out


def dedup(rows):
    seen = set()
    out = []
    for r in rows:
        h = hashlib.sha1(one_line(r['text']).lower().encode()).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        out.append(r)
    return out


def write_jsonl(path, rows):
    with open(path, 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')


def unique_ids(rows):
    # Two packages can ship docs with the same file name (e.g. gcc-12's changelog.gz in two folders):
    # a repeated id gets #2, #3, ... so labels and lineage keyed by id stay unambiguous.
    seen = {}
    out = []
    for r in rows:
        n = seen.get(r['id'], 0) + 1
        seen[r['id']] = n
        out.append(r if n == 1 else {**r, 'id': f"{r['id']}#{n}"})
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    small = sys.argv[sys.argv.index('--small') + 1] if '--small' in sys.argv else None
    os.makedirs(out_dir, exist_ok=True)
    ensure_man()
    owner = package_of_files()
    seed_rows = seeds()
    seed_texts = {one_line(r['text']) for r in seed_rows}
    agent = hidden_agent(seed_texts)
    prose = gutenberg()
    RNG.shuffle(prose)
    general, pool_prose = prose[: len(prose) // 2], prose[len(prose) // 2 :]
    cache = os.path.join(out_dir, 'negatives.jsonl')
    if os.path.exists(cache):  # rendering man pages takes minutes: reuse them
        negatives = [r for r in jsonl(cache) if r['source'] != 'gutenberg'] + pool_prose
    else:
        rendered = man_docs(owner) + debian_docs(owner)
        write_jsonl(cache, rendered)
        negatives = rendered + pool_prose
    pool = unique_ids(dedup([{**r, 'is_agent': True} for r in agent] + [{**r, 'is_agent': False} for r in negatives]))
    RNG.shuffle(pool)
    write_jsonl(os.path.join(out_dir, 'seeds.jsonl'), seed_rows)
    write_jsonl(os.path.join(out_dir, 'general.jsonl'), general)
    write_jsonl(os.path.join(out_dir, 'pool.jsonl'), pool)
    counts = {}
    for r in pool:
        counts[r['source']] = counts.get(r['source'], 0) + 1
    summary = {'seeds': len(seed_rows), 'general': len(general), 'pool': len(pool), 'agent': sum(1 for r in pool if r['is_agent']), 'by_source': counts}
    with open(os.path.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))
    if small:
        # Stratified: every agent source and every negative source, about one agent doc in ten.
        by = {}
        for r in pool:
            by.setdefault(r['source'], []).append(r)
        quota = {'man': 900, 'debian-changelog': 500, 'debian-readme': 300, 'gutenberg': 250}
        sample = []
        for src, rows in sorted(by.items()):
            n = quota.get(src, max(10, len(rows) // 12))
            sample += [r for r in rows if len(r['text']) <= 1200][:n]
        RNG.shuffle(sample)
        write_jsonl(small, sample)
        print(f'small pool: {len(sample)} rows, {sum(1 for r in sample if r["is_agent"])} agent, {os.path.getsize(small) / 1e6:.2f} MB')


if __name__ == '__main__':
    main()

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS } from '../_sdk/testing/graph.js';
import { answerContradictions, checkItem, convertLiteral, languageOf, groundTruthCalls, kindOf, standardize, type Call, type CheckErrorType, type FunctionDoc } from './ast-checker.js';
import { bfclFiles, loadCases, type BfclCase } from './data.js';

const BUNDLED = join(DATASETS, 'agent/bfcl');
const SHARED = join(import.meta.dirname, '../../../shared/datasets/agent/bfcl');
const DIRS = [BUNDLED, ...(existsSync(SHARED) ? [SHARED] : [])];

/** What a perfect model answers: the ground truth's first allowed values (or nothing on irrelevance). */
function perfect(c: BfclCase): Call[] {
  const kind = kindOf(c.category);
  if (kind === 'irrelevance') return [];
  if (kind === 'relevance') return [{ name: (c.functions[0] as FunctionDoc).name, args: {} }];
  return groundTruthCalls(c.answer ?? [], c.functions);
}

describe('BFCL AST checker', () => {
  for (const dir of DIRS) {
    it(`scores the ground truth 100 % in every category of ${dir.includes('shared') ? 'the shared BFCL data' : 'resources/data'}`, () => {
      const { cases } = loadCases(bfclFiles(dir), []);
      const byCat = new Map<string, { n: number; bad: string[] }>();
      let contradicted = 0;
      for (const c of cases) {
        // A few live items' answers contradict their own function doc; no call can satisfy them.
        if (c.answer && answerContradictions(c.functions, c.answer, languageOf(c.category)).length > 0) {
          contradicted++;
          continue;
        }
        const r = checkItem(c.category, c.functions, perfect(c), c.answer);
        const e = byCat.get(c.category) ?? { n: 0, bad: [] };
        e.n++;
        if (!r.valid) e.bad.push(`${c.id}: ${r.error}: ${r.message}`);
        byCat.set(c.category, e);
      }
      expect(byCat.size).toBeGreaterThanOrEqual(dir === BUNDLED ? 4 : 10);
      expect(contradicted).toBeLessThanOrEqual(cases.length / 100);
      if (dir === BUNDLED) expect(contradicted).toBe(0);
      for (const [cat, e] of byCat) {
        expect(e.n, cat).toBeGreaterThan(0);
        expect(e.bad.slice(0, 5), cat).toEqual([]);
      }
    });
  }

  it('rejects perturbed answers, each with its named error type', () => {
    const { cases } = loadCases(bfclFiles(BUNDLED), []);
    const byId = new Map(cases.map((c) => [c.id, c]));
    const get = (id: string) => byId.get(id) as BfclCase;
    type Perturb = { id: string; expect: CheckErrorType; calls: (gt: Call[], c: BfclCase) => Call[] };
    const firstArg = (calls: Call[], pred: (v: unknown) => boolean): string => Object.keys((calls[0] as Call).args).find((k) => pred((calls[0] as Call).args[k])) as string;
    const withArgs = (calls: Call[], f: (args: Record<string, unknown>) => Record<string, unknown>): Call[] => [{ ...(calls[0] as Call), args: f({ ...(calls[0] as Call).args }) }, ...calls.slice(1)];
    const required = (c: BfclCase) => (c.functions.find((f) => f.name === Object.keys(c.answer?.[0] ?? {})[0])?.parameters?.required ?? []) as string[];
    const perturbations: Perturb[] = [];
    const simpleIds = ['simple_python_0', 'simple_python_1', 'simple_python_3', 'simple_python_10', 'multiple_0', 'multiple_5', 'simple_javascript_0', 'simple_javascript_3'];
    for (const id of simpleIds) {
      perturbations.push(
        // A number where a string is due, or a string where a number is due.
        {
          id,
          expect: 'type_error',
          calls: (gt) => {
            const numKey = firstArg(gt, (v) => typeof v === 'number');
            if (numKey) return withArgs(gt, (a) => ({ ...a, [numKey]: 'not a number' }));
            const strKey = firstArg(gt, (v) => typeof v === 'string');
            return withArgs(gt, (a) => ({ ...a, [strKey]: 12345 }));
          },
        },
        { id, expect: 'missing_required', calls: (gt, c) => withArgs(gt, (a) => Object.fromEntries(Object.entries(a).filter(([k]) => k !== required(c)[0]))) },
        { id, expect: 'unexpected_param', calls: (gt) => withArgs(gt, (a) => ({ ...a, no_such_param: 1 })) },
        {
          id,
          expect: 'value_error:others',
          calls: (gt) => {
            const k = firstArg(gt, (v) => typeof v === 'number' || typeof v === 'boolean');
            return withArgs(gt, (a) => ({ ...a, [k]: typeof a[k] === 'boolean' ? !a[k] : Number(a[k]) + 7 }));
          },
        },
        { id, expect: 'wrong_func_name', calls: (gt) => [{ ...(gt[0] as Call), name: 'some_other_function' }] },
        { id, expect: 'wrong_count', calls: (gt) => [...gt, ...gt] },
      );
    }
    perturbations.push(
      { id: 'simple_python_0', expect: 'value_error:string', calls: (gt) => withArgs(gt, (a) => ({ ...a, unit: 'furlongs' })) },
      { id: 'simple_javascript_3', expect: 'value_error:list', calls: (gt) => withArgs(gt, (a) => ({ ...a, coordinates: [30, 60] })) },
      { id: 'simple_python_0', expect: 'wrong_count', calls: () => [] },
      { id: 'irrelevance_0', expect: 'irrelevance:call_made', calls: (_gt, c) => [{ name: (c.functions[0] as FunctionDoc).name, args: { weight: 70, height: 1.8 } }] },
      { id: 'irrelevance_1', expect: 'irrelevance:call_made', calls: (_gt, c) => [{ name: (c.functions[0] as FunctionDoc).name, args: {} }] },
    );
    // Applicable perturbations only (e.g. no boolean/number param → no value_error:others case).
    let checked = 0;
    const seenTypes = new Set<string>();
    for (const p of perturbations) {
      const c = get(p.id);
      expect(c, p.id).toBeDefined();
      const gt = perfect(c);
      expect(checkItem(c.category, c.functions, gt, c.answer).valid, `${p.id} ground truth`).toBe(true);
      let calls: Call[];
      try {
        calls = p.calls(gt, c);
      } catch {
        continue;
      }
      if (calls.some((x) => Object.keys(x.args).includes('undefined'))) continue;
      const r = checkItem(c.category, c.functions, calls, c.answer);
      expect(r.valid, `${p.id} ${p.expect}`).toBe(false);
      if (!r.valid) expect(r.error, `${p.id}: ${r.message}`).toBe(p.expect);
      checked++;
      seenTypes.add(p.expect);
    }
    expect(checked).toBeGreaterThanOrEqual(30);
    expect(seenTypes.size).toBeGreaterThanOrEqual(9);
  });

  it('parallel calls match in any order, one model call per expected call', () => {
    const functions: FunctionDoc[] = [
      { name: 'spotify.play', parameters: { properties: { artist: { type: 'string' } as never, duration: { type: 'integer' } as never }, required: ['artist', 'duration'] } },
    ];
    const answer = [{ 'spotify.play': { artist: ['Taylor Swift'], duration: [20] } }, { 'spotify.play': { artist: ['Maroon 5'], duration: [15] } }];
    const a = { name: 'spotify_play', args: { artist: 'maroon 5', duration: 15 } };
    const b = { name: 'spotify_play', args: { artist: 'Taylor Swift', duration: 20 } };
    expect(checkItem('parallel', functions, [a, b], answer).valid).toBe(true);
    expect(checkItem('parallel', functions, [a, a], answer)).toMatchObject({ valid: false, error: 'cannot_find_match' });
    expect(checkItem('parallel', functions, [a], answer)).toMatchObject({ valid: false, error: 'wrong_count' });
  });

  it('follows BFCL typing: ints pass as floats, Java literals convert, "" marks an optional param', () => {
    const functions: FunctionDoc[] = [{ name: 'f', parameters: { properties: { x: { type: 'float' } as never, n: { type: 'long' } as never, opt: { type: 'string' } as never }, required: ['x'] } }];
    const answer = [{ f: { x: [2.0], n: [50], opt: ['', 'a'] } }];
    expect(checkItem('simple_java', functions, [{ name: 'f', args: { x: 2, n: '50L' } }], answer).valid).toBe(true);
    expect(checkItem('simple_python', functions, [{ name: 'f', args: { x: 2, n: '50L' } }], answer)).toMatchObject({ valid: false, error: 'type_error' });
    expect(checkItem('simple_java', functions, [{ name: 'f', args: { x: 2, n: 50, opt: 'A' } }], answer).valid).toBe(true);
    const required = [{ f: { x: [2.0], n: [50], opt: ['a'] } }];
    expect(checkItem('simple_java', functions, [{ name: 'f', args: { x: 2, n: 50 } }], required)).toMatchObject({ valid: false, error: 'missing_optional' });
    expect(convertLiteral('1.5f', 'float')).toBe(1.5);
    expect(convertLiteral('abc', 'integer')).toBeUndefined();
    expect(standardize('New York, NY')).toBe(standardize('new-york ny'));
  });
});

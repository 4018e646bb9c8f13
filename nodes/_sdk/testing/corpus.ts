import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Small synthetic two-class corpora for tests: API-documentation-like lines vs fairy-tale prose,
 * deterministic, with some non-ASCII words so that UTF-8 handling in char n-grams is exercised.
 */

const TASKS = [
  'image classification',
  'object detection',
  'speech recognition',
  'text summarization',
  'translation',
  'sentiment analysis',
  'depth estimation',
  'semantic segmentation',
  'question answering',
  'text-to-speech',
];
const MODELS = ['resnet50', 'yolov5s', 'wav2vec2', 'bart-large', 'marian-mt', 'distilbert', 'midas', 'deeplabv3', 'roberta-squad', 'tacotron2'];
const VERBS = ['load', 'call', 'invoke', 'import', 'instantiate'];
const PROSE = [
  'once upon a time there lived a king who had three daughters and the youngest was so beautiful that the sun itself wondered at her face',
  'the miller went home sadly for his wife had died and his children were hungry and the wolf waited in the dark forest',
  'in a little cottage by the river lived an old fisherman and his wife who wished every day for a palace of gold',
  'the princess wept by the well and a frog put its head out of the water and asked her why she cried so bitterly',
  'the brave tailor sewed seven flies with one blow and went out into the world to seek his fortune among giants',
  'snow fell softly on the mountain while the shepherd told his sons the old tale of the dragon and the enchanted sword',
  'the café by the château served crème brûlée to the naïve wanderer who had lost his way in the enchanted wood',
];

export function apiLine(i: number): string {
  const t = TASKS[i % TASKS.length]!;
  const m = MODELS[(i * 7) % MODELS.length]!;
  const v = VERBS[(i * 3) % VERBS.length]!;
  return `${v} the pretrained ${m} model for ${t} with torch.hub.load repo_or_dir=hub/${m} pretrained=true returns a torch.nn.module call model.eval() before inference argument device str example ${i % 13}`;
}

export function proseLine(i: number): string {
  const a = PROSE[i % PROSE.length]!;
  const b = PROSE[(i * 3 + 1) % PROSE.length]!.split(' ').slice(0, 8).join(' ');
  return `${a} and ${b} on the day ${i % 17} of the journey`;
}

export function twoClassCorpus(n: number, offset = 0): { text: string; label: string }[] {
  const out: { text: string; label: string }[] = [];
  for (let i = 0; i < n; i++) out.push(i % 2 === 0 ? { text: apiLine(offset + i), label: 'api' } : { text: proseLine(offset + i), label: 'prose' });
  return out;
}

/** Path of the `fasttext` command, or undefined (tests that need it then skip, saying why). */
export function fastTextCli(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v fasttext'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

export const NO_FASTTEXT = 'the fasttext command is not installed (Debian package "fasttext"); skipping the comparison with the reference implementation';

/** `fasttext predict-prob model file k` parsed into label/prob pairs per line. */
export function cliPredict(cli: string, model: string, file: string, k: number): { label: string; prob: number }[][] {
  const out = execFileSync(cli, ['predict-prob', model, file, String(k)], { encoding: 'utf8' });
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      const t = line.trim() ? line.trim().split(' ') : [];
      const pairs: { label: string; prob: number }[] = [];
      for (let j = 0; j + 1 < t.length; j += 2) pairs.push({ label: t[j]!, prob: Number(t[j + 1]) });
      return pairs;
    });
}

/** `twoClassCorpus(n, offset)` in fastText's training format (`__label__x text` lines) at `dir/train-<offset>.txt`. */
export function writeLabelledCorpus(dir: string, n: number, offset = 0): string {
  const file = join(dir, `train-${offset}.txt`);
  writeFileSync(
    file,
    twoClassCorpus(n, offset)
      .map((d) => `__label__${d.label} ${d.text}`)
      .join('\n') + '\n',
  );
  return file;
}

/**
 * `fasttext supervised` into `out.bin`: a small, quick, single-threaded model (dim 8, 5 epochs) so
 * the comparisons are reproducible; `args` adds the loss, n-gram and bucket flags under test.
 */
export function cliSupervised(cli: string, input: string, out: string, args: string[] = []): void {
  execFileSync(cli, ['supervised', '-input', input, '-output', out, '-dim', '8', '-epoch', '5', '-lr', '0.5', '-thread', '1', '-verbose', '0', ...args]);
}

/** `fasttext quantize` of `out.bin` into `out.ftz` with norm quantization (-qnorm), keeping `cutoff` words and n-grams. */
export function cliQuantize(cli: string, input: string, out: string, cutoff: number, args: string[] = []): void {
  execFileSync(cli, ['quantize', '-output', out, '-input', input, '-qnorm', '-cutoff', String(cutoff), ...args, '-verbose', '0']);
}

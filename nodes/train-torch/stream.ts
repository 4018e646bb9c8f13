import { writeFileSync } from 'node:fs';

/**
 * The training token stream train.py reads: little-endian uint32 ids, starting with EOS and with
 * every document ended by EOS. With a mask, each position says whether its token is a prediction
 * target: for prompt/completion pairs only the completion and its closing EOS are.
 */
export class TokenStream {
  private ids: Uint32Array = new Uint32Array(1 << 16);
  private mask: Uint8Array | null;
  length = 0;
  documents = 0;
  targets = 0;

  constructor(
    readonly eos: number,
    masked: boolean,
  ) {
    this.mask = masked ? new Uint8Array(1 << 16) : null;
    this.push(eos, false);
  }

  private push(id: number, target: boolean): void {
    if (this.length === this.ids.length) {
      const grown = new Uint32Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
      if (this.mask) {
        const m = new Uint8Array(this.mask.length * 2);
        m.set(this.mask);
        this.mask = m;
      }
    }
    this.ids[this.length] = id;
    if (this.mask) this.mask[this.length] = target ? 1 : 0;
    if (target) this.targets++;
    this.length++;
  }

  addDocument(ids: readonly number[]): void {
    for (const id of ids) this.push(id, true);
    this.push(this.eos, true);
    this.documents++;
  }

  addPair(prompt: readonly number[], completion: readonly number[]): void {
    for (const id of prompt) this.push(id, false);
    for (const id of completion) this.push(id, true);
    this.push(this.eos, true);
    this.documents++;
  }

  /** The ids (a view, not a copy). */
  tokens(): Uint32Array {
    return this.ids.subarray(0, this.length);
  }

  targetMask(): Uint8Array | null {
    return this.mask ? this.mask.subarray(0, this.length) : null;
  }

  write(tokensFile: string, maskFile: string): void {
    const t = this.tokens();
    // Little-endian on every platform Node ships for; the file format says so explicitly.
    writeFileSync(tokensFile, Buffer.from(t.buffer, t.byteOffset, t.byteLength));
    const m = this.targetMask();
    if (m) writeFileSync(maskFile, Buffer.from(m.buffer, m.byteOffset, m.byteLength));
  }
}

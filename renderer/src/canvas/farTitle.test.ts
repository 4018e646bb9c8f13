import { describe, expect, it } from 'vitest';
import { farTitle } from './farTitle';

const SHY = '\u00ad';

describe('farTitle', () => {
  it('puts soft hyphens at hyphenation points of long words and leaves the visible text alone', () => {
    const t = farTitle('Benchmark loss');
    expect(t).toBe(`Bench${SHY}mark loss`);
    expect(farTitle('BFCL trajectories').split(SHY).length).toBeGreaterThan(2);
    for (const title of ['Retrieval on the labelled pool', 'Mix agent data', 'Classifier: score']) {
      expect(farTitle(title).replaceAll(SHY, '')).toBe(title);
    }
  });
});

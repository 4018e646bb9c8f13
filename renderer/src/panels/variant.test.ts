import { describe, expect, it } from 'vitest';
import { shownVariant } from './variant';

describe('sweep output variant', () => {
  const variants = {
    'mix[ratio=0]': { variant: { ratio: 0 } },
    'mix[ratio=0.3]': { variant: { ratio: 0.3 } },
    'mix[ratio=0.6]': { variant: { ratio: 0.6 } },
  };
  it('opens on the variant whose swept value the node shows', () => {
    expect(shownVariant({ ratio: 0.3, other: 'x' }, variants)).toBe('mix[ratio=0.3]');
    expect(shownVariant({ ratio: 0.6 }, variants)).toBe('mix[ratio=0.6]');
  });
  it('falls back to the first variant when none matches', () => {
    expect(shownVariant({ ratio: 0.45 }, variants)).toBe('mix[ratio=0]');
    expect(shownVariant({}, {})).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { DARK_CATEGORY, recolorForDark } from './chartTheme';

describe('dark chart colours', () => {
  it('swaps black and grey marks and scale ranges for light colours, leaving data untouched', () => {
    const spec = {
      layer: [
        { mark: { type: 'point', color: 'black' } },
        { mark: { type: 'point', filled: false, color: 'gray' } },
        { encoding: { color: { field: 'form', scale: { range: ['#4c78a8', '#f58518'] } } } },
      ],
      data: { values: [{ color: 'black', x: 1 }] },
    };
    const out = recolorForDark(spec);
    expect(out.layer[0]?.mark?.color).not.toBe('black');
    expect(out.layer[1]?.mark?.color).not.toBe('gray');
    expect(out.layer[2]?.encoding?.color.scale.range[0]).toBe(DARK_CATEGORY[0]);
    expect(out.layer[2]?.encoding?.color.scale.range[1]).toBe('#f58518');
    expect(out.data.values[0]?.color).toBe('black');
    expect(spec.layer[0]?.mark?.color).toBe('black');
  });
});

import { describe, expect, it } from 'vitest';
import { rememberedQueue } from './ui';

describe('the remembered run queue', () => {
  it('keeps host, port, db and user but never the password', () => {
    expect(rememberedQueue('redis://:s%40cret@10.0.0.5:6379/2')).toBe('redis://10.0.0.5:6379/2');
    expect(rememberedQueue('redis://forge:pw@h:6380')).toBe('redis://forge@h:6380');
    expect(rememberedQueue('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

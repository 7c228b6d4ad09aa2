import { describe, expect, it } from 'vitest';
import { clip } from '../../functions/util/clip.js';

describe('clip', () => {
  it('keeps text of at most max characters whole', () => {
    expect(clip('', 3)).toBe('');
    expect(clip('ab', 3)).toBe('ab');
    expect(clip('abc', 3)).toBe('abc');
  });

  it('cuts longer text to max characters, the last an ellipsis', () => {
    expect(clip('abcd', 3)).toBe('ab…');
    const cut = clip('x'.repeat(301), 300);
    expect(cut).toHaveLength(300);
    expect(cut.endsWith('x…')).toBe(true);
  });
});

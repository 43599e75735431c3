import { describe, expect, it } from '@jest/globals';
import { count, money, table } from '../src/ui/format.js';
import { createProgress } from '../src/ui/progress.js';

function output(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, columns: 60, write: (text: string) => written.push(text) } };
}

describe('progress display', () => {
  it('prints a plain line per quarter when the output is not a terminal', () => {
    const { written, stream } = output(false);
    const progress = createProgress('orders', 8, stream);
    for (let done = 1; done <= 8; done++) progress.update(done, `done ${done}`);
    progress.finish();
    expect(written).toEqual([
      '    orders: 2/8 (25%)  done 2\n',
      '    orders: 4/8 (50%)  done 4\n',
      '    orders: 6/8 (75%)  done 6\n',
      '    orders: 8/8 (100%)  done 8\n',
    ]);
  });

  it('redraws one line on a terminal and leaves the final bar on screen', () => {
    const { written, stream } = output(true);
    const progress = createProgress('orders', 4, stream);
    for (let done = 1; done <= 4; done++) progress.update(done);
    progress.finish();
    const lines = written.filter((text) => text.startsWith('\r'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((line) => line.length === 60 && !line.includes('\n'))).toBe(true);
    expect(lines.at(-1)).toContain(`${'█'.repeat(28)} 100% 4/4`);
    expect(written.at(-1)).toBe('\n');
  });
});

describe('formatting', () => {
  it('formats money, counts and tables', () => {
    expect([money(2_999), money(123_456_700), money(-5)]).toEqual([
      '$29.99',
      '$1,234,567.00',
      '-$0.05',
    ]);
    expect(count(12_345)).toBe('12,345');
    expect(
      table(
        ['name', '>n'],
        [
          ['a', '1'],
          ['bbb', '22'],
        ],
      ),
    ).toEqual(['name   n', '────  ──', 'a      1', 'bbb   22']);
  });
});

/** Formatting for the shop's console output. */

/** Cents as dollars: `2999` → `$29.99`. */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}

/** A count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The last 12 characters of a UUID, enough to tell ids apart on screen. */
export function shortId(id: string): string {
  return `…${id.slice(-12)}`;
}

/**
 * Lays rows out as a table with a header, columns padded to their widest cell; columns whose
 * header starts with `>` are right-aligned (the `>` is not shown).
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const right = header.map((title) => title.startsWith('>'));
  const titles = header.map((title) => title.replace(/^>/, ''));
  const widths = titles.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        right[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [render(titles), render(widths.map((width) => '─'.repeat(width))), ...rows.map(render)];
}

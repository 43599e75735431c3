// Keeps the code in the documentation identical to code that compiles and is tested.
// A Markdown file marks a code block with `<!-- snippet: <path>#<region> -->` on the line before
// its fence; the block must equal the region between `// #region <region>` and
// `// #endregion <region>` in that file (dedented). `checkSnippets` reports differences;
// `writeSnippets` rewrites the blocks from the sources.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const MARKER = /<!-- snippet: ([^#\s]+)#([\w-]+) -->\n```(\w*)\n([\s\S]*?)```/g;

function markdownFiles(root) {
  const files = [join(root, 'README.md')];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.md')) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  for (const folder of readdirSync(join(root, 'packages')))
    files.push(join(root, 'packages', folder, 'README.md'));
  return files.filter((file) => existsSync(file));
}

/** The text of region `name` in `file`, dedented, with a trailing newline. */
export function region(root, file, name) {
  const path = join(root, file);
  if (!existsSync(path)) throw new Error(`snippet source ${file} does not exist`);
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
  const end = lines.findIndex((line, i) => i > start && line.trim() === `// #endregion ${name}`);
  if (start < 0 || end < 0) throw new Error(`region ${name} not found in ${file}`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(
    ...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length),
  );
  return `${body.map((l) => l.slice(indent)).join('\n')}\n`;
}

function process(root, write) {
  const problems = [];
  let count = 0;
  for (const file of markdownFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const updated = text.replace(MARKER, (whole, source, name, lang, block) => {
      count++;
      let expected;
      try {
        expected = region(root, source, name);
      } catch (error) {
        problems.push(`${relative(root, file)}: ${error.message}`);
        return whole;
      }
      if (block !== expected)
        problems.push(`${relative(root, file)}: block ${source}#${name} differs from its source`);
      return `<!-- snippet: ${source}#${name} -->\n\`\`\`${lang}\n${expected}\`\`\``;
    });
    if (write && updated !== text) writeFileSync(file, updated);
  }
  return { problems, count };
}

/** Lists documentation blocks that differ from their source regions. */
export function checkSnippets(root) {
  return process(root, false);
}

/** Rewrites documentation blocks from their source regions. */
export function writeSnippets(root) {
  return process(root, true);
}

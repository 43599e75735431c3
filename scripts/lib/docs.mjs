// Checks that every export of every published package has TSDoc with an example: the symbol's
// declaration carries a doc comment whose text contains a ```ts code block (or an @example tag).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** Returns `package: symbol — problem` lines for exports without proper TSDoc. */
export function checkDocs(root) {
  const problems = [];
  const packagesDir = join(root, 'packages');
  for (const folder of readdirSync(packagesDir)) {
    const manifestPath = join(packagesDir, folder, 'package.json');
    const entry = join(packagesDir, folder, 'src', 'index.ts');
    if (!existsSync(manifestPath) || !existsSync(entry)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private) continue;
    const program = ts.createProgram([entry], {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      customConditions: ['@goes/source'],
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declarations = symbol.getDeclarations() ?? [];
      const own = declarations.filter((d) =>
        d.getSourceFile().fileName.startsWith(join(packagesDir, folder)),
      );
      if (own.length === 0) continue; // re-exported from another package: documented there
      const documented = own.some((declaration) => {
        const docs = ts.getJSDocCommentsAndTags(declaration).map((node) => node.getText());
        const text = docs.join('\n');
        return text.length > 0 && (text.includes('```ts') || text.includes('@example'));
      });
      if (!documented) {
        const where = relative(root, own[0].getSourceFile().fileName);
        problems.push(
          `${manifest.name}: ${exported.getName()} (${where}) has no TSDoc with an example`,
        );
      }
    }
  }
  return problems;
}

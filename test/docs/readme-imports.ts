/**
 * Reads the imports of README blocks and of the files they are quoted from, so the docs test
 * can check that a block shows every import its code uses, as the file it comes from has it.
 */
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * One imported name: its local name, the name it has in its module (`*` for a namespace,
 * `default`), and the module, as an app writes it.
 */
export interface Binding {
  local: string;
  imported: string;
  module: string;
}

/**
 * Where a specifier leads, as an app would write it: a file of the package's entry points
 * becomes `nestjs-attachments[/subpath]`, any other file of src/ is internal (not importable
 * by an app), and other specifiers stay as written.
 */
export function moduleName(
  specifier: string,
  fromFile: string,
  root: string,
  entries: Map<string, string>,
): string {
  if (!specifier.startsWith('.')) return specifier;
  const target = relative(root, resolve(dirname(fromFile), specifier)).replace(/\.js$/, '.ts');
  const entry = entries.get(target);
  if (entry) return entry;
  return target.startsWith('src/') ? `internal:${target}` : specifier;
}

/** The package's entry points by source file: `src/index.ts` → `nestjs-attachments`. */
export function entryPoints(
  name: string,
  exports: Record<string, { default: string }>,
): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(exports)) {
    const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    entries.set(source, subpath === '.' ? name : `${name}/${subpath.slice(2)}`);
  }
  return entries;
}

/**
 * Every name a file imports: import declarations, and `const { a } = await import('x')`, the
 * form of a module loaded only when needed. Specifiers are passed through `rename`.
 */
export function importsOf(text: string, rename: (specifier: string) => string): Binding[] {
  const source = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, true);
  const bindings: Binding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const module = rename(node.moduleSpecifier.text);
      const clause = node.importClause;
      if (clause?.name) bindings.push({ local: clause.name.text, imported: 'default', module });
      const named = clause?.namedBindings;
      if (named && ts.isNamespaceImport(named)) {
        bindings.push({ local: named.name.text, imported: '*', module });
      }
      if (named && ts.isNamedImports(named)) {
        for (const element of named.elements) {
          const imported = (element.propertyName ?? element.name).text;
          bindings.push({ local: element.name.text, imported, module });
        }
      }
    }
    if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer &&
      ts.isAwaitExpression(node.initializer) &&
      ts.isCallExpression(node.initializer.expression) &&
      node.initializer.expression.expression.kind === ts.SyntaxKind.ImportKeyword
    ) {
      const [argument] = node.initializer.expression.arguments;
      if (argument && ts.isStringLiteral(argument)) {
        for (const element of node.name.elements) {
          if (!ts.isIdentifier(element.name)) continue;
          const property = element.propertyName;
          const imported =
            property && ts.isIdentifier(property) ? property.text : element.name.text;
          bindings.push({ local: element.name.text, imported, module: rename(argument.text) });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return bindings;
}

/**
 * The names a piece of code mentions, skipping property names after `.` and the text of
 * template literals. The code may be a fragment (a class member), so it is scanned, not parsed.
 */
export function identifiersOf(code: string): Set<string> {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code);
  const names = new Set<string>();
  const templates: number[] = [];
  let depth = 0;
  let previous = ts.SyntaxKind.Unknown;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken;) {
    if (token === ts.SyntaxKind.TemplateHead) templates.push(depth);
    if (token === ts.SyntaxKind.OpenBraceToken) depth += 1;
    if (token === ts.SyntaxKind.CloseBraceToken) {
      if (templates.at(-1) === depth) {
        token = scanner.reScanTemplateToken(false);
        if (token === ts.SyntaxKind.TemplateTail) templates.pop();
        previous = token;
        token = scanner.scan();
        continue;
      }
      depth -= 1;
    }
    const afterDot =
      previous === ts.SyntaxKind.DotToken || previous === ts.SyntaxKind.QuestionDotToken;
    if (token === ts.SyntaxKind.Identifier && !afterDot) names.add(scanner.getTokenValue());
    previous = token;
    token = scanner.scan();
  }
  return names;
}

/** Splits a README block into its leading imports and the code after them. */
export function splitImports(block: string): { imports: string; code: string } {
  const match = /^(?:import\s[^;]*;\s*\n)*/.exec(block);
  const imports = match ? match[0] : '';
  return { imports, code: block.slice(imports.length) };
}

/**
 * A tool file parsed with source positions, so that every problem found later (schema, SQL,
 * templates) can point at the line and column of the node it is about.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import type { Problem } from './problem.js';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export class YamlSource {
  readonly file: string;
  readonly text: string;
  readonly document: Document;
  private readonly lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lines = new LineCounter();
    // YAML 1.2 core schema: `yes`, `no` and `on` stay strings; duplicate keys are errors.
    this.document = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  }

  /** YAML syntax errors and aliases to undefined anchors as problems, in file order. */
  syntaxProblems(): Problem[] {
    const found: Array<{ offset: number; problem: Problem }> = this.document.errors.map((error) => {
      const offset = error.pos[0];
      const code = error.code === 'DUPLICATE_KEY' ? 'TOOLSHED_ERR_DUPLICATE_KEY' : 'TOOLSHED_ERR_YAML';
      return { offset, problem: { file: this.file, ...this.positionAt(offset), code, message: explainYamlError(error.code, error.message, this.text, offset) } };
    });
    for (const alias of this.unresolvedAliases()) {
      const message = `*${alias.source} is read as a YAML alias, but no anchor &${alias.source} is defined; quote a value that starts with *, such as a cron schedule "*/20 * * * *"`;
      found.push({ offset: alias.offset, problem: { file: this.file, ...this.positionAt(alias.offset), code: 'TOOLSHED_ERR_YAML', message } });
    }
    return found.sort((a, b) => a.offset - b.offset).map((entry) => entry.problem);
  }

  /**
   * Finds aliases such as `*not` whose anchor is never defined. The parser accepts them,
   * but converting the document to values throws, so they must be reported first.
   */
  private unresolvedAliases(): Array<{ source: string; offset: number }> {
    const aliases: Array<{ source: string; offset: number }> = [];
    visit(this.document, {
      Alias: (_, alias) => {
        if (alias.resolve(this.document) === undefined) aliases.push({ source: alias.source, offset: alias.range?.[0] ?? 0 });
      },
    });
    return aliases;
  }

  positionAt(offset: number): Position {
    const { line, col } = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line, column: col };
  }

  /** The node at a path, or the deepest existing ancestor when the path ends early. */
  nodeAt(path: readonly PathSegment[]): Node | undefined {
    let node: unknown = this.document.contents;
    for (const segment of path) {
      const next = childOf(node, segment);
      if (next === undefined) break;
      node = next;
    }
    return isNodeLike(node) ? node : undefined;
  }

  /** The key node of a mapping entry: where "unknown key" problems point. */
  keyAt(path: readonly PathSegment[], key: string): Node | undefined {
    const parent = this.nodeAt(path);
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((item: Pair) => isScalar(item.key) && String(item.key.value) === key);
    return pair && isNodeLike(pair.key) ? pair.key : undefined;
  }

  positionOf(node: Node | undefined): Position {
    const offset = node?.range?.[0] ?? 0;
    return this.positionAt(offset);
  }

  /** Position of the node at a path. */
  locate(path: readonly PathSegment[]): Position {
    return this.positionOf(this.nodeAt(path));
  }
}

function childOf(node: unknown, segment: PathSegment): unknown {
  if (isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    return pair?.value ?? undefined;
  }
  if (isSeq(node) && typeof segment === 'number') return node.items[segment];
  if (isPair(node)) return childOf(node.value, segment);
  return undefined;
}

function isNodeLike(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

/** Adds the fix to YAML errors whose library message does not say it. */
function explainYamlError(code: string, message: string, text: string, offset: number): string {
  const firstLine = message.split('\n')[0] ?? message;
  const rest = text.slice(offset, offset + 1);

  if (code === 'TAB_AS_INDENT') return 'tabs are not allowed for indentation in YAML; indent with spaces';
  if (code === 'DUPLICATE_KEY') return `${firstLine}; each key may appear once in a mapping, so remove or rename one`;
  if (rest === '*' || /alias/i.test(firstLine)) {
    return `${firstLine}. A value that starts with * (such as a cron schedule "*/20 * * * *") must be quoted`;
  }
  if (rest === '@' || rest === '`') return `${firstLine}. A value that starts with ${rest} must be quoted`;
  return firstLine;
}

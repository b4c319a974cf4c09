/**
 * Absolute paths in a generated script other than the allowed ones (the sweep directory,
 * node, the launcher), in any quoting: the allowed strings are cut out first, longest first,
 * then whatever still starts with "/" after a word boundary is foreign. The #! line is the
 * interpreter, not a path of the submitting machine.
 */
import { shellQuote } from '../../src/cluster/sbatch.js';

export function foreignPaths(script: string, dir: string, allowed: readonly string[]): string[] {
  const cut = [...new Set([...allowed, dir, `${dir}/`].flatMap((a) => [shellQuote(a), a]))].sort((a, b) => b.length - a.length);
  let text = script.split('\n').slice(1).join('\n');
  // the sweep directory with any suffix, quoted as one word ('DIR/shards/', 'DIR/spec.yaml')
  text = text.replace(new RegExp(`'${escape(dir.replace(/'/g, `'\\''`))}[^']*'(/\\*)?`, 'g'), ' ');
  for (const c of cut) text = text.split(c).join(' ');
  return text.match(/(?<![\w$}])\/[^\s'"]+/g) ?? [];
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

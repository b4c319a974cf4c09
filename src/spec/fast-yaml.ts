import { CORE_SCHEMA, load } from 'js-yaml';

/**
 * The data of a plain YAML document through js-yaml, or undefined where the text needs the
 * `yaml` package (src/spec/load.ts parses it there, with line numbers for every message).
 *
 * Why two parsers: building the `yaml` package's Document (its node tree, ranges and line
 * counter are what error messages with lines need) costs ~1-2 ms for a 1 KB spec even when
 * warm, and ~15 ms cold, against ~0.2 ms and ~5 ms for js-yaml. A scripted batch of small
 * runs, or `relaxmap bench`, parses a spec per run. Valid specs take this path; any error,
 * in the YAML or in the spec, is reported after a second parse with `yaml`.
 *
 * Both resolve plain scalars by the YAML 1.2 core schema. The texts this path declines are
 * those where the two could disagree or where `yaml` guards against abuse:
 * - anchors and aliases (`&a`, `*a`): `yaml` limits alias expansion (a "billion laughs"
 *   document), js-yaml does not;
 * - tags (`!`, `!!str`), merge keys (`<<`) and directives (`%YAML`): features of the
 *   schemas, not of the data specs hold;
 * - exponents of three digits or more: `1e+309` is a number (Infinity) in `yaml`, a string
 *   in js-yaml.
 * The checks are textual and conservative: a `*` or `!` inside an expression or a comment
 * also sends the text to `yaml`, which only costs time. test/spec/fast-yaml.test.ts compares
 * the two parsers on every shipped spec and on the core schema's scalar forms.
 */
export function fastYamlLoad(text: string): unknown {
  if (DECLINE.test(text)) return undefined;
  try {
    return load(text, { schema: CORE_SCHEMA });
  } catch {
    // duplicate keys, syntax errors, empty or multi-document input: `yaml` says what is wrong
    return undefined;
  }
}

/**
 * Anchors, aliases, tags, merge keys, directives, long exponents (see fastYamlLoad). An anchor
 * or alias is `&` or `*` and a name starting a node (after a space, `[`, `{`, `,`, `:`, `-` or
 * a line start; `Rodin & Abergel` in a comment is not one); a tag is any `!`.
 */
const DECLINE = /(^|[\s[{,:-])[&*][^\s]|!|<<|^%|[eE][-+]?\d{3}/m;

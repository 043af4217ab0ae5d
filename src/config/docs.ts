/**
 * The README's configuration table and `.env.example`, rendered from `fields.ts`, so that the
 * documented defaults cannot drift from the ones read. `test/unit/config-documented.test.ts`
 * fails when the committed files differ; `npm run config:docs` rewrites them.
 */
import { TOPICS, type Topic } from './fields.js';
import type { Field } from './read.js';

/** The lines between these markers in the README are generated. */
export const README_MARKERS = {
  start: '<!-- config-table: generated from src/config/fields.ts by `npm run config:docs` -->',
  end: '<!-- /config-table -->',
} as const;

/** The Markdown table of every variable, one bold row per topic. */
export function renderReadmeTable(topics: readonly Topic[] = TOPICS): string {
  const rows = ['| Variable | Default | Accepts | Meaning |', '| --- | --- | --- | --- |'];
  for (const topic of topics) {
    rows.push(`| **${topic.title}** | | | |`);
    for (const field of fieldsOf(topic)) {
      const fallback =
        field.defaultNote ?? (field.default === '' ? 'unset' : `\`${field.default}\``);
      rows.push(`| \`${field.env}\` | ${fallback} | ${field.accepts} | ${field.doc} |`);
    }
  }
  return rows.join('\n');
}

/** The README with its generated table replaced by `table`. */
export function withReadmeTable(readme: string, table: string = renderReadmeTable()): string {
  const start = readme.indexOf(README_MARKERS.start);
  const end = readme.indexOf(README_MARKERS.end);
  if (start < 0 || end < start) {
    throw new Error(`README has no "${README_MARKERS.start}" … "${README_MARKERS.end}" block`);
  }
  return `${readme.slice(0, start + README_MARKERS.start.length)}\n${table}\n${readme.slice(end)}`;
}

const WIDTH = 100;

/** `.env.example`: every variable with its default, commented, by topic. */
export function renderEnvExample(topics: readonly Topic[] = TOPICS): string {
  const out = [
    '# avatar-gateway configuration, generated from src/config/fields.ts by `npm run config:docs`.',
    '# Every variable is optional; the defaults are shown (empty: unset).',
  ];
  for (const topic of topics) {
    out.push('', `# --- ${plain(topic.title)} ---`);
    for (const field of fieldsOf(topic)) {
      const note = field.defaultNote ? ` Default: ${field.defaultNote}.` : '';
      out.push(
        ...comment(`${field.doc}. Accepts: ${field.accepts}.${note}`),
        `${field.env}=${field.default}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

function fieldsOf(topic: Topic): Array<Field<unknown>> {
  return Object.values(topic.fields);
}

/** Markdown to plain text: links keep their text, code loses its backticks. */
function plain(markdown: string): string {
  return markdown.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/`/g, '');
}

/** `text` as `# ` lines of at most `WIDTH` characters (a longer word gets a line of its own). */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of plain(text).split(' ')) {
    if (line !== '#' && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

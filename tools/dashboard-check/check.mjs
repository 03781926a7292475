// Checks Grafana dashboard JSON files against Grafana's published dashboard schema (the TypeScript types of
// @grafana/schema) with tsc. Usage: node check.mjs DASHBOARD.json...   Exit 0 when every file conforms.
//
// Importing the JSON (resolveJsonModule) would let misspelled fields through: TypeScript checks excess properties
// only on object literals. So each file is written out as a literal assigned to the schema type; tsc then rejects
// an unknown field, a wrong type, or a value outside an enumeration. The dashboard type leaves each panel's
// `options` and `fieldConfig.defaults.custom` open (they belong to the panel plugin), so every panel is checked a
// second time against its plugin's own published types (stat, timeseries); a panel type without one fails the
// check rather than go unchecked.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node check.mjs DASHBOARD.json...');
  process.exit(2);
}

const panelTypes = {
  row: 'Json<RowPanel>',
  stat: 'Json<PluginPanel<StatOptions, never>>',
  timeseries: 'Json<PluginPanel<TimeSeriesOptions, TimeSeriesFieldConfig>>',
};

const header = `import type { Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel } from '@grafana/schema';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TimeSeriesOptions, FieldConfig as TimeSeriesFieldConfig } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

// JSON spells a string enum member as its value ("absolute"), which TypeScript does not take for the enum type:
// map every string type to the union of its values, and leave the rest of the shape as it is.
type Json<T> = T extends string ? \`\${T}\`
  : T extends number | boolean | null | undefined ? T
  : T extends ReadonlyArray<infer U> ? Json<U>[]
  : T extends object ? { [K in keyof T]: Json<T[K]> }
  : T;

type PluginPanel<TOptions, TCustom> = Omit<Panel, 'options' | 'fieldConfig'> & {
  options: TOptions;
  fieldConfig: {
    defaults: Omit<FieldConfig, 'custom'> & { custom?: TCustom };
    overrides: FieldConfigSource['overrides'];
  };
};
`;

const work = join(here, '.generated', `${process.pid}-${Date.now()}`);
mkdirSync(work, { recursive: true });
let failed = false;
try {
  const sources = [];
  files.forEach((file, index) => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8'));
    const lines = [header, `// ${resolve(file)}`, `export const dashboard: Json<Dashboard> = ${JSON.stringify(dashboard, null, 2)};`];
    const panels = (dashboard.panels ?? []).flatMap(p => [p, ...(p.type === 'row' ? p.panels ?? [] : [])]);
    panels.forEach((panel, i) => {
      const type = panelTypes[panel.type];
      if (type === undefined) {
        console.error(`${file}: panel ${JSON.stringify(panel.title)} has type ${JSON.stringify(panel.type)}, which this check has no schema for (known: ${Object.keys(panelTypes).join(', ')})`);
        failed = true;
        return;
      }
      lines.push(`export const panel${i}: ${type} = ${JSON.stringify(panel, null, 2)};`);
    });
    const source = join(work, `dashboard${index}.ts`);
    writeFileSync(source, lines.join('\n\n') + '\n');
    sources.push(source);
  });
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', files: sources }));
  try {
    execFileSync(process.execPath, [join(here, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', work, '--pretty', 'false'],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    // tsc names the generated file and line; the message names the field and the type it broke.
    process.stderr.write(error.stdout ?? '');
    process.stderr.write(error.stderr ?? '');
    failed = true;
  }
} finally {
  if (!process.env.DASHBOARD_CHECK_KEEP) rmSync(work, { recursive: true, force: true });
}
if (failed) {
  console.error('dashboard check: FAILED');
  process.exit(1);
}
console.log(`dashboard check: ${files.length} file(s) conform to @grafana/schema`);

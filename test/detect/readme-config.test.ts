// The README's config blocks are the documentation an operator copies: "Every setting with
// its default" must be accepted as written and, once its marked examples (threshold and
// risky-services `hosts`/`ports`) are taken out, give exactly the built-in defaults; the
// webhook/Alertmanager example must be accepted and give the defaults it states.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyConfigFile, defaultAlertSinkConfig, defaultDetectConfig } from '../../src/detect/config.js';

const README = readFileSync('README.md', 'utf8');

/** The indented block that follows `lead` (its first paragraph of 4-space lines), as JSON. */
function blockAfter(lead: string): Record<string, Record<string, unknown>> {
  const at = README.indexOf(lead);
  expect(at, `README has "${lead}"`).toBeGreaterThan(0);
  const rest = README.slice(at + lead.length).replace(/^\s*\n/, '');
  const lines: string[] = [];
  for (const l of rest.split('\n')) {
    if (!l.startsWith('    ')) break;
    lines.push(l.slice(4));
  }
  return JSON.parse(lines.join('\n')) as Record<string, Record<string, unknown>>;
}

function applied(json: unknown) {
  const d = defaultDetectConfig();
  const s = defaultAlertSinkConfig('this-host');
  applyConfigFile(json, 'README', d, s);
  return { d, s };
}

describe("the README's config blocks", () => {
  it('"Every setting with its default" is accepted and, without its marked examples, is the defaults', () => {
    const json = blockAfter('Every setting with its default:');
    expect(() => applied(json)).not.toThrow();
    delete json.threshold?.hosts;
    delete json['risky-services']?.ports;
    expect(applied(json)).toEqual(applied({}));
  });

  it('the webhook and Alertmanager example is accepted, with the defaults it states', () => {
    const json = blockAfter('A webhook and an Alertmanager, with their defaults:');
    const { s } = applied(json);
    expect(s.sensor).toBe('edge-1');
    const bare = applied({ alerts: { webhook: 'https://hooks.slack.com/services/x', alertmanager: 'http://127.0.0.1:9093' } }).s;
    expect({ ...s.webhook, url: '' }).toEqual({ ...bare.webhook, url: '' });
    expect({ ...s.alertmanager, url: '' }).toEqual({ ...bare.alertmanager, url: '' });
  });
});

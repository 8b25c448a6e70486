/**
 * npm run eval:firewall: how well the write firewall finds secrets and
 * injected instructions, on fixed labelled corpora (scripts/eval/firewall-corpus.ts).
 * JSON on stdout, tables on stderr. A secret sample counts as caught when
 * redaction leaves none of its secret; a benign sample is a false alarm when
 * anything in it is redacted. An injection sample is right when it is
 * flagged, a benign one when it is not.
 */
import { pathToFileURL } from 'node:url';
import { redact, scanSecrets } from '../../src/firewall/secret-scan.js';
import { scanInjection } from '../../src/firewall/injection-scan.js';
import { firewallCorpus, injectionCorpus, injectionFirstHoldout, injectionHeldOut, type InjectionSample } from './firewall-corpus.js';

export interface FirewallReport {
  samples: { secrets: number; benign: number };
  secrets: { recall: number; precision: number; kind_accuracy: number };
  by_kind: Record<string, { samples: number; caught: number; recall: number }>;
  false_alarms: Record<string, { samples: number; flagged: number; examples: string[] }>;
  missed: Array<{ label: string; text: string }>;
  injections: InjectionReport;
  /** Phrasings the rules were not written for: the measure of how they generalise. */
  /** The texts the rules were widened on after they were first written: reported, not a measure of generalisation. */
  injections_tuned_on: InjectionReport;
  injections_held_out: InjectionReport;
}

interface InjectionReport {
  samples: { injections: number; benign: number };
  recall: number;
  precision: number;
  by_label: Record<string, { samples: number; right: number }>;
  wrong: Array<{ label: string; text: string; signals: string[] }>;
}

function judgeInjections(samples: readonly InjectionSample[]): InjectionReport {
  const byLabel: InjectionReport['by_label'] = {};
  const wrong: InjectionReport['wrong'] = [];
  let flaggedRight = 0;
  let flaggedWrong = 0;
  for (const sample of samples) {
    const verdict = scanInjection(sample.text);
    const entry = (byLabel[sample.label] ??= { samples: 0, right: 0 });
    entry.samples += 1;
    if (verdict.flagged === sample.injection) entry.right += 1;
    else wrong.push({ label: sample.label, text: sample.text.slice(0, 120), signals: verdict.signals });
    if (verdict.flagged && sample.injection) flaggedRight += 1;
    if (verdict.flagged && !sample.injection) flaggedWrong += 1;
  }
  const attacks = samples.filter((s) => s.injection).length;
  return {
    samples: { injections: attacks, benign: samples.length - attacks },
    recall: round(flaggedRight / attacks),
    precision: round(flaggedRight / Math.max(1, flaggedRight + flaggedWrong)),
    by_label: byLabel,
    wrong,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function evaluateFirewall(): Promise<FirewallReport> {
  const corpus = firewallCorpus();
  const heldOut = injectionHeldOut();
  const byKind: FirewallReport['by_kind'] = {};
  const falseAlarms: FirewallReport['false_alarms'] = {};
  const missed: FirewallReport['missed'] = [];
  let caught = 0;
  let rightKind = 0;
  let flaggedBenign = 0;
  let secrets = 0;
  for (const sample of corpus) {
    const findings = await scanSecrets(sample.text);
    if (sample.kind === null) {
      const entry = (falseAlarms[sample.label] ??= { samples: 0, flagged: 0, examples: [] });
      entry.samples += 1;
      if (findings.length > 0) {
        entry.flagged += 1;
        flaggedBenign += 1;
        if (entry.examples.length < 3) entry.examples.push(`${sample.text.slice(0, 80)} → ${findings.map((f) => f.kind).join(', ')}`);
      }
      continue;
    }
    secrets += 1;
    const entry = (byKind[sample.kind] ??= { samples: 0, caught: 0, recall: 0 });
    entry.samples += 1;
    if (!redact(sample.text, findings).includes(sample.secret!)) {
      caught += 1;
      entry.caught += 1;
      if (findings.some((f) => f.kind === sample.kind)) rightKind += 1;
    } else {
      missed.push({ label: sample.label, text: sample.text.slice(0, 120) });
    }
  }
  for (const entry of Object.values(byKind)) entry.recall = round(entry.caught / entry.samples);
  return {
    samples: { secrets, benign: corpus.length - secrets },
    secrets: { recall: round(caught / secrets), precision: round(caught / (caught + flaggedBenign)), kind_accuracy: round(rightKind / Math.max(1, caught)) },
    by_kind: byKind,
    false_alarms: falseAlarms,
    missed,
    injections: judgeInjections(injectionCorpus()),
    injections_tuned_on: judgeInjections([...injectionFirstHoldout(), ...heldOut.tuning]),
    injections_held_out: judgeInjections(heldOut.untouched),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await evaluateFirewall();
  const lines = [
    `secrets: recall ${report.secrets.recall}, precision ${report.secrets.precision}, kind named right ${report.secrets.kind_accuracy} (${report.samples.secrets} secret and ${report.samples.benign} benign samples; cost: npm run bench:secrets)`,
    '',
    '| kind | samples | caught | recall |',
    '|---|---|---|---|',
    ...Object.entries(report.by_kind).map(([kind, e]) => `| ${kind} | ${e.samples} | ${e.caught} | ${e.recall} |`),
    '',
    '| benign look-alike | samples | flagged |',
    '|---|---|---|',
    ...Object.entries(report.false_alarms).map(([label, e]) => `| ${label} | ${e.samples} | ${e.flagged} |`),
    '',
    `injected instructions: recall ${report.injections.recall}, precision ${report.injections.precision} (${report.injections.samples.injections} attacks and ${report.injections.samples.benign} instruction-like benign texts)`,
    '',
    `tuned on (held-out texts the rules were later widened for): recall ${report.injections_tuned_on.recall}, precision ${report.injections_tuned_on.precision}`,
    `held out (half of a set written apart from the rules, never tuned on): recall ${report.injections_held_out.recall}, precision ${report.injections_held_out.precision} (${report.injections_held_out.samples.injections} attacks, ${report.injections_held_out.samples.benign} benign)`,
    '',
    '| sample | samples | judged right |',
    '|---|---|---|',
    ...Object.entries(report.injections.by_label).map(([label, e]) => `| ${label} | ${e.samples} | ${e.right} |`),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

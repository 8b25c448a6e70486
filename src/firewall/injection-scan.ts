/**
 * Text that addresses a model rather than informing it: instructions to
 * ignore or replace its instructions, role-play set-ups, fake system
 * messages and tool calls, and characters a reader cannot see. Stored in a
 * memory, such text comes back in a later search as if it were knowledge.
 *
 * Each signal is a kind of evidence; a text is flagged when one strong signal
 * or two weak ones are found. Quoting or discussing such phrases (an article
 * about prompt injection) lowers the weight of the phrase signals, never of
 * hidden characters or fake role markers.
 */

export type InjectionSignal =
  | 'override-instructions'
  | 'role-play'
  | 'prompt-leak'
  | 'exfiltration'
  | 'fake-role-marker'
  | 'fake-tool-call'
  | 'hidden-characters'
  | 'encoded-blob';

export interface InjectionVerdict {
  readonly flagged: boolean;
  /** The signals found, strongest first. */
  readonly signals: InjectionSignal[];
  readonly score: number;
}

interface Rule {
  readonly signal: InjectionSignal;
  readonly pattern: RegExp;
  /** 1: enough alone; 0.5: needs another signal. */
  readonly weight: number;
  /** Whether a discussion of injections (quoting the phrase) weakens it. */
  readonly phrase: boolean;
}

const PREVIOUS = '(?:all |any |the |your |every |these |those |of )*(?:previous|prior|above|earlier|preceding|original|initial|system|existing|old)';
const ORDERS = '(?:instructions?|prompts?|rules|directions|guidelines|orders|messages|context|constraints|programming)';

const RULES: readonly Rule[] = [
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: new RegExp(`\\b(?:ignore|disregard|forget|override|bypass|skip|drop)\\s+${PREVIOUS}\\s+${ORDERS}`, 'i') },
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: new RegExp(`\\b(?:ignore|disregard|forget)\\s+(?:everything|all)\\s+(?:you(?:'ve| have)? (?:been told|learned|read)|(?:said|written|stated) (?:above|before))`, 'i') },
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: /\b(?:new|updated|revised|real|actual) (?:system )?instructions?\s*(?::|follow)/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\bfrom now on,? (?:you|the assistant|the ai|the model) (?:will|must|shall|should|are|have)\b/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\b(?:do not|don't|never) (?:tell|inform|alert|warn|mention (?:this )?to) the user\b/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\b(?:without|ignoring|with no) (?:any )?(?:restrictions|filters|safety|guardrails|limitations|censorship)\b/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\b(?:when|if) (?:an? |the )?(?:ai|assistant|model|llm|agent) (?:reads|sees|retrieves|finds) this\b/i },
  {
    signal: 'role-play',
    weight: 1,
    phrase: true,
    pattern: /\byou are now (?:DAN\b|an? (?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|different|new) (?:ai|model|assistant|chatbot|persona)|in (?:developer|god|dan|admin) mode|free (?:of|from))|\byou are no longer (?:bound|restricted|an? (?:ai|assistant)|required to)|\b(?:enable|enter|activate|switch to) (?:developer|god|dan|jailbreak) mode\b|\bjailbr(?:ea|o)k(?:en|ed)?\b|\bdo anything now\b/i,
  },
  { signal: 'role-play', weight: 0.5, phrase: true, pattern: /\b(?:pretend|imagine) (?:to be|that you are|you are|you're)\b|\b(?:act|behave|respond) as (?:if you were |though you were )?(?:an? )?(?:unrestricted|unfiltered|evil|different|new|rogue)\b/i },
  { signal: 'prompt-leak', weight: 1, phrase: true, pattern: /\b(?:reveal|print|show|output|repeat|leak|tell me|display) (?:me )?(?:your|the) (?:full |entire |hidden |original |initial )?(?:system prompt|system message|instructions|hidden instructions|initial prompt)\b/i },
  { signal: 'exfiltration', weight: 1, phrase: true, pattern: /\b(?:send|forward|post|upload|email|transmit|exfiltrate|leak)\b[^.\n]{0,60}\b(?:keys?|credentials?|secrets?|passwords?|tokens?|api keys?|env(?:ironment)? variables|conversation|chat history|memories)\b[^.\n]{0,40}\b(?:to|at)\b[^.\n]{0,10}(?:https?:\/\/|\S+@\S+\.\w+|\S+\.(?:com|net|org|io|ru|xyz)\b)/i },
  // A markdown image whose URL carries a templated or long value: rendering it sends data away.
  { signal: 'exfiltration', weight: 1, phrase: false, pattern: /!\[[^\]]*\]\(https?:\/\/[^)\s]+\?[^)\s]*(?:data|secret|token|key|q|c)=(?:\{|\$|%7B|[A-Za-z0-9+/=_-]{24,})/i },
  // Piping a download into a shell: also how-tos agents keep, so alone it only counts half.
  { signal: 'exfiltration', weight: 0.5, phrase: false, pattern: /\b(?:curl|wget)\s+[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z)?sh\b/i },
  { signal: 'encoded-blob', weight: 0.5, phrase: true, pattern: /\b(?:decode|base64[- ]decode|rot13|decipher)\b[^.\n]{0,60}\b(?:follow|execute|run|obey|do what it says|carry out)\b/i },
  { signal: 'fake-role-marker', weight: 1, phrase: false, pattern: /<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|eot_id)\|>|\[\/?INST\]|<<\/?SYS>>/i },
  { signal: 'fake-role-marker', weight: 1, phrase: false, pattern: /(?:^|\n|[.!?]\s+)\s*(?:#{1,3}\s*)?(?:system|assistant|admin)\s*(?:message|prompt|note|override)?\s*:\s*(?:you\b|ignore|from now|new instructions|always\b|never\b|do not|the (?:user|assistant)\b)/i },
  { signal: 'fake-role-marker', weight: 1, phrase: false, pattern: /<\/?(?:system|system-reminder|system_prompt|assistant|instructions|admin)>|\[(?:SYSTEM|ADMIN|SYSTEM MESSAGE|SYSTEM PROMPT)\]/i },
  { signal: 'fake-tool-call', weight: 1, phrase: false, pattern: /<\/?(?:tool_call|tool_result|function_calls|function_results|invoke|tool_use)\b/i },
  // A tool call as JSON: also what an agent's log of its own calls looks like, so alone it only counts half.
  { signal: 'fake-tool-call', weight: 0.5, phrase: false, pattern: /"(?:function_call|tool_calls)"\s*:|\{\s*"(?:tool|name)"\s*:\s*"[^"]+"\s*,\s*"(?:arguments|parameters|input)"\s*:/i },
];

/** Unicode tag characters (invisible ASCII), bidi embeddings and overrides, and zero-width characters outside emoji sequences. */
const TAG_CHARACTERS = /[\u{E0000}-\u{E007F}]/u;
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
const ZERO_WIDTH = /[\u200B\u200C\u2060\u180E]|(?<!\p{Extended_Pictographic}\uFE0F?)\u200D|\uFEFF(?!$)/gu;

/** A run of base64 or hex long enough to hide a message, outside data: URIs (images in metadata are fine). */
const ENCODED_BLOB = /(?<!base64,)(?<![A-Za-z0-9+/])(?:[A-Za-z0-9+/]{160,}={0,2}|(?:[0-9a-fA-F]{2}){100,})(?![A-Za-z0-9+/])/;

/** Words that show a text is about injections rather than one: phrase signals in it count for less. */
const DISCUSSION = /\b(?:prompt injections?|injection attacks?|jailbreaks? (?:attempts?|prompts?)|attackers? (?:often|may|can|might|could|use)|for example|e\.g\.|such as|red[- ]team|OWASP|detect(?:s|ing|ion)?|filter(?:s|ing)?|classifier|benchmark|dataset|researchers?)\b/i;

/** Base64 runs long enough to hold a sentence: decoded and read too, once. */
const BASE64_RUN = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/])/g;

/** The readable text a base64 run decodes to, or null (binary: an image, a key). */
function decodedText(run: string): string | null {
  const text = Buffer.from(run, 'base64').toString('utf8');
  const printable = text.replace(/[^\x20-\x7E\n]/g, '').length;
  return printable >= text.length * 0.95 && / [a-z]/i.test(text) ? text : null;
}

export function scanInjection(text: string, depth = 0): InjectionVerdict {
  const found = new Map<InjectionSignal, number>();
  const discussing = DISCUSSION.test(text);
  // Distinct rules add up (two weak signs make a strong one); one rule counts once however often it matches.
  const add = (signal: InjectionSignal, weight: number) => found.set(signal, (found.get(signal) ?? 0) + weight);

  for (const rule of RULES) {
    if (rule.pattern.test(text)) add(rule.signal, rule.phrase && discussing ? rule.weight / 2 : rule.weight);
  }
  if (depth === 0) {
    for (const [run] of text.matchAll(BASE64_RUN)) {
      const decoded = decodedText(run);
      if (decoded === null) continue;
      const inner = scanInjection(decoded, 1);
      if (inner.flagged) add('encoded-blob', 1);
    }
  }
  if (TAG_CHARACTERS.test(text) || BIDI_CONTROLS.test(text)) add('hidden-characters', 1);
  // One stray zero-width space is common in pasted web text; several hide something.
  const zeroWidth = text.match(ZERO_WIDTH)?.length ?? 0;
  if (zeroWidth >= 3) add('hidden-characters', 1);
  else if (zeroWidth > 0) add('hidden-characters', 0.25);
  if (ENCODED_BLOB.test(text)) add('encoded-blob', 0.5);

  const signals = [...found.entries()].sort((a, b) => b[1] - a[1]).map(([signal]) => signal);
  // Weak signals reinforce each other; repeats of one do not.
  const score = [...found.values()].reduce((sum, weight) => sum + weight, 0);
  return { flagged: score >= 1, signals, score: Math.round(score * 100) / 100 };
}

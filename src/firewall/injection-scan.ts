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
  | 'encoded-blob'
  | 'addresses-model'
  | 'hides-from-user'
  | 'standing-order'
  | 'claims-authority'
  | 'harmful-action';

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
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\bfrom (?:now|here) on,? (?:you|the assistant|the ai|the model|whenever you) (?:will|must|shall|should|are|have|quote|answer|reply|respond|say)\b/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\b(?:without|ignoring|with no) (?:any )?(?:restrictions|filters|safety|guardrails|limitations|censorship)\b/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\b(?:when|if) (?:an? |the )?(?:ai|assistant|model|llm|agent) (?:reads|sees|retrieves|finds) this\b/i },
  // Instructions declared void, or no longer to be followed: the same override in other words.
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: new RegExp(`\\b${ORDERS} (?:above |given |so far )?(?:are|is|were|have been) (?:now )?(?:void|null|cancell?ed|revoked|obsolete|invalid|superseded|no longer (?:valid|apply|applicable|in effect|relevant))\\b`, 'i') },
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: new RegExp(`\\b(?:stop|quit|cease) (?:following|obeying|using) ${PREVIOUS.replace(/\)$/, '|your|the|these|those)')}?\\s*${ORDERS}`, 'i') },
  // A task replaced: "ignore the translation task and instead…", "your real task is now…".
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: /\b(?:ignore|disregard|forget|abandon|skip|drop) (?:the |your |this |that |my |any |all )?(?:\w+ ){0,2}(?:task|request|question|assignment|job|instructions?|text|prompt)\b[^.\n]{0,30}\b(?:and |then )?(?:instead|rather)\b/i },
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: /\byour (?:new |real |true |actual |only |primary )?(?:task|goal|job|purpose|objective|mission|role) (?:is now|now is|has changed|from now on is)\b/i },
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\byou (?:must|will|should|shall|are to) now (?:act|behave|respond|answer|be|become|pretend|follow|obey|only)\b/i },
  // The same override in the languages agents most often meet besides English.
  {
    signal: 'override-instructions',
    weight: 1,
    phrase: true,
    pattern:
      /\b(?:ignorez|ignora|ignorar|ignoriere|ignorieren|ignoreer|oubliez|oublie|olvida|olvide|vergiss|vergessen|dimentica|esquece|esqueça|negeer)\b[^.\n]{0,30}\b(?:instructions|consignes|instrucciones|instruções|instrucoes|anweisungen|instruktionen|istruzioni|instructies|regeln|règles|reglas|regras|regole)\b/i,
  },
  // Written to whichever model reads it: a page or a tool output speaking to "any AI agent".
  { signal: 'override-instructions', weight: 0.5, phrase: true, pattern: /\b(?:note|message|instructions?|attention|important|notice|reminder)s? (?:to|for) (?:any|all|every|the) (?:ai|llm|gpt|language model|assistant|agent|bot|model)s?\b|\b(?:any|all|every) (?:ai|llm) (?:agents?|assistants?|models?|systems?)? ?(?:reading|summari[sz]ing|processing|that reads?)\b/i },
  { signal: 'override-instructions', weight: 1, phrase: true, pattern: /\b(?:ai|llm|gpt|language model|assistant|agent|bot|model)s?\b[^:.\n]{0,40}:\s*(?:please )?(?:include|insert|add|say|tell|recommend|mention|write|respond|reply|answer|always|never|do not|don't|ignore|visit|click|send|describe|state|claim|call|run|execute)\b/i },
  // A made-up turn of the dialogue: the user "taking back" what was asked, the assistant already complying.
  { signal: 'fake-role-marker', weight: 0.5, phrase: false, pattern: /(?:^|\n|[.!?]\s+)\s*(?:human|user)\s*:\s*(?:ignore|disregard|forget|never ?mind)\b/i },
  { signal: 'fake-role-marker', weight: 0.5, phrase: false, pattern: /(?:^|\n|[.!?]\s+)\s*(?:assistant|ai|gpt)\s*:\s*(?:sure|certainly|of course|ok(?:ay)?|absolutely)\b[^.\n]{0,20}\bhere (?:is|are)\b/i },
  // Asking for files that hold keys: harmless in a how-to, so only half a sign alone.
  { signal: 'exfiltration', weight: 0.5, phrase: false, pattern: /(?:~|\$HOME|\/home\/\w+|\/root)\/\.(?:ssh|aws|gnupg|kube|docker)\b|\bid_(?:rsa|ed25519|ecdsa)\b(?!\.pub)|\/etc\/(?:shadow|passwd)\b|\.aws\/credentials\b/i },
  {
    signal: 'role-play',
    weight: 1,
    phrase: true,
    pattern: /\byou are now (?:DAN\b|an? (?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|different|new) (?:ai|model|assistant|chatbot|persona)|in (?:developer|god|dan|admin) mode|free (?:of|from))|\byou are no longer (?:bound|restricted|an? (?:ai|assistant)|required to)|\b(?:enable|enter|activate|switch to) (?:developer|god|dan|jailbreak) mode\b|\bdo anything now\b/i,
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
  { signal: 'fake-tool-call', weight: 1, phrase: false, pattern: /<\/?(?:tool_call|tool_result|tool_response|function_calls|function_results|function_result|function_response|invoke|tool_use)\b/i },
  // A tool call as JSON: also what an agent's log of its own calls looks like, so alone it only counts half.
  { signal: 'fake-tool-call', weight: 0.5, phrase: false, pattern: /"(?:function_call|tool_calls)"\s*:|\{\s*"(?:tool|name)"\s*:\s*"[^"]+"\s*,\s*"(?:arguments|parameters|input)"\s*:/i },
  { signal: 'role-play', weight: 0.5, phrase: true, pattern: /\bjailbr(?:ea|o)k(?:en|ed)?\b/i },
  // Who the text speaks to. A note about a person's assistant or a user's wish for the assistant is fine;
  // a text that turns to whatever model reads it is half of an injection.
  {
    signal: 'addresses-model',
    weight: 0.5,
    phrase: false,
    pattern:
      /(?:^|[\n.!?(\[]\s*)(?:hey |dear |attention,? |important,? |note (?:to|for) (?:the )?|message (?:to|for) (?:the )?|to the |para la |pour l'|an die )?(?:assistant|ai|ia|ki|agent|model|llm|chatbot|bot|gpt|claude)s?\b[^.\n:]{0,25}[,:!—]|\bif you(?:'re| are) an? (?:ai|language model|llm|assistant|automated|bot|agent)\b|\b(?:any|every|all) (?:automated |ai |llm[- ]based |coding |autonomous )(?:agents?|assistants?|models?|systems?|crawlers?|readers?|tools?)\b|\bwhoever (?:loads|reads|retrieves|processes|finds) this\b|\b(?:when|once|if|after) you (?:read|see|load|retrieve|process|summari[sz]e|ingest|find|parse) (?:this|these)\b|\b(?:for|to) (?:the )?(?:ai|llm|automated|coding) (?:reviewers?|graders?|agents?|assistants?|readers?|crawlers?|models?)\b|\bnote to self \(the ai\)|\b(?:the|this) (?:agent|assistant|ai|model) (?:should|must|shall|is to|needs to) (?:now )?(?:execute|run|call|send|forward|delete|ignore|tell|say|place|transfer|output|reply|write)\b/i,
  },
  // Keeping the user from knowing: no honest note about a user asks the model to hide from them.
  {
    signal: 'hides-from-user',
    weight: 0.5,
    phrase: true,
    pattern:
      /\b(?:don't|do not|never|without) (?:tell|inform|alert|warn|mention|highlight|explain|show|notify|ask|let)(?:ing)? (?:it to |this to )?(?:the |this |that |your |them|him|her)?\s*(?:user|human|owner|recipient|operator|them\b|him\b|her\b)|\b(?:keep|hide) (?:this|it|that) (?:hidden |secret )?from (?:the )?(?:user|human|owner)|\bthe (?:user|human|owner) (?:must|should|will) not (?:notice|know|see|find out|be told)|\bso (?:that )?the (?:user|human|owner) (?:doesn't|does not|won't|will not|can't|cannot) (?:see|notice|know|find)|\bsilently\b|\bwithout (?:asking|confirmation|confirming|their consent|telling|the user(?:'s)? (?:knowing|knowledge|consent))|\bdo not log\b|\bdelete this (?:message|email|note|memory|entry)\b|\bnever mention this (?:instruction|note|entry|message)\b|\bnot allowed to tell the user\b|\bdon't break character\b|\bdo not break character\b/i,
  },
  // An order meant to outlive the moment it is read.
  {
    signal: 'standing-order',
    weight: 0.5,
    phrase: true,
    pattern:
      /\b(?:going forward|for the rest of (?:this|the) (?:chat|conversation|session)|effective immediately|until told otherwise|in (?:every|each|all) (?:future )?(?:reply|replies|answer|answers|response|responses)|remember permanently|standing instruction|highest[- ]priority instruction|(?:do|follow) what it says|follow the commands|before every command|whenever (?:the user|anyone|someone|they) asks?)\b/i,
  },
  // A claim of authority over the model: a system, its makers, an operator.
  {
    signal: 'claims-authority',
    weight: 0.5,
    phrase: false,
    pattern:
      /\bpriority override\b|\bmessage from (?:your|the) (?:developers?|creators?|makers?|safety team|operators?|admins?)|\bfrom (?:openai|anthropic|google|the) ?(?:\/ ?anthropic )?(?:safety|trust|alignment) team\b|\bthe operator requires\b|\bauthori[sz]ed red[- ]team\b|\bgranted you (?:admin|root|full|elevated)|\bcorrection to your (?:behaviou?r|instructions|programming)\b|\byou (?:are|were) (?:instructed|ordered|required) to\b/i,
  },
  // Shouted, as a fake header is: "SYSTEM MESSAGE", not a sentence about a system prompt.
  { signal: 'claims-authority', weight: 0.5, phrase: false, pattern: /\bSYSTEM (?:MESSAGE|PROMPT|NOTICE|UPDATE|OVERRIDE|ALERT)\b/ },
  // The same override, reworded: instructions declared wrong, fake, or superseded by this text.
  {
    signal: 'override-instructions',
    weight: 1,
    phrase: true,
    pattern:
      /\b(?:guidelines|directives|instructions|rules|constraints|policies|restrictions)\b[^.\n]{0,40}\b(?:no longer apply|are void|were a test|was a test|are wrong|don't apply|do not apply)\b|\b(?:drop|throw away|discard|abandon|disregard) (?:them|it|all of (?:them|it)|your (?:rules|guidelines|directives|instructions|restrictions))\b(?=[^.\n]{0,40}\b(?:unrestricted|operate|trust only|do what|from now|instead)\b)|\bforget everything (?:above|before|you (?:were|have been) told)|\bthe opposite of what (?:they|it|you were) (?:said|told)|\bany instruction that conflicts with this\b|\b(?:the )?(?:conversation|context|json|text|data|everything) (?:so far |above )?(?:was|is) (?:injected|fake|a decoy|a test)\b|\byour real (?:instruction|task|job|goal) is\b|\b(?:new task|new instructions?)\s*:/i,
  },
  // What an agent would be made to do: destroy data, weaken its own safeguards, move money, send secrets away.
  {
    signal: 'harmful-action',
    weight: 0.5,
    phrase: false,
    pattern:
      /\brm -rf [~\/]|\bchmod -R 777\b|\bsetenforce 0\b|\b(?:delete|erase|wipe|remove) (?:all|every) (?:(?:of the |the |your |their )?(?:user's )?)?(?:memories|memory|files|emails|messages|records|data|backups)\b|\bmemory\.delete\b|\bdelete_all_\w+|\bdisable (?:its|your|the) (?:logging|sandbox|safety|monitoring|guardrails)|\btransfer_funds\b|\bwire money\b|\bplace a (?:market|buy|sell) order\b|\b(?:send|forward|post|upload|email|leak|output|print)\b[^.\n]{0,50}\b(?:api[_ ]?keys?|passwords?|tokens?|credentials|home address|bank details|saved card|(?:user'?s? )?messages|conversation|memor(?:y|ies)|files list|env(?:ironment)?)\b/i,
  },
  // The override in languages a Latin-script rule cannot read.
  {
    signal: 'override-instructions',
    weight: 1,
    phrase: true,
    pattern:
      /忽略.{0,12}(?:指令|指示|说明|規則|规则)|(?:指示|命令).{0,12}無視|無視.{0,12}(?:指示|命令)|(?:игнорируй|игнорируйте|забудь|забудьте)[^.\n]{0,40}(?:инструкци|правил|указани)|تجاهل[^.\n]{0,40}(?:التعليمات|الأوامر|التوجيهات)|(?:지시|명령|지침)[^.\n]{0,20}무시|התעלם[^.\n]{0,40}(?:הוראות|ההוראות)|(?:अनदेखा|नज़रअंदाज़|नजरअंदाज)[^।\n]{0,10}|निर्देशों को (?:अनदेखा|नज़रअंदाज़)|\b(?:desconsidere|desconsidera|ignore toutes|ignora todas|ignore todas)\b[^.\n]{0,40}\b(?:regras|instruções|reglas|instrucciones|instructions|consignes)\b/i,
  },
];

/** Unicode tag characters (invisible ASCII), bidi embeddings and overrides, and zero-width characters outside emoji sequences. */
const TAG_CHARACTERS = /[\u{E0000}-\u{E007F}]/u;
/** Bidi overrides reorder what a reader sees; embeddings and isolates are how right-to-left text is written, so they count little. */
const BIDI_OVERRIDES = /[\u202D\u202E]/;
const BIDI_CONTROLS = /[\u202A-\u202C\u2066-\u2069]/;
/** A flag emoji (England, Scotland, Wales) is a black flag followed by tag characters: those are not hidden text. */
const FLAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
const ZERO_WIDTH = /[\u200B\u200C\u2060\u180E]|(?<!\p{Extended_Pictographic}\uFE0F?)\u200D|\uFEFF(?!$)/gu;

/** A run of base64 or hex long enough to hide a message, outside data: URIs (images in metadata are fine). */
const ENCODED_BLOB = /(?<!base64,)(?<![A-Za-z0-9+/])(?:[A-Za-z0-9+/]{160,}={0,2}|(?:[0-9a-fA-F]{2}){100,})(?![A-Za-z0-9+/])/;

/** Words that show a text is about injections rather than one: phrase signals in it count for less. */
const DISCUSSION = /\b(?:prompt injections?|injection attacks?|jailbreaks? (?:attempts?|prompts?)|attackers? (?:often|may|can|might|could|use)|for example|e\.g\.|such as|red[- ]team|OWASP|detect(?:s|ing|ion)?|filter(?:s|ing)?|classifier|benchmark|dataset|researchers?|LLM security|labell?ed|screenshot|fixtures?|unit tests?|test cases?|examples? of|thesis|quoted|quoting)\b/i;

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
  if (TAG_CHARACTERS.test(text.replace(FLAG_SEQUENCE, '')) || BIDI_OVERRIDES.test(text)) add('hidden-characters', 1);
  else if (BIDI_CONTROLS.test(text)) add('hidden-characters', 0.25);
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

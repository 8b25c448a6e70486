import { describe, expect, it } from 'vitest';
import { normaliseEvidence, normaliseEvidenceId, parseSessionDate, readConversation, turnContent } from '../../scripts/eval/locomo-data.js';

describe('parseSessionDate', () => {
  it('reads LoCoMo session times as UTC', () => {
    expect(parseSessionDate('1:56 pm on 8 May, 2023')).toBe('2023-05-08T13:56:00.000Z');
    expect(parseSessionDate('10:37 am on 27 June, 2023')).toBe('2023-06-27T10:37:00.000Z');
  });

  it('maps 12 am to midnight and 12 pm to noon', () => {
    expect(parseSessionDate('12:09 am on 13 September, 2023')).toBe('2023-09-13T00:09:00.000Z');
    expect(parseSessionDate('12:30 pm on 1 February, 2023')).toBe('2023-02-01T12:30:00.000Z');
  });

  it('rejects other formats and days that do not exist', () => {
    expect(() => parseSessionDate('2023-05-08')).toThrow(/unrecognised/);
    expect(() => parseSessionDate('13:00 pm on 8 May, 2023')).toThrow(/unrecognised/);
    expect(() => parseSessionDate('1:00 pm on 30 February, 2023')).toThrow(/no such day/);
  });
});

describe('evidence normalisation', () => {
  it('splits, repairs and unpads malformed ids', () => {
    expect(normaliseEvidenceId('D8:6; D9:17')).toEqual(['D8:6', 'D9:17']);
    expect(normaliseEvidenceId('D:11:26')).toEqual(['D11:26']);
    expect(normaliseEvidenceId('D30:05')).toEqual(['D30:5']);
    expect(normaliseEvidenceId(' D1:3 ')).toEqual(['D1:3']);
  });

  it('keeps known ids once each and reports the ones that name no turn', () => {
    const known = new Set(['D1:3', 'D8:6', 'D9:17']);
    expect(normaliseEvidence(['D1:3', 'D8:6; D9:17', 'D1:03', 'D99:1', 'nonsense'], known)).toEqual({
      evidence: ['D1:3', 'D8:6', 'D9:17'],
      dropped: ['D99:1', 'nonsense'],
    });
  });
});

describe('readConversation', () => {
  const file = {
    speaker_a: 'Caroline',
    speaker_b: 'Melanie',
    session_2: [{ speaker: 'Melanie', dia_id: 'D2:1', text: 'Look!', blip_caption: 'a photo of a dog' }],
    session_2_date_time: '1:14 pm on 25 May, 2023',
    session_1: [{ speaker: 'Caroline', dia_id: 'D1:1', text: 'Hi Mel!' }],
    session_1_date_time: '1:56 pm on 8 May, 2023',
    session_1_summary: 'derived: not a turn',
    session_1_observation: { Caroline: [['derived', 'D1:1']] },
    events_session_1: {},
    qa: [
      { question: 'What did Melanie show?', answer: 'a dog', evidence: ['D2:01', 'D7:1'], category: 4 },
      { question: 'Unanswerable?', adversarial_answer: 'x', evidence: [], category: 5 },
    ],
  };

  it('reads raw sessions in order and skips derived keys', () => {
    const conversation = readConversation('t', file);
    expect(conversation.sessions.map((s) => [s.n, s.occurredAt, s.turns.map((t) => t.diaId)])).toEqual([
      [1, '2023-05-08T13:56:00.000Z', ['D1:1']],
      [2, '2023-05-25T13:14:00.000Z', ['D2:1']],
    ]);
    expect(conversation.questions[0]).toMatchObject({ evidence: ['D2:1'], dropped: ['D7:1'], category: 4 });
    expect(conversation.questions[1]).toMatchObject({ evidence: [], dropped: [] });
  });

  it('stores the speaker, the text and a shared photo caption', () => {
    expect(turnContent({ speaker: 'Melanie', text: 'Look!', blip_caption: 'a photo of a dog' })).toBe('Melanie: Look! [shares a photo: a photo of a dog]');
    expect(turnContent({ speaker: 'Caroline', text: 'Hi Mel!' })).toBe('Caroline: Hi Mel!');
  });
});

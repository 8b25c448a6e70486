import { describe, expect, it } from 'vitest';
import { asksForList } from '../../src/memory/list-questions.js';

describe('asksForList', () => {
  it.each([
    'What books has Ana read?',
    'Which cities has Jon visited?',
    'What LGBTQ+ events has Sam taken part in?',
    'What musical artists/bands has Ana seen?',
    'What instruments does Ana play?',
    'What symbols are important to Sam?',
    'What has Ana painted?',
    'What have Ana and her kids made?',
    'What kinds of food does Jon cook?',
    'What types of pottery have they made?',
    'How many times has Ana gone to the beach in 2023?',
    'How many children does Ana have?',
    'In what ways is Sam helping the community?',
    'What are some changes Sam has faced?',
    'What do Jon and Gina both have in common?',
    'Did Jon and Gina both enter dance competitions?',
  ])('a list: %s', (question) => {
    expect(asksForList(question)).toBe(true);
  });

  it.each([
    'What did Ana paint last Sunday?',
    'What kind of flooring is Jon looking for?',
    'What type of instrument does Sam play?',
    'Which song motivates Ana to be courageous?',
    'What is Sam’s relationship status?',
    'Where did Sam move from 4 years ago?',
    'When did Ana go camping?',
    'Why did Gina start her own store?',
    'What does Ana do to relax?',
    'What was the name of the pets?',
    'Who supports Sam?',
    'books',
    '',
    '???',
  ])('not a list: %s', (question) => {
    expect(asksForList(question)).toBe(false);
  });
});

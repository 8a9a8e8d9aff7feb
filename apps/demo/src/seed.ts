import type { QuestionsClient } from './questions-client.js';

/** Questions, answers and acceptances that make the feed and the notifications worth looking at. */
const QUESTIONS = [
  { title: 'Why is the sky blue?', subject: 'physics', grade: 7, authorId: 'ana', answers: ['ben', 'cleo'], accept: true },
  { title: 'How do I factor x² − 5x + 6?', subject: 'math', grade: 9, authorId: 'ben', answers: ['ana'], accept: true },
  {
    title: 'What caused the fall of the Western Roman Empire?',
    subject: 'history',
    grade: 11,
    authorId: 'cleo',
    answers: ['dev', 'ana'],
    accept: false,
  },
  { title: 'Why do leaves change colour in autumn?', subject: 'biology', grade: 5, authorId: 'dev', answers: ['dev'], accept: false },
  {
    title: 'What is the difference between speed and velocity?',
    subject: 'physics',
    grade: 8,
    authorId: 'eli',
    answers: [],
    accept: false,
  },
  {
    title: 'How many degrees are in a pentagon?',
    subject: 'math',
    grade: 6,
    authorId: 'ana',
    answers: ['eli', 'ben', 'cleo'],
    accept: true,
  },
  { title: 'Who wrote the Magna Carta, and why?', subject: 'history', grade: 8, authorId: 'ben', answers: [], accept: false },
  { title: 'How do vaccines train the immune system?', subject: 'biology', grade: 10, authorId: 'cleo', answers: ['ana'], accept: false },
  // ghost has no registered device: the notification of this answer fails for good and is dead-lettered.
  { title: 'Is zero even or odd?', subject: 'math', grade: 3, authorId: 'ghost', answers: ['eli'], accept: false },
];

/** Seeds the sample through the questions API; returns how many questions and answers it posted. */
export async function seed(client: QuestionsClient): Promise<{ questions: number; answers: number }> {
  let answers = 0;
  for (const q of QUESTIONS) {
    const question = await client.ask({
      title: q.title,
      body: 'Asked by the demo seed.',
      subject: q.subject,
      grade: q.grade,
      authorId: q.authorId,
    });
    const added = [];
    for (const author of q.answers) added.push(await client.answer(question.id, `An answer by ${author}.`, author));
    answers += added.length;
    const [first] = added;
    if (q.accept && first) await client.accept(question.id, first.id);
  }
  return { questions: QUESTIONS.length, answers };
}

import { createInterface } from 'node:readline';

export interface PromptIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the question is written (stderr, so stdout stays the command's output). */
  output: NodeJS.WritableStream;
}

/** Asks a yes/no question; only "y" or "yes" is a yes, and end of input is a no. */
export function confirm(question: string, io: PromptIo): Promise<boolean> {
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  return new Promise<boolean>((resolve) => {
    let answered = false;
    rl.once('close', () => answered || resolve(false));
    rl.question(`${question} [y/N] `, (answer) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

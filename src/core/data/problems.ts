export interface DataProblem {
  /** 1-based physical line in the file, or null for a summary. */
  line: number | null;
  /** What is wrong, without the line number (the caller shows `line N: message`). */
  message: string;
}

/** Keeps the first few problems and counts the rest: a file with a million bad rows should not produce a million messages. */
export class ProblemList {
  private readonly listed: DataProblem[] = [];
  private total = 0;

  constructor(private readonly limit = 20) {}

  add(line: number | null, message: string): void {
    this.total++;
    if (this.listed.length < this.limit) this.listed.push({ line, message });
  }

  finish(): DataProblem[] {
    if (this.total <= this.listed.length) return this.listed;
    return [...this.listed, { line: null, message: `${this.total.toLocaleString('en')} problems in all; the first ${this.limit} are listed.` }];
  }
}

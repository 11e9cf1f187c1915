import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import { SchemataError } from '../errors.js';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** How invitations and password-reset links leave the server. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/**
 * Development only: writes each message, token included, to a file of its
 * own under `dir` and says which on stderr, naming neither the address nor
 * the token, so no log ever holds them. createConfiguredMailer never picks
 * it in production.
 */
export function createFileMailer(dir: string, say: (line: string) => void = (line) => console.error(line)): Mailer {
  let sent = 0;
  return {
    async send(message) {
      await fs.mkdir(dir, { recursive: true });
      const file = path.join(dir, `${new Date().toISOString().replaceAll(':', '-')}-${process.pid}-${++sent}.txt`);
      await fs.writeFile(file, `To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`, { mode: 0o600 });
      say(`mail "${message.subject}" written to ${path.relative(process.cwd(), file)} (no SMTP_URL: development keeps mail on disk)`);
    },
  };
}

/** Sends through the SMTP server of `url` (smtp:// or smtps://, credentials in the URL), one connection per message. */
export function createSmtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    async send(message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
    },
  };
}

/**
 * The mailer the config asks for: SMTP when SMTP_URL is set, else files in
 * the data directory in development, else none. With none, invitations and resets answer
 * MAIL_NOT_CONFIGURED: a production log must never hold a usable token.
 */
export function createConfiguredMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'production' | 'dataDir'>): Mailer | null {
  if (config.smtpUrl) return createSmtpMailer(config.smtpUrl, config.mailFrom!);
  return config.production ? null : createFileMailer(path.join(config.dataDir, 'mail'));
}

/** The mailer, or the coded refusal when this server has none; called before anything is written or looked up. */
export function requireMailer(mailer: Mailer | null): Mailer {
  if (mailer) return mailer;
  throw new SchemataError(
    'MAIL_NOT_CONFIGURED',
    'this server cannot send mail (SMTP_URL is not set), so invitations and password resets are disabled; ask the operator',
  );
}

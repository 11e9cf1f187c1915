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
 * Development only: writes each message, token included, to the log, which is
 * where a developer looks. createConfiguredMailer never picks it in production.
 */
export function createLogMailer(write: (line: string) => void = (line) => console.error(line)): Mailer {
  return {
    async send(message) {
      write(`mail to ${message.to}: ${message.subject}\n${message.text}`);
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
 * The mailer the config asks for: SMTP when SMTP_URL is set, else the log in
 * development, else none. With none, invitations and resets answer
 * MAIL_NOT_CONFIGURED: a production log must never hold a usable token.
 */
export function createConfiguredMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'production'>): Mailer | null {
  if (config.smtpUrl) return createSmtpMailer(config.smtpUrl, config.mailFrom!);
  return config.production ? null : createLogMailer();
}

/** The mailer, or the coded refusal when this server has none; called before anything is written or looked up. */
export function requireMailer(mailer: Mailer | null): Mailer {
  if (mailer) return mailer;
  throw new SchemataError(
    'MAIL_NOT_CONFIGURED',
    'this server cannot send mail (SMTP_URL is not set), so invitations and password resets are disabled; ask the operator',
  );
}

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
 * The default: writes each message to the server log, which is where a
 * developer looks. Production deployments plug in a real transport.
 */
export function createLogMailer(write: (line: string) => void = (line) => console.error(line)): Mailer {
  return {
    async send(message) {
      write(`mail to ${message.to}: ${message.subject}\n${message.text}`);
    },
  };
}
